//! The directory under load: requests per second and p99 latency for a
//! creator page with 10,000 patrons, for the creators list by patrons and
//! by income, and for the stylesheet (a static answer from the same
//! server, as a baseline), with `wrk` on 127.0.0.1, over a mirror of 1,000
//! creators and one of 100,000.
//!
//! Each mirror is built through the indexer's apply path from real
//! protocol levels of `OPS_PER_LEVEL` operations: every creator publishes
//! a profile and a tier, 10,000 patrons pledge to creator 0 and each also
//! to one of every tenth creator (so a tenth of the creators earn, 100 or
//! 10,000; the others earn nothing). Routes are measured as a browser asks them again (the answer
//! kept for the indexed level) and rendered anew for every request (a
//! query string no request repeats, which the cache cannot hold).
//!
//! Run with `cargo bench -p pledgeroll-directory --bench directory` (needs
//! `wrk`: `apt-get install -y wrk`); `DIRECTORY_BENCH_SECONDS` sets each
//! run's length (default 10). With `DIRECTORY_BENCH_POSTGRES` set to a
//! Postgres URL, the 100,000-creator mirror is also built in a schema
//! there; either way the plans of the income sort's queries are printed.

#![allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]

use std::process::Command;
use std::time::Instant;

use pledgeroll_contracts::fixtures;

#[path = "../../indexer/tests/common/mod.rs"]
mod common;

use common::chain::Script;

use pledgeroll_contracts::asset::Ticket;
use pledgeroll_contracts::crypto::{Contract, Curve};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::{Address, Operation, TierId};
use pledgeroll_directory::store::{Param, Store};
use pledgeroll_indexer::{Db, DbConfig, LevelData, Mirror};

const PATRONS: u32 = 10_000;
const OPS_PER_LEVEL: usize = 1_000;
/// The mirrors' sizes, in creators.
const SIZES: [u32; 2] = [1_000, 100_000];

fn key(i: u32) -> SecretKey {
    let mut secret = [0x77u8; 32];
    secret[..4].copy_from_slice(&i.to_le_bytes());
    SecretKey::from_bytes(Curve::Ed25519, secret).expect("valid key")
}

