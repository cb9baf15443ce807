//! The alerts' cost: a level's alert work (deriving its alerts with the
//! level, then the notifier's fan-out to subscriptions) against the number
//! of accounts and subscriptions, and webhook deliveries per second to a
//! receiver on 127.0.0.1.
//!
//! A SQLite mirror is built through the apply path from real protocol
//! levels: `ALERTS_PATRONS` patrons (default 10,000) pledging to one
//! creator. Then the same level (one patron tipping another, so one alert)
//! is applied and fanned out with no subscription and with
//! `ALERTS_SUBSCRIPTIONS` (default 1,000) subscriptions of other accounts:
//! the work follows the level's alerts, so the times should match. A level
//! of 100 tips shows the work growing with the alerts. Finally one pending
//! delivery per subscription is sent to a local receiver.
//!
//! Run with `cargo bench -p pledgeroll-indexer --bench alerts`.

#![allow(clippy::indexing_slicing, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::chain::{seeded_key, ticket, Script};
use common::webhook::{receiver, SECRET};
use pledgeroll_contracts::encoding::Text;
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::{fixtures, Holder, Operation, TierId};
use pledgeroll_indexer::notifier::{Notifier, NotifierConfig};
use pledgeroll_indexer::rows::SubscriptionRow;
use pledgeroll_indexer::{Db, DbConfig, LevelData, Mirror};

const OPS_PER_LEVEL: usize = 1_000;

fn count(var: &str, default: u32) -> u32 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn patron_key(i: u32) -> SecretKey {
    let mut secret = [0x55u8; 32];
    secret[..4].copy_from_slice(&i.to_le_bytes());
    SecretKey::from_bytes(pledgeroll_contracts::crypto::Curve::Ed25519, secret).expect("key")
}

/// Levels of one alert measured, each applied to both mirrors.
const SINGLES: usize = 21;

/// The crowd's levels, then `SINGLES` levels of one tip each, and a level
/// of 100 tips.
fn levels(
    patrons: &[SecretKey],
    creator: &SecretKey,
) -> (Vec<LevelData>, Vec<LevelData>, LevelData) {
    let mut s = Script::default();
    for chunk in patrons.chunks(OPS_PER_LEVEL) {
        let deposits: Vec<_> = chunk
            .iter()
            .map(|k| (k.public_key().address(), ticket(0), 1_000_000_000))
            .collect();
        s.level(60, &deposits, &[]);
    }
    s.level(
        60,
        &[],
        &[
            (creator, fixtures::profile("Crowded")),
            (creator, fixtures::tier(5_000_000, 2_592_000)),
        ],
    );
    for chunk in patrons.chunks(OPS_PER_LEVEL) {
        let ops: Vec<_> = chunk
            .iter()
            .map(|k| (k, fixtures::pledge(TierId(0))))
            .collect();
        s.level(60, &[], &ops);
    }
    let tip = |to: &SecretKey| Operation::Tip {
        to: Holder::Account(to.public_key().address()),
        asset: pledgeroll_contracts::AssetId(0),
        amount: 1_000,
        memo: Text::new("thanks".to_owned()).expect("short"),
    };
    let crowd = s.levels.len();
    for i in 0..SINGLES {
        s.level(60, &[], &[(&patrons[0], tip(&patrons[i + 1]))]);
    }
    let many: Vec<(&SecretKey, Operation)> = (0..100)
        .map(|i| (&patrons[i + 30], tip(&patrons[i + 31])))
        .collect();
    s.level(60, &[], &many);
    let hundred = s.levels.pop().expect("a level");
    let singles = s.levels.split_off(crowd);
    (s.levels, singles, hundred)
}

async fn mirror_at(dir: &std::path::Path, name: &str, crowd: &[LevelData]) -> Mirror {
    let url = format!("sqlite://{}", dir.join(name).display());
    let mirror = Mirror::open(Db::connect(&DbConfig::new(url)).await.expect("db"))
        .await
        .expect("mirror");
    mirror.apply(crowd, u32::MAX).await.expect("applies");
    mirror
}

async fn subscribe(mirror: &Mirror, accounts: &[String], hook: &str) {
    let rows: Vec<SubscriptionRow> = accounts
        .iter()
        .enumerate()
        .map(|(i, account)| SubscriptionRow {
            subscription_id: i64::try_from(i).expect("fits") + 1,
            account: account.clone(),
            channel: "webhook".to_owned(),
            target: hook.to_owned(),
            secret: SECRET.to_owned(),
            kinds: "[]".to_owned(),
            runway_days: 7,
            from_level: 0,
            statement: format!("bench {i}"),
            statement_hash: format!("{i:064x}"),
            signature: String::new(),
            created_at: 0,
            stopped_at: None,
        })
        .collect();
    let mut tx = mirror.db().begin_write().await.expect("begin");
    tx.store(&rows).await.expect("subscribes");
    tx.commit().await.expect("commit");
}

