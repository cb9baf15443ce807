//! Alert subscriptions, asked for with a message the account signs: no
//! password, no account at the directory. The words are made by the one
//! encoder (`pledgeroll_contracts::off_rollup`), under a domain tag that can
//! never be a rollup operation, and name this directory and the time, so a
//! signed message is good here only and for ten minutes.
//!
//! - `POST /api/v1/alerts/statement`: the words (and bytes) to sign for a
//!   request, for a wallet.
//! - `POST /api/v1/alerts/subscriptions`: subscribe (`action: subscribe`),
//!   list with the delivery log (`list`), or stop one (`stop`).
//!
//! Subscriptions and deliveries live in tables of their own in the mirror's
//! database; the directory writes those through a connection of its own and
//! nothing else, and the indexer's notifier sends what they ask.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use pledgeroll_contracts::crypto::{PublicKey, Signature};
use pledgeroll_contracts::off_rollup::{alerts_statement, AlertChannel, AlertsRequest};
use pledgeroll_contracts::statement::Statement;
use pledgeroll_indexer::mirror::{read_cursor, Cursor};
use pledgeroll_indexer::notifier::known_kind;
use pledgeroll_indexer::rows::{DeliveryRow, SubscriptionRow};
use pledgeroll_indexer::schema::{Row, Value};
use pledgeroll_indexer::{Db, DbConfig, IndexError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::{ApiError, ErrorBody};
use crate::{Error, Shared};

/// How far a signed request's time may be from the directory's clock.
pub const SIGNED_AT_TOLERANCE: i64 = 600;

/// The runway warning the mirror derives, days before a balance runs out.
pub const RUNWAY_DAYS: u16 = 7;

/// Deliveries a list answer shows per subscription, newest first.
const DELIVERIES_SHOWN: i64 = 50;

/// The subscriptions' tables, written through a connection of their own.
#[derive(Debug, Clone)]
pub struct Subscriptions {
    db: Db,
}

impl Subscriptions {
    /// Opens the mirror's database at `url` (in `schema`) to write
    /// subscriptions; the mirror must exist (made by `pledgeroll-indexer`).
    pub async fn open(url: &str, schema: Option<&str>) -> Result<Self, Error> {
        let mut config = DbConfig::new(url);
        config.schema = schema.map(str::to_owned);
        config.max_connections = 2;
        let db = Db::connect(&config)
            .await
            .map_err(|e| Error::Config(format!("cannot open the mirror for subscriptions: {e}")))?;
        Ok(Subscriptions { db })
    }

    /// Closes its connections.
    pub async fn close(&self) {
        self.db.close().await
    }
}

fn database(e: IndexError) -> Error {
    match e {
        IndexError::Database(e) => Error::Database(e),
        e => Error::Internal(e.to_string()),
    }
}

/// What an account asks, as JSON.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertsAsk {
    /// `subscribe`, `list` or `stop`.
    pub action: String,
    /// The account's public key (`edpk…`, `sppk…`, `p2pk…`).
    pub public_key: String,
    /// Subscribe: the webhook's URL (`http://` or `https://`).
    pub webhook: Option<String>,
    /// Subscribe: the alert kinds wanted (every kind if left out).
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Subscribe: days before a balance runs out the first warning comes
    /// (7, the warning the mirror derives; then a day before).
    pub runway_days: Option<u16>,
    /// Subscribe: the secret webhook bodies are signed with, 16 to 128
    /// characters; never part of the signed words.
    pub secret: Option<String>,
    /// Stop: the subscription's number.
    pub subscription: Option<u64>,
    /// When the words were signed (Unix seconds); now if left out when
    /// asking for the words.
    pub signed_at: Option<i64>,
    /// The signature over the words (`edsig…`, `spsig1…`, `p2sig…`).
    pub signature: Option<String>,
}

/// The words to sign.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertsWords {
    /// What a wallet shows.
    pub text: String,
    /// The bytes to sign, hex (a packed Michelson string).
    pub bytes_to_sign: String,
    /// The time the words state, to send back with the signature.
    pub signed_at: i64,
    /// The account the public key is.
    pub account: String,
}

