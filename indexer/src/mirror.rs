//! Applying levels to the mirror, and undoing them.
//!
//! A batch of consecutive levels is applied in one database transaction:
//! the rows the batch touches are read in a few bulk queries, the events
//! are applied to them in memory, level by level, and the changed rows, the
//! appended rows (levels, events, ledger, receipts) and the cursor are
//! written together. For the levels a reorganisation may still replace,
//! every row a level changes is first saved as it was (TzKT's way), so
//! [`Mirror::revert_to`] restores the state of any such level exactly.

use std::collections::{BTreeSet, HashMap};

use pledgeroll_contracts::escrow::InvoiceChange;
use pledgeroll_contracts::event::PledgeChange;
use pledgeroll_contracts::{Address, AssetId, Encode, Event, Holder, Outcome, ProjectId};
use pledgeroll_kernel::LevelRecord;

use crate::db::{state_table, Db, Tx, LEVEL_TABLES};
use crate::error::{int, IndexError};
use crate::rows::{
    address_text, fine, holder_project, holder_text, AccountRow, AssetRow, BalanceRow, CreatorRow,
    CursorRow, DailyRow, EscrowRow, EventRow, FunderAssetRow, FunderRow, InvoiceRow, LedgerRow,
    LevelRow, MetaRow, PledgeRow, ProjectRow, ReceiptRow, TicketRow, TierRow, UndoRow, DAY,
};
use crate::schema::{Row, Value};

/// The setting naming the rollup a mirror follows.
const META_ROLLUP: &str = "rollup";
/// The setting holding the first level that can still be undone.
const META_UNDO_FLOOR: &str = "undo_floor";

/// One level as read from the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelData {
    /// The level.
    pub level: u32,
    /// Its block hash.
    pub hash: String,
    /// The previous block's hash.
    pub predecessor: String,
    /// The protocol's clock after the level, if the kernel has run.
    pub time: Option<u64>,
    /// The kernel's record of the level; `None` when the kernel wrote none
    /// for it (before its first run, or if it did not run).
    pub record: Option<LevelRecord>,
}

impl LevelData {
    /// How many events the level has.
    pub fn event_count(&self) -> usize {
        self.record.as_ref().map_or(0, |r| r.events.len())
    }
}

/// Where the mirror stands: the last level applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The level.
    pub level: u32,
    /// Its block hash.
    pub hash: String,
}

/// The mirror in a database.
#[derive(Debug, Clone)]
pub struct Mirror {
    db: Db,
}

fn level_of(v: i64) -> Result<u32, IndexError> {
    u32::try_from(v).map_err(|_| IndexError::Corrupt {
        table: "levels".into(),
        reason: format!("level {v}"),
    })
}

async fn read_cursor(tx: &mut Tx) -> Result<Option<Cursor>, IndexError> {
    let rows: Vec<CursorRow> = tx.load(&[(1,)]).await?;
    rows.into_iter()
        .next()
        .map(|c| {
            Ok(Cursor {
                level: level_of(c.level)?,
                hash: c.block_hash,
            })
        })
        .transpose()
}

async fn read_meta(tx: &mut Tx, name: &str) -> Result<Option<String>, IndexError> {
    let rows: Vec<MetaRow> = tx.load(&[(name.to_owned(),)]).await?;
    Ok(rows.into_iter().next().map(|m| m.value))
}

async fn write_meta(tx: &mut Tx, name: &str, value: String) -> Result<(), IndexError> {
    tx.store(&[MetaRow {
        name: name.to_owned(),
        value,
    }])
    .await
}

async fn read_floor(tx: &mut Tx) -> Result<Option<u32>, IndexError> {
    read_meta(tx, META_UNDO_FLOOR)
        .await?
        .map(|v| {
            v.parse().map_err(|_| IndexError::Corrupt {
                table: "indexer_meta".into(),
                reason: format!("undo floor {v}"),
            })
        })
        .transpose()
}

fn to_json(values: &[Value]) -> Result<String, IndexError> {
    serde_json::to_string(values).map_err(|e| IndexError::Corrupt {
        table: "indexer_undo".into(),
        reason: e.to_string(),
    })
}

fn from_json(text: &str) -> Result<Vec<Value>, IndexError> {
    serde_json::from_str(text).map_err(|e| IndexError::Corrupt {
        table: "indexer_undo".into(),
        reason: e.to_string(),
    })
}