/// Levels where `creators` creators publish a profile and a tier, and
/// 10,000 patrons pledge to creator 0 and to one of creators 10, 20, …
/// each; creator 0's address.
fn levels(creators: u32) -> (Vec<LevelData>, Address) {
    let mut b = Script::default();
    let tez = Ticket {
        ticketer: "KT1NJGvnrPNugeem2gLeZ2ukhakXehR85W5g"
            .parse::<Contract>()
            .expect("KT1"),
        token_id: 0,
        metadata: None,
    };
    let keys: Vec<SecretKey> = (0..creators).map(key).collect();
    let patrons: Vec<SecretKey> = (creators..creators + PATRONS).map(key).collect();
    let star = keys[0].public_key().address();
    let mut setup = Vec::new();
    for (i, k) in keys.iter().enumerate() {
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
    // Creator i has tier i: each patron's second pledge goes to one of
    // every tenth creator but creator 0.
    let tenths = u64::from(creators / 10).saturating_sub(1).max(1);
    let pledges: Vec<(SecretKey, Operation)> = patrons
        .iter()
        .enumerate()
        .flat_map(|(i, k)| {
            [
                (k.clone(), fixtures::pledge(TierId(0))),
                (
                    k.clone(),
                    fixtures::pledge(TierId(10 * (1 + i as u64 % tenths))),
                ),
            ]
        })
        .collect();
    for chunk in pledges.chunks(OPS_PER_LEVEL) {
        let ops: Vec<_> = chunk.iter().map(|(k, op)| (k, op.clone())).collect();
        b.level(60, &[], &ops);
    }
    (b.levels, star)
}

/// Builds the mirror of `creators` creators at `config`; creator 0's
/// address.
async fn build(config: &DbConfig, creators: u32) -> Address {
    let started = Instant::now();
    let (levels, star) = levels(creators);
    let generated = started.elapsed();
    let db = Db::connect(config).await.expect("db");
    let mirror = Mirror::open(db).await.expect("mirror");
    let started = Instant::now();
    mirror.apply(&levels, u32::MAX).await.expect("applies");
    let applied = started.elapsed();
    mirror.db().close().await;
    let events: usize = levels.iter().map(LevelData::event_count).sum();
    println!(
        "{creators} creators: {} levels, {events} events; protocol and signing {:.1} s, \
         indexer apply {:.1} s ({:.0} events/s) into {}",
        levels.len(),
        generated.as_secs_f64(),
        applied.as_secs_f64(),
        events as f64 / applied.as_secs_f64(),
        if config.schema.is_some() {
            "Postgres"
        } else {
            "SQLite"
        },
    );
    star
}

/// What `wrk` measured: requests per second and the p99 latency in ms.
struct Measured {
    rps: f64,
    p99_ms: f64,
}

/// `wrk` against `url`; with `unique`, every request adds a number no
/// other request used to the URL, so no answer is asked for twice.
fn wrk(url: &str, unique: bool, seconds: u64) -> Measured {
    let script = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(
        script.path(),
        "local threads = 1\n\
         function setup(thread) thread:set(\"id\", threads); threads = threads + 1 end\n\
         function init(args) n = 0 end\n\
         function request()\n\
           n = n + 1\n\
           return wrk.format(nil, wrk.path .. id .. \"x\" .. n)\n\
         end\n",
    )
    .expect("writes the script");
    let mut args = vec![
        "-t2".to_owned(),
        "-c32".to_owned(),
        format!("-d{seconds}s"),
        "--latency".to_owned(),
    ];
    if unique {
        args.push("-s".to_owned());
        args.push(script.path().display().to_string());
    }
    args.push(url.to_owned());
    let out = Command::new("wrk")
        .args(&args)
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
        .map(str::trim)
        .unwrap_or_else(|| panic!("no 99% line in {report}"));
    Measured {
        rps,
        p99_ms: milliseconds(p99).unwrap_or_else(|| panic!("p99 {p99:?}")),
    }
}

/// `wrk`'s latency (`812.00us`, `3.21ms`, `1.02s`) in milliseconds.
fn milliseconds(text: &str) -> Option<f64> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * scale)
}

/// The plans of the income sort's two queries, creators earning (from a
/// cursor) and creators without income, on the mirror at `url`.
async fn income_plans(url: &str, schema: Option<&str>) -> Vec<String> {
    let sqlite = url.starts_with("sqlite:");
    #[derive(sqlx::FromRow)]
    struct SqlitePlan {
        detail: String,
    }
    #[derive(sqlx::FromRow)]
    struct PostgresPlan {
        #[sqlx(rename = "QUERY PLAN")]
        plan: String,
    }
    let store = Store::open(url, schema).await.expect("opens");
    let earning = "SELECT c.address, CAST(b.monthly_in_units AS BIGINT) AS income \
         FROM balances b JOIN creators c ON c.address = b.holder \
         WHERE b.asset_id = $1 AND b.monthly_in_units > 0 AND c.name_lower LIKE $2 ESCAPE '\\' \
         AND b.monthly_in_units <= $3 AND (b.monthly_in_units < $3 OR b.holder > $4) \
         ORDER BY b.monthly_in_units DESC, b.holder LIMIT $5";
    let idle = "SELECT c.address FROM creators c \
         WHERE c.name_lower LIKE $2 ESCAPE '\\' AND NOT EXISTS (SELECT 1 FROM balances b \
         WHERE b.holder = c.address AND b.asset_id = $1 AND b.monthly_in_units > 0) \
         AND c.address > $3 ORDER BY c.address LIMIT $4";
    let mut plans = Vec::new();
    for (sql, params) in [
        (
            earning,
            vec![
                Param::Int(0),
                Param::Text("%".to_owned()),
                Param::Int(1_500_000),
                Param::Text("tz1".to_owned()),
                Param::Int(26),
            ],
        ),
        (
            idle,
            vec![
                Param::Int(0),
                Param::Text("%".to_owned()),
                Param::Text("tz1".to_owned()),
                Param::Int(26),
            ],
        ),
    ] {
        let lines: Vec<String> = if sqlite {
            let sql = format!("EXPLAIN QUERY PLAN {sql}");
            store
                .all::<SqlitePlan>(&sql, &params)
                .await
                .expect("explains")
                .into_iter()
                .map(|r| r.detail)
                .collect()
        } else {
            let sql = format!("EXPLAIN {sql}");
            store
                .all::<PostgresPlan>(&sql, &params)
                .await
                .expect("explains")
                .into_iter()
                .map(|r| r.plan)
                .collect()
        };
        plans.push(lines.join("\n    "));
    }
    store.close().await;
    plans
}