/// A subscription, as its account sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionView {
    /// Its number.
    pub subscription: i64,
    /// The account.
    pub account: String,
    /// `webhook`.
    pub channel: String,
    /// The webhook's URL.
    pub target: String,
    /// The kinds sent; every kind if empty.
    pub kinds: Vec<String>,
    /// Days before a balance runs out the first warning comes.
    pub runway_days: i64,
    /// The first level whose alerts it sends.
    pub from_level: i64,
    /// When it was made (Unix seconds).
    pub created_at: i64,
    /// When it was stopped, if it was.
    pub stopped_at: Option<i64>,
    /// Its latest deliveries, newest first (listing only).
    pub deliveries: Vec<DeliveryView>,
}

/// One delivery of one alert.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryView {
    /// The alert's id, `{level}.{idx}`.
    pub alert: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// What the last attempt got.
    pub last_result: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<i64>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<i64>,
}

/// The answer to an account's request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertsAnswer {
    /// The subscriptions made, stopped or listed.
    pub subscriptions: Vec<SubscriptionView>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn bad(message: impl Into<String>) -> Error {
    Error::BadRequest(message.into())
}

/// The request an ask makes, checked.
fn request_of(ask: &AlertsAsk) -> Result<AlertsRequest, Error> {
    match ask.action.as_str() {
        "subscribe" => {
            let url = ask
                .webhook
                .as_deref()
                .ok_or_else(|| bad("give `webhook`, the URL alerts are posted to"))?;
            let host = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"))
                .and_then(|rest| rest.split(['/', '?', '#']).next())
                .unwrap_or_default();
            let printable = url.bytes().all(|b| b.is_ascii_graphic());
            if host.is_empty() || !printable || url.len() > 512 {
                return Err(bad(format!(
                    "the webhook {url:?} must be an http:// or https:// URL of at most 512 bytes"
                )));
            }
            if let Some(unknown) = ask.kinds.iter().find(|k| !known_kind(k)) {
                return Err(bad(format!("no alert is of kind {unknown:?}")));
            }
            let runway_days = ask.runway_days.unwrap_or(RUNWAY_DAYS);
            if runway_days != RUNWAY_DAYS {
                return Err(bad(format!(
                    "runway warnings come {RUNWAY_DAYS} days and 1 day before a balance runs out; \
                     give runway_days {RUNWAY_DAYS} or leave it out"
                )));
            }
            let mut kinds = ask.kinds.clone();
            kinds.sort_unstable();
            kinds.dedup();
            Ok(AlertsRequest::Subscribe {
                channel: AlertChannel::Webhook {
                    url: url.to_owned(),
                },
                kinds,
                runway_days,
            })
        }
        "stop" => Ok(AlertsRequest::Unsubscribe {
            subscription: ask
                .subscription
                .ok_or_else(|| bad("give `subscription`, the number of the one to stop"))?,
        }),
        "list" => Ok(AlertsRequest::List),
        other => Err(bad(format!(
            "unknown action {other:?}: give subscribe, list or stop"
        ))),
    }
}

fn public_key(ask: &AlertsAsk) -> Result<PublicKey, Error> {
    ask.public_key.parse().map_err(|_| {
        bad(format!(
            "{:?} is not a public key (edpk…, sppk… or p2pk…)",
            ask.public_key.chars().take(70).collect::<String>()
        ))
    })
}

fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, Error> {
    body.map(|Json(b)| b)
        .map_err(|e| Error::BadRequest(e.body_text()))
}

/// `POST /api/v1/alerts/statement`: the words an account signs for a
/// request to this directory.
#[utoipa::path(post, path = "/api/v1/alerts/statement", tag = "alerts",
    request_body = AlertsAsk,
    responses((status = 200, description = "The words to sign", body = AlertsWords),
        (status = 400, description = "The request does not read", body = ErrorBody)))]
pub async fn statement(
    State(s): State<Shared>,
    ask: Result<Json<AlertsAsk>, JsonRejection>,
) -> Result<Json<AlertsWords>, ApiError> {
    let ask = body(ask)?;
    let key = public_key(&ask)?;
    let request = request_of(&ask)?;
    let signed_at = ask.signed_at.unwrap_or_else(now);
    let account = key.address();
    let words = alerts_statement(&s.public_url, &account, &request, signed_at);
    Ok(Json(AlertsWords {
        text: words.text().to_owned(),
        bytes_to_sign: hex::encode(words.bytes()),
        signed_at,
        account: account.to_string(),
    }))
}

