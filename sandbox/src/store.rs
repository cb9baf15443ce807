//! The sandbox's data on disk, in one redb database: durable storage kept
//! by level (a row per key and level it changed at, the value at level L
//! being the newest row at or below L), and per level the inbox, outbox and
//! block record; the batcher's queue; the simulated layer 1's ledger. A
//! level is written in one ACID transaction, so a level reported done
//! survives `kill -9`.

use std::collections::BTreeSet;
use std::path::Path;

use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

/// Durable values by (key, level): `[0]` for removed, `[1, value…]`.
const DURABLE: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("durable");
/// The keys each level changed, to undo levels.
const CHANGES: TableDefinition<(u32, &str), ()> = TableDefinition::new("changes");
/// Block records by level (JSON).
const BLOCKS: TableDefinition<u32, &[u8]> = TableDefinition::new("blocks");
/// Levels by block hash.
const HASHES: TableDefinition<&str, u32> = TableDefinition::new("hashes");
/// Inbox messages by (level, index).
const INBOX: TableDefinition<(u32, u32), &[u8]> = TableDefinition::new("inbox");
/// Outbox messages by (level, index).
const OUTBOX: TableDefinition<(u32, u32), &[u8]> = TableDefinition::new("outbox");
/// Messages waiting for the next level, by arrival (JSON).
const PENDING: TableDefinition<u64, &[u8]> = TableDefinition::new("pending");
/// The batcher's messages by id (JSON).
const MESSAGES: TableDefinition<&str, &[u8]> = TableDefinition::new("messages");
/// Settings and counters.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (or this one) has the database open.
    #[error("the data directory is in use by another sandbox")]
    InUse,
    /// The database cannot be read.
    #[error("the data directory's database is unreadable: {0}")]
    Corrupt(String),
    /// A database operation failed.
    #[error("database error: {0}")]
    Db(String),
}

fn db<E: Into<redb::Error>>(e: E) -> StoreError {
    let e: redb::Error = e.into();
    match e {
        redb::Error::DatabaseAlreadyOpen => StoreError::InUse,
        redb::Error::Corrupted(m) => StoreError::Corrupt(m),
        other => StoreError::Db(other.to_string()),
    }
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// One level's block, as the RPC describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRecord {
    /// The level.
    pub level: u32,
    /// Its block hash, `B…`.
    pub hash: String,
    /// The previous block's hash.
    pub predecessor: String,
    /// The layer-1 time of the block, seconds since the epoch.
    pub timestamp: i64,
    /// The PVM state hash after the level, `srs1…`.
    pub state_hash: String,
    /// The hash of the whole durable tree, `Co…`.
    pub context: String,
    /// This block's commitment, `src1…`.
    pub commitment: String,
    /// The previous commitment.
    pub previous_commitment: String,
    /// The hash of the level's messages, `srib2…`.
    pub inbox_witness: String,
    /// The inbox hash after the level, `srib1…`.
    pub inbox_hash: String,
    /// Ticks before the level.
    pub initial_tick: u64,
    /// Ticks the level used.
    pub num_ticks: u64,
    /// Messages in the level's inbox.
    pub num_messages: u32,
    /// Kernel runs in the level.
    pub kernel_runs: u32,
    /// Why kernel runs failed, if any did.
    pub failures: Vec<String>,
}

/// A message waiting for the next level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingMessage {
    /// Arrival order.
    pub seq: u64,
    /// The batcher's id, for an injected L2 message.
    pub id: Option<String>,
    /// The inbox message, hex.
    pub message: String,
}

/// An injected L2 message and where it was included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// The L2 message as injected, hex.
    pub content: String,
    /// The level that included it.
    pub level: Option<u32>,
    /// Its index in that level's inbox.
    pub index: Option<u32>,
}

/// Everything one level writes.
#[derive(Debug, Clone, Default)]
pub struct LevelCommit {
    /// The block.
    pub block: Option<BlockRecord>,
    /// The inbox.
    pub inbox: Vec<Vec<u8>>,
    /// The outbox.
    pub outbox: Vec<Vec<u8>>,
    /// Durable and ledger changes: key and new value, `None` for removed.
    pub changes: Vec<(String, Option<Vec<u8>>)>,
    /// Pending messages the level took.
    pub consumed: Vec<u64>,
    /// Batcher messages the level included, with their inbox index.
    pub included: Vec<(String, u32)>,
    /// Settings to set.
    pub meta: Vec<(String, Vec<u8>)>,
}

