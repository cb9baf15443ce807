//! What the pages and the API show, read from the mirror: one function per
//! view, and the validated filters visitors give. Each module holds the
//! views of one part of the directory; [`Context`], the limits and the
//! checks every view shares are here.

mod alerts;
mod creators;
mod ledger;
mod patrons;
mod projects;
mod rollup;

pub use alerts::{alerts, Alert, AlertsPage, AlertsQuery};
pub use creators::{
    creator, creator_profile, creators, home, membership, CreatorView, CreatorsPage, CreatorsQuery,
    Home, MembershipAnswer, MembershipQuery, Sort,
};
pub use ledger::{income_by_day, ledger, IncomeDay, LedgerPage, LedgerQuery, INCOME_DAYS};
pub use patrons::{patron, PatronView, PledgePaid, Runway};
pub use projects::{project, projects, ProjectSummary, ProjectView, ProjectsPage, ProjectsQuery};
pub use rollup::{about, operation, totals, About, OperationReceipt, Totals};

use serde::Deserialize;

use super::format::Assets;
use super::store::{AssetRow, Head, Identity, Store};
use super::Error;

/// Most rows one page or API answer lists.
pub const MAX_LIMIT: u32 = 100;
/// Rows listed when the visitor does not say.
pub const DEFAULT_LIMIT: u32 = 25;
/// The ledger's movement kinds.
pub const KINDS: [&str; 8] = [
    "deposit",
    "withdrawal",
    "transfer",
    "tip",
    "stream",
    "payout",
    "fund",
    "refund",
];

/// What every view needs: the assets' units and the mirror's head.
#[derive(Debug, Clone)]
pub struct Context {
    /// Symbols and decimals.
    pub assets: Assets,
    /// The last level applied, if any.
    pub head: Option<Head>,
    /// The rollup and kernel followed, as every page's footer states them.
    pub identity: Identity,
}

impl Context {
    /// Reads the assets, the head, and the rollup and kernel followed.
    pub async fn load(store: &Store) -> Result<Context, Error> {
        let rows: Vec<AssetRow> = store
            .all(
                "SELECT asset_id, ticketer, CAST(token_id AS TEXT) AS token_id, metadata, \
                 supply_units FROM assets ORDER BY asset_id",
                &[],
            )
            .await?;
        let head: Option<Head> = store
            .one(
                "SELECT c.level, c.block_hash, l.level_time, l.state_hash FROM indexer_cursor c \
                 LEFT JOIN levels l ON l.level = c.level",
                &[],
            )
            .await?;
        let identity: Option<Identity> = store
            .one(
                "SELECT (SELECT value FROM indexer_meta WHERE name = 'rollup') AS rollup, \
                 (SELECT value FROM indexer_meta WHERE name = 'kernel_hash') AS kernel_hash",
                &[],
            )
            .await?;
        Ok(Context {
            assets: Assets::new(&rows),
            head,
            identity: identity.unwrap_or_default(),
        })
    }

    /// The rollup's clock at the head (0 before any level).
    pub fn now(&self) -> i64 {
        self.head.as_ref().and_then(|h| h.level_time).unwrap_or(0)
    }

    /// The day (since 1970-01-01, UTC) of the rollup's clock at the head.
    pub fn today(&self) -> i64 {
        self.now()
            .div_euclid(i64::try_from(pledgeroll_contracts::units::DAY).unwrap_or(i64::MAX))
    }
}

/// Refuses anything but a tz1, tz2 or tz3 address.
pub fn check_account(text: &str) -> Result<(), Error> {
    match text.parse::<pledgeroll_contracts::Address>() {
        Ok(_) => Ok(()),
        Err(_) => Err(Error::BadRequest(format!(
            "invalid address {:?}: expected a tz1, tz2 or tz3 address",
            text.chars().take(70).collect::<String>()
        ))),
    }
}

/// Checks an address given in a path or query: letters, digits and `-`,
/// at most 64 characters, as an address or `project-N` is written.
pub fn check_address(text: &str) -> Result<(), Error> {
    if !text.is_empty()
        && text.len() <= 64
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "invalid address {:?}: expected tz1…, tz2…, tz3… or project-N",
            text.chars().take(70).collect::<String>()
        )))
    }
}

pub(super) fn check_limit(limit: Option<u32>) -> Result<i64, Error> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(i64::from(n)),
        n => Err(Error::BadRequest(format!(
            "limit {n} is out of range: give 1 to {MAX_LIMIT}"
        ))),
    }
}

/// Reads an optional number from a query string, where a form's empty
/// field (`asset=`) means none given.
pub(super) fn blank_is_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let text: Option<String> = Option::deserialize(d)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("{t:?} is not a number: {e}"))),
    }
}

pub(super) const BALANCE_COLS: &str =
    "SELECT holder, asset_id, CAST(settled AS TEXT) AS settled, at, \
     CAST(inflow AS TEXT) AS inflow, CAST(outflow AS TEXT) AS outflow, inflow_paused, \
     depletion_scheduled, monthly_in_units, monthly_out_units FROM balances";

pub(super) const SUMMARY_COLS: &str =
    "SELECT c.address, c.name, c.description, c.paused, c.patrons, \
     c.active_patrons, c.created_level, CAST(COALESCE(b.monthly_in_units, 0) AS BIGINT) AS income \
     FROM creators c LEFT JOIN balances b ON b.holder = c.address AND b.asset_id = $1";

pub(crate) const MOVEMENT_COLS: &str =
    "SELECT level, idx, happened_at, kind, from_holder, to_holder, \
     asset_id, units, pledge_id, project_id, memo FROM ledger";

pub(crate) const PLEDGE_COLS: &str = "SELECT pledge_id, patron, payee, tier_id, asset_id, \
     CAST(amount_per_period AS TEXT) AS amount_per_period, period, monthly_units, status, \
     reason, created_at FROM pledges";