/// Checks an ask's signature and time; returns the account and the words.
fn signed(
    s: &Shared,
    ask: &AlertsAsk,
    request: &AlertsRequest,
) -> Result<(String, Statement), Error> {
    let key = public_key(ask)?;
    let signed_at = ask
        .signed_at
        .ok_or_else(|| bad("give `signed_at`, the time the words state"))?;
    if (now() - signed_at).abs() > SIGNED_AT_TOLERANCE {
        return Err(bad(format!(
            "the words were signed at {signed_at}, more than {SIGNED_AT_TOLERANCE} seconds from \
             this directory's clock: sign them again"
        )));
    }
    let signature: Signature = ask
        .signature
        .as_deref()
        .ok_or_else(|| bad("give `signature`, over the words /api/v1/alerts/statement gives"))?
        .parse()
        .map_err(|_| bad("the signature is not edsig…, spsig1…, p2sig… or sig…"))?;
    let account = key.address();
    let words = alerts_statement(&s.public_url, &account, request, signed_at);
    if !key.verify(&words.bytes(), &signature) {
        return Err(bad(format!(
            "the signature is not {account}'s over these words: {}",
            words.text()
        )));
    }
    Ok((account.to_string(), words))
}

/// `POST /api/v1/alerts/subscriptions`: subscribe, list or stop, by a
/// message the account signed.
#[utoipa::path(post, path = "/api/v1/alerts/subscriptions", tag = "alerts",
    request_body = AlertsAsk,
    responses((status = 200, description = "Listed or stopped", body = AlertsAnswer),
        (status = 201, description = "Subscribed", body = AlertsAnswer),
        (status = 400, description = "Malformed, badly signed, too old, used before, or names another account's subscription", body = ErrorBody),
        (status = 503, description = "This directory takes no subscriptions", body = ErrorBody)))]
pub async fn subscriptions(
    State(s): State<Shared>,
    ask: Result<Json<AlertsAsk>, JsonRejection>,
) -> Result<(StatusCode, Json<AlertsAnswer>), ApiError> {
    let book = s.subscriptions.as_ref().ok_or_else(|| {
        Error::Unavailable("this directory takes no alert subscriptions".to_owned())
    })?;
    let ask = body(ask)?;
    let request = request_of(&ask)?;
    let (account, words) = signed(&s, &ask, &request)?;
    let answer = match &request {
        AlertsRequest::Subscribe { .. } => {
            let secret = ask.secret.clone().unwrap_or_default();
            if !(16..=128).contains(&secret.chars().count()) {
                return Err(
                    bad("give `secret`, 16 to 128 characters webhooks are signed with").into(),
                );
            }
            let made = subscribe(book, &account, &words, &ask, &request, secret).await?;
            (StatusCode::CREATED, vec![made])
        }
        AlertsRequest::Unsubscribe { subscription } => (
            StatusCode::OK,
            vec![stop(book, &account, *subscription).await?],
        ),
        AlertsRequest::List => (StatusCode::OK, list(book, &account).await?),
    };
    Ok((
        answer.0,
        Json(AlertsAnswer {
            subscriptions: answer.1,
        }),
    ))
}

fn view(s: &SubscriptionRow, deliveries: Vec<DeliveryView>) -> SubscriptionView {
    SubscriptionView {
        subscription: s.subscription_id,
        account: s.account.clone(),
        channel: s.channel.clone(),
        target: s.target.clone(),
        kinds: serde_json::from_str(&s.kinds).unwrap_or_default(),
        runway_days: s.runway_days,
        from_level: s.from_level,
        created_at: s.created_at,
        stopped_at: s.stopped_at,
        deliveries,
    }
}

