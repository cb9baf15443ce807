//! Sandbox throughput: levels per second with a full inbox, operations per
//! second in the wasm and native modes, the kernel runs a full level takes,
//! and the fuel (ticks) a pledge and a level take. Run with
//! `cargo bench -p pledgeroll-sandbox`; the figures go to
//! `docs/benchmarks.md`.

use std::time::Instant;

use pledgeroll_contracts::crypto::Curve;
use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::operation::{MAX_BATCH_BYTES, MAX_BATCH_OPERATIONS};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::state::Profile;
use pledgeroll_contracts::{AssetId, Operation, TierId};
use pledgeroll_sandbox::accounts::BOOTSTRAP_ACCOUNTS;
use pledgeroll_sandbox::assets::TEZ;
use pledgeroll_sandbox::{KernelSource, Rollup, RollupConfig};

#[path = "../tests/common/mod.rs"]
mod common;

use common::{batch_bytes, kernel_wasm, operations, pack, sign_on};

/// Patrons in the scenario.
const PATRONS: usize = 400;
/// Messages in a full level: about what an L1 block can carry for one
/// rollup.
const FULL_LEVEL_MESSAGES: usize = 100;
/// Messages in the smaller levels: what one kernel run takes.
const SHARED_LEVEL_MESSAGES: usize = 20;
/// Levels measured at each size.
const LEVELS: usize = 3;

#[derive(Debug, Default)]
struct Figures {
    empty_level_ticks: u64,
    pledge_level_ticks: u64,
    pledges: usize,
    full_level_seconds: Vec<f64>,
    full_level_ticks: Vec<u64>,
    full_level_runs: Vec<u32>,
    full_level_ops: usize,
    per_message: usize,
}

