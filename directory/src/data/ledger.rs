//! The ledger: every movement, filtered and paged, for the page, the API
//! and the CSV export.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blank_is_none, check_address, check_limit, KINDS, MOVEMENT_COLS};
use crate::store::{Movement, Param, Store};
use crate::Error;

/// The ledger's query string, as given.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// Movements from or to this holder.
    pub account: Option<String>,
    /// Movements in this asset.
    #[serde(default, deserialize_with = "blank_is_none")]
    pub asset: Option<i64>,
    /// Movements of this kind.
    pub kind: Option<String>,
    /// The cursor of the previous page's last movement (`level.idx`).
    pub before: Option<String>,
    /// Movements per page, 1 to 100.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A page of the ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerPage {
    /// The movements, newest first.
    pub movements: Vec<Movement>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

/// Reads the movements matching `query`, newest first; `limit` overrides
/// the query's (for exports).
pub async fn ledger(
    store: &Store,
    query: &LedgerQuery,
    limit: Option<i64>,
) -> Result<LedgerPage, Error> {
    let limit = match limit {
        Some(n) => n,
        None => check_limit(query.limit)?,
    };
    let mut params = Vec::new();
    let mut clauses = Vec::new();
    if let Some(account) = query.account.as_deref().filter(|a| !a.is_empty()) {
        check_address(account)?;
        params.push(Param::Text(account.to_owned()));
        let n = params.len();
        clauses.push(format!("(from_holder = ${n} OR to_holder = ${n})"));
    }
    if let Some(asset) = query.asset {
        if asset < 0 {
            return Err(Error::BadRequest(format!(
                "invalid asset {asset}: asset numbers start at 0"
            )));
        }
        params.push(Param::Int(asset));
        clauses.push(format!("asset_id = ${}", params.len()));
    }
    if let Some(kind) = query.kind.as_deref().filter(|k| !k.is_empty()) {
        if !KINDS.contains(&kind) {
            return Err(Error::BadRequest(format!(
                "unknown kind {:?}: use one of {}",
                kind.chars().take(30).collect::<String>(),
                KINDS.join(", ")
            )));
        }
        params.push(Param::Text(kind.to_owned()));
        clauses.push(format!("kind = ${}", params.len()));
    }
    if let Some(before) = query.before.as_deref().filter(|b| !b.is_empty()) {
        let bad = || {
            Error::BadRequest(format!(
                "invalid cursor {:?}: use the `next` value of the previous page",
                before.chars().take(40).collect::<String>()
            ))
        };
        let (level, idx) = before.split_once('.').ok_or_else(bad)?;
        let level: i64 = level.parse().map_err(|_| bad())?;
        let idx: i64 = idx.parse().map_err(|_| bad())?;
        params.push(Param::Int(level));
        let l = params.len();
        params.push(Param::Int(idx));
        let i = params.len();
        clauses.push(format!("(level < ${l} OR (level = ${l} AND idx < ${i}))"));
    }
    let mut sql = MOVEMENT_COLS.to_owned();
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    params.push(Param::Int(limit + 1));
    sql.push_str(&format!(
        " ORDER BY level DESC, idx DESC LIMIT ${}",
        params.len()
    ));
    let mut movements: Vec<Movement> = store.all(&sql, &params).await?;
    let limit = usize::try_from(limit).unwrap_or(0);
    let next = if movements.len() > limit {
        movements.truncate(limit);
        movements.last().map(|m| format!("{}.{}", m.level, m.idx))
    } else {
        None
    };
    Ok(LedgerPage { movements, next })
}
