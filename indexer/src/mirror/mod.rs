//! Applying levels to the mirror, and undoing them.
//!
//! A batch of consecutive levels is applied in one database transaction:
//! the rows the batch touches are read in a few bulk queries
//! ([`prefetch`]), the events are applied to them in memory, level by level
//! ([`batch`]), and the changed rows, the appended rows (levels, events,
//! ledger, receipts) and the cursor are written together. For the levels a
//! reorganisation may still replace, every row a level changes is first
//! saved as it was (TzKT's way, [`cache`]), so [`Mirror::revert_to`]
//! restores the state of any such level exactly.
//!
//! What an event does to the mirror lives in the module of its family, as
//! the protocol groups them ([`Projection`]): [`accounts`] (accounts,
//! assets, deposits, withdrawals, balances), [`creators`] (profiles and
//! tiers), [`pledges`] (pledges and the streams they settle),
//! [`transfers`] (transfers and tips) and [`projects`] (projects, escrows,
//! tickets, invoices and funders). Each says which rows its events read,
//! how it describes them in `events`, and what they change, including the
//! ledger and the daily figures ([`ledger`]).

mod accounts;
mod alerts;
mod batch;
mod cache;
mod creators;
mod ledger;
mod pledges;
mod prefetch;
mod projects;
mod transfers;

use std::collections::HashMap;

use pledgeroll_contracts::Event;
use pledgeroll_interface::LevelRecord;

use crate::db::{Db, Tx};
use crate::error::IndexError;
use crate::rows::{state_table, CursorRow, EventRow, LevelRow, MetaRow, UndoRow, LEVEL_TABLES};
use crate::schema::{Row, Value};
use batch::Batch;
use prefetch::Keys;

/// The setting naming the rollup a mirror follows.
pub(crate) const META_ROLLUP: &str = "rollup";
/// The setting holding the hash of the kernel the rollup runs.
pub(crate) const META_KERNEL: &str = "kernel_hash";
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

/// How one family of events changes the mirror: TzKT keeps one commit
/// class per operation kind; here one module per event family implements
/// this, so an event's keys, its row and its effects sit together.
trait Projection: Sync {
    /// Adds the keys of every row `event` may read or change.
    fn keys(&self, event: &Event, keys: &mut Keys) -> Result<(), IndexError>;
    /// Names the event's kind in `row`, and the parties and things it is
    /// about, for the `events` table's indexes.
    fn describe(&self, event: &Event, row: &mut EventRow) -> Result<(), IndexError>;
    /// Applies `event`, the `idx`th of its level, to the batch: its rows,
    /// its ledger movements and its daily figures.
    fn apply(&self, batch: &mut Batch, idx: i64, event: &Event) -> Result<(), IndexError>;
}

/// The family module that projects `event`: the one match over every event.
fn projection(event: &Event) -> &'static dyn Projection {
    match event {
        Event::AccountRevealed { .. }
        | Event::AssetRegistered { .. }
        | Event::Deposited { .. }
        | Event::Withdrawn { .. }
        | Event::FlowChanged { .. } => &accounts::Accounts,
        Event::ProfileSet { .. } | Event::TierUpdated { .. } | Event::CreatorPaused { .. } => {
            &creators::Creators
        }
        Event::PledgeUpdated { .. } => &pledges::Pledges,
        Event::Transferred { .. } | Event::Tipped { .. } => &transfers::Transfers,
        Event::ProjectUpdated { .. }
        | Event::EscrowUpdated { .. }
        | Event::TicketUpdated { .. }
        | Event::InvoiceUpdated { .. }
        | Event::ProjectFunded { .. }
        | Event::RefundsOpened { .. }
        | Event::Reclaimed { .. } => &projects::Projects,
    }
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

/// Where the mirror stands, read in `tx`.
pub async fn read_cursor(tx: &mut Tx) -> Result<Option<Cursor>, IndexError> {
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

/// A setting of the mirror.
pub(crate) async fn read_meta(tx: &mut Tx, name: &str) -> Result<Option<String>, IndexError> {
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

/// Fails with [`IndexError::Discontinuity`] unless `batch` follows
/// `cursor` level by level, each block on its predecessor.
fn check_continuity(cursor: Option<Cursor>, batch: &[LevelData]) -> Result<(), IndexError> {
    let mut prev = cursor;
    for l in batch {
        if let Some(p) = &prev {
            if l.level != p.level.saturating_add(1) || l.predecessor != p.hash {
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
    Ok(())
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
        let mut tx = self.db.begin_write().await?;
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

    /// Records the hash of the kernel the node runs, or fails if the mirror
    /// recorded another: a pledgeroll rollup never replaces its kernel, so
    /// a different one means the node is not what the mirror followed.
    pub async fn check_kernel(&self, hash: &str) -> Result<(), IndexError> {
        let mut tx = self.db.begin_write().await?;
        match read_meta(&mut tx, META_KERNEL).await? {
            Some(stored) if stored != hash => {
                tx.rollback().await?;
                Err(IndexError::KernelChanged {
                    stored,
                    node: hash.to_owned(),
                })
            }
            Some(_) => tx.rollback().await,
            None => {
                write_meta(&mut tx, META_KERNEL, hash.to_owned()).await?;
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
        let mut tx = self.db.begin_write().await?;
        if let Err(e) = check_continuity(read_cursor(&mut tx).await?, batch) {
            tx.rollback().await?;
            return Err(e);
        }

        let mut work = Batch::default();
        work.prefetch(&mut tx, batch).await?;
        for l in batch {
            work.apply_level(l, l.level >= undo_from)?;
        }
        work.write(&mut tx).await?;

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
        let mut tx = self.db.begin_write().await?;
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
        restore_rows(&mut tx, level).await?;
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

/// Puts every state row the levels after `level` changed back as it was
/// right after `level`.
async fn restore_rows(tx: &mut Tx, level: u32) -> Result<(), IndexError> {
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
            Some(image) => entry.rows.push(cache::from_json(&image)?),
            None => entry.absent.push(cache::from_json(&key)?),
        }
    }
    for (table, restore) in by_table {
        let def = state_table(&table).ok_or_else(|| IndexError::Corrupt {
            table: "indexer_undo".into(),
            reason: format!("unknown table {table}"),
        })?;
        tx.delete_keys(def, restore.absent).await?;
        tx.upsert(def, restore.rows).await?;
    }
    Ok(())
}