impl Mirror {
    /// The mirror in `db`, its schema brought up to date.
    pub async fn open(db: Db) -> Result<Self, IndexError> {
        db.migrate().await?;
        Ok(Mirror { db })
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The last level applied.
    pub async fn cursor(&self) -> Result<Option<Cursor>, IndexError> {
        let mut tx = self.db.begin().await?;
        let cursor = read_cursor(&mut tx).await?;
        tx.rollback().await?;
        Ok(cursor)
    }

    /// The block hash the mirror holds for `level`.
    pub async fn level_hash(&self, level: u32) -> Result<Option<String>, IndexError> {
        let mut tx = self.db.begin().await?;
        let rows: Vec<LevelRow> = tx.load(&[(i64::from(level),)]).await?;
        tx.rollback().await?;
        Ok(rows.into_iter().next().map(|l| l.block_hash))
    }

    /// The lowest level a reorganisation can still take the mirror back
    /// past (levels from it on keep undo information).
    pub async fn undo_floor(&self) -> Result<Option<u32>, IndexError> {
        let mut tx = self.db.begin().await?;
        let floor = read_floor(&mut tx).await?;
        tx.rollback().await?;
        Ok(floor)
    }

    /// Records which rollup the mirror follows, or checks it is `rollup`.
    pub async fn check_rollup(&self, rollup: &str) -> Result<(), IndexError> {
        let mut tx = self.db.begin().await?;
        match read_meta(&mut tx, META_ROLLUP).await? {
            Some(stored) if stored != rollup => {
                tx.rollback().await?;
                Err(IndexError::WrongRollup {
                    stored,
                    node: rollup.to_owned(),
                })
            }
            Some(_) => tx.rollback().await,
            None => {
                write_meta(&mut tx, META_ROLLUP, rollup.to_owned()).await?;
                tx.commit().await
            }
        }
    }

    /// Applies consecutive levels in one transaction, after the cursor.
    ///
    /// Levels from `undo_from` on keep undo information, so that
    /// [`Mirror::revert_to`] can take them back; undo information of
    /// earlier levels is dropped. Fails with
    /// [`IndexError::Discontinuity`], changing nothing, if the batch does
    /// not follow the cursor's block.
    pub async fn apply(&self, batch: &[LevelData], undo_from: u32) -> Result<(), IndexError> {
        let Some(last) = batch.last() else {
            return Ok(());
        };
        let mut tx = self.db.begin().await?;
        let mut prev = read_cursor(&mut tx).await?;
        for l in batch {
            if let Some(p) = &prev {
                if l.level != p.level.saturating_add(1) || l.predecessor != p.hash {
                    tx.rollback().await?;
                    return Err(IndexError::Discontinuity {
                        level: l.level,
                        hash: l.hash.clone(),
                    });
                }
            }
            prev = Some(Cursor {
                level: l.level,
                hash: l.hash.clone(),
            });
        }

        let mut w = Working::default();
        w.prefetch(&mut tx, batch).await?;
        for l in batch {
            w.apply_level(l, l.level >= undo_from)?;
        }
        w.write(&mut tx).await?;

        tx.store(&[CursorRow {
            id: 1,
            level: i64::from(last.level),
            block_hash: last.hash.clone(),
        }])
        .await?;
        let floor = read_floor(&mut tx).await?.unwrap_or(0).max(undo_from);
        write_meta(&mut tx, META_UNDO_FLOOR, floor.to_string()).await?;
        tx.delete_below(&UndoRow::DEF, i64::from(undo_from)).await?;
        tx.commit().await
    }

    /// Takes the mirror back to the state right after `level`: restores
    /// every row the later levels changed and deletes what they appended.
    /// Fails with [`IndexError::ReorgTooDeep`], changing nothing, if a
    /// level to undo kept no undo information.
    pub async fn revert_to(&self, level: u32) -> Result<(), IndexError> {
        let mut tx = self.db.begin().await?;
        let Some(cursor) = read_cursor(&mut tx).await? else {
            return tx.rollback().await;
        };
        if cursor.level <= level {
            return tx.rollback().await;
        }
        let floor = read_floor(&mut tx).await?.unwrap_or(0);
        if level.saturating_add(1) < floor {
            tx.rollback().await?;
            return Err(IndexError::ReorgTooDeep {
                level: level.saturating_add(1),
                floor,
            });
        }
        let undo: Vec<UndoRow> = tx
            .select_above(&UndoRow::DEF, i64::from(level))
            .await?
            .into_iter()
            .map(UndoRow::from_values)
            .collect::<Result<_, _>>()?;
        // The earliest saved image of a row is its state after `level`.
        let mut earliest: HashMap<(String, String), Option<String>> = HashMap::new();
        for u in undo {
            earliest.entry((u.tbl, u.row_key)).or_insert(u.image);
        }
        let mut by_table: HashMap<String, Restore> = HashMap::new();
        for ((table, key), image) in earliest {
            let entry = by_table.entry(table).or_default();
            match image {
                Some(image) => entry.rows.push(from_json(&image)?),
                None => entry.absent.push(from_json(&key)?),
            }
        }
        for (
            table,
            Restore {
                rows: restore,
                absent: delete,
            },
        ) in by_table
        {
            let def = state_table(&table).ok_or_else(|| IndexError::Corrupt {
                table: "indexer_undo".into(),
                reason: format!("unknown table {table}"),
            })?;
            tx.delete_keys(def, delete).await?;
            tx.upsert(def, restore).await?;
        }
        for def in LEVEL_TABLES.iter().chain(std::iter::once(&UndoRow::DEF)) {
            tx.delete_above(def, i64::from(level)).await?;
        }
        let kept: Vec<LevelRow> = tx.load(&[(i64::from(level),)]).await?;
        match kept.into_iter().next() {
            Some(l) => {
                tx.store(&[CursorRow {
                    id: 1,
                    level: l.level,
                    block_hash: l.block_hash,
                }])
                .await?
            }
            None => {
                tx.delete_keys(&CursorRow::DEF, vec![vec![Value::Int(1)]])
                    .await?
            }
        }
        tx.commit().await
    }
}

/// What undoing puts back in one table.
#[derive(Debug, Default)]
struct Restore {
    /// Rows as they were.
    rows: Vec<Vec<Value>>,
    /// Keys of rows that did not exist.
    absent: Vec<Vec<Value>>,
}

/// A row as the batch sees it.
#[derive(Debug)]
struct Slot<R> {
    row: Option<R>,
    /// Whether the database holds the row (as read before the batch).
    stored: bool,
    dirty: bool,
    /// The last level whose undo information holds this row's image.
    saved: Option<u32>,
}

/// Undo information being collected for the current level.
#[derive(Debug, Default)]
struct Undo {
    /// The level, when it keeps undo information.
    level: Option<u32>,
    seq: i64,
    rows: Vec<UndoRow>,
    error: Option<IndexError>,
}

impl Undo {
    fn save<R: Row>(&mut self, key: &R::Key, slot: &mut Slot<R>) {
        let Some(level) = self.level else { return };
        if slot.saved == Some(level) {
            return;
        }
        slot.saved = Some(level);
        let image = slot.row.as_ref().map(|r| to_json(&r.values())).transpose();
        match (to_json(&R::key_values(key)), image) {
            (Ok(row_key), Ok(image)) => {
                self.rows.push(UndoRow {
                    level: i64::from(level),
                    seq: self.seq,
                    tbl: R::DEF.name.to_owned(),
                    row_key,
                    image,
                });
                self.seq += 1;
            }
            (Err(e), _) | (_, Err(e)) => self.error = Some(e),
        }
    }
}

/// The rows of one table that a batch reads and changes.
#[derive(Debug)]
struct Table<R: Row> {
    slots: HashMap<R::Key, Slot<R>>,
}

impl<R: Row> Default for Table<R> {
    fn default() -> Self {
        Table {
            slots: HashMap::new(),
        }
    }
}

impl<R: Row> Table<R> {
    /// Takes in the rows read for `keys`; keys without a row are absent.
    fn loaded(&mut self, keys: &BTreeSet<R::Key>, rows: Vec<R>) {
        for row in rows {
            self.slots.insert(
                row.key(),
                Slot {
                    row: Some(row),
                    stored: true,
                    dirty: false,
                    saved: None,
                },
            );
        }
        for key in keys {
            self.slots.entry(key.clone()).or_insert(Slot {
                row: None,
                stored: false,
                dirty: false,
                saved: None,
            });
        }
    }

