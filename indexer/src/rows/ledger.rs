//! The ledger and the daily figures: every movement of value, and what
//! moved per holder, asset and day, for charts.

use super::{monthly_units, units};
use crate::schema::table;

table! {
    /// Every movement of value, append-only.
    LedgerRow in "ledger" {
        key {
            /// The level.
            level: i64,
            /// Its position among the level's movements.
            idx: i64,
        }
        /// The event it comes from (`events.idx`).
        event_idx: i64,
        /// When it happened (Unix seconds).
        happened_at: i64,
        /// `deposit`, `withdrawal`, `transfer`, `tip`, `stream`, `payout`,
        /// `fund` or `refund`.
        kind: String,
        /// The payer, if any (none for deposits).
        from_holder: Option<String>,
        /// The receiver, if any (none for withdrawals).
        to_holder: Option<String>,
        /// The asset.
        asset_id: i64,
        /// The amount, fine units.
        fine: u128,
        /// The amount in base units, rounded down.
        units: i64,
        /// The pledge, for stream settlements.
        pledge_id: Option<i64>,
        /// The project, if one is involved.
        project_id: Option<i64>,
        /// The invoice, for payouts.
        invoice_no: Option<i64>,
        /// A tip's memo, or a withdrawal's destination (`KT1…%entrypoint`).
        memo: Option<String>,
    }
    // The ledger by account (either side), by asset and kind, by kind.
    index ledger_from ("from_holder, level, idx") where "from_holder IS NOT NULL";
    index ledger_to ("to_holder, level, idx") where "to_holder IS NOT NULL";
    index ledger_asset_kind ("asset_id, kind, level, idx");
    index ledger_kind ("kind, level, idx");
}

table! {
    /// Per holder, asset and UTC day: what moved, for charts. Income from
    /// streams (`streamed_in`) is exact per day up to the holder's last
    /// flow change (`balances.at`); after it the holder receives
    /// `balances.inflow` per second and no row exists yet. Outgoing streams
    /// are not spread over days: their settlements are in the ledger.
    DailyRow in "daily_stats" {
        key {
            /// The holder: an address or `project-{id}`.
            holder: String,
            /// The asset.
            asset_id: i64,
            /// Days since 1970-01-01, UTC.
            day: i64,
        }
        /// Fine units streamed in during the day.
        streamed_in: u128,
        /// Tips received, fine units.
        tips_in: u128,
        /// Tips sent, fine units.
        tips_out: u128,
        /// Transfers received, fine units.
        transfers_in: u128,
        /// Transfers sent, fine units.
        transfers_out: u128,
        /// Deposits from layer 1, fine units.
        deposits: u128,
        /// Withdrawals to layer 1, fine units.
        withdrawals: u128,
        /// Invoice payouts received, fine units.
        payouts_in: u128,
        /// Invoice payouts made (project escrows), fine units.
        payouts_out: u128,
        /// One-off project funding received (project escrows), fine units.
        funding_in: u128,
        /// One-off project funding given, fine units.
        funding_out: u128,
        /// Refunds received, fine units.
        refunds_in: u128,
        /// Refunds paid (project escrows), fine units.
        refunds_out: u128,
        /// Income in base units: streams, tips, payouts and funding received.
        income_units: i64,
        /// Incoming stream rate at the end of the day, fine units per second.
        inflow: u128,
        /// `inflow` per 30 days in base units: monthly income that day.
        monthly_in_units: i64,
        /// Pledges to this holder started that day.
        pledges_started: i64,
    }
}

impl DailyRow {
    /// An empty day for a holder and asset.
    pub fn empty(holder: &str, asset_id: i64, day: i64) -> Self {
        DailyRow {
            holder: holder.to_owned(),
            asset_id,
            day,
            streamed_in: 0,
            tips_in: 0,
            tips_out: 0,
            transfers_in: 0,
            transfers_out: 0,
            deposits: 0,
            withdrawals: 0,
            payouts_in: 0,
            payouts_out: 0,
            funding_in: 0,
            funding_out: 0,
            refunds_in: 0,
            refunds_out: 0,
            income_units: 0,
            inflow: 0,
            monthly_in_units: 0,
            pledges_started: 0,
        }
    }

    /// Recomputes the base-unit columns from the exact ones.
    pub fn refresh(&mut self) {
        self.income_units = units(
            self.streamed_in
                .saturating_add(self.tips_in)
                .saturating_add(self.payouts_in)
                .saturating_add(self.funding_in),
        );
        self.monthly_in_units = monthly_units(self.inflow);
    }
}
