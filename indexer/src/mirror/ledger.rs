//! The ledger and the daily figures: every movement of value an event
//! causes, appended to `ledger` and added to its parties' days in
//! `daily_stats`, and the stream income a holder accrues between its flow
//! changes.

use pledgeroll_contracts::AssetId;

use super::batch::{asset_key, day, Batch};
use crate::error::{int, IndexError};
use crate::rows::{units, BalanceRow, DailyRow, LedgerRow};
use pledgeroll_contracts::units::DAY;

/// A ledger movement before it gets its position.
pub(super) struct Movement {
    kind: &'static str,
    /// The payer, if any.
    pub(super) from: Option<String>,
    /// The receiver, if any.
    pub(super) to: Option<String>,
    asset: AssetId,
    fine: u128,
    at: u64,
    /// The pledge, for stream settlements.
    pub(super) pledge: Option<i64>,
    /// The project, if one is involved.
    pub(super) project: Option<i64>,
    /// The invoice, for payouts.
    pub(super) invoice: Option<i64>,
    /// A tip's memo, or a withdrawal's destination.
    pub(super) memo: Option<String>,
}

impl Movement {
    /// `fine` units of `asset` moved at time `at`, between no one yet.
    pub(super) fn new(kind: &'static str, asset: AssetId, fine: u128, at: u64) -> Self {
        Movement {
            kind,
            from: None,
            to: None,
            asset,
            fine,
            at,
            pledge: None,
            project: None,
            invoice: None,
            memo: None,
        }
    }
}

/// Which daily counter a movement adds to.
#[derive(Clone, Copy)]
pub(super) enum Counter {
    TipsIn,
    TipsOut,
    TransfersIn,
    TransfersOut,
    Deposits,
    Withdrawals,
    PayoutsIn,
    PayoutsOut,
    FundingIn,
    FundingOut,
    RefundsIn,
    RefundsOut,
}

impl Counter {
    fn of(self, d: &mut DailyRow) -> &mut u128 {
        match self {
            Counter::TipsIn => &mut d.tips_in,
            Counter::TipsOut => &mut d.tips_out,
            Counter::TransfersIn => &mut d.transfers_in,
            Counter::TransfersOut => &mut d.transfers_out,
            Counter::Deposits => &mut d.deposits,
            Counter::Withdrawals => &mut d.withdrawals,
            Counter::PayoutsIn => &mut d.payouts_in,
            Counter::PayoutsOut => &mut d.payouts_out,
            Counter::FundingIn => &mut d.funding_in,
            Counter::FundingOut => &mut d.funding_out,
            Counter::RefundsIn => &mut d.refunds_in,
            Counter::RefundsOut => &mut d.refunds_out,
        }
    }
}

impl Batch {
    /// A holder's figures in an asset on the day of `at`, made if absent.
    pub(super) fn daily(
        &mut self,
        holder: &str,
        asset: AssetId,
        at: u64,
    ) -> Result<&mut DailyRow, IndexError> {
        let key = (holder.to_owned(), asset_key(asset), day(at)?);
        Ok(self.daily.entry(&key, &mut self.undo, || {
            DailyRow::empty(&key.0, key.1, key.2)
        }))
    }

    fn count(
        &mut self,
        holder: &str,
        asset: AssetId,
        at: u64,
        counter: Counter,
        fine: u128,
    ) -> Result<(), IndexError> {
        let d = self.daily(holder, asset, at)?;
        let slot = counter.of(d);
        *slot = slot.saturating_add(fine);
        Ok(())
    }

    /// Adds what streamed in to a holder from its last flow change until
    /// `until` to the days it spans (nothing while a paused creator's
    /// inflow is held).
    pub(super) fn accrue(
        &mut self,
        prev: &BalanceRow,
        asset: AssetId,
        until: u64,
    ) -> Result<(), IndexError> {
        if prev.inflow == 0 || prev.inflow_paused {
            return Ok(());
        }
        let mut t = u64::try_from(prev.at).unwrap_or(0);
        while t < until {
            let end = (t / DAY + 1).saturating_mul(DAY).min(until);
            let seconds = u128::from(end - t);
            let d = self.daily(&prev.holder, asset, t)?;
            d.streamed_in = d
                .streamed_in
                .saturating_add(prev.inflow.saturating_mul(seconds));
            d.inflow = prev.inflow;
            t = end;
        }
        Ok(())
    }

    /// Records a movement in the ledger and in its parties' daily figures:
    /// the payer's `out` counter, the receiver's `into` counter.
    pub(super) fn record(
        &mut self,
        event_idx: i64,
        m: Movement,
        out: Option<Counter>,
        into: Option<Counter>,
    ) -> Result<(), IndexError> {
        if let (Some(from), Some(counter)) = (&m.from, out) {
            self.count(from, m.asset, m.at, counter, m.fine)?;
        }
        if let (Some(to), Some(counter)) = (&m.to, into) {
            self.count(to, m.asset, m.at, counter, m.fine)?;
        }
        self.movement(event_idx, m)
    }

    /// Appends a movement to the ledger only.
    pub(super) fn movement(&mut self, event_idx: i64, m: Movement) -> Result<(), IndexError> {
        let idx = self.ledger_idx;
        self.ledger_idx += 1;
        let level = self.level();
        self.ledger.push(LedgerRow {
            level,
            idx,
            event_idx,
            happened_at: int(m.at, "time")?,
            kind: m.kind.to_owned(),
            from_holder: m.from,
            to_holder: m.to,
            asset_id: asset_key(m.asset),
            fine: m.fine,
            units: units(m.fine),
            pledge_id: m.pledge,
            project_id: m.project,
            invoice_no: m.invoice,
            memo: m.memo,
        });
        Ok(())
    }
}