/// Applies `level` and fans out its alerts: the time of each, in ms.
async fn alert_work(mirror: &Mirror, notifier: &Notifier, level: &LevelData) -> (f64, f64, usize) {
    let started = Instant::now();
    mirror
        .apply(std::slice::from_ref(level), u32::MAX)
        .await
        .expect("applies");
    let applied = started.elapsed();
    let started = Instant::now();
    let queued = notifier.fan_out_to(level.level).await.expect("fans out");
    (
        applied.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3,
        queued,
    )
}

fn main() {
    let patrons_n = count("ALERTS_PATRONS", 10_000);
    let subscriptions_n = count("ALERTS_SUBSCRIPTIONS", 1_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let creator = seeded_key(7);
        let patrons: Vec<SecretKey> = (0..patrons_n).map(patron_key).collect();
        let (crowd, singles, hundred) = levels(&patrons, &creator);
        let dir = tempfile::tempdir().expect("temp dir");
        let (hook, seen) = receiver(0).await;
        let quiet = mirror_at(dir.path(), "quiet.sqlite", &crowd).await;
        let busy = mirror_at(dir.path(), "busy.sqlite", &crowd).await;
        // Subscriptions of accounts other than the tipped one, and the
        // creator, who hears of nothing in these levels.
        let others: Vec<String> = patrons
            .iter()
            .skip(200)
            .take(usize::try_from(subscriptions_n).expect("fits"))
            .map(|k| k.public_key().address().to_string())
            .collect();
        subscribe(&busy, &others, &hook).await;
        let config = NotifierConfig::default();
        let quiet_notifier = Notifier::new(quiet.clone(), config.clone()).expect("notifier");
        let busy_notifier = Notifier::new(busy.clone(), config).expect("notifier");
        // Both notifiers start past the crowd's levels.
        let top = crowd.last().map_or(0, |l| l.level);
        quiet_notifier.fan_out_to(top).await.expect("fans out");
        busy_notifier.fan_out_to(top).await.expect("fans out");

        // Turn about, so both mirrors see the same machine.
        let (mut q, mut b) = (Vec::new(), Vec::new());
        for level in &singles {
            let w = alert_work(&quiet, &quiet_notifier, level).await;
            q.push(w.0 + w.1);
            let w = alert_work(&busy, &busy_notifier, level).await;
            b.push(w.0 + w.1);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (q, b) = (median(&mut q), median(&mut b));
        println!(
            "a level of one alert, {patrons_n} patrons, median of {SINGLES}: apply + fan-out \
             {q:.2} ms with no subscription, {b:.2} ms with {subscriptions_n}: ratio {:.2}",
            b / q
        );
        let h = alert_work(&busy, &busy_notifier, &hundred).await;
        println!(
            "100 alerts, {subscriptions_n} subscriptions: apply {:.2} ms + fan-out {:.2} ms \
             ({} queued)",
            h.0, h.1, h.2
        );

        // One delivery per subscription, to the local receiver.
        let mut tx = busy.db().begin_write().await.expect("begin");
        let alert = pledgeroll_indexer::rows::DeliveryRow {
            subscription_id: 0,
            level: i64::from(hundred.level),
            idx: 0,
            status: "pending".to_owned(),
            attempts: 0,
            next_attempt_at: 0,
            first_attempt_at: None,
            delivered_at: None,
            last_result: None,
        };
        let pending: Vec<_> = (1..=i64::from(subscriptions_n))
            .map(|id| pledgeroll_indexer::rows::DeliveryRow {
                subscription_id: id,
                ..alert.clone()
            })
            .collect();
        tx.store(&pending).await.expect("queues");
        tx.commit().await.expect("commit");
        let started = Instant::now();
        let mut delivered = 0;
        while delivered < pending.len() {
            let r = busy_notifier.round(hundred.level).await.expect("round");
            delivered += r.delivered;
            assert!(started.elapsed() < Duration::from_secs(600), "deliveries stalled");
        }
        let seconds = started.elapsed().as_secs_f64();
        let signed = seen.lock().expect("lock").requests.iter().filter(|r| r.1).count();
        println!(
            "webhooks: {delivered} delivered in {seconds:.2} s, {:.0} per second ({signed} signatures verified)",
            delivered as f64 / seconds
        );
    });
}
