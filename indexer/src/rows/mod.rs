//! Every table of the mirror as a Rust row type, and the conversions between
//! the protocol's records and rows (both ways: the mirror writes rows from
//! events, and `verify` turns rows back into records to compare them with
//! the node's). One module per family of tables, as the mirror's
//! projections are grouped; the table lists here are the schema the
//! database is created from.
//!
//! Conventions: amounts and rates are exact (`u128` columns: fine units,
//! or base units where the protocol counts in base units), with an `_units`
//! integer beside them where the directory sorts; ids, times (Unix seconds)
//! and levels are integers; a holder is an address (`tz1…`) or
//! `project-{id}`, as in the protocol's storage paths; lists are JSON.

mod accounts;
mod alerts;
mod book;
mod creators;
mod ledger;
mod pledges;
mod projects;
mod subscriptions;

use std::cell::RefCell;
use std::collections::HashMap;

use pledgeroll_contracts::asset::FINE_PER_UNIT;
use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::stream::per_month;
use pledgeroll_contracts::{Address, Holder, ProjectId};

use crate::error::IndexError;
use crate::schema::{Row, TableDef};

pub use accounts::{AccountRow, AssetRow, BalanceRow};
pub use alerts::AlertRow;
pub use book::{created_json, CursorRow, EventRow, LevelRow, MetaRow, ReceiptRow, UndoRow};
pub use creators::{CreatorPatronRow, CreatorRow, TierPatronRow, TierRow};
pub use ledger::{DailyRow, LedgerRow};
pub use pledges::{status_text, PledgeRow};
pub use projects::{EscrowRow, FunderAssetRow, FunderRow, InvoiceRow, ProjectRow, TicketRow};
pub use subscriptions::{DeliveryRow, SubscriptionRow};

/// The tables whose rows the mirror upserts, and a level can change: each
/// change is undone through [`UndoRow`]s.
pub const STATE_TABLES: [TableDef; 15] = [
    AccountRow::DEF,
    AssetRow::DEF,
    BalanceRow::DEF,
    CreatorRow::DEF,
    TierRow::DEF,
    TierPatronRow::DEF,
    CreatorPatronRow::DEF,
    PledgeRow::DEF,
    ProjectRow::DEF,
    EscrowRow::DEF,
    TicketRow::DEF,
    InvoiceRow::DEF,
    FunderRow::DEF,
    FunderAssetRow::DEF,
    DailyRow::DEF,
];

/// The append-only tables, keyed by level first: undoing a level deletes
/// its rows.
pub const LEVEL_TABLES: [TableDef; 5] = [
    LevelRow::DEF,
    EventRow::DEF,
    LedgerRow::DEF,
    ReceiptRow::DEF,
    AlertRow::DEF,
];

/// The indexer's own bookkeeping tables.
pub const BOOK_TABLES: [TableDef; 3] = [CursorRow::DEF, MetaRow::DEF, UndoRow::DEF];

/// The alert subscriptions and their deliveries: written by the directory
/// and the notifier, not mirrored.
pub const ALERT_TABLES: [TableDef; 2] = [SubscriptionRow::DEF, DeliveryRow::DEF];

/// Every table of the mirror: the schema the database is created from.
pub fn tables() -> impl Iterator<Item = &'static TableDef> {
    BOOK_TABLES
        .iter()
        .chain(LEVEL_TABLES.iter())
        .chain(STATE_TABLES.iter())
        .chain(ALERT_TABLES.iter())
}

/// A state table by name.
pub fn state_table(name: &str) -> Option<&'static TableDef> {
    STATE_TABLES.iter().find(|t| t.name == name)
}

/// An address as text. Base58check costs two SHA-256 rounds and the same
/// addresses recur through a batch, so each thread keeps their text.
pub fn address_text(a: &Address) -> String {
    thread_local! {
        static TEXT: RefCell<HashMap<Address, String>> = RefCell::new(HashMap::new());
    }
    TEXT.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(text) = cache.get(a) {
            return text.clone();
        }
        if cache.len() >= 100_000 {
            cache.clear();
        }
        let text = a.to_string();
        cache.insert(*a, text.clone());
        text
    })
}

