//! The notifier: sends each subscription the alerts of its account, once
//! their level is final, in order, at least once, with a stable id.
//!
//! A round has two steps, each its own transaction:
//!
//! 1. **Fan-out.** The alerts of the levels the mirror holds above the
//!    notifier's cursor and at or below the final level (the node's
//!    finalized level, or the mirror's own if lower) become one pending
//!    delivery per subscription of their account that wants their kind.
//!    The work is the alerts of those levels (a key range) and their
//!    accounts' subscriptions (an index), never every subscription or
//!    account. The cursor moves in the same transaction, so a crash neither
//!    loses nor doubles a delivery; an alert of a level a reorganisation
//!    replaced was never final, so it is never sent.
//! 2. **Delivery.** Each subscription's oldest pending delivery is sent
//!    (several subscriptions at once, each request with a timeout): a JSON
//!    POST signed with HMAC-SHA256 under the subscription's secret, Stripe's
//!    way (`Pledgeroll-Signature: t=<unix>,v1=<hex>` over `<t>.<body>`).
//!    A 2xx answer marks it delivered; anything else is retried after 1,
//!    2, 4 … seconds (at most an hour apart) until a day has passed since
//!    the first attempt, when it is marked failed and the next one goes.
//!    A delivery is marked only after its answer, so a process killed
//!    mid-delivery sends it again on restart: a duplicate with the same id.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::alerts::AlertKind;
use crate::error::IndexError;
use crate::mirror::{read_meta, Mirror};
use crate::rows::{AlertRow, DeliveryRow, MetaRow, SubscriptionRow};
use crate::schema::{Row, Value};

/// The setting holding the last level whose alerts were fanned out.
const META_NOTIFIED: &str = "notified_level";

/// Most levels fanned out in one transaction.
const FAN_OUT_LEVELS: u32 = 1_000;

/// Most pending deliveries looked at in one round.
const PENDING_PER_ROUND: i64 = 10_000;

/// The header carrying a webhook body's signature.
pub const SIGNATURE_HEADER: &str = "pledgeroll-signature";

/// The header carrying the alert's id.
pub const ALERT_ID_HEADER: &str = "pledgeroll-alert-id";

/// How the notifier sends.
#[derive(Debug, Clone)]
pub struct NotifierConfig {
    /// Subscriptions sent to at once.
    pub concurrency: usize,
    /// How long one webhook request may take.
    pub timeout: Duration,
    /// How long a failing delivery is retried before it is given up.
    pub give_up_after: Duration,
    /// The pause after a first failed attempt; it doubles with each one.
    pub min_backoff: Duration,
    /// Longest pause between two attempts.
    pub max_backoff: Duration,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        NotifierConfig {
            concurrency: 8,
            timeout: Duration::from_secs(10),
            give_up_after: Duration::from_secs(24 * 3_600),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(3_600),
        }
    }
}

/// What a round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// Deliveries made pending by the fan-out.
    pub queued: usize,
    /// Deliveries answered 2xx.
    pub delivered: usize,
    /// Attempts that failed (to be retried, or given up).
    pub failed_attempts: usize,
}

/// Sends alerts to subscriptions.
#[derive(Debug, Clone)]
pub struct Notifier {
    mirror: Mirror,
    http: reqwest::Client,
    config: NotifierConfig,
}

/// The body of `alert` as a webhook carries it.
pub fn webhook_body(alert: &AlertRow, subscription: i64) -> String {
    json!({
        "id": format!("{}.{}", alert.level, alert.idx),
        "subscription": subscription,
        "kind": alert.kind,
        "account": alert.account,
        "level": alert.level,
        "happened_at": alert.happened_at,
        "counterparty": alert.counterparty,
        "pledge_id": alert.pledge_id,
        "tier_id": alert.tier_id,
        "project_id": alert.project_id,
        "invoice_no": alert.invoice_no,
        "asset_id": alert.asset_id,
        "amount": alert.amount.map(|a| a.to_string()),
        "period": alert.period,
        "reason": alert.reason,
    })
    .to_string()
}

