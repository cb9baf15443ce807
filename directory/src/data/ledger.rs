//! The ledger: every movement, filtered and paged, for the page, the API
//! and the CSV export.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use pledgeroll_contracts::units::DAY as DAY_SECONDS;

use super::{blank_is_none, check_address, check_limit, BALANCE_COLS, KINDS, MOVEMENT_COLS};
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

/// A holder's figures on one UTC day, as the mirror keeps them.
#[derive(Debug, Clone, sqlx::FromRow)]
struct DailyFigures {
    day: i64,
    asset_id: i64,
    streamed_in: String,
    tips_in: String,
    transfers_in: String,
    payouts_in: String,
    funding_in: String,
    refunds_in: String,
    monthly_in_units: i64,
}

/// What a holder received on one UTC day in one asset, fine units: the
/// streams of the day whether settled or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomeDay {
    /// Days since 1970-01-01.
    pub day: i64,
    /// The asset.
    pub asset_id: i64,
    /// Streamed in over the day (up to the indexed level's time, today).
    pub streamed_in: u128,
    /// Tips received.
    pub tips_in: u128,
    /// Transfers received.
    pub transfers_in: u128,
    /// Project payouts received.
    pub payouts_in: u128,
    /// Funding received (a project).
    pub funding_in: u128,
    /// Refunds received.
    pub refunds_in: u128,
    /// Monthly income at the end of the day (or now, today), base units.
    pub monthly_in_units: i64,
}

impl IncomeDay {
    /// Everything received that day.
    pub fn total(&self) -> u128 {
        [
            self.streamed_in,
            self.tips_in,
            self.transfers_in,
            self.payouts_in,
            self.funding_in,
            self.refunds_in,
        ]
        .iter()
        .fold(0u128, |sum, v| sum.saturating_add(*v))
    }
}

/// Seconds in a day, as the mirror's days count them.
const DAY: i64 = DAY_SECONDS as i64;

/// Days a daily export covers at most, per asset: the latest ones.
pub const INCOME_DAYS: i64 = 3_660;

/// A holder's income day by day, per asset, oldest first, up to `now` (the
/// indexed level's time). The mirror's daily figures are exact up to the
/// holder's last flow change; from then on a stream runs at the holder's
/// current inflow (none while a paused creator's inflow is held), which is
/// added here second by second, so a day's streams count whether or not
/// anything settled them.
pub async fn income_by_day(store: &Store, holder: &str, now: i64) -> Result<Vec<IncomeDay>, Error> {
    let who = [Param::Text(holder.to_owned()), Param::Int(INCOME_DAYS)];
    let rows: Vec<DailyFigures> = store
        .all(
            "SELECT day, asset_id, CAST(streamed_in AS TEXT) AS streamed_in, \
             CAST(tips_in AS TEXT) AS tips_in, CAST(transfers_in AS TEXT) AS transfers_in, \
             CAST(payouts_in AS TEXT) AS payouts_in, CAST(funding_in AS TEXT) AS funding_in, \
             CAST(refunds_in AS TEXT) AS refunds_in, monthly_in_units FROM daily_stats \
             WHERE holder = $1 \
             AND day >= (SELECT MAX(day) FROM daily_stats WHERE holder = $1) - $2 \
             ORDER BY asset_id, day",
            &who,
        )
        .await?;
    let exact = |text: &str| text.parse::<u128>().unwrap_or(0);
    let mut days: std::collections::BTreeMap<(i64, i64), IncomeDay> = rows
        .iter()
        .map(|r| {
            (
                (r.asset_id, r.day),
                IncomeDay {
                    day: r.day,
                    asset_id: r.asset_id,
                    streamed_in: exact(&r.streamed_in),
                    tips_in: exact(&r.tips_in),
                    transfers_in: exact(&r.transfers_in),
                    payouts_in: exact(&r.payouts_in),
                    funding_in: exact(&r.funding_in),
                    refunds_in: exact(&r.refunds_in),
                    monthly_in_units: r.monthly_in_units,
                },
            )
        })
        .collect();
    let balances: Vec<crate::store::Balance> = store
        .all(
            &format!("{BALANCE_COLS} WHERE holder = $1 ORDER BY asset_id"),
            &[Param::Text(holder.to_owned())],
        )
        .await?;
    for b in &balances {
        let inflow = exact(&b.inflow);
        if inflow == 0 || b.inflow_paused {
            continue;
        }
        let mut t = b.at.max(0);
        while t < now {
            let day = t.div_euclid(DAY);
            let end = ((day + 1) * DAY).min(now);
            let seconds = u128::try_from(end - t).unwrap_or(0);
            let d = days.entry((b.asset_id, day)).or_insert(IncomeDay {
                day,
                asset_id: b.asset_id,
                streamed_in: 0,
                tips_in: 0,
                transfers_in: 0,
                payouts_in: 0,
                funding_in: 0,
                refunds_in: 0,
                monthly_in_units: b.monthly_in_units,
            });
            d.streamed_in = d.streamed_in.saturating_add(inflow.saturating_mul(seconds));
            d.monthly_in_units = b.monthly_in_units;
            t = end;
        }
    }
    Ok(days.into_values().collect())
}