/// A holder as stored: its address, or `project-{id}`.
pub fn holder_text(holder: &Holder) -> String {
    match holder {
        Holder::Account(a) => address_text(a),
        Holder::Project(p) => format!("project-{}", p.0),
    }
}

/// A stored holder.
pub fn parse_holder(text: &str) -> Option<Holder> {
    match text.strip_prefix("project-") {
        Some(id) => id.parse().ok().map(|id| Holder::Project(ProjectId(id))),
        None => text.parse().ok().map(Holder::Account),
    }
}

/// The project of a holder, if it is one.
pub fn holder_project(holder: &Holder) -> Option<i64> {
    match holder {
        Holder::Account(_) => None,
        Holder::Project(p) => i64::try_from(p.0).ok(),
    }
}

/// Fine units in whole base units, rounded down (saturating).
pub fn units(fine: u128) -> i64 {
    i64::try_from(fine / FINE_PER_UNIT).unwrap_or(i64::MAX)
}

/// A rate (fine units per second) per 30 days, in base units.
pub fn monthly_units(rate: u128) -> i64 {
    i64::try_from(per_month(rate)).unwrap_or(i64::MAX)
}

/// Base units as fine units.
pub fn fine(units: u64) -> u128 {
    u128::from(units) * FINE_PER_UNIT
}

fn json_list<T: ToString>(items: &[T]) -> String {
    serde_json::Value::Array(
        items
            .iter()
            .map(|i| serde_json::Value::String(i.to_string()))
            .collect(),
    )
    .to_string()
}

fn json_ids(items: &[u64]) -> String {
    serde_json::Value::Array(items.iter().map(|i| (*i).into()).collect()).to_string()
}

fn corrupt(table: &str, reason: impl Into<String>) -> IndexError {
    IndexError::Corrupt {
        table: table.to_owned(),
        reason: reason.into(),
    }
}

fn parse_list<T: std::str::FromStr>(table: &str, json: &str) -> Result<Vec<T>, IndexError> {
    let items: Vec<String> =
        serde_json::from_str(json).map_err(|e| corrupt(table, format!("list {json}: {e}")))?;
    items
        .iter()
        .map(|i| {
            i.parse()
                .map_err(|_| corrupt(table, format!("list item {i}")))
        })
        .collect()
}

fn parse_ids(table: &str, json: &str) -> Result<Vec<u64>, IndexError> {
    serde_json::from_str(json).map_err(|e| corrupt(table, format!("ids {json}: {e}")))
}

fn uint(table: &str, v: i64) -> Result<u64, IndexError> {
    u64::try_from(v).map_err(|_| corrupt(table, format!("negative value {v}")))
}

fn uint32(table: &str, v: i64) -> Result<u32, IndexError> {
    u32::try_from(v).map_err(|_| corrupt(table, format!("value {v} beyond 32 bits")))
}

fn base(table: &str, v: u128) -> Result<u64, IndexError> {
    u64::try_from(v).map_err(|_| corrupt(table, format!("amount {v} beyond 64 bits")))
}

fn text<const N: usize>(table: &str, s: &str) -> Result<Text<N>, IndexError> {
    Text::new(s).map_err(|e| corrupt(table, format!("text {s:?}: {e}")))
}

fn list<T, const N: usize>(table: &str, items: Vec<T>) -> Result<List<T, N>, IndexError> {
    List::new(items).map_err(|e| corrupt(table, format!("list: {e}")))
}

fn address(table: &str, s: &str) -> Result<Address, IndexError> {
    s.parse()
        .map_err(|_| corrupt(table, format!("address {s}")))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An address for the tests.
    pub(crate) fn alice() -> Address {
        "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx"
            .parse()
            .expect("valid")
    }

    #[test]
    fn holders_round_trip_as_text() {
        for h in [Holder::Account(alice()), Holder::Project(ProjectId(42))] {
            assert_eq!(parse_holder(&holder_text(&h)), Some(h));
        }
        assert_eq!(parse_holder("project-x"), None);
        assert_eq!(parse_holder("tz1nothing"), None);
    }
}
