//! Protocol benchmarks: signed pledges applied per second (signature checks
//! included), a creator's withdrawal and a creator's pause and resume as the
//! number of patrons grows, and the scheduled work of a level in which
//! patrons run out of funds.

#![allow(clippy::indexing_slicing, clippy::panic)] // test code: a failed index is a failed test
#![allow(missing_docs)] // criterion's macros generate undocumented items
#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use pledgeroll_contracts::crypto::{Contract, Curve};
use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::escrow::{Mode, ProjectOperation};
use pledgeroll_contracts::signing::{sign_batch, SecretKey};
use pledgeroll_contracts::{
    Applied, AssetId, MemoryStore, Operation, ProjectId, Protocol, SignedOperation, TierId,
};

/// The tier's price per 30 days: large, so a month of one patron's stream
/// funds as many withdrawals as criterion asks for.
const PRICE: u64 = 1_000_000_000;

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
    let tier = w.creator_with_tier(0, asset, PRICE);
    let mut keys = Vec::with_capacity(patrons as usize);
    for i in 0..patrons {
        let key = patron_key(i);
        let addr = key.public_key().address();
        w.p.deposit(addr, tez_ticket(), PRICE * months)
            .expect("no fault")
            .expect("ok");
        let op = if pledged {
            pledge_op(tier)
        } else {
            // Reveal the key with a harmless tip so later pledges sign by number.
            Operation::Tip {
                to: w.holder(0),
                asset,
                amount: 1,
                memo: Text::new("").expect("short"),
            }
        };
        let signed = key
            .sign_next(w.p.store(), &ROLLUP, op)
            .expect("a statement");
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
                .map(|k| {
                    k.sign_next(w.p.store(), &ROLLUP, pledge_op(tier))
                        .expect("a statement")
                })
                .collect();
            let start = Instant::now();
            for op in &ops {
                let applied = w.p.apply(op).expect("no fault").expect("a known signer");
                debug_assert!(applied.receipt.outcome.is_applied());
            }
            start.elapsed()
        })
    });
    group.finish();
}

/// Signs `ops` as `key` would send them next (untimed), then applies them
/// one by one, timed, checking each with `check`.
fn apply_timed(
    w: &mut World,
    key: &SecretKey,
    ops: impl Iterator<Item = Operation>,
    check: impl Fn(&Applied),
) -> Duration {
    let signed: Vec<SignedOperation> =
        sign_batch(w.p.store(), &ROLLUP, ops.map(|op| (key, op)).collect())
            .expect("statements")
            .into_iter()
            .map(|s| s.operation)
            .collect();
    let start = Instant::now();
    for op in &signed {
        check(&w.p.apply(op).expect("no fault").expect("a known signer"));
    }
    start.elapsed()
}

fn creator_withdraw(c: &mut Criterion) {
    let mut group = c.benchmark_group("creator_withdraw");
    group.sample_size(20);
    for patrons in [1u64, 1_000, 100_000] {
        let (mut w, asset, _, _) = world_with_patrons(patrons, true, 12);
        w.advance(30 * DAY);
        let creator = w.keys[0].clone();
        group.bench_with_input(BenchmarkId::from_parameter(patrons), &patrons, |b, _| {
            b.iter_custom(|iters| {
                let withdrawals = (0..iters).map(|_| Operation::Withdraw {
                    asset,
                    amount: 1,
                    destination: Contract::Originated([0x11; 20]),
                    entrypoint: Text::new("burn").expect("short"),
                });
                apply_timed(&mut w, &creator, withdrawals, |applied| {
                    assert_eq!(applied.withdrawals.len(), 1)
                })
            })
        });
    }
    group.finish();
}

