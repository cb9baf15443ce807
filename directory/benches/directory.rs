//! The directory under load: requests per second and p99 latency for a
//! creator page with 10,000 patrons, for the creators list, and for the
//! stylesheet (a static answer from the same server, as a baseline), with
//! `wrk` on 127.0.0.1.
//!
//! The mirror is built through the indexer's apply path from real protocol
//! levels: 10,000 patrons pledging to one creator, and 1,000 creators with
//! a profile and a tier each. Run with `cargo bench -p pledgeroll-indexer
//! --bench directory` (needs `wrk`: `apt-get install -y wrk`);
//! `DIRECTORY_BENCH_SECONDS` sets each run's length (default 10).

#![allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]

use pledgeroll_contracts::fixtures;
use std::process::Command;

#[path = "../../indexer/tests/common/mod.rs"]
mod common;

use common::chain::Script;

use pledgeroll_contracts::asset::Ticket;
use pledgeroll_contracts::crypto::{Contract, Curve};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::{Address, Operation, TierId};
use pledgeroll_indexer::{Db, DbConfig, LevelData, Mirror};

const PATRONS: u32 = 10_000;
const CREATORS: u32 = 1_000;
const OPS_PER_LEVEL: usize = 1_000;

fn key(i: u32) -> SecretKey {
    let mut secret = [0x77u8; 32];
    secret[..4].copy_from_slice(&i.to_le_bytes());
    SecretKey::from_bytes(Curve::Ed25519, secret).expect("valid key")
}

/// Levels where creator 0 gains 10,000 patrons and 999 more creators
/// publish a profile and a tier.
fn levels() -> (Vec<LevelData>, Address) {
    let mut b = Script::default();
    let tez = Ticket {
        ticketer: "KT1NJGvnrPNugeem2gLeZ2ukhakXehR85W5g"
            .parse::<Contract>()
            .expect("KT1"),
        token_id: 0,
        metadata: None,
    };
    let creators: Vec<SecretKey> = (0..CREATORS).map(key).collect();
    let patrons: Vec<SecretKey> = (CREATORS..CREATORS + PATRONS).map(key).collect();
    let star = creators[0].public_key().address();
    let mut setup = Vec::new();
    for (i, k) in creators.iter().enumerate() {
        setup.push((k.clone(), fixtures::profile(&format!("Creator {i}"))));
        setup.push((k.clone(), fixtures::tier(1_000_000 + i as u64, 2_592_000)));
    }
    // Deposits first: they register the asset the tiers are priced in.
    let addresses: Vec<Address> = patrons.iter().map(|k| k.public_key().address()).collect();
    for chunk in addresses.chunks(OPS_PER_LEVEL) {
        let deposits: Vec<_> = chunk
            .iter()
            .map(|a| (*a, tez.clone(), 1_000_000_000))
            .collect();
        b.level(60, &deposits, &[]);
    }
    for chunk in setup.chunks(OPS_PER_LEVEL) {
        let ops: Vec<_> = chunk.iter().map(|(k, op)| (k, op.clone())).collect();
        b.level(60, &[], &ops);
    }
    let pledges: Vec<(SecretKey, Operation)> = patrons
        .iter()
        .map(|k| (k.clone(), fixtures::pledge(TierId(0))))
        .collect();
    for chunk in pledges.chunks(OPS_PER_LEVEL) {
        let ops: Vec<_> = chunk.iter().map(|(k, op)| (k, op.clone())).collect();
        b.level(60, &[], &ops);
    }
    (b.levels, star)
}

/// Requests per second and p99 latency (ms) `wrk` measures for `url`.
fn wrk(url: &str, seconds: u64) -> (f64, String) {
    let out = Command::new("wrk")
        .args(["-t2", "-c32", &format!("-d{seconds}s"), "--latency", url])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run wrk ({e}): install it with `apt-get install -y wrk`")
        });
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wrk failed: {report}");
    assert!(
        !report.contains("Non-2xx"),
        "{url} answered errors under load: {report}"
    );
    let rps = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in {report}"));
    let p99 = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("no 99% line in {report}"));
    (rps, p99)
}

fn main() {
    let seconds: u64 = std::env::var("DIRECTORY_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("mirror.sqlite").display());
        let (levels, star) = levels();
        let db = Db::connect(&DbConfig::new(url.clone())).await.expect("db");
        let mirror = Mirror::open(db).await.expect("mirror");
        mirror.apply(&levels, u32::MAX).await.expect("applies");
        mirror.db().close().await;
        let directory = pledgeroll_directory::serve(
            &url,
            None,
            "127.0.0.1:0".parse().expect("address"),
            None,
            None,
        )
        .await
        .expect("serves");
        let base = directory.url();
        let check = reqwest::get(format!("{base}/api/v1/creators/{star}"))
            .await
            .expect("answers")
            .text()
            .await
            .expect("body");
        assert!(check.contains("\"active_patrons\":10000"), "{check}");
        println!("| what | requests/s | p99 latency |");
        println!("|---|---|---|");
        for (what, path) in [
            (
                "stylesheet (static, baseline)",
                "/static/style.css".to_owned(),
            ),
            ("creator page, 10,000 patrons", format!("/creators/{star}")),
            (
                "creators list (1,000 creators, first page of 25)",
                "/creators".to_owned(),
            ),
            (
                "creators list by income",
                "/creators?sort=income".to_owned(),
            ),
        ] {
            let url = format!("{base}{path}");
            let (rps, p99) = tokio::task::spawn_blocking(move || wrk(&url, seconds))
                .await
                .expect("wrk ran");
            println!("| {what} | {rps:.0} | {p99} |");
        }
        directory.stop().await.expect("stops");
    });
}