/// The signature header of a webhook `body` sent at `time` under `secret`:
/// `t=<time>,v1=<hex HMAC-SHA256 of "<time>.<body>">`.
pub fn webhook_signature(secret: &str, time: i64, body: &str) -> String {
    let v1 = match <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(format!("{time}.{body}").as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC takes keys of any length: never reached.
        Err(_) => String::new(),
    };
    format!("t={time},v1={v1}")
}

/// Whether `header` is a valid signature of `body` under `secret`, made
/// within `tolerance` seconds of `now`: what a receiver checks.
pub fn verify_webhook(secret: &str, header: &str, body: &str, now: i64, tolerance: i64) -> bool {
    let mut time = None;
    let mut given = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => time = t.parse::<i64>().ok(),
            Some(("v1", v)) => given = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(time), Some(given)) = (time, given) else {
        return false;
    };
    if (now - time).abs() > tolerance {
        return false;
    }
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(format!("{time}.{body}").as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// Whether `subscription` wants alerts of `kind`.
fn wants(subscription: &SubscriptionRow, kind: &str) -> bool {
    let kinds: Vec<String> = serde_json::from_str(&subscription.kinds).unwrap_or_default();
    kinds.is_empty() || kinds.iter().any(|k| k == kind)
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Notifier {
    /// A notifier over `mirror`.
    pub fn new(mirror: Mirror, config: NotifierConfig) -> Result<Self, IndexError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| IndexError::Config(format!("cannot make the HTTP client: {e}")))?;
        Ok(Notifier {
            mirror,
            http,
            config,
        })
    }

    /// Fans out the alerts of levels up to `final_level`, then makes one
    /// delivery attempt for each subscription with one due.
    pub async fn round(&self, final_level: u32) -> Result<RoundReport, IndexError> {
        let mut report = RoundReport {
            queued: self.fan_out(final_level).await?,
            ..RoundReport::default()
        };
        let (delivered, failed) = self.deliver().await?;
        report.delivered = delivered;
        report.failed_attempts = failed;
        Ok(report)
    }

    /// Makes the alerts of the final levels up to `final_level` pending
    /// deliveries, without sending any; returns how many.
    pub async fn fan_out_to(&self, final_level: u32) -> Result<usize, IndexError> {
        self.fan_out(final_level).await
    }

    /// Makes the alerts of the final levels above the cursor pending
    /// deliveries; returns how many.
    async fn fan_out(&self, final_level: u32) -> Result<usize, IndexError> {
        let db = self.mirror.db();
        // Read first, and take the write lock only when there is work.
        let mut tx = db.begin().await?;
        let cursor = crate::mirror::read_cursor(&mut tx).await?;
        let notified = read_meta(&mut tx, META_NOTIFIED).await?;
        tx.rollback().await?;
        let idle = match (&cursor, &notified) {
            (None, _) => true,
            (Some(c), Some(n)) => n
                .parse::<i64>()
                .is_ok_and(|n| n >= i64::from(final_level.min(c.level))),
            (Some(_), None) => false,
        };
        if idle {
            return Ok(0);
        }
        let mut tx = db.begin_write().await?;
        let Some(cursor) = crate::mirror::read_cursor(&mut tx).await? else {
            tx.rollback().await?;
            return Ok(0);
        };
        let final_level = i64::from(final_level.min(cursor.level));
        let notified: i64 = match read_meta(&mut tx, META_NOTIFIED).await? {
            Some(v) => v.parse().map_err(|_| IndexError::Corrupt {
                table: "indexer_meta".into(),
                reason: format!("notified level {v}"),
            })?,
            // A new notifier starts before the first level a subscription
            // sends, or at the final level if there is none yet.
            None => {
                let first = tx
                    .select_filtered(
                        &SubscriptionRow::DEF,
                        "stopped_at IS NULL",
                        "from_level LIMIT 1",
                        Vec::new(),
                    )
                    .await?
                    .into_iter()
                    .next()
                    .map(SubscriptionRow::from_values)
                    .transpose()?;
                first.map_or(final_level, |s| (s.from_level - 1).min(final_level))
            }
        };
        let upto = final_level.min(notified + i64::from(FAN_OUT_LEVELS));
        let mut queued = 0;
        if upto > notified {
            let alerts: Vec<AlertRow> = tx
                .select_filtered(
                    &AlertRow::DEF,
                    "level > $1 AND level <= $2",
                    "level, idx",
                    vec![Value::Int(notified), Value::Int(upto)],
                )
                .await?
                .into_iter()
                .map(AlertRow::from_values)
                .collect::<Result<_, _>>()?;
            let accounts: BTreeSet<&str> = alerts.iter().map(|a| a.account.as_str()).collect();
            let mut subscriptions: BTreeMap<&str, Vec<SubscriptionRow>> = BTreeMap::new();
            for account in accounts {
                let rows = tx
                    .select_by(
                        &SubscriptionRow::DEF,
                        "account",
                        Value::Text(account.to_owned()),
                    )
                    .await?
                    .into_iter()
                    .map(SubscriptionRow::from_values)
                    .collect::<Result<Vec<_>, _>>()?;
                subscriptions.insert(account, rows);
            }
            let now = now_unix();
            let mut deliveries = Vec::new();
            for a in &alerts {
                for s in subscriptions.get(a.account.as_str()).into_iter().flatten() {
                    if s.stopped_at.is_none() && a.level >= s.from_level && wants(s, &a.kind) {
                        deliveries.push(DeliveryRow {
                            subscription_id: s.subscription_id,
                            level: a.level,
                            idx: a.idx,
                            status: "pending".to_owned(),
                            attempts: 0,
                            next_attempt_at: now,
                            first_attempt_at: None,
                            delivered_at: None,
                            last_result: None,
                        });
                    }
                }
            }
            queued = deliveries.len();
            tx.store(&deliveries).await?;
        }
        if upto > notified || read_meta(&mut tx, META_NOTIFIED).await?.is_none() {
            tx.store(&[MetaRow {
                name: META_NOTIFIED.to_owned(),
                value: upto.max(notified).to_string(),
            }])
            .await?;
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// One attempt for each subscription's oldest pending delivery that is
    /// due; returns (delivered, failed attempts).
    async fn deliver(&self) -> Result<(usize, usize), IndexError> {
        let db = self.mirror.db();
        let mut tx = db.begin().await?;
        let pending: Vec<DeliveryRow> = tx
            .select_filtered(
                &DeliveryRow::DEF,
                "status = 'pending'",
                "subscription_id, level, idx LIMIT $1",
                vec![Value::Int(PENDING_PER_ROUND)],
            )
            .await?
            .into_iter()
            .map(DeliveryRow::from_values)
            .collect::<Result<_, _>>()?;
        let now = now_unix();
        // In order per subscription: only its oldest pending one, if due.
        let mut oldest: BTreeMap<i64, DeliveryRow> = BTreeMap::new();
        for d in pending {
            oldest.entry(d.subscription_id).or_insert(d);
        }
        oldest.retain(|_, d| d.next_attempt_at <= now);
        let mut due = Vec::new();
        for d in oldest.into_values() {
            let subscription: Vec<SubscriptionRow> = tx.load(&[(d.subscription_id,)]).await?;
            let alert: Vec<AlertRow> = tx.load(&[(d.level, d.idx)]).await?;
            if let (Some(s), Some(a)) = (subscription.into_iter().next(), alert.into_iter().next())
            {
                due.push((d, s, a));
            }
        }
        tx.rollback().await?;
        let outcomes: Vec<DeliveryRow> = futures_util::stream::iter(due)
            .map(|(d, s, a)| self.attempt(d, s, a))
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        let delivered = outcomes.iter().filter(|d| d.status == "delivered").count();
        let failed = outcomes.len() - delivered;
        if !outcomes.is_empty() {
            let mut tx = db.begin_write().await?;
            tx.store(&outcomes).await?;
            tx.commit().await?;
        }
        Ok((delivered, failed))
    }

    /// Sends one delivery; returns it as it now stands.
    async fn attempt(&self, mut d: DeliveryRow, s: SubscriptionRow, a: AlertRow) -> DeliveryRow {
        let now = now_unix();
        let first = *d.first_attempt_at.get_or_insert(now);
        d.attempts += 1;
        let result = if s.stopped_at.is_some() {
            Err("the subscription was stopped".to_owned())
        } else {
            match s.channel.as_str() {
                "webhook" => self.post(&s, &a).await,
                other => Err(format!("no way to send by {other}")),
            }
        };
        match result {
            Ok(status) => {
                d.status = "delivered".to_owned();
                d.delivered_at = Some(now);
                d.last_result = Some(status);
            }
            Err(why) => {
                let waited = u64::try_from(now - first).unwrap_or(0);
                if s.stopped_at.is_some() || waited >= self.config.give_up_after.as_secs() {
                    d.status = "failed".to_owned();
                } else {
                    let pause =
                        retry_pause(d.attempts, self.config.min_backoff, self.config.max_backoff);
                    d.next_attempt_at =
                        now.saturating_add(i64::try_from(pause.as_secs()).unwrap_or(i64::MAX));
                }
                d.last_result = Some(why);
            }
        }
        d
    }

    /// POSTs an alert to a subscription's webhook: the HTTP status on a 2xx
    /// answer, what went wrong otherwise.
    async fn post(&self, s: &SubscriptionRow, a: &AlertRow) -> Result<String, String> {
        let body = webhook_body(a, s.subscription_id);
        let signature = webhook_signature(&s.secret, now_unix(), &body);
        let answer = self
            .http
            .post(&s.target)
            .header("content-type", "application/json")
            .header(ALERT_ID_HEADER, format!("{}.{}", a.level, a.idx))
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = answer.status();
        if status.is_success() {
            Ok(status.to_string())
        } else {
            Err(format!("answered {status}"))
        }
    }
}

/// The pause after the `attempts`th failed attempt: `min` doubled for each
/// attempt before it, at most `max`.
pub fn retry_pause(attempts: i64, min: Duration, max: Duration) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(30);
    min.saturating_mul(1u32 << doublings).min(max)
}

/// Every alert kind's stable name, for checking a subscription's list.
pub fn known_kind(name: &str) -> bool {
    AlertKind::parse(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_up_to_the_longest_pause() {
        let (min, max) = (Duration::from_secs(1), Duration::from_secs(3_600));
        let pauses: Vec<u64> = (1..=14)
            .map(|n| retry_pause(n, min, max).as_secs())
            .collect();
        assert_eq!(
            pauses,
            vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600]
        );
        assert_eq!(retry_pause(i64::MAX, min, max), max);
    }

    #[test]
    fn a_signature_verifies_only_for_its_body_secret_and_time() {
        let body = r#"{"id":"3.0"}"#;
        let header = webhook_signature("s3cret", 1_000, body);
        assert!(verify_webhook("s3cret", &header, body, 1_100, 300));
        assert!(!verify_webhook("other", &header, body, 1_100, 300));
        assert!(!verify_webhook(
            "s3cret",
            &header,
            r#"{"id":"3.1"}"#,
            1_100,
            300
        ));
        assert!(!verify_webhook("s3cret", &header, body, 2_000, 300));
        assert!(!verify_webhook("s3cret", "t=1000", body, 1_000, 300));
    }
}