async fn subscribe(
    book: &Subscriptions,
    account: &str,
    words: &Statement,
    ask: &AlertsAsk,
    request: &AlertsRequest,
    secret: String,
) -> Result<SubscriptionView, Error> {
    let AlertsRequest::Subscribe {
        channel: AlertChannel::Webhook { url },
        kinds,
        runway_days,
    } = request
    else {
        return Err(Error::Internal("not a webhook subscription".to_owned()));
    };
    let hash = hex::encode(pledgeroll_contracts::crypto::blake2b_256(
        words.text().as_bytes(),
    ));
    let mut tx = book.db.begin_write().await.map_err(database)?;
    let used = tx
        .select_by(
            &SubscriptionRow::DEF,
            "statement_hash",
            Value::Text(hash.clone()),
        )
        .await
        .map_err(database)?;
    if !used.is_empty() {
        tx.rollback().await.map_err(database)?;
        return Err(bad("these signed words were used already: sign new ones"));
    }
    let last = tx
        .select_filtered(
            &SubscriptionRow::DEF,
            "1 = 1",
            "subscription_id DESC LIMIT 1",
            Vec::new(),
        )
        .await
        .map_err(database)?;
    let next = match last.into_iter().next() {
        Some(row) => {
            SubscriptionRow::from_values(row)
                .map_err(database)?
                .subscription_id
                + 1
        }
        None => 1,
    };
    let cursor: Option<Cursor> = read_cursor(&mut tx).await.map_err(database)?;
    let row = SubscriptionRow {
        subscription_id: next,
        account: account.to_owned(),
        channel: "webhook".to_owned(),
        target: url.clone(),
        secret,
        kinds: serde_json::to_string(kinds).unwrap_or_else(|_| "[]".to_owned()),
        runway_days: i64::from(*runway_days),
        from_level: cursor.map_or(0, |c| i64::from(c.level) + 1),
        statement: words.text().to_owned(),
        statement_hash: hash,
        signature: ask.signature.clone().unwrap_or_default(),
        created_at: now(),
        stopped_at: None,
    };
    tx.store(std::slice::from_ref(&row))
        .await
        .map_err(database)?;
    tx.commit().await.map_err(database)?;
    Ok(view(&row, Vec::new()))
}

async fn stop(book: &Subscriptions, account: &str, id: u64) -> Result<SubscriptionView, Error> {
    let key = i64::try_from(id).map_err(|_| bad(format!("no subscription {id}")))?;
    let mut tx = book.db.begin_write().await.map_err(database)?;
    let rows: Vec<SubscriptionRow> = tx.load(&[(key,)]).await.map_err(database)?;
    let Some(mut row) = rows.into_iter().next().filter(|r| r.account == account) else {
        tx.rollback().await.map_err(database)?;
        return Err(bad(format!("{account} has no subscription {id}")));
    };
    row.stopped_at.get_or_insert_with(now);
    tx.store(std::slice::from_ref(&row))
        .await
        .map_err(database)?;
    tx.commit().await.map_err(database)?;
    Ok(view(&row, Vec::new()))
}

async fn list(book: &Subscriptions, account: &str) -> Result<Vec<SubscriptionView>, Error> {
    let mut tx = book.db.begin().await.map_err(database)?;
    let rows = tx
        .select_by(
            &SubscriptionRow::DEF,
            "account",
            Value::Text(account.to_owned()),
        )
        .await
        .map_err(database)?;
    let mut out = Vec::new();
    for row in rows {
        let s = SubscriptionRow::from_values(row).map_err(database)?;
        let deliveries = tx
            .select_filtered(
                &DeliveryRow::DEF,
                "subscription_id = $1",
                "level DESC, idx DESC LIMIT $2",
                vec![Value::Int(s.subscription_id), Value::Int(DELIVERIES_SHOWN)],
            )
            .await
            .map_err(database)?
            .into_iter()
            .map(DeliveryRow::from_values)
            .collect::<Result<Vec<_>, _>>()
            .map_err(database)?
            .into_iter()
            .map(|d| DeliveryView {
                alert: format!("{}.{}", d.level, d.idx),
                next_attempt_at: (d.status == "pending").then_some(d.next_attempt_at),
                status: d.status,
                attempts: d.attempts,
                last_result: d.last_result,
                delivered_at: d.delivered_at,
            })
            .collect();
        out.push(view(&s, deliveries));
    }
    tx.rollback().await.map_err(database)?;
    Ok(out)
}