/// One line of the table, and what it measured.
async fn measure(what: &str, url: String, unique: bool, seconds: u64) -> Measured {
    let m = tokio::task::spawn_blocking(move || wrk(&url, unique, seconds))
        .await
        .expect("wrk ran");
    println!("| {what} | {:.0} | {:.2} ms |", m.rps, m.p99_ms);
    m
}

fn main() {
    let seconds: u64 = std::env::var("DIRECTORY_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let postgres = std::env::var("DIRECTORY_BENCH_POSTGRES").ok();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut income = Vec::new();
        let mut income_rendered = Vec::new();
        for creators in SIZES {
            let url = format!(
                "sqlite://{}",
                dir.path()
                    .join(format!("mirror-{creators}.sqlite"))
                    .display()
            );
            let star = build(&DbConfig::new(url.clone()), creators).await;
            if creators == SIZES[1] {
                for plan in income_plans(&url, None).await {
                    println!("SQLite plan:\n    {plan}");
                }
            }
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
            println!();
            println!("{creators} creators:");
            println!();
            println!("| what | requests/s | p99 latency |");
            println!("|---|---|---|");
            let style = measure(
                "`/static/style.css` (static, baseline)",
                format!("{base}/static/style.css"),
                false,
                seconds,
            )
            .await;
            let page = measure(
                "`/creators/{address}`, 10,000 patrons, asked again",
                format!("{base}/creators/{star}"),
                false,
                seconds,
            )
            .await;
            measure(
                "`/creators/{address}`, 10,000 patrons, rendered for each request",
                format!("{base}/creators/{star}?n="),
                true,
                seconds,
            )
            .await;
            measure(
                "`/creators` (by patrons, first page of 25), asked again",
                format!("{base}/creators"),
                false,
                seconds,
            )
            .await;
            income.push(
                measure(
                    "`/creators?sort=income`, asked again",
                    format!("{base}/creators?sort=income"),
                    false,
                    seconds,
                )
                .await,
            );
            // A cursor above every income: the first page, under a
            // route no other request asks.
            income_rendered.push(
                measure(
                    "`/creators?sort=income`, first page rendered for each request",
                    format!("{base}/creators?sort=income&after={}.r", i64::MAX),
                    true,
                    seconds,
                )
                .await,
            );
            measure(
                "`/creators?sort=income`, first page without income, rendered for each request",
                format!("{base}/creators?sort=income&after=0.0"),
                true,
                seconds,
            )
            .await;
            println!();
            println!(
                "creator page / stylesheet: {:.2} of the requests/s (target at least 0.50), \
                 p99 {:.2} ms (target under 20 ms)",
                page.rps / style.rps,
                page.p99_ms
            );
            directory.stop().await.expect("stops");
        }
        println!();
        println!(
            "income sort, 100,000 / 1,000 creators: {:.2} of the requests/s asked again, \
             {:.2} rendered for each request",
            income[1].rps / income[0].rps,
            income_rendered[1].rps / income_rendered[0].rps,
        );
        if let Some(url) = postgres {
            let mut config = DbConfig::new(url.clone());
            let schema = common::unique("directory_bench");
            config.schema = Some(schema.clone());
            build(&config, SIZES[1]).await;
            // As autovacuum would after a catch-up: the plans with the
            // tables' statistics.
            let pool = sqlx::PgPool::connect(&url).await.expect("connects");
            sqlx::query(&format!(
                "ANALYZE \"{schema}\".balances, \"{schema}\".creators"
            ))
            .execute(&pool)
            .await
            .expect("analyzes");
            pool.close().await;
            for plan in income_plans(&url, Some(&schema)).await {
                println!("Postgres plan:\n    {plan}");
            }
            pledgeroll_indexer::db::drop_schema_blocking(&url, &schema).expect("drops");
        }
    });
}
