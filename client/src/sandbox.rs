//! The pledgeroll sandbox's own endpoints (`/sandbox/…`): its asset list,
//! test deposits and moving its layer-1 clock. A real rollup node has none
//! of these; the wallet uses them only when they answer.

use serde::Deserialize;
use serde_json::json;

use pledgeroll_contracts::keys;
use pledgeroll_contracts::state::Clock;

use crate::assets::{AssetInfo, BookEntry};
use crate::node::{Node, NodeError};

#[derive(Deserialize)]
struct Info {
    assets: Vec<InfoAsset>,
}

#[derive(Deserialize)]
struct InfoAsset {
    name: String,
    decimals: u8,
    ticketer: String,
    token_id: u64,
    metadata: Option<String>,
}

/// The sandbox's assets as asset-book entries, named as its deposit
/// endpoint names them (`tez`, `usd`); empty when the node is not a sandbox.
pub async fn assets(node: &Node) -> Vec<BookEntry> {
    match node.get_json::<Info>("/sandbox/info").await {
        Ok(info) => info
            .assets
            .into_iter()
            .map(|a| BookEntry {
                ticketer: a.ticketer,
                token_id: a.token_id,
                metadata: a.metadata,
                info: AssetInfo {
                    symbol: a.name,
                    decimals: a.decimals,
                },
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Deposits `units` base units of the sandbox asset `name` to `to` and waits
/// for the level that credits them; returns that level.
pub async fn deposit(
    node: &Node,
    to: &pledgeroll_contracts::Address,
    name: &str,
    units: u64,
) -> Result<u32, NodeError> {
    let before = node.level("head").await?;
    let _: serde_json::Value = node
        .post_json(
            "/sandbox/deposit",
            &json!({ "receiver": to.to_string(), "asset": name, "amount": units.to_string() }),
        )
        .await?;
    next_level(node, before).await
}

/// Moves the sandbox's layer-1 clock `seconds` forward and waits until the
/// rollup has run a level at the new time; returns that level.
///
/// A level runs at its predecessor block's time, so the jump reaches the
/// protocol one level after the block that carries it.
pub async fn advance(node: &Node, seconds: u64) -> Result<u32, NodeError> {
    let target = clock(node).await?.saturating_add(seconds);
    let _: serde_json::Value = node
        .post_json("/sandbox/advance-time", &json!({ "seconds": seconds }))
        .await?;
    let mut level = node.level("head").await?;
    while clock(node).await? < target {
        level = next_level(node, level).await?;
    }
    Ok(level)
}

/// The protocol's time at the head.
async fn clock(node: &Node) -> Result<u64, NodeError> {
    Ok(node
        .state::<Clock>("head", keys::CLOCK)
        .await?
        .unwrap_or_default()
        .now)
}

async fn next_level(node: &Node, after: u32) -> Result<u32, NodeError> {
    let start = std::time::Instant::now();
    loop {
        let level = node.level("head").await?;
        if level > after {
            return Ok(level);
        }
        if start.elapsed() > std::time::Duration::from_secs(30) {
            // A sandbox on demand (no block timer) needs a nudge.
            let _: serde_json::Value = node.post_json("/sandbox/produce-level", &json!({})).await?;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