    /// Keys not read yet.
    fn missing(&self, keys: &BTreeSet<R::Key>) -> Vec<R::Key> {
        keys.iter()
            .filter(|k| !self.slots.contains_key(*k))
            .cloned()
            .collect()
    }

    fn get(&self, key: &R::Key) -> Option<&R> {
        self.slots.get(key).and_then(|s| s.row.as_ref())
    }

    fn slot(&mut self, key: &R::Key, undo: &mut Undo) -> &mut Slot<R> {
        let slot = self.slots.entry(key.clone()).or_insert(Slot {
            row: None,
            stored: false,
            dirty: false,
            saved: None,
        });
        undo.save(key, slot);
        slot.dirty = true;
        slot
    }

    /// Replaces (or creates) a row.
    fn set(&mut self, row: R, undo: &mut Undo) {
        let key = row.key();
        self.slot(&key, undo).row = Some(row);
    }

    /// The row to change, created by `make` if absent.
    fn entry(&mut self, key: &R::Key, undo: &mut Undo, make: impl FnOnce() -> R) -> &mut R {
        self.slot(key, undo).row.get_or_insert_with(make)
    }

    /// The row to change, if present.
    fn modify(&mut self, key: &R::Key, undo: &mut Undo) -> Option<&mut R> {
        self.get(key)?;
        self.slot(key, undo).row.as_mut()
    }

    async fn read(&mut self, tx: &mut Tx, keys: &BTreeSet<R::Key>) -> Result<(), IndexError> {
        let missing = self.missing(keys);
        let rows = tx.load::<R>(&missing).await?;
        self.loaded(keys, rows);
        Ok(())
    }

    /// Writes the changed rows: rows the database did not hold are
    /// inserted (a bulk `COPY` on Postgres), the others replaced.
    async fn write(self, tx: &mut Tx) -> Result<(), IndexError> {
        let mut inserts = Vec::new();
        let mut upserts = Vec::new();
        let mut deletes = Vec::new();
        for (key, slot) in self.slots {
            if !slot.dirty {
                continue;
            }
            match (slot.row, slot.stored) {
                (Some(r), false) => inserts.push(r.values()),
                (Some(r), true) => upserts.push(r.values()),
                (None, true) => deletes.push(R::key_values(&key)),
                (None, false) => {}
            }
        }
        tx.delete_keys(&R::DEF, deletes).await?;
        tx.upsert(&R::DEF, upserts).await?;
        tx.insert(&R::DEF, inserts).await
    }
}

/// The keys a batch will touch, per table.
#[derive(Debug, Default)]
struct Keys {
    accounts: BTreeSet<(String,)>,
    assets: BTreeSet<(i64,)>,
    balances: BTreeSet<(String, i64)>,
    creators: BTreeSet<(String,)>,
    tiers: BTreeSet<(i64,)>,
    pledges: BTreeSet<(i64,)>,
    projects: BTreeSet<(i64,)>,
    escrows: BTreeSet<(i64, i64)>,
    tickets: BTreeSet<(i64, i64)>,
    invoices: BTreeSet<(i64, i64)>,
    funders: BTreeSet<(i64, String)>,
    funder_assets: BTreeSet<(i64, String, i64)>,
}

fn asset_key(asset: AssetId) -> i64 {
    i64::from(asset.0)
}

fn project_holder(p: ProjectId) -> String {
    holder_text(&Holder::Project(p))
}

impl Keys {
    fn balance(&mut self, holder: &Holder, asset: AssetId) {
        self.balances
            .insert((holder_text(holder), asset_key(asset)));
    }

