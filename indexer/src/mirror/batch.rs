//! A batch of levels being applied: the rows it reads and changes (a
//! [`Table`] each), what it appends (levels, events, ledger, receipts,
//! undo information), and the level it is at. The family modules change
//! it event by event; [`Batch::write`] then writes it all.

use pledgeroll_contracts::units::DAY;
use pledgeroll_contracts::{AssetId, Encode, Event, Holder, Outcome, ProjectId};
use pledgeroll_interface::LevelRecord;

use super::cache::{Table, Undo};
use super::{projection, LevelData};
use crate::db::Tx;
use crate::error::{int, IndexError};
use crate::rows::{
    address_text, created_json, holder_text, AccountRow, AlertRow, AssetRow, BalanceRow,
    CreatorPatronRow, CreatorRow, DailyRow, EscrowRow, EventRow, FunderAssetRow, FunderRow,
    InvoiceRow, LedgerRow, LevelRow, PledgeRow, ProjectRow, ReceiptRow, TicketRow, TierPatronRow,
    TierRow,
};

/// An asset's id as stored.
pub(super) fn asset_key(asset: AssetId) -> i64 {
    i64::from(asset.0)
}

/// A project's escrow as a holder, as stored.
pub(super) fn project_holder(p: ProjectId) -> String {
    holder_text(&Holder::Project(p))
}

/// The day (since the Unix epoch, UTC) of a time.
pub(super) fn day(time: u64) -> Result<i64, IndexError> {
    int(time / DAY, "day")
}

/// What a batch reads, changes and appends.
#[derive(Debug, Default)]
pub(super) struct Batch {
    pub(super) undo: Undo,
    pub(super) accounts: Table<AccountRow>,
    pub(super) assets: Table<AssetRow>,
    pub(super) balances: Table<BalanceRow>,
    pub(super) creators: Table<CreatorRow>,
    pub(super) tiers: Table<TierRow>,
    pub(super) tier_patrons: Table<TierPatronRow>,
    pub(super) creator_patrons: Table<CreatorPatronRow>,
    pub(super) pledges: Table<PledgeRow>,
    pub(super) projects: Table<ProjectRow>,
    pub(super) escrows: Table<EscrowRow>,
    pub(super) tickets: Table<TicketRow>,
    pub(super) invoices: Table<InvoiceRow>,
    pub(super) funders: Table<FunderRow>,
    pub(super) funder_assets: Table<FunderAssetRow>,
    pub(super) daily: Table<DailyRow>,
    levels: Vec<LevelRow>,
    events: Vec<EventRow>,
    pub(super) ledger: Vec<LedgerRow>,
    receipts: Vec<ReceiptRow>,
    pub(super) alerts: Vec<AlertRow>,
    /// The level being applied.
    pub(super) level: u32,
    /// Its time: the protocol's clock after it.
    pub(super) time: u64,
    /// Its next ledger position.
    pub(super) ledger_idx: i64,
    /// Its next alert position.
    pub(super) alert_idx: i64,
    /// The time of the level before, once known: runway alerts fall due
    /// between it and the level's.
    pub(super) prev_time: Option<u64>,
}

impl Batch {
    /// The level being applied, as stored.
    pub(super) fn level(&self) -> i64 {
        i64::from(self.level)
    }

    /// Applies one level: its events, receipts and level row.
    pub(super) fn apply_level(&mut self, l: &LevelData, keep_undo: bool) -> Result<(), IndexError> {
        self.level = l.level;
        self.time = l.time.unwrap_or(0);
        self.undo.level = keep_undo.then_some(l.level);
        self.undo.seq = 0;
        self.ledger_idx = 0;
        self.alert_idx = 0;
        let level = i64::from(l.level);
        let empty = LevelRecord::default();
        let record = l.record.as_ref().unwrap_or(&empty);
        for (idx, event) in record.events.iter().enumerate() {
            let idx = int(idx as u64, "event index")?;
            let family = projection(event);
            let mut row = event_row(level, idx, self.time, event)?;
            family.describe(event, &mut row)?;
            self.events.push(row);
            super::alerts::derive(self, idx, event)?;
            family.apply(self, idx, event)?;
        }
        for (idx, r) in record.receipts.iter().enumerate() {
            let (applied, reason) = match &r.outcome {
                Outcome::Applied { .. } => (true, None),
                Outcome::Failed { reason } => (false, Some(reason.as_str().to_owned())),
            };
            self.receipts.push(ReceiptRow {
                level,
                idx: int(idx as u64, "receipt index")?,
                hash: hex::encode(r.hash),
                signer: address_text(&r.signer),
                nonce: int(r.nonce, "nonce")?,
                applied,
                reason,
                created: r.outcome.created().map(|c| created_json(&c)),
            });
        }
        if l.time.is_some() {
            super::alerts::scheduled(self);
        }
        self.levels.push(LevelRow {
            level,
            block_hash: l.hash.clone(),
            predecessor: l.predecessor.clone(),
            level_time: l.time.map(|t| int(t, "level time")).transpose()?,
            state_hash: l.record.as_ref().map(|r| hex::encode(r.state_hash)),
            events: int(record.events.len() as u64, "event count")?,
            receipts: int(record.receipts.len() as u64, "receipt count")?,
            notices: int(record.notices.len() as u64, "notice count")?,
            fault: record.fault.clone(),
        });
        match self.undo.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Writes every changed and appended row.
    pub(super) async fn write(mut self, tx: &mut Tx) -> Result<(), IndexError> {
        for slot in self.daily.slots.values_mut() {
            if let (true, Some(d)) = (slot.dirty, slot.row.as_mut()) {
                d.refresh();
            }
        }
        self.accounts.write(tx).await?;
        self.assets.write(tx).await?;
        self.balances.write(tx).await?;
        self.creators.write(tx).await?;
        self.tiers.write(tx).await?;
        self.tier_patrons.write(tx).await?;
        self.creator_patrons.write(tx).await?;
        self.pledges.write(tx).await?;
        self.projects.write(tx).await?;
        self.escrows.write(tx).await?;
        self.tickets.write(tx).await?;
        self.invoices.write(tx).await?;
        self.funders.write(tx).await?;
        self.funder_assets.write(tx).await?;
        self.daily.write(tx).await?;
        tx.append(&self.levels).await?;
        tx.append(&self.events).await?;
        tx.append(&self.ledger).await?;
        tx.append(&self.receipts).await?;
        tx.append(&self.alerts).await?;
        tx.append(&self.undo.rows).await
    }
}

/// The stored form of an event, before its family describes it.
fn event_row(level: i64, idx: i64, time: u64, event: &Event) -> Result<EventRow, IndexError> {
    Ok(EventRow {
        level,
        idx,
        happened_at: int(time, "level time")?,
        kind: String::new(),
        account: None,
        counterparty: None,
        pledge_id: None,
        project_id: None,
        tier_id: None,
        asset_id: None,
        change: None,
        data: event.to_bytes(),
    })
}