/// A creator pausing and resuming the whole subscription (one of each per
/// iteration, signature checks included), as the number of patrons grows.
fn creator_pause_resume(c: &mut Criterion) {
    let mut group = c.benchmark_group("creator_pause_resume");
    group.sample_size(20);
    for patrons in [1u64, 1_000, 100_000] {
        let (mut w, _, _, _) = world_with_patrons(patrons, true, 12);
        w.advance(DAY);
        let creator = w.keys[0].clone();
        group.bench_with_input(BenchmarkId::from_parameter(patrons), &patrons, |b, _| {
            b.iter_custom(|iters| {
                let pairs =
                    (0..iters).flat_map(|_| [Operation::PauseCreator, Operation::ResumeCreator]);
                apply_timed(&mut w, &creator, pairs, |applied| {
                    assert!(applied.receipt.outcome.is_applied())
                })
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

/// A public project (commissioners 0, 1, 2; threshold 2) funded by account 3
/// with one closed ticket and `invoices` invoices raised by commissioner 0.
fn project_with_invoices(invoices: u32) -> (World, ProjectId) {
    let mut w = World::new(4);
    let asset = w.deposit(3, tez_ticket(), u64::from(invoices) + 10);
    let id = ProjectId(0);
    let commissioners = List::new((0..3).map(|i| w.addr(i)).collect()).expect("few");
    let ops = [
        ProjectOperation::Create {
            title: Text::new("bench").expect("short"),
            description: Text::new("").expect("short"),
            link: None,
            commissioners,
            threshold: 2,
            mode: Mode::Public,
            time_lock: None,
            refund_deadline: START as u64 + 365 * DAY,
        },
        ProjectOperation::OpenTicket {
            project: id,
            title: Text::new("t").expect("short"),
            url: None,
            budget: None,
        },
        ProjectOperation::CloseTicket {
            project: id,
            ticket: 0,
        },
    ];
    for op in ops {
        w.ok(0, Operation::Project { op });
    }
    w.ok(
        3,
        Operation::Project {
            op: ProjectOperation::Fund {
                project: id,
                asset,
                amount: u64::from(invoices) + 10,
            },
        },
    );
    let beneficiary = w.addr(3);
    for _ in 0..invoices {
        w.ok(
            0,
            Operation::Project {
                op: ProjectOperation::RaiseInvoice {
                    project: id,
                    ticket: 0,
                    beneficiary,
                    asset,
                    amount: 1,
                },
            },
        );
    }
    (w, id)
}

fn escrow_payouts(c: &mut Criterion) {
    let mut group = c.benchmark_group("escrow");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("approve_payout", |b| {
        b.iter_custom(|iters| {
            let (mut w, id) = project_with_invoices(iters as u32);
            let key = w.keys[1].clone();
            let approvals = (0..iters)
                .map(|n| {
                    let op = Operation::Project {
                        op: ProjectOperation::Approve {
                            project: id,
                            invoice: n as u32,
                        },
                    };
                    (&key, op)
                })
                .collect();
            let ops: Vec<SignedOperation> = sign_batch(w.p.store(), &ROLLUP, approvals)
                .expect("statements")
                .into_iter()
                .map(|s| s.operation)
                .collect();
            let start = Instant::now();
            for op in &ops {
                let applied = w.p.apply(op).expect("no fault").expect("a known signer");
                debug_assert!(applied.receipt.outcome.is_applied());
            }
            start.elapsed()
        })
    });
    for invoices in [1u32, 10_000] {
        let (w, _) = project_with_invoices(invoices);
        let store = w.p.into_store();
        group.bench_with_input(
            BenchmarkId::new("time_out_level", invoices),
            &invoices,
            |b, _| {
                b.iter_batched(
                    || Protocol::new(store.clone(), ROLLUP),
                    |mut p: Protocol<MemoryStore>| {
                        let events = p.begin_level(1, START + 4 * DAY as i64).expect("level");
                        assert!(events.len() as u32 >= invoices);
                        p
                    },
                    BatchSize::PerIteration,
                )
            },
        );
    }
    group.finish();
}

criterion_group!(
    benches,
    signed_pledges,
    creator_withdraw,
    creator_pause_resume,
    level_with_depletions,
    escrow_payouts
);
criterion_main!(benches);