    fn account_balance(&mut self, account: &Address, asset: AssetId) {
        self.balance(&Holder::Account(*account), asset);
    }

    fn funder(
        &mut self,
        p: ProjectId,
        funder: &Address,
        asset: Option<AssetId>,
    ) -> Result<(), IndexError> {
        let p = int(p.0, "project id")?;
        self.funders.insert((p, address_text(funder)));
        if let Some(a) = asset {
            self.funder_assets
                .insert((p, address_text(funder), asset_key(a)));
        }
        Ok(())
    }

    fn of(&mut self, event: &Event) -> Result<(), IndexError> {
        match event {
            Event::AccountRevealed { account, .. } => {
                self.accounts.insert((address_text(account),));
            }
            Event::AssetRegistered { asset, .. } => {
                self.assets.insert((asset_key(*asset),));
            }
            Event::Deposited { account, asset, .. } | Event::Withdrawn { account, asset, .. } => {
                self.assets.insert((asset_key(*asset),));
                self.account_balance(account, *asset);
            }
            Event::Transferred {
                from, to, asset, ..
            } => {
                self.account_balance(from, *asset);
                self.account_balance(to, *asset);
            }
            Event::Tipped {
                from, to, asset, ..
            } => {
                self.account_balance(from, *asset);
                self.balance(to, *asset);
                if let Holder::Project(p) = to {
                    self.funder(*p, from, Some(*asset))?;
                }
            }
            Event::FlowChanged { holder, asset, .. } => {
                self.balance(holder, *asset);
                if let Holder::Account(a) = holder {
                    self.accounts.insert((address_text(a),));
                }
            }
            Event::ProfileSet { creator, .. } | Event::CreatorPaused { creator, .. } => {
                self.creators.insert((address_text(creator),));
            }
            Event::TierUpdated { tier, record } => {
                self.tiers.insert((int(tier.0, "tier id")?,));
                self.creators.insert((address_text(&record.creator),));
            }
            Event::PledgeUpdated { pledge, record, .. } => {
                self.pledges.insert((int(pledge.0, "pledge id")?,));
                if let Some(t) = record.tier {
                    self.tiers.insert((int(t.0, "tier id")?,));
                }
                if let Holder::Account(creator) = record.payee {
                    self.creators.insert((address_text(&creator),));
                }
                self.balance(&record.payee, record.asset);
                self.account_balance(&record.patron, record.asset);
                if let Holder::Project(p) = record.payee {
                    self.funder(p, &record.patron, None)?;
                }
            }
            Event::ProjectUpdated { project, .. } => {
                self.projects.insert((int(project.0, "project id")?,));
            }
            Event::EscrowUpdated { project, asset, .. } => {
                self.escrows
                    .insert((int(project.0, "project id")?, asset_key(*asset)));
            }
            Event::TicketUpdated {
                project, ticket, ..
            } => {
                self.tickets
                    .insert((int(project.0, "project id")?, i64::from(*ticket)));
            }
            Event::InvoiceUpdated {
                project,
                invoice,
                record,
                ..
            } => {
                self.invoices
                    .insert((int(project.0, "project id")?, i64::from(*invoice)));
                self.balance(&Holder::Project(*project), record.asset);
                self.account_balance(&record.beneficiary, record.asset);
            }
            Event::ProjectFunded {
                project,
                funder,
                asset,
                ..
            }
            | Event::Reclaimed {
                project,
                funder,
                asset,
                ..
            } => {
                self.funder(*project, funder, Some(*asset))?;
                self.balance(&Holder::Project(*project), *asset);
                self.account_balance(funder, *asset);
            }
            Event::RefundsOpened { .. } => {}
        }
        Ok(())
    }
}

/// A ledger movement before it gets its position.
struct Movement {
    kind: &'static str,
    from: Option<String>,
    to: Option<String>,
    asset: AssetId,
    fine: u128,
    at: u64,
    pledge: Option<i64>,
    project: Option<i64>,
    invoice: Option<i64>,
    memo: Option<String>,
}

impl Movement {
    fn new(kind: &'static str, asset: AssetId, fine: u128, at: u64) -> Self {
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
enum Counter {
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

/// What a batch reads, changes and appends.
#[derive(Debug, Default)]
struct Working {
    undo: Undo,
    accounts: Table<AccountRow>,
    assets: Table<AssetRow>,
    balances: Table<BalanceRow>,
    creators: Table<CreatorRow>,
    tiers: Table<TierRow>,
    pledges: Table<PledgeRow>,
    projects: Table<ProjectRow>,
    escrows: Table<EscrowRow>,
    tickets: Table<TicketRow>,
    invoices: Table<InvoiceRow>,
    funders: Table<FunderRow>,
    funder_assets: Table<FunderAssetRow>,
    daily: Table<DailyRow>,
    levels: Vec<LevelRow>,
    events: Vec<EventRow>,
    ledger: Vec<LedgerRow>,
    receipts: Vec<ReceiptRow>,
    /// The level being applied, its time, and its next ledger position.
    level: u32,
    time: u64,
    ledger_idx: i64,
}

fn day(time: u64) -> Result<i64, IndexError> {
    int(time / DAY, "day")
}

impl Working {
    /// Reads every row the batch may read or change.
    async fn prefetch(&mut self, tx: &mut Tx, batch: &[LevelData]) -> Result<(), IndexError> {
        let mut keys = Keys::default();
        for l in batch {
            if let Some(r) = &l.record {
                for e in &r.events {
                    keys.of(e)?;
                }
            }
        }
        // A pledge's tier before the batch, and each tier's creator, take
        // part in patron counts.
        self.pledges.read(tx, &keys.pledges).await?;
        for slot in self.pledges.slots.values() {
            if let Some(t) = slot.row.as_ref().and_then(|p| p.tier_id) {
                keys.tiers.insert((t,));
            }
        }
        self.tiers.read(tx, &keys.tiers).await?;
        for slot in self.tiers.slots.values() {
            if let Some(t) = &slot.row {
                keys.creators.insert((t.creator.clone(),));
            }
        }
        self.creators.read(tx, &keys.creators).await?;
        self.accounts.read(tx, &keys.accounts).await?;
        self.assets.read(tx, &keys.assets).await?;
        self.balances.read(tx, &keys.balances).await?;
        self.projects.read(tx, &keys.projects).await?;
        self.escrows.read(tx, &keys.escrows).await?;
        self.tickets.read(tx, &keys.tickets).await?;
        self.invoices.read(tx, &keys.invoices).await?;
        self.funders.read(tx, &keys.funders).await?;
        self.funder_assets.read(tx, &keys.funder_assets).await?;
        // A holder's daily rows only change along with its flow, so none
        // exists after the day of its last flow change: that is the only
        // one to read.
        let mut days = BTreeSet::new();
        for slot in self.balances.slots.values() {
            if let Some(b) = &slot.row {
                let at = u64::try_from(b.at).unwrap_or(0);
                days.insert((b.holder.clone(), b.asset_id, day(at)?));
            }
        }
        self.daily.read(tx, &days).await
    }

    fn apply_level(&mut self, l: &LevelData, keep_undo: bool) -> Result<(), IndexError> {
        self.level = l.level;
        self.time = l.time.unwrap_or(0);
        self.undo.level = keep_undo.then_some(l.level);
        self.undo.seq = 0;
        self.ledger_idx = 0;
        let level = i64::from(l.level);
        let empty = LevelRecord::default();
        let record = l.record.as_ref().unwrap_or(&empty);
        for (idx, event) in record.events.iter().enumerate() {
            let idx = int(idx as u64, "event index")?;
            self.events.push(event_row(level, idx, self.time, event)?);
            self.apply_event(idx, event)?;
        }
        for (idx, r) in record.receipts.iter().enumerate() {
            let (applied, reason) = match &r.outcome {
                Outcome::Applied => (true, None),
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
            });
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

    fn level(&self) -> i64 {
        i64::from(self.level)
    }

    fn ensure_account(&mut self, address: &Address) {
        let key = (address_text(address),);
        if self.accounts.get(&key).is_none() {
            let first_level = self.level();
            self.accounts.set(
                AccountRow {
                    address: address_text(address),
                    public_key: None,
                    revealed_level: None,
                    first_level,
                },
                &mut self.undo,
            );
        }
    }

    fn daily(
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
    /// `until` to the days it spans.
    fn accrue(&mut self, prev: &BalanceRow, asset: AssetId, until: u64) -> Result<(), IndexError> {
        if prev.inflow == 0 {
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

    /// Records a movement in the ledger and in its parties' daily figures.
    fn record(
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

    fn movement(&mut self, event_idx: i64, m: Movement) -> Result<(), IndexError> {
        let idx = self.ledger_idx;
        self.ledger_idx += 1;
        self.ledger.push(LedgerRow {
            level: self.level(),
            idx,
            event_idx,
            happened_at: int(m.at, "time")?,
            kind: m.kind.to_owned(),
            from_holder: m.from,
            to_holder: m.to,
            asset_id: asset_key(m.asset),
            fine: m.fine,
            units: crate::rows::units(m.fine),
            pledge_id: m.pledge,
            project_id: m.project,
            invoice_no: m.invoice,
            memo: m.memo,
        });
        Ok(())
    }

    /// A one-off contribution to a project (funding or a tip).
    fn contribute(
        &mut self,
        p: ProjectId,
        funder: &Address,
        asset: AssetId,
        amount: u128,
    ) -> Result<(), IndexError> {
        let project_id = int(p.0, "project id")?;
        let level = self.level();
        self.funders
            .entry(&(project_id, address_text(funder)), &mut self.undo, || {
                FunderRow {
                    project_id,
                    funder: address_text(funder),
                    reclaimed: false,
                    created_level: level,
                    updated_level: level,
                }
            });
        let key = (project_id, address_text(funder), asset_key(asset));
        let row = self
            .funder_assets
            .entry(&key, &mut self.undo, || FunderAssetRow {
                project_id,
                funder: address_text(funder),
                asset_id: asset_key(asset),
                one_off: 0,
                refunded: 0,
                updated_level: level,
            });
        row.one_off = row.one_off.saturating_add(amount);
        row.updated_level = level;
        Ok(())
    }

    /// Moves a tier's (and its creator's) count of streaming pledges.
    fn active_patrons(&mut self, tier: i64, delta: i64) {
        let level = self.level();
        let creator = match self.tiers.modify(&(tier,), &mut self.undo) {
            Some(t) => {
                t.active_patrons += delta;
                t.updated_level = level;
                t.creator.clone()
            }
            None => return,
        };
        if let Some(c) = self.creators.modify(&(creator,), &mut self.undo) {
            c.active_patrons += delta;
            c.updated_level = level;
        }
    }

    fn apply_event(&mut self, idx: i64, event: &Event) -> Result<(), IndexError> {
        let level = self.level();
        let now = self.time;
        match event {
            Event::AccountRevealed {
                account,
                public_key,
            } => {
                let row = self
                    .accounts
                    .entry(&(address_text(account),), &mut self.undo, || AccountRow {
                        address: address_text(account),
                        public_key: None,
                        revealed_level: None,
                        first_level: level,
                    });
                row.public_key = Some(public_key.to_string());
                row.revealed_level = Some(level);
            }
            Event::AssetRegistered { asset, ticket } => {
                self.assets.set(
                    AssetRow {
                        asset_id: asset_key(*asset),
                        ticketer: ticket.ticketer.to_string(),
                        token_id: u128::from(ticket.token_id),
                        metadata: ticket.metadata.as_deref().map(hex::encode),
                        deposited: 0,
                        withdrawn: 0,
                        supply_units: 0,
                        registered_level: level,
                    },
                    &mut self.undo,
                );
            }
            Event::Deposited {
                account,
                asset,
                amount,
            } => {
                if let Some(a) = self.assets.modify(&(asset_key(*asset),), &mut self.undo) {
                    a.deposited = a.deposited.saturating_add(u128::from(*amount));
                    a.refresh();
                }
                let mut m = Movement::new("deposit", *asset, fine(*amount), now);
                m.to = Some(address_text(account));
                self.record(idx, m, None, Some(Counter::Deposits))?;
            }
            Event::Withdrawn {
                account,
                asset,
                amount,
                destination,
                entrypoint,
            } => {
                if let Some(a) = self.assets.modify(&(asset_key(*asset),), &mut self.undo) {
                    a.withdrawn = a.withdrawn.saturating_add(u128::from(*amount));
                    a.refresh();
                }
                let mut m = Movement::new("withdrawal", *asset, fine(*amount), now);
                m.from = Some(address_text(account));
                m.memo = Some(format!("{destination}%{entrypoint}"));
                self.record(idx, m, Some(Counter::Withdrawals), None)?;
            }
            Event::Transferred {
                from,
                to,
                asset,
                amount,
            } => {
                let mut m = Movement::new("transfer", *asset, fine(*amount), now);
                m.from = Some(address_text(from));
                m.to = Some(address_text(to));
                self.record(
                    idx,
                    m,
                    Some(Counter::TransfersOut),
                    Some(Counter::TransfersIn),
                )?;
            }
            Event::Tipped {
                from,
                to,
                asset,
                amount,
                memo,
            } => {
                let mut m = Movement::new("tip", *asset, fine(*amount), now);
                m.from = Some(address_text(from));
                m.to = Some(holder_text(to));
                m.project = holder_project(to);
                m.memo = Some(memo.as_str().to_owned());
                self.record(idx, m, Some(Counter::TipsOut), Some(Counter::TipsIn))?;
                if let Holder::Project(p) = to {
                    self.contribute(*p, from, *asset, fine(*amount))?;
                }
            }
            Event::FlowChanged {
                holder,
                asset,
                flow,
            } => {
                let row = BalanceRow::from_flow(holder, *asset, flow, self.level)?;
                if let Some(prev) = self.balances.get(&row.key()).cloned() {
                    self.accrue(&prev, *asset, flow.at)?;
                }
                let d = self.daily(&row.holder, *asset, flow.at)?;
                d.inflow = flow.inflow;
                self.balances.set(row, &mut self.undo);
                if let Holder::Account(a) = holder {
                    self.ensure_account(a);
                }
            }
            Event::ProfileSet { creator, profile } => {
                let row = self
                    .creators
                    .entry(&(address_text(creator),), &mut self.undo, || CreatorRow {
                        address: address_text(creator),
                        name: String::new(),
                        name_lower: String::new(),
                        description: String::new(),
                        links: "[]".to_owned(),
                        paused: false,
                        tiers: 0,
                        patrons: 0,
                        active_patrons: 0,
                        created_level: level,
                        updated_level: level,
                    });
                row.set_profile(profile);
                row.updated_level = level;
            }
            Event::TierUpdated { tier, record } => {
                let key = (int(tier.0, "tier id")?,);
                let old = self.tiers.get(&key).cloned();
                let row = TierRow::from_tier(*tier, record, old.as_ref(), self.level)?;
                let delta = row.patrons - old.as_ref().map_or(0, |o| o.patrons);
                self.tiers.set(row, &mut self.undo);
                if let Some(c) = self
                    .creators
                    .modify(&(address_text(&record.creator),), &mut self.undo)
                {
                    c.patrons += delta;
                    if old.is_none() {
                        c.tiers += 1;
                    }
                    c.updated_level = level;
                }
            }
            Event::CreatorPaused { creator, paused } => {
                if let Some(c) = self
                    .creators
                    .modify(&(address_text(creator),), &mut self.undo)
                {
                    c.paused = *paused;
                    c.updated_level = level;
                }
            }
            Event::PledgeUpdated {
                pledge,
                change,
                record,
            } => {
                let key = (int(pledge.0, "pledge id")?,);
                let old = self.pledges.get(&key).cloned();
                let row = PledgeRow::from_pledge(*pledge, record, old.as_ref(), self.level)?;
                // What streamed since the last settlement moved in the
                // asset the pledge streamed in until now.
                let settled = record
                    .streamed
                    .saturating_sub(old.as_ref().map_or(0, |o| o.streamed));
                if settled > 0 {
                    let streamed_in = match &old {
                        Some(o) => AssetId(u32::try_from(o.asset_id).unwrap_or(record.asset.0)),
                        None => record.asset,
                    };
                    let mut m = Movement::new("stream", streamed_in, settled, record.since);
                    m.from = Some(row.patron.clone());
                    m.to = Some(row.payee.clone());
                    m.pledge = Some(row.pledge_id);
                    m.project = row.project_id;
                    self.movement(idx, m)?;
                }
                let was = old
                    .as_ref()
                    .filter(|o| o.is_active())
                    .and_then(|o| o.tier_id);
                let is = row.tier_id.filter(|_| row.is_active());
                if was != is {
                    if let Some(t) = was {
                        self.active_patrons(t, -1);
                    }
                    if let Some(t) = is {
                        self.active_patrons(t, 1);
                    }
                }
                if *change == PledgeChange::Started {
                    if let Holder::Project(p) = record.payee {
                        let project_id = int(p.0, "project id")?;
                        self.funders.entry(
                            &(project_id, address_text(&record.patron)),
                            &mut self.undo,
                            || FunderRow {
                                project_id,
                                funder: address_text(&record.patron),
                                reclaimed: false,
                                created_level: level,
                                updated_level: level,
                            },
                        );
                    }
                    let d = self.daily(&row.payee, record.asset, record.created_at)?;
                    d.pledges_started += 1;
                }
                self.pledges.set(row, &mut self.undo);
            }
            Event::ProjectUpdated { project, record } => {
                let key = (int(project.0, "project id")?,);
                let old = self.projects.get(&key).cloned();
                let row = ProjectRow::from_project(*project, record, old.as_ref(), self.level)?;
                self.projects.set(row, &mut self.undo);
            }
            Event::EscrowUpdated {
                project,
                asset,
                record,
            } => {
                let row = EscrowRow::from_escrow(*project, *asset, record, self.level)?;
                self.escrows.set(row, &mut self.undo);
            }
            Event::TicketUpdated {
                project,
                ticket,
                record,
            } => {
                let key = (int(project.0, "project id")?, i64::from(*ticket));
                let old = self.tickets.get(&key).cloned();
                let row =
                    TicketRow::from_ticket(*project, *ticket, record, old.as_ref(), self.level)?;
                self.tickets.set(row, &mut self.undo);
            }
            Event::InvoiceUpdated {
                project,
                invoice,
                change,
                record,
            } => {
                let key = (int(project.0, "project id")?, i64::from(*invoice));
                let old = self.invoices.get(&key).cloned();
                let row =
                    InvoiceRow::from_invoice(*project, *invoice, record, old.as_ref(), self.level)?;
                self.invoices.set(row, &mut self.undo);
                if *change == InvoiceChange::Paid {
                    let at = record.settled_at.unwrap_or(now);
                    let amount = fine(record.amount);
                    let mut m = Movement::new("payout", record.asset, amount, at);
                    m.from = Some(project_holder(*project));
                    m.to = Some(address_text(&record.beneficiary));
                    m.project = Some(key.0);
                    m.invoice = Some(key.1);
                    self.record(idx, m, Some(Counter::PayoutsOut), Some(Counter::PayoutsIn))?;
                }
            }
            Event::ProjectFunded {
                project,
                funder,
                asset,
                amount,
            } => {
                self.contribute(*project, funder, *asset, fine(*amount))?;
                let mut m = Movement::new("fund", *asset, fine(*amount), now);
                m.from = Some(address_text(funder));
                m.to = Some(project_holder(*project));
                m.project = Some(int(project.0, "project id")?);
                self.record(idx, m, Some(Counter::FundingOut), Some(Counter::FundingIn))?;
            }
            Event::RefundsOpened { .. } => {}
            Event::Reclaimed {
                project,
                funder,
                asset,
                fine: share,
            } => {
                let project_id = int(project.0, "project id")?;
                let f =
                    self.funders
                        .entry(&(project_id, address_text(funder)), &mut self.undo, || {
                            FunderRow {
                                project_id,
                                funder: address_text(funder),
                                reclaimed: false,
                                created_level: level,
                                updated_level: level,
                            }
                        });
                f.reclaimed = true;
                f.updated_level = level;
                let key = (project_id, address_text(funder), asset_key(*asset));
                let fa = self
                    .funder_assets
                    .entry(&key, &mut self.undo, || FunderAssetRow {
                        project_id,
                        funder: address_text(funder),
                        asset_id: asset_key(*asset),
                        one_off: 0,
                        refunded: 0,
                        updated_level: level,
                    });
                fa.refunded = fa.refunded.saturating_add(*share);
                fa.updated_level = level;
                if *share > 0 {
                    let mut m = Movement::new("refund", *asset, *share, now);
                    m.from = Some(project_holder(*project));
                    m.to = Some(address_text(funder));
                    m.project = Some(project_id);
                    self.record(idx, m, Some(Counter::RefundsOut), Some(Counter::RefundsIn))?;
                }
            }
        }
        Ok(())
    }

    async fn write(mut self, tx: &mut Tx) -> Result<(), IndexError> {
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
        tx.append(&self.undo.rows).await
    }
}

fn pledge_change(c: PledgeChange) -> &'static str {
    match c {
        PledgeChange::Started => "started",
        PledgeChange::Changed => "changed",
        PledgeChange::Paused => "paused",
        PledgeChange::Resumed => "resumed",
        PledgeChange::Ended => "ended",
    }
}

fn invoice_change(c: InvoiceChange) -> &'static str {
    match c {
        InvoiceChange::Raised => "raised",
        InvoiceChange::Approved => "approved",
        InvoiceChange::Vetoed => "vetoed",
        InvoiceChange::Paid => "paid",
        InvoiceChange::Withdrawn => "withdrawn",
    }
}

/// The stored form of an event.
fn event_row(level: i64, idx: i64, time: u64, event: &Event) -> Result<EventRow, IndexError> {
    let mut row = EventRow {
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
    };
    let project = |p: &ProjectId| int(p.0, "project id").map(Some);
    let kind = match event {
        Event::AccountRevealed { account, .. } => {
            row.account = Some(address_text(account));
            "account_revealed"
        }
        Event::AssetRegistered { asset, .. } => {
            row.asset_id = Some(asset_key(*asset));
            "asset_registered"
        }
        Event::Deposited { account, asset, .. } => {
            row.account = Some(address_text(account));
            row.asset_id = Some(asset_key(*asset));
            "deposited"
        }
        Event::Withdrawn {
            account,
            asset,
            destination,
            ..
        } => {
            row.account = Some(address_text(account));
            row.counterparty = Some(destination.to_string());
            row.asset_id = Some(asset_key(*asset));
            "withdrawn"
        }
        Event::Transferred {
            from, to, asset, ..
        } => {
            row.account = Some(address_text(from));
            row.counterparty = Some(address_text(to));
            row.asset_id = Some(asset_key(*asset));
            "transferred"
        }
        Event::Tipped {
            from, to, asset, ..
        } => {
            row.account = Some(address_text(from));
            row.counterparty = Some(holder_text(to));
            row.project_id = holder_project(to);
            row.asset_id = Some(asset_key(*asset));
            "tipped"
        }
        Event::FlowChanged { holder, asset, .. } => {
            row.account = Some(holder_text(holder));
            row.project_id = holder_project(holder);
            row.asset_id = Some(asset_key(*asset));
            "flow_changed"
        }
        Event::ProfileSet { creator, .. } => {
            row.account = Some(address_text(creator));
            "profile_set"
        }
        Event::TierUpdated { tier, record } => {
            row.account = Some(address_text(&record.creator));
            row.tier_id = Some(int(tier.0, "tier id")?);
            row.asset_id = Some(asset_key(record.asset));
            "tier_updated"
        }
        Event::CreatorPaused { creator, paused } => {
            row.account = Some(address_text(creator));
            row.change = Some(if *paused { "paused" } else { "resumed" }.to_owned());
            "creator_paused"
        }
        Event::PledgeUpdated {
            pledge,
            change,
            record,
        } => {
            row.account = Some(address_text(&record.patron));
            row.counterparty = Some(holder_text(&record.payee));
            row.pledge_id = Some(int(pledge.0, "pledge id")?);
            row.project_id = holder_project(&record.payee);
            row.tier_id = record.tier.map(|t| int(t.0, "tier id")).transpose()?;
            row.asset_id = Some(asset_key(record.asset));
            row.change = Some(pledge_change(*change).to_owned());
            "pledge_updated"
        }
        Event::ProjectUpdated { project: p, record } => {
            row.account = Some(address_text(&record.creator));
            row.project_id = project(p)?;
            "project_updated"
        }
        Event::EscrowUpdated {
            project: p, asset, ..
        } => {
            row.account = Some(project_holder(*p));
            row.project_id = project(p)?;
            row.asset_id = Some(asset_key(*asset));
            "escrow_updated"
        }
        Event::TicketUpdated {
            project: p, record, ..
        } => {
            row.account = Some(address_text(&record.opened_by));
            row.project_id = project(p)?;
            row.change = Some(if record.closed { "closed" } else { "opened" }.to_owned());
            "ticket_updated"
        }
        Event::InvoiceUpdated {
            project: p,
            change,
            record,
            ..
        } => {
            row.account = Some(address_text(&record.raised_by));
            row.counterparty = Some(address_text(&record.beneficiary));
            row.project_id = project(p)?;
            row.asset_id = Some(asset_key(record.asset));
            row.change = Some(invoice_change(*change).to_owned());
            "invoice_updated"
        }
        Event::ProjectFunded {
            project: p,
            funder,
            asset,
            ..
        } => {
            row.account = Some(address_text(funder));
            row.counterparty = Some(project_holder(*p));
            row.project_id = project(p)?;
            row.asset_id = Some(asset_key(*asset));
            "project_funded"
        }
        Event::RefundsOpened { project: p } => {
            row.account = Some(project_holder(*p));
            row.project_id = project(p)?;
            "refunds_opened"
        }
        Event::Reclaimed {
            project: p,
            funder,
            asset,
            ..
        } => {
            row.account = Some(address_text(funder));
            row.counterparty = Some(project_holder(*p));
            row.project_id = project(p)?;
            row.asset_id = Some(asset_key(*asset));
            "reclaimed"
        }
    };
    row.kind = kind.to_owned();
    Ok(row)
}
