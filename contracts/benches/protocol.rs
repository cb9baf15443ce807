//! Protocol benchmarks: signed pledges applied per second (signature checks
//! included), a creator's withdrawal as the number of patrons grows, and the
//! scheduled work of a level in which patrons run out of funds.

#![allow(clippy::indexing_slicing, clippy::panic)] // test code: a failed index is a failed test
#![allow(missing_docs)] // criterion's macros generate undocumented items
#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use pledgeroll_contracts::crypto::{Contract, Curve};
use pledgeroll_contracts::encoding::Text;
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::{AssetId, MemoryStore, Operation, Protocol, SignedOperation, TierId};

fn patron_key(i: u64) -> SecretKey {
    let mut secret = [7u8; 32];
    secret[..8].copy_from_slice(&i.to_le_bytes());
    SecretKey::from_bytes(Curve::Ed25519, secret).expect("valid")
}

/// A creator with one tier and `patrons` funded patrons whose keys the rollup
/// knows; each patron pledges if `pledged`. Patrons are funded for `months`.
fn world_with_patrons(
    patrons: u64,
    pledged: bool,
    months: u64,
) -> (World, AssetId, TierId, Vec<SecretKey>) {
    let mut w = World::new(1);
    let asset = w.deposit(0, tez_ticket(), 1);
    let tier = w.creator_with_tier(0, asset, 1_000);
    let mut keys = Vec::with_capacity(patrons as usize);
    for i in 0..patrons {
        let key = patron_key(i);
        let addr = key.public_key().address();
        w.p.deposit(addr, tez_ticket(), 1_000 * months)
            .expect("no fault")
            .expect("ok");
        let op = if pledged {
            pledge_op(tier)
        } else {
            // Reveal the key with a harmless tip so later pledges sign by address.
            Operation::Tip {
                to: w.holder(0),
                asset,
                amount: 1,
                memo: Text::new("").expect("short"),
            }
        };
        let signed = key.sign_operation(&ROLLUP, 0, op, true);
        w.p.apply(&signed).expect("no fault");
        keys.push(key);
    }
    (w, asset, tier, keys)
}

fn signed_pledges(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("signed_pledge", |b| {
        b.iter_custom(|iters| {
            let (mut w, _, tier, keys) = world_with_patrons(iters, false, 12);
            let ops: Vec<SignedOperation> = keys
                .iter()
                .map(|k| k.sign_operation(&ROLLUP, 1, pledge_op(tier), false))
                .collect();
            let start = Instant::now();
            for op in &ops {
                let applied = w.p.apply(op).expect("no fault");
                debug_assert_eq!(
                    applied.receipt.outcome,
                    pledgeroll_contracts::Outcome::Applied
                );
            }
            start.elapsed()
        })
    });
    group.finish();
}

fn creator_withdraw(c: &mut Criterion) {
    let mut group = c.benchmark_group("creator_withdraw");
    group.sample_size(20);
    for patrons in [1u64, 1_000, 100_000] {
        let (mut w, asset, _, _) = world_with_patrons(patrons, true, 12);
        w.advance(30 * DAY);
        let creator = w.keys[0].clone();
        let mut nonce = w.p.account(&w.addr(0)).expect("read").next_nonce;
        group.bench_with_input(BenchmarkId::from_parameter(patrons), &patrons, |b, _| {
            b.iter_custom(|iters| {
                let ops: Vec<SignedOperation> = (0..iters)
                    .map(|i| {
                        let op = Operation::Withdraw {
                            asset,
                            amount: 1,
                            destination: Contract::Originated([0x11; 20]),
                            entrypoint: Text::new("burn").expect("short"),
                        };
                        creator.sign_operation(&ROLLUP, nonce + i, op, false)
                    })
                    .collect();
                nonce += iters;
                let start = Instant::now();
                for op in &ops {
                    let applied = w.p.apply(op).expect("no fault");
                    assert_eq!(applied.withdrawals.len(), 1);
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn level_with_depletions(c: &mut Criterion) {
    let mut group = c.benchmark_group("run_due_depletions");
    group.sample_size(10);
    for patrons in [1u64, 10_000] {
        // Every patron is funded for exactly one month: all run out together.
        let (w, _, _, _) = world_with_patrons(patrons, true, 1);
        let store = w.p.into_store();
        group.bench_with_input(BenchmarkId::from_parameter(patrons), &patrons, |b, _| {
            b.iter_batched(
                || Protocol::new(store.clone(), ROLLUP),
                |mut p: Protocol<MemoryStore>| {
                    let events = p.begin_level(1, START + 40 * DAY as i64).expect("level");
                    assert!(events.len() as u64 >= patrons);
                    p
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    signed_pledges,
    creator_withdraw,
    level_with_depletions
);
criterion_main!(benches);