/// The sandbox's database: every level's block, inbox, outbox and durable
/// changes, so past levels stay readable and a restart resumes.
pub struct LevelStore {
    db: Database,
}

impl std::fmt::Debug for LevelStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LevelStore")
    }
}

/// The prefix range `[prefix, prefix with '/' + 1)` of keys under `key/`.
fn children_range(key: &str) -> (String, String) {
    (format!("{key}/"), format!("{key}0"))
}

fn decode_row(bytes: &[u8]) -> Option<Vec<u8>> {
    match bytes.split_first() {
        Some((1, v)) => Some(v.to_vec()),
        _ => None,
    }
}

impl LevelStore {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let database = Database::create(path).map_err(db)?;
        let tx = database.begin_write().map_err(db)?;
        {
            tx.open_table(DURABLE).map_err(db)?;
            tx.open_table(CHANGES).map_err(db)?;
            tx.open_table(BLOCKS).map_err(db)?;
            tx.open_table(HASHES).map_err(db)?;
            tx.open_table(INBOX).map_err(db)?;
            tx.open_table(OUTBOX).map_err(db)?;
            tx.open_table(PENDING).map_err(db)?;
            tx.open_table(MESSAGES).map_err(db)?;
            tx.open_table(META).map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(LevelStore { db: database })
    }

