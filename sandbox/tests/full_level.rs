//! A full inbox level, 72 messages of 45 signed transfers, run by
//! `kernel.wasm` under the PVM's tick limit: the kernel spreads it over
//! several runs and every operation gets its receipt.

#![allow(clippy::indexing_slicing, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::*;
use pledgeroll_contracts::crypto::Curve;
use pledgeroll_contracts::signing::{SecretKey, Signed};
use pledgeroll_contracts::{Address, AssetId, Holder, Operation, Receipt};
use pledgeroll_interface::record::decode_list;
use pledgeroll_sandbox::accounts::BOOTSTRAP_ACCOUNTS;
use pledgeroll_sandbox::assets::TEZ;
use pledgeroll_sandbox::durable::Key;
use pledgeroll_sandbox::pvm::TICKS_PER_RUN;
use pledgeroll_sandbox::store::BlockRecord;
use pledgeroll_sandbox::{KernelSource, Rollup, RollupConfig};

/// Transfers in the full level.
const FULL_LEVEL: usize = 3_200;
/// Fresh accounts that send besides the bootstrap accounts.
const FRESH: u8 = 11;

fn open(dir: &std::path::Path, kernel: KernelSource) -> Rollup {
    Rollup::open(RollupConfig {
        data_dir: dir.to_path_buf(),
        kernel,
        seconds_per_level: 6,
        genesis_timestamp: Some(GENESIS),
        preimages: None,
    })
    .expect("the rollup opens")
}

/// The senders: the five bootstrap accounts and fresh ones.
fn senders() -> Vec<SecretKey> {
    let mut keys: Vec<SecretKey> = (1..=BOOTSTRAP_ACCOUNTS.len()).map(bootstrap).collect();
    keys.extend(
        (0..FRESH).map(|i| SecretKey::from_bytes(Curve::Ed25519, [40 + i; 32]).expect("a key")),
    );
    keys
}

fn receivers() -> Vec<Address> {
    (0..7u8)
        .map(|i| key(80 + i).public_key().address())
        .collect()
}

/// A value of the head's durable storage.
fn durable(rollup: &Rollup, path: &str) -> Option<Vec<u8>> {
    let key = Key::parse_str(path).expect("a durable key");
    rollup.durable().value(&key).map(|v| v.to_vec())
}

/// Funds the fresh senders and lets every sender reveal its key, so that
/// each transfer of the full level takes the same bytes; then queues the
/// full level and produces it. Returns its transfers and its block.
fn full_level(rollup: &mut Rollup) -> (Vec<Signed>, BlockRecord) {
    let keys = senders();
    for k in keys.iter().skip(BOOTSTRAP_ACCOUNTS.len()) {
        rollup
            .deposit(&k.public_key().address().to_string(), &TEZ, 1_000_000)
            .expect("queued");
    }
    rollup.produce_level().expect("a level");
    let sink = key(99).public_key().address();
    let transfer = |to: Address, amount: u64| Operation::Transfer {
        to,
        asset: AssetId(TEZ.asset_id),
        amount,
    };
    let pack = |signed: &[Signed]| pack(&operations(signed));
    let reveals = sign_on(
        rollup,
        keys.iter().map(|k| (k, transfer(sink, 1))).collect(),
    );
    rollup.inject(&pack(&reveals)).expect("injected");
    rollup.produce_level().expect("a level");

    let to = receivers();
    let transfers = (0..FULL_LEVEL)
        .map(|i| {
            let amount = u64::try_from(i % 3).expect("small") + 1;
            (&keys[i % keys.len()], transfer(to[i % to.len()], amount))
        })
        .collect();
    let ops = sign_on(rollup, transfers);
    let messages = pack(&ops);
    // A transfer by account number is 90 bytes: 45 fill a message.
    assert_eq!(messages.len(), 72, "45 transfers fill a message");
    rollup.inject(&messages).expect("injected");
    let block = rollup.produce_level().expect("a level");
    (ops, block)
}

#[test]
fn a_full_level_takes_several_kernel_runs_and_every_operation_its_receipt() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut rollup = open(dir.path(), KernelSource::Wasm(kernel_wasm()));
    let (ops, block) = full_level(&mut rollup);

    assert!(block.failures.is_empty(), "{:?}", block.failures);
    assert!(
        block.kernel_runs > 1,
        "the level took {} kernel run(s)",
        block.kernel_runs
    );
    // More ticks than one run may use, and none of the runs used them all.
    assert!(block.num_ticks > TICKS_PER_RUN, "{} ticks", block.num_ticks);
    assert!(block.num_ticks < u64::from(block.kernel_runs) * TICKS_PER_RUN);

    let receipts: Vec<Receipt> =
        decode_list(&durable(&rollup, "/pledgeroll/level/receipts").expect("a level record"))
            .expect("receipts decode");
    assert_eq!(receipts.len(), FULL_LEVEL);
    let hashes: Vec<[u8; 32]> = receipts.iter().map(|r| r.hash).collect();
    let expected: Vec<[u8; 32]> = ops.iter().map(Signed::hash).collect();
    assert_eq!(hashes, expected, "one receipt per operation, in order");
    assert!(receipts.iter().all(|r| r.outcome.is_applied()));
    assert_eq!(
        durable(&rollup, "/pledgeroll/level/number"),
        Some(block.level.to_le_bytes().to_vec())
    );
    assert_eq!(durable(&rollup, "/pledgeroll/level/progress"), None);
    assert_eq!(durable(&rollup, "/pledgeroll/level/fault"), None);

    let mut expected_balances: BTreeMap<Address, u128> = BTreeMap::new();
    for op in &ops {
        if let Operation::Transfer { to, amount, .. } = op.operation.operation {
            *expected_balances.entry(to).or_default() += u128::from(amount);
        }
    }
    let state = protocol_of(&rollup);
    for (to, amount) in expected_balances {
        assert_eq!(
            state
                .balance(&Holder::Account(to), AssetId(TEZ.asset_id))
                .expect("a balance"),
            amount
        );
    }
    assert_eq!(
        durable(&rollup, "/pledgeroll/level/state_hash"),
        Some(state.state_hash().expect("a hash").to_vec())
    );
}

#[test]
fn wasm_and_native_modes_split_a_full_level_alike() {
    let (wasm_dir, native_dir) = (
        tempfile::tempdir().expect("temporary directory"),
        tempfile::tempdir().expect("temporary directory"),
    );
    let mut wasm = open(wasm_dir.path(), KernelSource::Wasm(kernel_wasm()));
    let mut native = open(native_dir.path(), KernelSource::Native);
    let (_, wasm_block) = full_level(&mut wasm);
    let (_, native_block) = full_level(&mut native);
    assert!(wasm_block.kernel_runs > 1);
    assert_eq!(wasm_block.kernel_runs, native_block.kernel_runs);
    assert_eq!(wasm_block.state_hash, native_block.state_hash);
    assert_eq!(
        durable(&wasm, "/pledgeroll/level/receipts"),
        durable(&native, "/pledgeroll/level/receipts")
    );
}
