//! Catch-up speed of the indexer's apply path, in events per second, on
//! SQLite and on Postgres, beside the speed of writing the same rows with
//! Postgres `COPY`.
//!
//! The events are real protocol events: a synthetic chain of signed
//! operations applied by `pledgeroll_contracts::Protocol` over a memory
//! store (creators, tiers, pledges, depletions, tips, transfers,
//! withdrawals, projects and invoices), at least 1,000,000 of them. They are
//! applied in the batches the indexer uses while catching up.
//!
//! Run with `DATABASE_URL=postgres://… cargo bench -p pledgeroll-indexer
//! --bench catchup`; `CATCHUP_EVENTS` sets how many events (default
//! 1,000,000).

#![allow(clippy::indexing_slicing, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::chain::{Chain, Shape};
use common::TestDb;
use pledgeroll_indexer::rows::tables;
use pledgeroll_indexer::{Backend, Db, LevelData, Mirror};

/// The indexer's catch-up batch limits (`IndexerConfig::new`).
const BATCH_LEVELS: usize = 2_000;
const BATCH_EVENTS: usize = 100_000;

fn batches(levels: &[LevelData]) -> Vec<&[LevelData]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut events = 0;
    for (i, l) in levels.iter().enumerate() {
        events += l.event_count();
        if i + 1 - start >= BATCH_LEVELS || events >= BATCH_EVENTS || i + 1 == levels.len() {
            out.push(&levels[start..=i]);
            start = i + 1;
            events = 0;
        }
    }
    out
}

/// Applies every level as a catch-up would; returns the seconds taken.
async fn catch_up(mirror: &Mirror, levels: &[LevelData], undo_from: u32) -> f64 {
    let started = Instant::now();
    for batch in batches(levels) {
        mirror.apply(batch, undo_from).await.expect("applies");
    }
    started.elapsed().as_secs_f64()
}

/// Writes every row of `from`'s mirror into the empty mirror `to` with
/// `COPY`, in one transaction; returns the seconds taken and the rows.
async fn copy_all(from: &Db, to: &Db) -> (f64, usize) {
    let mut snapshot = from.snapshot().await.expect("snapshot");
    let rows: usize = snapshot.values().map(Vec::len).sum();
    let sizes: Vec<String> = snapshot
        .iter()
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(table, rows)| format!("{table} {}", rows.len()))
        .collect();
    println!("rows: {}", sizes.join(", "));
    assert_eq!(to.backend(), Backend::Postgres, "COPY needs Postgres");
    let mut tx = to.begin().await.expect("begin");
    let started = Instant::now();
    for def in tables() {
        if let Some(table) = snapshot.remove(def.name) {
            // Inserting into an append-only table is a `COPY` on Postgres.
            tx.insert(def, table).await.expect("copies");
        }
    }
    tx.commit().await.expect("commit");
    (started.elapsed().as_secs_f64(), rows)
}

fn main() {
    let target: usize = std::env::var("CATCHUP_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");

    let started = Instant::now();
    let mut chain = Chain::new(
        42,
        Shape {
            accounts: 600,
            ops_per_level: 150,
            jump: 0.05,
            creators: 60,
        },
    );
    let mut levels = Vec::new();
    let mut events = 0;
    while events < target {
        let level = chain.next_level();
        events += level.event_count();
        levels.push(level);
    }
    let receipts: usize = levels
        .iter()
        .map(|l| l.record.as_ref().map_or(0, |r| r.receipts.len()))
        .sum();
    println!(
        "generated {events} events and {receipts} receipts in {} levels ({:.0} s)",
        levels.len(),
        started.elapsed().as_secs_f64()
    );

    runtime.block_on(async {
        for (backend, name) in [(Backend::Sqlite, "SQLite"), (Backend::Postgres, "Postgres")] {
            for (undo_from, how) in [(u32::MAX, "finalized levels (no undo)"), (0, "undo kept for every level")] {
                let db = TestDb::new(backend);
                let mirror = db.mirror().await;
                let seconds = catch_up(&mirror, &levels, undo_from).await;
                println!(
                    "{name}, {how}: {seconds:.1} s, {:.0} events/s",
                    events as f64 / seconds
                );
                if backend == Backend::Postgres && undo_from == u32::MAX {
                    let empty = db.sibling();
                    let target = empty.mirror().await;
                    let (copy_seconds, rows) = copy_all(mirror.db(), target.db()).await;
                    println!(
                        "Postgres COPY of the same {rows} rows: {copy_seconds:.1} s, {:.0} events/s, {:.0} rows/s; the indexer reaches {:.0} % of it",
                        events as f64 / copy_seconds,
                        rows as f64 / copy_seconds,
                        100.0 * copy_seconds / seconds
                    );
                    target.db().close().await;
                }
                mirror.db().close().await;
            }
        }
    });
}
