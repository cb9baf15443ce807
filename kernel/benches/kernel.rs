//! Kernel benchmarks on `MockHost`: signed pledges per second through the
//! whole kernel (inbox parsing, signature checks, protocol, durable storage,
//! level record, and for a full level the reboots between its runs), and the
//! inbox bytes one pledge costs in a full batch.

// Benchmark setup stops at the first surprise.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use criterion::{criterion_main, Criterion, SamplingMode, Throughput};
use pledgeroll_contracts::operation::MAX_BATCH_BYTES;
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::{Signature, SignedOperation, Signer};

/// Pledges one patron makes at most in a benchmark (the protocol's limit of
/// live pledges per patron is 64).
const PLEDGES_PER_PATRON: usize = 60;

/// Batches in one benchmarked level.
const BATCHES_PER_LEVEL: usize = 10;

/// Batches in a full inbox level, which takes several kernel runs.
const FULL_LEVEL_BATCHES: usize = 100;

/// A rollup with a creator's tier and `patrons` funded patrons whose keys
/// the rollup already knows (each has pledged once), so later operations
/// name their signer by address as a wallet's would.
fn prepared(patrons: usize) -> (Harness, Vec<SecretKey>) {
    let mut h = Harness::new();
    let keys: Vec<SecretKey> = (0..patrons as u32).map(|i| key(1_000 + i)).collect();
    for k in &keys {
        h.deposit(&addr(k), 1_000_000_000_000);
    }
    h.run();
    let creator = bootstrap1();
    h.send(vec![
        (&creator, profile("Ada")),
        (&creator, tier(2_592_000, 2_592_000)),
    ]);
    h.run();
    for chunk in keys.chunks(25) {
        let reveals: Vec<_> = chunk.iter().map(|k| h.sign(k, pledge(0))).collect();
        h.submit(&reveals);
    }
    let (_, record) = h.run();
    assert!(record.receipts.iter().all(|r| r.outcome.is_applied()));
    (h, keys)
}

/// How many pledges from known accounts fit in one batch (of the largest,
/// by an account number of two bytes).
fn pledges_per_batch() -> usize {
    let dummy = SignedOperation {
        signer: Signer::Index(16_383),
        operation: pledge(0),
        signature: Signature([0; 64]),
    };
    let mut n = 0;
    while Harness::batch_bytes(&vec![dummy.clone(); n + 1]).len() <= MAX_BATCH_BYTES {
        n += 1;
    }
    n
}

/// A full batch of pledges, round-robin over `keys` from `next`.
fn full_batch(h: &mut Harness, keys: &[SecretKey], next: &mut usize) -> Vec<SignedOperation> {
    let ops: Vec<_> = (0..pledges_per_batch())
        .map(|_| {
            let k = &keys[*next % keys.len()];
            *next += 1;
            h.sign(k, pledge(0))
        })
        .collect();
    assert!(Harness::batch_bytes(&ops).len() <= MAX_BATCH_BYTES);
    ops
}

/// Times `iters` levels of `batches` full batches of pledges; returns the
/// time and the kernel runs of each level.
fn pledge_levels(iters: u64, batches: usize) -> (Duration, Vec<u32>) {
    let pledges = iters as usize * batches * pledges_per_batch();
    let (mut h, keys) = prepared(pledges / PLEDGES_PER_PATRON + 1);
    let mut next = 0;
    let levels: Vec<Vec<Vec<SignedOperation>>> = (0..iters)
        .map(|_| {
            (0..batches)
                .map(|_| full_batch(&mut h, &keys, &mut next))
                .collect()
        })
        .collect();
    let mut total = Duration::ZERO;
    let mut runs = Vec::new();
    for level in &levels {
        for b in level {
            h.submit(b);
        }
        let start = Instant::now();
        let ((_, record), level_runs) = h.run_counted();
        total += start.elapsed();
        runs.push(level_runs);
        assert_eq!(record.receipts.len(), batches * level[0].len());
        assert!(record.receipts.iter().all(|r| r.outcome.is_applied()));
    }
    (total, runs)
}

fn bench(c: &mut Criterion) {
    let (mut h, keys) = prepared(4);
    let mut next = 0;
    let batch = full_batch(&mut h, &keys, &mut next);
    let bytes = Harness::batch_bytes(&batch).len();
    let per_level = BATCHES_PER_LEVEL * batch.len();
    println!(
        "full batch: {} signed pledges in {bytes} bytes ({:.1} bytes per pledge; \
         {:.1} with the 22 bytes of inbox framing)",
        batch.len(),
        bytes as f64 / batch.len() as f64,
        (bytes + 22) as f64 / batch.len() as f64,
    );

    let mut group = c.benchmark_group("kernel");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(per_level as u64));
    group.bench_function("level_of_10_full_batches_of_signed_pledges", |b| {
        b.iter_custom(|iters| pledge_levels(iters, BATCHES_PER_LEVEL).0)
    });

    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("level_of_1_full_batch_of_signed_pledges", |b| {
        b.iter_custom(|iters| {
            let (mut h, keys) =
                prepared(iters as usize * pledges_per_batch() / PLEDGES_PER_PATRON + 1);
            let mut next = 0;
            let batches: Vec<_> = (0..iters)
                .map(|_| full_batch(&mut h, &keys, &mut next))
                .collect();
            let mut total = Duration::ZERO;
            for b in &batches {
                h.submit(b);
                let start = Instant::now();
                h.run();
                total += start.elapsed();
            }
            total
        })
    });
    group.throughput(Throughput::Elements(1));
    for levels in [1, 30] {
        let pledges = levels * per_level;
        let (mut h, keys) = prepared(pledges / PLEDGES_PER_PATRON + 1);
        let mut next = 0;
        for _ in 0..levels {
            for _ in 0..BATCHES_PER_LEVEL {
                let b = full_batch(&mut h, &keys, &mut next);
                h.submit(&b);
            }
            h.run();
        }
        group.bench_function(format!("empty_level_after_{pledges}_pledges"), |b| {
            b.iter(|| h.run())
        });
    }
    group.finish();

    let (_, runs) = pledge_levels(1, FULL_LEVEL_BATCHES);
    println!(
        "full level: {} signed pledges in {FULL_LEVEL_BATCHES} batches, {} kernel runs",
        FULL_LEVEL_BATCHES * batch.len(),
        runs[0]
    );
    // Each sample is a whole full level or a few: flat sampling keeps the
    // number of levels, each with its own patrons to set up, small.
    let mut group = c.benchmark_group("kernel");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(30));
    group.throughput(Throughput::Elements(
        (FULL_LEVEL_BATCHES * batch.len()) as u64,
    ));
    group.bench_function("level_of_100_full_batches_of_signed_pledges", |b| {
        b.iter_custom(|iters| pledge_levels(iters, FULL_LEVEL_BATCHES).0)
    });
    group.finish();
}

/// Every kernel benchmark, with criterion's command-line settings.
fn benches() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
}

criterion_main!(benches);