    /// A setting.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(META).map_err(db)?;
        Ok(t.get(key).map_err(db)?.map(|v| v.value().to_vec()))
    }

    /// Sets settings in one transaction.
    pub fn set_meta(&self, entries: &[(&str, Vec<u8>)]) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut t = tx.open_table(META).map_err(db)?;
            for (k, v) in entries {
                t.insert(*k, v.as_slice()).map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    /// The newest block.
    pub fn head(&self) -> Result<Option<BlockRecord>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(BLOCKS).map_err(db)?;
        let last = t.last().map_err(db)?;
        last.map(|(_, v)| serde_json::from_slice(v.value()).map_err(corrupt))
            .transpose()
    }

    /// The block at `level`.
    pub fn block(&self, level: u32) -> Result<Option<BlockRecord>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(BLOCKS).map_err(db)?;
        let v = t.get(level).map_err(db)?;
        v.map(|v| serde_json::from_slice(v.value()).map_err(corrupt))
            .transpose()
    }

    /// The level of the block with hash `hash`.
    pub fn level_of(&self, hash: &str) -> Result<Option<u32>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(HASHES).map_err(db)?;
        Ok(t.get(hash).map_err(db)?.map(|v| v.value()))
    }

    /// Writes a level whole.
    pub fn commit_level(&self, c: &LevelCommit) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            if let Some(block) = &c.block {
                let level = block.level;
                let mut durable = tx.open_table(DURABLE).map_err(db)?;
                let mut changes = tx.open_table(CHANGES).map_err(db)?;
                for (key, value) in &c.changes {
                    let row = match value {
                        Some(v) => {
                            let mut r = Vec::with_capacity(v.len() + 1);
                            r.push(1);
                            r.extend_from_slice(v);
                            r
                        }
                        None => vec![0],
                    };
                    durable
                        .insert((key.as_str(), level), row.as_slice())
                        .map_err(db)?;
                    changes.insert((level, key.as_str()), ()).map_err(db)?;
                }
                let json = serde_json::to_vec(block).map_err(corrupt)?;
                tx.open_table(BLOCKS)
                    .map_err(db)?
                    .insert(level, json.as_slice())
                    .map_err(db)?;
                tx.open_table(HASHES)
                    .map_err(db)?
                    .insert(block.hash.as_str(), level)
                    .map_err(db)?;
                let mut inbox = tx.open_table(INBOX).map_err(db)?;
                for (i, m) in (0u32..).zip(&c.inbox) {
                    inbox.insert((level, i), m.as_slice()).map_err(db)?;
                }
                let mut outbox = tx.open_table(OUTBOX).map_err(db)?;
                for (i, m) in (0u32..).zip(&c.outbox) {
                    outbox.insert((level, i), m.as_slice()).map_err(db)?;
                }
                let mut messages = tx.open_table(MESSAGES).map_err(db)?;
                for (id, index) in &c.included {
                    let current = messages
                        .get(id.as_str())
                        .map_err(db)?
                        .map(|v| v.value().to_vec());
                    if let Some(bytes) = current {
                        let mut r: MessageRecord =
                            serde_json::from_slice(&bytes).map_err(corrupt)?;
                        r.level = Some(level);
                        r.index = Some(*index);
                        let json = serde_json::to_vec(&r).map_err(corrupt)?;
                        messages.insert(id.as_str(), json.as_slice()).map_err(db)?;
                    }
                }
            }
            let mut pending = tx.open_table(PENDING).map_err(db)?;
            for seq in &c.consumed {
                pending.remove(*seq).map_err(db)?;
            }
            let mut meta = tx.open_table(META).map_err(db)?;
            for (k, v) in &c.meta {
                meta.insert(k.as_str(), v.as_slice()).map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    /// Queues messages for the next level, recording the batcher's ones.
    pub fn add_pending(
        &self,
        messages: &[(PendingMessage, Option<MessageRecord>)],
    ) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut pending = tx.open_table(PENDING).map_err(db)?;
            let mut records = tx.open_table(MESSAGES).map_err(db)?;
            for (p, record) in messages {
                let json = serde_json::to_vec(p).map_err(corrupt)?;
                pending.insert(p.seq, json.as_slice()).map_err(db)?;
                if let (Some(id), Some(r)) = (&p.id, record) {
                    let json = serde_json::to_vec(r).map_err(corrupt)?;
                    records.insert(id.as_str(), json.as_slice()).map_err(db)?;
                }
            }
        }
        tx.commit().map_err(db)
    }

    /// The first `limit` messages waiting for a level, in arrival order.
    pub fn pending(&self, limit: usize) -> Result<Vec<PendingMessage>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(PENDING).map_err(db)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db)?.take(limit) {
            let (_, v) = row.map_err(db)?;
            out.push(serde_json::from_slice(v.value()).map_err(corrupt)?);
        }
        Ok(out)
    }

    /// How many messages wait for a level.
    pub fn pending_count(&self) -> Result<u64, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(PENDING).map_err(db)?;
        t.len().map_err(db)
    }

    /// An injected L2 message.
    pub fn message(&self, id: &str) -> Result<Option<MessageRecord>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(MESSAGES).map_err(db)?;
        let v = t.get(id).map_err(db)?;
        v.map(|v| serde_json::from_slice(v.value()).map_err(corrupt))
            .transpose()
    }

    /// The value at `key` after `level`.
    pub fn value_at(&self, key: &str, level: u32) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(DURABLE).map_err(db)?;
        let mut range = t.range((key, 0)..=(key, level)).map_err(db)?;
        match range.next_back() {
            Some(row) => Ok(decode_row(row.map_err(db)?.1.value())),
            None => Ok(None),
        }
    }

    /// Visits each key under `key/` with its value after `level`.
    fn each_under(
        &self,
        key: &str,
        level: u32,
        mut f: impl FnMut(&str, Vec<u8>),
    ) -> Result<(), StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(DURABLE).map_err(db)?;
        let (start, end) = children_range(key);
        let mut current: Option<(String, Option<Vec<u8>>)> = None;
        for row in t
            .range((start.as_str(), 0)..(end.as_str(), 0))
            .map_err(db)?
        {
            let (k, v) = row.map_err(db)?;
            let (path, at) = k.value();
            if current.as_ref().is_none_or(|(c, _)| c != path) {
                if let Some((c, Some(value))) = current.take() {
                    f(&c, value);
                }
                current = Some((path.to_owned(), None));
            }
            if at <= level {
                if let Some((_, slot)) = current.as_mut() {
                    *slot = decode_row(v.value());
                }
            }
        }
        if let Some((c, Some(value))) = current {
            f(&c, value);
        }
        Ok(())
    }

    /// The names under `key` after `level`, as the PVM lists them: its own
    /// value as `""`, then the steps below it, in byte order.
    pub fn subkeys_at(&self, key: &str, level: u32) -> Result<Vec<String>, StoreError> {
        let mut names = BTreeSet::new();
        let prefix_len = key.len() + 1;
        self.each_under(key, level, |path, _| {
            if let Some(step) = path
                .get(prefix_len..)
                .and_then(|rest| rest.split('/').next())
            {
                names.insert(step.to_owned());
            }
        })?;
        let mut names: Vec<String> = names.into_iter().collect();
        if self.value_at(key, level)?.is_some() {
            let at = names.partition_point(|n| n.as_str() < "@");
            names.insert(at, String::new());
        }
        Ok(names)
    }

    /// The values directly under `key` after `level`, by step name.
    pub fn values_at(&self, key: &str, level: u32) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        let prefix_len = key.len() + 1;
        self.each_under(key, level, |path, value| {
            if let Some(step) = path.get(prefix_len..).filter(|rest| !rest.contains('/')) {
                out.push((step.to_owned(), value));
            }
        })?;
        Ok(out)
    }

    /// Every durable value and ledger entry after `level`.
    pub fn state_at(&self, level: u32) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(DURABLE).map_err(db)?;
        let mut out = Vec::new();
        let mut current: Option<(String, Option<Vec<u8>>)> = None;
        for row in t.iter().map_err(db)? {
            let (k, v) = row.map_err(db)?;
            let (path, at) = k.value();
            if current.as_ref().is_none_or(|(c, _)| c != path) {
                if let Some((c, Some(value))) = current.take() {
                    out.push((c, value));
                }
                current = Some((path.to_owned(), None));
            }
            if at <= level {
                if let Some((_, slot)) = current.as_mut() {
                    *slot = decode_row(v.value());
                }
            }
        }
        if let Some((c, Some(value))) = current {
            out.push((c, value));
        }
        Ok(out)
    }

    fn level_rows(
        &self,
        table: TableDefinition<(u32, u32), &[u8]>,
        level: u32,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(table).map_err(db)?;
        let mut out = Vec::new();
        for row in t.range((level, 0)..=(level, u32::MAX)).map_err(db)? {
            out.push(row.map_err(db)?.1.value().to_vec());
        }
        Ok(out)
    }

    /// The inbox of `level`.
    pub fn inbox(&self, level: u32) -> Result<Vec<Vec<u8>>, StoreError> {
        self.level_rows(INBOX, level)
    }

    /// The outbox messages `level` wrote.
    pub fn outbox(&self, level: u32) -> Result<Vec<Vec<u8>>, StoreError> {
        self.level_rows(OUTBOX, level)
    }

    /// Removes every level above `level`, in one transaction.
    pub fn truncate_after(&self, level: u32) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(db)?;
        {
            let mut changes = tx.open_table(CHANGES).map_err(db)?;
            let mut durable = tx.open_table(DURABLE).map_err(db)?;
            let mut undone = Vec::new();
            for row in changes.range((level.saturating_add(1), "")..).map_err(db)? {
                let (k, _) = row.map_err(db)?;
                let (l, key) = k.value();
                undone.push((l, key.to_owned()));
            }
            for (l, key) in &undone {
                durable.remove((key.as_str(), *l)).map_err(db)?;
                changes.remove((*l, key.as_str())).map_err(db)?;
            }
            let mut blocks = tx.open_table(BLOCKS).map_err(db)?;
            let mut hashes = tx.open_table(HASHES).map_err(db)?;
            let mut dropped = Vec::new();
            for row in blocks.range(level.saturating_add(1)..).map_err(db)? {
                let (k, v) = row.map_err(db)?;
                let b: BlockRecord = serde_json::from_slice(v.value()).map_err(corrupt)?;
                dropped.push((k.value(), b.hash));
            }
            for (l, hash) in &dropped {
                blocks.remove(*l).map_err(db)?;
                hashes.remove(hash.as_str()).map_err(db)?;
            }
            for table in [INBOX, OUTBOX] {
                let mut t = tx.open_table(table).map_err(db)?;
                let mut keys = Vec::new();
                for row in t.range((level.saturating_add(1), 0)..).map_err(db)? {
                    keys.push(row.map_err(db)?.0.value());
                }
                for k in keys {
                    t.remove(k).map_err(db)?;
                }
            }
        }
        tx.commit().map_err(db)
    }

    /// How many blocks are stored.
    pub fn block_count(&self) -> Result<u64, StoreError> {
        let tx = self.db.begin_read().map_err(db)?;
        let t = tx.open_table(BLOCKS).map_err(db)?;
        t.len().map_err(db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(level: u32) -> BlockRecord {
        BlockRecord {
            level,
            hash: format!("B{level}"),
            predecessor: format!("B{}", level.saturating_sub(1)),
            timestamp: i64::from(level),
            state_hash: String::new(),
            context: String::new(),
            commitment: String::new(),
            previous_commitment: String::new(),
            inbox_witness: String::new(),
            inbox_hash: String::new(),
            initial_tick: 0,
            num_ticks: 0,
            num_messages: 0,
            kernel_runs: 1,
            failures: vec![],
        }
    }

    fn commit(store: &LevelStore, level: u32, changes: &[(&str, Option<&[u8]>)]) {
        store
            .commit_level(&LevelCommit {
                block: Some(block(level)),
                inbox: vec![vec![level as u8]],
                changes: changes
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.map(<[u8]>::to_vec)))
                    .collect(),
                ..LevelCommit::default()
            })
            .unwrap();
    }

    #[test]
    fn values_are_read_as_of_any_level() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let store = LevelStore::open(&dir.join("db")).unwrap();
        commit(
            &store,
            1,
            &[
                ("/a", Some(b"1")),
                ("/a/x", Some(b"x")),
                ("/a-b", Some(b"z")),
            ],
        );
        commit(&store, 2, &[("/a", Some(b"2")), ("/a/y/z", Some(b"y"))]);
        commit(&store, 3, &[("/a", None), ("/a/x", None)]);
        assert_eq!(store.value_at("/a", 1).unwrap(), Some(b"1".to_vec()));
        assert_eq!(store.value_at("/a", 2).unwrap(), Some(b"2".to_vec()));
        assert_eq!(store.value_at("/a", 3).unwrap(), None);
        assert_eq!(store.value_at("/a", 0).unwrap(), None);
        assert_eq!(store.subkeys_at("/a", 1).unwrap(), vec!["", "x"]);
        assert_eq!(store.subkeys_at("/a", 2).unwrap(), vec!["", "x", "y"]);
        assert_eq!(store.subkeys_at("/a", 3).unwrap(), vec!["y"]);
        assert_eq!(
            store.values_at("/a", 2).unwrap(),
            vec![("x".to_owned(), b"x".to_vec())]
        );
        assert_eq!(store.subkeys_at("", 3).unwrap(), vec!["a", "a-b"]);
        assert_eq!(store.state_at(1).unwrap().len(), 3);
        assert_eq!(store.head().unwrap().map(|b| b.level), Some(3));
        assert_eq!(store.level_of("B2").unwrap(), Some(2));
        assert_eq!(store.inbox(2).unwrap(), vec![vec![2]]);

        store.truncate_after(1).unwrap();
        assert_eq!(store.head().unwrap().map(|b| b.level), Some(1));
        assert_eq!(store.value_at("/a", 9).unwrap(), Some(b"1".to_vec()));
        assert_eq!(store.level_of("B2").unwrap(), None);
        assert!(store.inbox(2).unwrap().is_empty());
        drop(store);
        // The database stays locked while open, and reopens afterwards.
        let again = LevelStore::open(&dir.join("db")).unwrap();
        assert!(matches!(
            LevelStore::open(&dir.join("db")),
            Err(StoreError::InUse)
        ));
        assert_eq!(again.block_count().unwrap(), 1);
    }

    #[test]
    fn pending_messages_leave_the_queue_with_their_level() {
        let tmp = tempfile::tempdir().unwrap();
        let store = LevelStore::open(&tmp.path().join("db")).unwrap();
        let p = PendingMessage {
            seq: 1,
            id: Some("scmsg1".to_owned()),
            message: "01".to_owned(),
        };
        let record = MessageRecord {
            content: "00".to_owned(),
            level: None,
            index: None,
        };
        store.add_pending(&[(p.clone(), Some(record))]).unwrap();
        assert_eq!(store.pending(10).unwrap(), vec![p]);
        assert_eq!(store.pending_count().unwrap(), 1);
        store
            .commit_level(&LevelCommit {
                block: Some(block(1)),
                consumed: vec![1],
                included: vec![("scmsg1".to_owned(), 2)],
                ..LevelCommit::default()
            })
            .unwrap();
        assert!(store.pending(10).unwrap().is_empty());
        let m = store.message("scmsg1").unwrap().unwrap();
        assert_eq!((m.level, m.index), (Some(1), Some(2)));
    }
}
