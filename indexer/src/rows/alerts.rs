//! Alerts: what a person would want to hear about, one row per recipient,
//! derived from a level's events in the same transaction as the level's
//! other rows (so a crash neither loses nor invents one, and undoing a
//! level undoes its alerts).

use crate::schema::table;

table! {
    /// One alert for one account. Its id, `{level}.{idx}`, is stable: the
    /// same level of the same chain always derives the same alerts.
    AlertRow in "alerts" {
        key {
            /// The level it comes from.
            level: i64,
            /// Its position among the level's alerts.
            idx: i64,
        }
        /// When (Unix seconds, the level's time).
        happened_at: i64,
        /// Who it is for.
        account: String,
        /// What happened ([`crate::alerts::AlertKind`], as text).
        kind: String,
        /// The index of the event it comes from in its level; none for an
        /// alert the clock brings (a runway running low).
        event_idx: Option<i64>,
        /// The other party: the patron, the creator, the payer.
        counterparty: Option<String>,
        /// The pledge it is about.
        pledge_id: Option<i64>,
        /// The tier it is about.
        tier_id: Option<i64>,
        /// The project it is about.
        project_id: Option<i64>,
        /// The invoice it is about.
        invoice_no: Option<i64>,
        /// The asset of `amount`.
        asset_id: Option<i64>,
        /// The amount it is about, base units: a tip, a withdrawal, an
        /// invoice, a pledge's price per period.
        amount: Option<u128>,
        /// The pledge's period, seconds, when `amount` is a price; for a
        /// runway alert, the time left, seconds.
        period: Option<i64>,
        /// Why: the reason a pledge paused or ended.
        reason: Option<String>,
    }
    // An account's alerts, newest last.
    index alerts_account ("account, level, idx");
}
