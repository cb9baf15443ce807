//! The notifier against a webhook receiver on 127.0.0.1: alerts of final
//! levels only, each once and in order through failures, signed so the
//! receiver can check them; on SQLite and Postgres (`DATABASE_URL`).

#![allow(clippy::indexing_slicing, clippy::panic)]

#[macro_use]
mod common;

use std::time::Duration;

use common::chain::{pledges_and_a_tip, seeded_key, Script};
use common::webhook::{receiver, SECRET};
use common::TestDb;
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_indexer::notifier::{Notifier, NotifierConfig};
use pledgeroll_indexer::rows::{DeliveryRow, SubscriptionRow};
use pledgeroll_indexer::Backend;

/// The levels of `pledges_and_a_tip`, then twenty days in which `dry`
/// runs out (level 4).
fn levels(creator: &SecretKey, patron: &SecretKey, dry: &SecretKey) -> Script {
    let mut s = pledges_and_a_tip(creator, patron, dry);
    s.level(20 * 86_400, &[], &[]);
    s
}

fn subscription(id: i64, account: &str, url: &str, kinds: &str) -> SubscriptionRow {
    SubscriptionRow {
        subscription_id: id,
        account: account.to_owned(),
        channel: "webhook".to_owned(),
        target: url.to_owned(),
        secret: SECRET.to_owned(),
        kinds: kinds.to_owned(),
        runway_days: 7,
        from_level: 0,
        statement: format!("statement {id}"),
        statement_hash: format!("{id:064x}"),
        signature: String::new(),
        created_at: 0,
        stopped_at: None,
    }
}

async fn webhooks_get_final_alerts_once_in_order_through_failures(backend: Backend) {
    let (creator, patron, dry) = (seeded_key(31), seeded_key(32), seeded_key(33));
    let s = levels(&creator, &patron, &dry);
    let db = TestDb::new(backend);
    let mirror = db.mirror().await;
    mirror.apply(&s.levels[..3], 0).await.expect("applies");
    let (url, seen) = receiver(3).await;
    let c = creator.public_key().address().to_string();
    let mut tx = mirror.db().begin().await.expect("begin");
    tx.store(&[
        subscription(1, &c, &url, "[]"),
        subscription(2, &c, &url, r#"["tip_received"]"#),
    ])
    .await
    .expect("subscribes");
    tx.commit().await.expect("commit");
    let notifier = Notifier::new(
        mirror.clone(),
        NotifierConfig {
            min_backoff: Duration::ZERO,
            ..NotifierConfig::default()
        },
    )
    .expect("notifier");
    // Nothing is final yet above level 2.
    let first = notifier.round(2).await.expect("round");
    assert_eq!(first.queued, 0);
    // Level 3 final: three alerts for the first subscription, the tip for
    // the second.
    let mut queued = 0;
    let mut delivered = 0;
    for _ in 0..20 {
        let r = notifier.round(3).await.expect("round");
        queued += r.queued;
        delivered += r.delivered;
        if delivered == 4 {
            break;
        }
    }
    assert_eq!((queued, delivered), (4, 4));
    let requests = seen.lock().expect("lock").requests.clone();
    assert!(
        requests.iter().all(|(_, signed, _)| *signed),
        "{requests:?}"
    );
    let delivered_ids: Vec<&str> = requests
        .iter()
        .filter(|(_, _, status)| *status == 204)
        .map(|(id, _, _)| id.as_str())
        .collect();
    // Three failures, then each alert once: the tip twice (one per
    // subscription), everything in level order per subscription.
    assert_eq!(requests.iter().filter(|r| r.2 == 500).count(), 3);
    let mut sorted = delivered_ids.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec!["3.0", "3.1", "3.2", "3.2"], "{requests:?}");
    let mut tx = mirror.db().begin().await.expect("begin");
    let deliveries: Vec<DeliveryRow> = tx.load_all().await.expect("deliveries");
    tx.rollback().await.expect("rollback");
    assert!(
        deliveries.iter().all(|d| d.status == "delivered"),
        "{deliveries:?}"
    );
    let first_sub: Vec<i64> = deliveries
        .iter()
        .filter(|d| d.subscription_id == 1)
        .map(|d| d.idx)
        .collect();
    assert_eq!(first_sub, vec![0, 1, 2]);
    // Within one subscription, no alert was sent before an older one was
    // delivered.
    let order: Vec<&str> = requests.iter().map(|(id, _, _)| id.as_str()).collect();
    let first_delivery_of_3_1 = order.iter().position(|id| *id == "3.1").expect("sent");
    let last_try_of_3_0 = order.iter().rposition(|id| *id == "3.0").expect("sent");
    assert!(last_try_of_3_0 < first_delivery_of_3_1, "{order:?}");
    // A level a reorganisation takes back before it is final sends
    // nothing: level 4 (the patron runs dry) comes and goes.
    mirror.apply(&s.levels[3..4], 0).await.expect("applies");
    let r = notifier.round(3).await.expect("round");
    assert_eq!(r.queued, 0);
    mirror.revert_to(3).await.expect("reverts");
    let r = notifier.round(4).await.expect("round");
    assert_eq!(r.queued, 0, "level 4 is not in the mirror any more");
    // Once it is back and final, its alert goes.
    mirror.apply(&s.levels[3..4], 0).await.expect("applies");
    let r = notifier.round(4).await.expect("round");
    assert_eq!((r.queued, r.delivered), (1, 1));
    assert_eq!(
        seen.lock()
            .expect("lock")
            .requests
            .last()
            .map(|r| r.0.clone()),
        Some("4.0".to_owned())
    );
    mirror.db().close().await;
}
on_both!(webhooks_get_final_alerts_once_in_order_through_failures: sqlite_webhooks_get_final_alerts_once_in_order, postgres_webhooks_get_final_alerts_once_in_order);
