//! The rollup as a whole: totals, what the directory knows of the rollup
//! and its kernel, and an operation's receipt.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::{Context, BALANCE_COLS};
use crate::store::{AssetSum, Balance, Count, Head, Param, ReceiptRow, Store};
use crate::Error;

/// The whole rollup at a glance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Totals {
    /// Creators with a profile.
    pub creators: i64,
    /// Accounts with at least one active pledge.
    pub patrons: i64,
    /// Active pledges per 30 days, per asset, base units.
    pub monthly_flow: Vec<AssetSum>,
    /// Funds held in project escrows now, per asset, base units.
    pub escrowed: Vec<AssetSum>,
    /// The level these figures are at.
    pub level: Option<i64>,
}

/// Reads the totals.
pub async fn totals(store: &Store, ctx: &Context) -> Result<Totals, Error> {
    let creators: Option<Count> = store.one("SELECT COUNT(*) AS n FROM creators", &[]).await?;
    let patrons: Option<Count> = store
        .one(
            "SELECT COUNT(DISTINCT patron) AS n FROM pledges WHERE status = 'active'",
            &[],
        )
        .await?;
    let monthly_flow: Vec<AssetSum> = store
        .all(
            "SELECT asset_id, CAST(COALESCE(SUM(monthly_units), 0) AS BIGINT) AS units \
             FROM pledges WHERE status = 'active' GROUP BY asset_id ORDER BY asset_id",
            &[],
        )
        .await?;
    let escrows: Vec<Balance> = store
        .all(
            &format!("{BALANCE_COLS} WHERE project_id IS NOT NULL ORDER BY asset_id"),
            &[],
        )
        .await?;
    let mut escrowed: BTreeMap<i64, u128> = BTreeMap::new();
    for b in &escrows {
        *escrowed.entry(b.asset_id).or_default() += b.fine_at(ctx.now());
    }
    Ok(Totals {
        creators: creators.map_or(0, |c| c.n),
        patrons: patrons.map_or(0, |c| c.n),
        monthly_flow,
        escrowed: escrowed
            .into_iter()
            .map(|(asset_id, fine)| AssetSum {
                asset_id,
                units: i64::try_from(fine / pledgeroll_contracts::FINE_PER_UNIT)
                    .unwrap_or(i64::MAX),
            })
            .collect(),
        level: ctx.head.as_ref().map(|h| h.level),
    })
}

/// What the directory knows about the rollup it mirrors.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct About {
    /// The rollup's address, once the indexer recorded it.
    pub rollup: Option<String>,
    /// The kernel's hash, if the mirror records it.
    pub kernel_hash: Option<String>,
    /// The last level indexed and its state hash.
    pub head: Option<Head>,
    /// Seconds between the head's rollup time and now.
    pub lag_seconds: Option<i64>,
}
/// What is known about the rollup, from the context every view reads.
pub fn about(ctx: &Context) -> About {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let lag_seconds = ctx
        .head
        .as_ref()
        .and_then(|h| h.level_time)
        .map(|t| wall.saturating_sub(t).max(0));
    About {
        rollup: ctx.identity.rollup.clone(),
        kernel_hash: ctx.identity.kernel_hash.clone(),
        head: ctx.head.clone(),
        lag_seconds,
    }
}

/// An operation's receipt: whether the rollup applied it, why not, and
/// what it created.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperationReceipt {
    /// The operation's hash (its receipt id), hex.
    pub hash: String,
    /// The level that applied or refused it.
    pub level: i64,
    /// Its position among the level's receipts.
    pub index: i64,
    /// The signer's address.
    pub signer: String,
    /// The nonce it was signed at.
    pub nonce: i64,
    /// `applied` or `failed`.
    pub outcome: String,
    /// Why it failed, in words.
    pub reason: Option<String>,
    /// The ids of what it created (`{"tier": 7}`, `{"project": 2, "ticket": 4}`).
    #[schema(value_type = Option<Object>)]
    pub created: Option<serde_json::Value>,
}

/// The receipt of the operation whose hash is `hash` (64 hex digits), once
/// the mirror holds its level; `None` before.
pub async fn operation(store: &Store, hash: &str) -> Result<Option<OperationReceipt>, Error> {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::BadRequest(format!(
            "invalid operation hash {:?}: expected 64 hex digits",
            hash.chars().take(70).collect::<String>()
        )));
    }
    let row: Option<ReceiptRow> = store
        .one(
            "SELECT level, idx, hash, signer, nonce, applied, reason, created FROM receipts \
             WHERE hash = $1 ORDER BY level DESC, idx DESC LIMIT 1",
            &[Param::Text(hash.to_ascii_lowercase())],
        )
        .await?;
    Ok(row.map(|r| OperationReceipt {
        hash: r.hash,
        level: r.level,
        index: r.idx,
        signer: r.signer,
        nonce: r.nonce,
        outcome: if r.applied { "applied" } else { "failed" }.to_owned(),
        reason: r.reason,
        created: r.created.and_then(|c| serde_json::from_str(&c).ok()),
    }))
}
