//! The RPC: the part of `octez-smart-rollup-node`'s API that clients and
//! indexers use, in its shapes, plus the sandbox's own endpoints under
//! `/sandbox`. Errors come as Octez error traces: a JSON list of
//! `{kind, id, msg}`.

use pledgeroll_interface::rpc;
use std::collections::HashMap;
use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio_stream::wrappers::BroadcastStream;

use crate::accounts::BOOTSTRAP_ACCOUNTS;
use crate::assets::{asset, ASSETS};
use crate::durable::Key;
use crate::node::{Sandbox, SandboxError};
use crate::outbox;
use crate::rollup::{RollupError, FINALITY, ORIGINATION_LEVEL};
use crate::store::{BlockRecord, StoreError};

/// An RPC failure, shown as an Octez error trace.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// What was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request may not be made from where it came.
    #[error("{0}")]
    Forbidden(String),
    /// The sandbox cannot take it now; later it may.
    #[error("{0}")]
    Unavailable(String),
    /// The sandbox failed; details go to the log only.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for RpcError {
    fn from(e: StoreError) -> Self {
        RpcError::Internal(e.to_string())
    }
}

impl From<SandboxError> for RpcError {
    fn from(e: SandboxError) -> Self {
        match e {
            SandboxError::Rollup(RollupError::Invalid(m)) => RpcError::BadRequest(m),
            SandboxError::Rollup(full @ RollupError::QueueFull { .. }) => {
                RpcError::Unavailable(full.to_string())
            }
            SandboxError::Rollup(RollupError::Inbox(m)) => RpcError::BadRequest(m.to_string()),
            other => RpcError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for RpcError {
    fn into_response(self) -> Response {
        let (status, id, msg) = match self {
            RpcError::BadRequest(m) => (StatusCode::BAD_REQUEST, "sandbox.bad_request", m),
            RpcError::NotFound(m) => (StatusCode::NOT_FOUND, "sandbox.not_found", m),
            RpcError::Forbidden(m) => (StatusCode::FORBIDDEN, "sandbox.forbidden", m),
            RpcError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "sandbox.unavailable", m),
            RpcError::Internal(m) => {
                tracing::error!("RPC failed: {m}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "sandbox.internal",
                    "internal error; the sandbox's log has the details".to_owned(),
                )
            }
        };
        (
            status,
            Json(json!([{ "kind": "permanent", "id": id, "msg": msg }])),
        )
            .into_response()
    }
}

type RpcResult<T> = Result<T, RpcError>;

/// The sandbox's RPC routes.
pub fn router(sandbox: Sandbox) -> Router {
    Router::new()
        .route(rpc::ROLLUP_ADDRESS, get(rollup_address))
        .route("/global/tezos_head", get(tezos_head))
        .route("/global/tezos_level", get(tezos_level))
        .route(rpc::BLOCK, get(block))
        .route(rpc::BLOCK_HASH, get(block_hash))
        .route(rpc::BLOCK_LEVEL, get(block_level))
        .route("/global/block/{block_id}/state_hash", get(state_hash))
        .route("/global/block/{block_id}/ticks", get(ticks))
        .route("/global/block/{block_id}/total_ticks", get(total_ticks))
        .route("/global/block/{block_id}/num_messages", get(num_messages))
        .route(rpc::DURABLE_VALUE, get(durable_value))
        .route(rpc::DURABLE_VALUES, get(durable_values))
        .route(rpc::DURABLE_SUBKEYS, get(durable_subkeys))
        .route(rpc::DURABLE_LENGTH, get(durable_length))
        .route(
            "/global/block/{block_id}/outbox/{level}/messages",
            get(outbox_messages),
        )
        .route(rpc::MONITOR_BLOCKS, get(monitor_blocks))
        .route(rpc::INJECTION, post(inject))
        .route("/local/batcher/queue", get(batcher_queue))
        .route("/local/batcher/queue/{id}", get(batcher_message))
        .route("/health", get(health))
        .route("/version", get(version))
        .route("/sandbox/info", get(sandbox_info))
        .route("/sandbox/deposit", post(deposit))
        .route("/sandbox/advance-time", post(advance_time))
        .route("/sandbox/produce-level", post(produce_level))
        .route("/sandbox/reorg", post(reorg))
        .route("/sandbox/l1/balances", get(l1_balances))
        .fallback(|| async { RpcError::NotFound("no such RPC".to_owned()) })
        .with_state(sandbox)
}

fn head(s: &Sandbox) -> RpcResult<BlockRecord> {
    s.store()
        .head()?
        .ok_or_else(|| RpcError::Internal("no block stored".to_owned()))
}

/// The block `id` names: `head`, `finalized`, `cemented`, a level or a
/// block hash.
fn resolve(s: &Sandbox, id: &str) -> RpcResult<BlockRecord> {
    let head = head(s)?;
    let final_level = head.level.saturating_sub(FINALITY).max(ORIGINATION_LEVEL);
    let level = match id {
        "head" => return Ok(head),
        "finalized" | "cemented" => final_level,
        _ => match id.parse::<u32>() {
            Ok(level) => level,
            Err(_) if id.starts_with('B') => s
                .store()
                .level_of(id)?
                .ok_or_else(|| RpcError::NotFound(format!("no block with hash {id}")))?,
            Err(_) => {
                return Err(RpcError::BadRequest(format!(
                    "{id} is not a block: use head, finalized, cemented, a level or a block hash"
                )))
            }
        },
    };
    s.store().block(level)?.ok_or_else(|| {
        RpcError::NotFound(format!(
            "no block at level {level}; the head is {}",
            head.level
        ))
    })
}

async fn rollup_address(State(s): State<Sandbox>) -> Json<String> {
    Json(s.address().to_owned())
}

async fn tezos_head(State(s): State<Sandbox>) -> RpcResult<Json<String>> {
    Ok(Json(head(&s)?.hash))
}

async fn tezos_level(State(s): State<Sandbox>) -> RpcResult<Json<u32>> {
    Ok(Json(head(&s)?.level))
}

fn commitment_json(b: &BlockRecord) -> Value {
    json!({
        "compressed_state": b.state_hash,
        "inbox_level": b.level,
        "predecessor": b.previous_commitment,
        "number_of_ticks": b.num_ticks.to_string(),
    })
}

/// The block as `monitor_blocks` streams it.
pub fn block_summary(b: &BlockRecord) -> Value {
    json!({
        "block_hash": b.hash,
        "level": b.level,
        "predecessor": b.predecessor,
        "commitment_hash": b.commitment,
        "previous_commitment_hash": b.previous_commitment,
        "context": b.context,
        "inbox_witness": b.inbox_witness,
        "inbox_hash": b.inbox_hash,
        "initial_tick": b.initial_tick.to_string(),
        "num_ticks": b.num_ticks.to_string(),
        "state_hash": b.state_hash,
        "pvm_status": "Waiting for input message",
    })
}

fn outbox_json(s: &Sandbox, level: u32) -> RpcResult<Vec<(u32, Vec<outbox::Transaction>)>> {
    let mut out = Vec::new();
    for (i, m) in (0u32..).zip(s.store().outbox(level)?) {
        match outbox::parse(&m) {
            Ok(txs) => out.push((i, txs)),
            Err(e) => tracing::warn!(level, index = i, "outbox message not shown: {e}"),
        }
    }
    Ok(out)
}

async fn block(
    State(s): State<Sandbox>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> RpcResult<Json<Value>> {
    let b = resolve(&s, &id)?;
    let messages: Vec<String> = s.store().inbox(b.level)?.iter().map(hex::encode).collect();
    let mut v = block_summary(&b);
    if let Some(o) = v.as_object_mut() {
        let previous_inbox = match b.level.checked_sub(1).filter(|l| *l >= ORIGINATION_LEVEL) {
            Some(l) => s
                .store()
                .block(l)?
                .map(|p| vec![p.inbox_hash])
                .unwrap_or_default(),
            None => Vec::new(),
        };
        o.insert(
            "inbox".into(),
            json!({
                "level": b.level,
                "old_levels_messages": {
                    "index": b.level.saturating_sub(ORIGINATION_LEVEL).to_string(),
                    "content": { "hash": b.inbox_witness, "level": b.level },
                    "back_pointers": previous_inbox,
                },
            }),
        );
        o.insert("messages".into(), json!(messages));
        o.insert("commitment".into(), commitment_json(&b));
        if q.get("outbox").is_some_and(|v| v != "false") {
            let items: Vec<Value> = outbox_json(&s, b.level)?
                .into_iter()
                .map(|(i, txs)| {
                    json!({
                        "message_index": i,
                        "transactions": txs.iter().map(outbox::Transaction::to_json).collect::<Vec<_>>(),
                    })
                })
                .collect();
            o.insert("outbox".into(), json!(items));
        }
    }
    Ok(Json(v))
}

async fn block_hash(State(s): State<Sandbox>, Path(id): Path<String>) -> RpcResult<Json<String>> {
    Ok(Json(resolve(&s, &id)?.hash))
}

async fn block_level(State(s): State<Sandbox>, Path(id): Path<String>) -> RpcResult<Json<u32>> {
    Ok(Json(resolve(&s, &id)?.level))
}

async fn state_hash(State(s): State<Sandbox>, Path(id): Path<String>) -> RpcResult<Json<String>> {
    Ok(Json(resolve(&s, &id)?.state_hash))
}

async fn ticks(State(s): State<Sandbox>, Path(id): Path<String>) -> RpcResult<Json<String>> {
    Ok(Json(resolve(&s, &id)?.num_ticks.to_string()))
}

async fn total_ticks(State(s): State<Sandbox>, Path(id): Path<String>) -> RpcResult<Json<String>> {
    let b = resolve(&s, &id)?;
    Ok(Json(b.initial_tick.saturating_add(b.num_ticks).to_string()))
}

async fn num_messages(State(s): State<Sandbox>, Path(id): Path<String>) -> RpcResult<Json<String>> {
    Ok(Json(resolve(&s, &id)?.num_messages.to_string()))
}

#[derive(Debug, Deserialize)]
struct KeyQuery {
    key: Option<String>,
}

/// The durable key of a query, checked as the PVM checks keys.
fn durable_key(q: &KeyQuery) -> RpcResult<String> {
    let text = q
        .key
        .as_deref()
        .ok_or_else(|| RpcError::BadRequest("the query parameter `key` is required".to_owned()))?;
    Key::parse_str(text)
        .map(|k| k.path())
        .map_err(|e| RpcError::BadRequest(format!("invalid durable key {text:?}: {e}")))
}

/// The durable value the query names, in the block `id` names.
fn durable_at(s: &Sandbox, id: &str, q: &KeyQuery) -> RpcResult<Option<Vec<u8>>> {
    let key = durable_key(q)?;
    let b = resolve(s, id)?;
    Ok(s.store().value_at(&key, b.level)?)
}

async fn durable_value(
    State(s): State<Sandbox>,
    Path(id): Path<String>,
    Query(q): Query<KeyQuery>,
) -> RpcResult<Json<Option<String>>> {
    Ok(Json(durable_at(&s, &id, &q)?.map(hex::encode)))
}

async fn durable_length(
    State(s): State<Sandbox>,
    Path(id): Path<String>,
    Query(q): Query<KeyQuery>,
) -> RpcResult<Json<Option<String>>> {
    Ok(Json(durable_at(&s, &id, &q)?.map(|v| v.len().to_string())))
}

async fn durable_subkeys(
    State(s): State<Sandbox>,
    Path(id): Path<String>,
    Query(q): Query<KeyQuery>,
) -> RpcResult<Json<Vec<String>>> {
    let key = durable_key(&q)?;
    let b = resolve(&s, &id)?;
    Ok(Json(s.store().subkeys_at(&key, b.level)?))
}

async fn durable_values(
    State(s): State<Sandbox>,
    Path(id): Path<String>,
    Query(q): Query<KeyQuery>,
) -> RpcResult<Json<Value>> {
    let key = durable_key(&q)?;
    let b = resolve(&s, &id)?;
    let values: Vec<Value> = s
        .store()
        .values_at(&key, b.level)?
        .into_iter()
        .map(|(k, v)| json!({ "key": k, "value": hex::encode(v) }))
        .collect();
    Ok(Json(json!(values)))
}

async fn outbox_messages(
    State(s): State<Sandbox>,
    Path((id, level)): Path<(String, String)>,
) -> RpcResult<Json<Value>> {
    let b = resolve(&s, &id)?;
    let level: u32 = level
        .parse()
        .map_err(|_| RpcError::BadRequest(format!("{level} is not an outbox level")))?;
    if level > b.level {
        return Err(RpcError::NotFound(format!(
            "outbox level {level} is after block {}",
            b.level
        )));
    }
    let items: Vec<Value> = outbox_json(&s, level)?
        .into_iter()
        .map(|(i, txs)| {
            json!({
                "outbox_level": level,
                "message_index": i.to_string(),
                "message": {
                    "transactions": txs.iter().map(outbox::Transaction::to_json).collect::<Vec<_>>(),
                    "kind": "untyped",
                },
            })
        })
        .collect();
    Ok(Json(json!(items)))
}

async fn monitor_blocks(State(s): State<Sandbox>) -> Response {
    let stopping = s.clone();
    let stream = BroadcastStream::new(s.subscribe())
        .filter_map(|b| async move {
            // A watcher that fell behind misses blocks, as on a node.
            let b = b.ok()?;
            let mut line = serde_json::to_vec(&block_summary(&b)).ok()?;
            line.push(b'\n');
            Some(Ok::<_, Infallible>(Bytes::from(line)))
        })
        .take_until(Box::pin(async move { stopping.stopping().await }));
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| {
            RpcError::Internal("cannot build the stream".to_owned()).into_response()
        })
}

/// Most messages one injection request carries.
pub const MAX_INJECTED_PER_REQUEST: usize = 1_000;

async fn inject(State(s): State<Sandbox>, body: Bytes) -> RpcResult<Json<Vec<String>>> {
    let hexes: Vec<String> = serde_json::from_slice(&body)
        .map_err(|e| RpcError::BadRequest(format!("expected a JSON list of hex messages: {e}")))?;
    if hexes.len() > MAX_INJECTED_PER_REQUEST {
        return Err(RpcError::BadRequest(format!(
            "{} messages in one request; inject at most {MAX_INJECTED_PER_REQUEST} at a time",
            hexes.len()
        )));
    }
    let messages = hexes
        .iter()
        .map(|h| hex::decode(h).map_err(|_| RpcError::BadRequest(format!("{h:?} is not hex"))))
        .collect::<RpcResult<Vec<_>>>()?;
    Ok(Json(s.with_rollup(move |r| r.inject(&messages)).await?))
}

async fn batcher_queue(State(s): State<Sandbox>) -> RpcResult<Json<Value>> {
    let mut items = Vec::new();
    for p in s.store().pending(MAX_INJECTED_PER_REQUEST)? {
        let Some(id) = p.id else { continue };
        let content = s
            .store()
            .message(&id)?
            .map(|m| m.content)
            .unwrap_or_default();
        items.push(json!({
            "order": p.seq.to_string(),
            "id": id,
            "message": { "content": content, "counter": p.seq.to_string() },
        }));
    }
    Ok(Json(json!(items)))
}

async fn batcher_message(
    State(s): State<Sandbox>,
    Path(id): Path<String>,
) -> RpcResult<Json<Value>> {
    let Some(record) = s.store().message(&id)? else {
        return Ok(Json(json!({ "status": "unknown" })));
    };
    let (Some(level), Some(index)) = (record.level, record.index) else {
        return Ok(Json(
            json!({ "status": "pending_batch", "content": record.content }),
        ));
    };
    let Some(b) = s.store().block(level)? else {
        // The level that held it was replaced and has not been made again.
        return Ok(Json(
            json!({ "status": "pending_batch", "content": record.content }),
        ));
    };
    let head = head(&s)?;
    let finalized = level + FINALITY <= head.level;
    let operation_hash = crate::b58::encode(
        crate::b58::OPERATION,
        &crate::durable::digest(format!("{}:{index}", b.hash).as_bytes()),
    );
    Ok(Json(json!({
        "status": "included",
        "content": record.content,
        "operation": { "kind": "add_messages", "message": [record.content] },
        "layer1": {
            "operation_hash": operation_hash,
            "operation_index": index,
            "block_hash": b.hash,
            "level": level,
        },
        "finalized": finalized,
        "cemented": finalized,
    })))
}

async fn health(State(s): State<Sandbox>) -> RpcResult<Json<Value>> {
    let head = head(&s)?;
    Ok(Json(json!({
        "healthy": true,
        "degraded": false,
        "l1": {
            "connection": "connected",
            "blocks_late": 0,
            "last_seen_head": {
                "hash": head.hash,
                "level": head.level,
                "timestamp": head.timestamp.to_string(),
            },
        },
        "active_workers": [],
    })))
}

async fn version(State(s): State<Sandbox>) -> Json<Value> {
    Json(json!({
        "version": format!("pledgeroll-sandbox {} ({})", env!("CARGO_PKG_VERSION"), s.kernel()),
        "store_version": "pledgeroll-sandbox-redb-1",
        "context_version": "pledgeroll-sandbox-durable-1",
    }))
}

async fn sandbox_info(State(s): State<Sandbox>) -> RpcResult<Json<Value>> {
    let next_timestamp = s.with_rollup(|r| Ok(r.next_timestamp())).await?;
    let head = head(&s)?;
    Ok(Json(json!({
        "rollup_address": s.address(),
        "origination_level": ORIGINATION_LEVEL,
        "kernel": s.kernel(),
        "head": { "level": head.level, "hash": head.hash, "timestamp": head.timestamp },
        "next_timestamp": next_timestamp,
        "assets": ASSETS.iter().map(|a| json!({
            "name": a.name, "decimals": a.decimals,
            "ticketer": a.ticketer, "token_id": a.token_id, "asset_id": a.asset_id,
            "metadata": a.metadata.map(hex::encode),
        })).collect::<Vec<_>>(),
        "bootstrap_accounts": BOOTSTRAP_ACCOUNTS.iter().map(|a| json!({
            "name": a.name, "address": a.address, "public_key": a.public_key, "secret_key": a.secret_key,
        })).collect::<Vec<_>>(),
    })))
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> RpcResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| RpcError::BadRequest(format!("invalid request body: {e}")))
}

#[derive(Debug, Deserialize)]
struct DepositRequest {
    receiver: String,
    asset: String,
    amount: serde_json::Value,
}

async fn deposit(State(s): State<Sandbox>, body: Bytes) -> RpcResult<Json<Value>> {
    let req: DepositRequest = parse_body(&body)?;
    let asset = asset(&req.asset).ok_or_else(|| {
        RpcError::BadRequest(format!(
            "unknown asset {:?}; the sandbox has {}",
            req.asset,
            ASSETS.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let amount = match &req.amount {
        Value::Number(n) => n.as_u64(),
        Value::String(t) => t.parse().ok(),
        _ => None,
    }
    .filter(|a| *a > 0)
    .ok_or_else(|| {
        RpcError::BadRequest("amount must be a positive integer of base units".to_owned())
    })?;
    let receiver = req.receiver.clone();
    let queued = s
        .with_rollup(move |r| r.deposit(&receiver, asset, amount))
        .await?;
    Ok(Json(json!({
        "queued": queued.seq,
        "receiver": req.receiver,
        "asset": asset.name,
        "amount": amount.to_string(),
    })))
}

#[derive(Debug, Default, Deserialize)]
struct AdvanceRequest {
    #[serde(default)]
    seconds: i64,
    #[serde(default)]
    hours: i64,
    #[serde(default)]
    days: i64,
}

async fn advance_time(State(s): State<Sandbox>, body: Bytes) -> RpcResult<Json<Value>> {
    let req: AdvanceRequest = parse_body(&body)?;
    let seconds = req
        .days
        .checked_mul(86_400)
        .and_then(|d| req.hours.checked_mul(3_600).and_then(|h| h.checked_add(d)))
        .and_then(|t| t.checked_add(req.seconds))
        .filter(|t| *t >= 0)
        .ok_or_else(|| {
            RpcError::BadRequest("the advance must be a non-negative number of seconds".to_owned())
        })?;
    let next = s.with_rollup(move |r| r.advance_time(seconds)).await?;
    Ok(Json(json!({ "advanced": seconds, "next_timestamp": next })))
}

async fn produce_level(State(s): State<Sandbox>) -> RpcResult<Json<Value>> {
    let b = s.produce_level().await?;
    Ok(Json(block_summary(&b)))
}

#[derive(Debug, Deserialize)]
struct ReorgRequest {
    depth: u32,
}

async fn reorg(State(s): State<Sandbox>, body: Bytes) -> RpcResult<Json<Value>> {
    let req: ReorgRequest = parse_body(&body)?;
    let blocks = s.reorganise(req.depth).await?;
    Ok(Json(json!(blocks
        .iter()
        .map(block_summary)
        .collect::<Vec<_>>())))
}

#[derive(Debug, Deserialize)]
struct HolderQuery {
    holder: Option<String>,
}

async fn l1_balances(
    State(s): State<Sandbox>,
    Query(q): Query<HolderQuery>,
) -> RpcResult<Json<Value>> {
    let balances = s
        .with_rollup(move |r| Ok(r.ledger().balances(q.holder.as_deref())))
        .await?;
    Ok(Json(json!(balances)))
}
