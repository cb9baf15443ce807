//! The unit of work of a batch: every row the batch reads, as it changes
//! in memory, with the undo information of each level that changes it.
//! Nothing reaches the database until [`Table::write`], in the batch's
//! transaction.

use std::collections::{BTreeSet, HashMap};

use crate::db::Tx;
use crate::error::IndexError;
use crate::rows::UndoRow;
use crate::schema::{quoted, Row, Value};

/// A row image or key in `indexer_undo`, as JSON.
pub(super) fn to_json(values: &[Value]) -> Result<String, IndexError> {
    serde_json::to_string(values).map_err(|e| IndexError::Corrupt {
        table: "indexer_undo".into(),
        reason: e.to_string(),
    })
}

/// A row image or key read back from `indexer_undo`.
pub(super) fn from_json(text: &str) -> Result<Vec<Value>, IndexError> {
    serde_json::from_str(text).map_err(|e| IndexError::Corrupt {
        table: "indexer_undo".into(),
        reason: e.to_string(),
    })
}

/// A row as the batch sees it.
#[derive(Debug)]
pub(super) struct Slot<R> {
    /// The row now; `None` while it does not exist.
    pub(super) row: Option<R>,
    /// Whether the database holds the row (as read before the batch).
    stored: bool,
    /// Whether the batch changed it.
    pub(super) dirty: bool,
    /// The last level whose undo information holds this row's image.
    saved: Option<u32>,
}

impl<R> Slot<R> {
    fn new(row: Option<R>) -> Self {
        Slot {
            stored: row.is_some(),
            row,
            dirty: false,
            saved: None,
        }
    }
}

/// Undo information being collected for the current level.
#[derive(Debug, Default)]
pub(super) struct Undo {
    /// The level, when it keeps undo information.
    pub(super) level: Option<u32>,
    /// The position of the next image within the level.
    pub(super) seq: i64,
    /// The images saved so far.
    pub(super) rows: Vec<UndoRow>,
    /// The first image that could not be encoded; it fails the level.
    pub(super) error: Option<IndexError>,
}

impl Undo {
    /// Saves a row's image before the current level first changes it.
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
pub(super) struct Table<R: Row> {
    pub(super) slots: HashMap<R::Key, Slot<R>>,
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
            self.slots.insert(row.key(), Slot::new(Some(row)));
        }
        for key in keys {
            self.slots.entry(key.clone()).or_insert(Slot::new(None));
        }
    }

    /// Takes in rows read by something other than their keys; rows the
    /// batch already holds are kept as they are.
    fn found(&mut self, rows: Vec<R>) {
        for row in rows {
            self.slots
                .entry(row.key())
                .or_insert_with(|| Slot::new(Some(row)));
        }
    }

    /// Reads the rows meeting `filter` (SQL of this crate, `params` bound
    /// as `$1`, `$2`, …), keeping those the batch already holds as they are.
    pub(super) async fn read_where(
        &mut self,
        tx: &mut Tx,
        filter: &str,
        params: Vec<Value>,
    ) -> Result<(), IndexError> {
        let order = quoted(R::DEF.key_columns());
        let rows = tx
            .select_filtered(&R::DEF, filter, &order, params)
            .await?
            .into_iter()
            .map(R::from_values)
            .collect::<Result<Vec<R>, _>>()?;
        self.found(rows);
        Ok(())
    }

    /// Keys not read yet.
    fn missing(&self, keys: &BTreeSet<R::Key>) -> Vec<R::Key> {
        keys.iter()
            .filter(|k| !self.slots.contains_key(*k))
            .cloned()
            .collect()
    }

    /// The row, if it exists.
    pub(super) fn get(&self, key: &R::Key) -> Option<&R> {
        self.slots.get(key).and_then(|s| s.row.as_ref())
    }

    /// Every row read or made so far.
    pub(super) fn rows(&self) -> impl Iterator<Item = &R> {
        self.slots.values().filter_map(|s| s.row.as_ref())
    }

    fn slot(&mut self, key: &R::Key, undo: &mut Undo) -> &mut Slot<R> {
        let slot = self.slots.entry(key.clone()).or_insert(Slot::new(None));
        undo.save(key, slot);
        slot.dirty = true;
        slot
    }

    /// Replaces (or creates) a row.
    pub(super) fn set(&mut self, row: R, undo: &mut Undo) {
        let key = row.key();
        self.slot(&key, undo).row = Some(row);
    }

    /// The row to change, created by `make` if absent.
    pub(super) fn entry(
        &mut self,
        key: &R::Key,
        undo: &mut Undo,
        make: impl FnOnce() -> R,
    ) -> &mut R {
        self.slot(key, undo).row.get_or_insert_with(make)
    }

    /// The row to change, if present.
    pub(super) fn modify(&mut self, key: &R::Key, undo: &mut Undo) -> Option<&mut R> {
        self.get(key)?;
        self.slot(key, undo).row.as_mut()
    }

    /// Reads the rows of `keys` not read yet.
    pub(super) async fn read(
        &mut self,
        tx: &mut Tx,
        keys: &BTreeSet<R::Key>,
    ) -> Result<(), IndexError> {
        let missing = self.missing(keys);
        let rows = tx.load::<R>(&missing).await?;
        self.loaded(keys, rows);
        Ok(())
    }

    /// Writes the changed rows: rows the database did not hold are
    /// inserted (a bulk `COPY` on Postgres), the others replaced.
    pub(super) async fn write(self, tx: &mut Tx) -> Result<(), IndexError> {
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