/// Runs the scenario; the measured levels carry `level_messages` messages
/// of transfers.
fn scenario(kernel: KernelSource, level_messages: usize) -> Figures {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut rollup = Rollup::open(RollupConfig {
        data_dir: dir.path().to_path_buf(),
        kernel,
        seconds_per_level: 6,
        genesis_timestamp: Some(1_767_225_600),
        preimages: None,
    })
    .expect("the rollup opens");
    let mut f = Figures::default();

    let creator: SecretKey = BOOTSTRAP_ACCOUNTS[0].secret_key.parse().expect("a key");
    let target = BOOTSTRAP_ACCOUNTS[1].address.parse().expect("an address");
    let patrons: Vec<SecretKey> = (0..PATRONS)
        .map(|i| {
            let mut seed = [9u8; 32];
            seed[..4].copy_from_slice(&u32::try_from(i).expect("small").to_le_bytes());
            SecretKey::from_bytes(Curve::Ed25519, seed).expect("a key")
        })
        .collect();
    for p in &patrons {
        rollup
            .deposit(&p.public_key().address().to_string(), &TEZ, 1_000_000_000)
            .expect("queued");
    }
    let setup = sign_on(
        &rollup,
        vec![
            (
                &creator,
                Operation::SetProfile {
                    profile: Profile {
                        name: Text::new("Ada").expect("short"),
                        description: Text::new("bench").expect("short"),
                        links: List::default(),
                    },
                },
            ),
            (
                &creator,
                Operation::AddTier {
                    title: Text::new("supporter").expect("short"),
                    perks: Text::new("thanks").expect("short"),
                    asset: AssetId(TEZ.asset_id),
                    amount_per_period: 2_592_000,
                    period: 2_592_000,
                    patron_limit: None,
                },
            ),
        ],
    );
    rollup.inject(&pack(&operations(&setup))).expect("injected");
    rollup.produce_level().expect("a level");
    f.empty_level_ticks = rollup.produce_level().expect("a level").num_ticks;

    let pledges = operations(&sign_on(
        &rollup,
        patrons
            .iter()
            .map(|p| (p, pledgeroll_contracts::fixtures::pledge(TierId(0))))
            .collect(),
    ));
    f.pledges = pledges.len();
    rollup.inject(&pack(&pledges)).expect("injected");
    f.pledge_level_ticks = rollup.produce_level().expect("a level").num_ticks;

    let transfer = || Operation::Transfer {
        to: target,
        asset: AssetId(TEZ.asset_id),
        amount: 1,
    };
    // A transfer from the highest-numbered patron is the largest; as many
    // as fit of it fill a message (lower numbers may encode shorter).
    let last = patrons.last().expect("patrons");
    let sample = operations(&sign_on(&rollup, vec![(last, transfer())]))
        .pop()
        .expect("a transfer");
    f.per_message = (1..=MAX_BATCH_OPERATIONS)
        .take_while(|k| batch_bytes(&vec![sample.clone(); *k]).len() <= MAX_BATCH_BYTES)
        .last()
        .unwrap_or(1);
    for _ in 0..LEVELS {
        let total = f.per_message * level_messages;
        let ops = operations(&sign_on(
            &rollup,
            patrons
                .iter()
                .cycle()
                .take(total)
                .map(|p| (p, transfer()))
                .collect(),
        ));
        f.full_level_ops = total;
        let messages = pack(&ops);
        assert!(messages.len() <= level_messages);
        rollup.inject(&messages).expect("injected");
        let started = Instant::now();
        let block = rollup.produce_level().expect("a level");
        f.full_level_seconds.push(started.elapsed().as_secs_f64());
        f.full_level_ticks.push(block.num_ticks);
        f.full_level_runs.push(block.kernel_runs);
        assert!(block.failures.is_empty(), "{:?}", block.failures);
    }
    f
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn main() {
    // `cargo test --benches` runs this binary too; it measures only under
    // `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let code = kernel_wasm();
    let wasm = scenario(KernelSource::Wasm(code.clone()), SHARED_LEVEL_MESSAGES);
    let wasm_full = scenario(KernelSource::Wasm(code), FULL_LEVEL_MESSAGES);
    let native = scenario(KernelSource::Native, SHARED_LEVEL_MESSAGES);
    let native_full = scenario(KernelSource::Native, FULL_LEVEL_MESSAGES);
    println!("## sandbox benchmark");
    println!("a message holds {} signed transfers", wasm.per_message);
    for (name, f, messages) in [
        ("wasm", &wasm, SHARED_LEVEL_MESSAGES),
        ("wasm", &wasm_full, FULL_LEVEL_MESSAGES),
        ("native", &native, SHARED_LEVEL_MESSAGES),
        ("native", &native_full, FULL_LEVEL_MESSAGES),
    ] {
        let seconds = mean(&f.full_level_seconds);
        println!(
            "{name}, levels of {messages} messages ({} operations): {:.3} s per level, {:.2} levels/s, {:.0} operations/s, kernel runs per level {:?}",
            f.full_level_ops,
            seconds,
            1.0 / seconds,
            f.full_level_ops as f64 / seconds,
            f.full_level_runs,
        );
    }
    println!(
        "wasm fuel, full levels of {} transfers: {:?}",
        wasm_full.full_level_ops, wasm_full.full_level_ticks
    );
    let level_ticks =
        wasm.full_level_ticks.iter().sum::<u64>() / wasm.full_level_ticks.len().max(1) as u64;
    let per_transfer =
        level_ticks.saturating_sub(wasm.empty_level_ticks) / wasm.full_level_ops.max(1) as u64;
    println!("wasm fuel, empty level: {}", wasm.empty_level_ticks);
    println!(
        "wasm fuel, level of {} first pledges: {} ({} per pledge above an empty level)",
        wasm.pledges,
        wasm.pledge_level_ticks,
        wasm.pledge_level_ticks
            .saturating_sub(wasm.empty_level_ticks)
            / wasm.pledges.max(1) as u64
    );
    println!(
        "wasm fuel, level of {} transfers: {level_ticks} ({per_transfer} per transfer)",
        wasm.full_level_ops
    );
    println!(
        "transfers one kernel run can take within {} ticks: {}; a full level of {FULL_LEVEL_MESSAGES} messages has {}",
        pledgeroll_sandbox::pvm::TICKS_PER_RUN,
        pledgeroll_sandbox::pvm::TICKS_PER_RUN / per_transfer.max(1),
        wasm.per_message * FULL_LEVEL_MESSAGES
    );
}
