//! Durable storage: values of any size read and written in host-sized
//! chunks, a run's writes held in memory until the run commits, and the
//! protocol's [`Store`] over both.

use std::cell::Cell;
use std::collections::BTreeMap;

use pledgeroll_contracts::{Store, StoreError};
use tezos_smart_rollup_host::path::{OwnedPath, Path};
use tezos_smart_rollup_host::runtime::{Runtime, RuntimeError, ValueType};

use crate::error::Abort;
use pledgeroll_interface::paths;

/// Why a durable value could not be read or written: the host refused
/// the call.
pub type DurableError = RuntimeError;

/// The value at `path`, or `None` if the path holds no value (only
/// subkeys, or nothing). The SDK reads it in host-sized chunks.
pub fn read_value(host: &impl Runtime, path: &impl Path) -> Result<Option<Vec<u8>>, DurableError> {
    match host.store_has(path)? {
        None | Some(ValueType::Subtree) => Ok(None),
        Some(ValueType::Value | ValueType::ValueWithSubtree) => host.store_read_all(path).map(Some),
    }
}

/// Replaces the value at `path` with `value`; the SDK writes it in
/// host-sized chunks after removing the old value, so a shorter value
/// never keeps an old tail. Subkeys of `path` are kept.
pub fn write_value(
    host: &mut impl Runtime,
    path: &impl Path,
    value: &[u8],
) -> Result<(), DurableError> {
    host.store_write_all(path, value)
}

/// Removes the value at `path`, keeping its subkeys; a missing value is fine.
pub fn remove_value(host: &mut impl Runtime, path: &impl Path) -> Result<(), DurableError> {
    host.store_delete_value(path)?;
    Ok(())
}

fn storage(path: &[u8], e: impl core::fmt::Display) -> Abort {
    Abort::Storage {
        path: String::from_utf8_lossy(path).into_owned(),
        reason: e.to_string(),
    }
}

/// A run's writes, held in memory: reads see them, durable storage does
/// not until [`Pending::commit`]. A run that aborts drops them, so it leaves
/// no trace; one that stands writes each changed value once.
///
/// It counts the reads and writes made through it, which is how the kernel
/// estimates the ticks an operation's own logic used.
#[derive(Debug, Default)]
pub struct Pending {
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    accesses: Cell<u64>,
}

impl Pending {
    /// The value at `path` as the run sees it.
    pub fn read(
        &self,
        host: &impl Runtime,
        path: &impl Path,
    ) -> Result<Option<Vec<u8>>, DurableError> {
        self.count();
        match self.writes.get(path.as_bytes()) {
            Some(value) => Ok(value.clone()),
            None => read_value(host, path),
        }
    }

    /// Sets the value at `path` when the run commits.
    pub fn write(&mut self, path: &impl Path, value: &[u8]) {
        self.count();
        self.writes
            .insert(path.as_bytes().to_vec(), Some(value.to_vec()));
    }

    /// Removes the value at `path` when the run commits.
    pub fn remove(&mut self, path: &impl Path) {
        self.count();
        self.writes.insert(path.as_bytes().to_vec(), None);
    }

    /// How many values the run changes.
    pub fn len(&self) -> usize {
        self.writes.len()
    }

    /// Whether the run changes nothing.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// How many reads, writes and removals went through this value.
    pub fn accesses(&self) -> u64 {
        self.accesses.get()
    }

    fn count(&self) {
        self.accesses.set(self.accesses.get().saturating_add(1));
    }

    /// Writes every change to durable storage.
    ///
    /// Every path was checked when it was built and every value is written
    /// from its start after its old value is deleted, so the host has no
    /// grounds to refuse a write here; an error is still reported, with the
    /// path, rather than ignored.
    pub fn commit(self, host: &mut impl Runtime) -> Result<(), Abort> {
        for (path, value) in self.writes {
            let owned = OwnedPath::try_from(path.clone()).map_err(|e| storage(&path, e))?;
            match value {
                Some(v) => write_value(host, &owned, &v),
                None => remove_value(host, &owned),
            }
            .map_err(|e| storage(&path, e))?;
        }
        Ok(())
    }

    /// Reads a kernel value, as an [`Abort`] on failure.
    pub(crate) fn get(
        &self,
        host: &impl Runtime,
        path: &impl Path,
    ) -> Result<Option<Vec<u8>>, Abort> {
        self.read(host, path)
            .map_err(|e| storage(path.as_bytes(), e))
    }
}

/// The protocol's key-value store in durable storage under [`paths::STATE`],
/// reading through the run's [`Pending`] writes and adding to them.
///
/// The protocol buffers each operation and commits it whole through
/// [`Store::write`] and [`Store::remove`]; the run's writes reach durable
/// storage together when the run commits. Host errors come back as
/// [`StoreError`].
pub struct DurableStore<'a, H: Runtime> {
    host: &'a H,
    pending: &'a mut Pending,
}

impl<'a, H: Runtime> DurableStore<'a, H> {
    /// The protocol's store on `host`, writing into `pending`.
    pub fn new(host: &'a H, pending: &'a mut Pending) -> Self {
        Self { host, pending }
    }
}

fn store_error(key: &str, reason: impl core::fmt::Display) -> StoreError {
    StoreError {
        key: key.to_owned(),
        reason: reason.to_string(),
    }
}

impl<H: Runtime> Store for DurableStore<'_, H> {
    fn read(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = paths::state(key).map_err(|e| store_error(key, e))?;
        self.pending
            .read(self.host, &path)
            .map_err(|e| store_error(key, e))
    }

    fn write(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let path = paths::state(key).map_err(|e| store_error(key, e))?;
        self.pending.write(&path, value);
        Ok(())
    }

    fn remove(&mut self, key: &str) -> Result<(), StoreError> {
        let path = paths::state(key).map_err(|e| store_error(key, e))?;
        self.pending.remove(&path);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tezos_smart_rollup_host::path::RefPath;
    use tezos_smart_rollup_mock::MockHost;

    const KEY: &str = "/accounts/tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx";
    const PATH: RefPath<'static> =
        RefPath::assert_from(b"/pledgeroll/state/accounts/tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx");

    #[test]
    fn values_above_the_host_chunk_round_trip() {
        let mut host = MockHost::default();
        let big: Vec<u8> = (0..5_000u32).map(|i| (i % 251) as u8).collect();
        write_value(&mut host, &PATH, &big).unwrap();
        assert_eq!(read_value(&host, &PATH).unwrap(), Some(big));

        // A shorter value replaces the longer one whole.
        write_value(&mut host, &PATH, &[9; 3]).unwrap();
        assert_eq!(read_value(&host, &PATH).unwrap(), Some(vec![9; 3]));
        write_value(&mut host, &PATH, &[]).unwrap();
        assert_eq!(read_value(&host, &PATH).unwrap(), Some(vec![]));
    }

    #[test]
    fn the_store_reads_its_writes_and_commits_them_under_the_state_prefix() {
        let mut host = MockHost::default();
        let mut pending = Pending::default();
        let big = vec![7u8; 4_100];
        let mut store = DurableStore::new(&host, &mut pending);
        store.write(KEY, &big).unwrap();
        assert_eq!(store.read(KEY).unwrap(), Some(big.clone()));
        assert_eq!(read_value(&host, &PATH).unwrap(), None);

        pending.commit(&mut host).unwrap();
        assert_eq!(read_value(&host, &PATH).unwrap(), Some(big));

        let mut pending = Pending::default();
        let mut store = DurableStore::new(&host, &mut pending);
        store.remove(KEY).unwrap();
        assert_eq!(store.read(KEY).unwrap(), None);
        pending.commit(&mut host).unwrap();
        assert_eq!(read_value(&host, &PATH).unwrap(), None);
    }

    #[test]
    fn every_read_and_write_is_counted() {
        let mut host = MockHost::default();
        write_value(&mut host, &PATH, &[1]).unwrap();
        let mut pending = Pending::default();
        assert_eq!(pending.accesses(), 0);
        let mut store = DurableStore::new(&host, &mut pending);
        store.read(KEY).unwrap();
        store.write(KEY, &[2]).unwrap();
        store.read(KEY).unwrap();
        store.remove(KEY).unwrap();
        assert_eq!(pending.accesses(), 4);
        // A refused key never reaches the run's writes.
        assert!(DurableStore::new(&host, &mut pending)
            .write("no slash", &[1])
            .is_err());
        assert_eq!(pending.accesses(), 4);
        assert_eq!(pending.len(), 1);
    }

    #[test]
    fn dropped_writes_leave_no_trace() {
        let mut host = MockHost::default();
        write_value(&mut host, &PATH, &[1]).unwrap();
        let mut pending = Pending::default();
        let mut store = DurableStore::new(&host, &mut pending);
        store.write(KEY, &[2]).unwrap();
        drop(pending);
        assert_eq!(read_value(&host, &PATH).unwrap(), Some(vec![1]));
    }

    #[test]
    fn removing_a_value_keeps_its_subkeys() {
        let mut host = MockHost::default();
        let child = RefPath::assert_from(b"/pledgeroll/state/a/b");
        let parent = RefPath::assert_from(b"/pledgeroll/state/a");
        write_value(&mut host, &parent, &[1]).unwrap();
        write_value(&mut host, &child, &[2]).unwrap();
        remove_value(&mut host, &parent).unwrap();
        remove_value(&mut host, &parent).unwrap();
        assert_eq!(read_value(&host, &parent).unwrap(), None);
        assert_eq!(read_value(&host, &child).unwrap(), Some(vec![2]));
    }

    #[test]
    fn bad_keys_are_store_errors() {
        let host = MockHost::default();
        let mut pending = Pending::default();
        let mut store = DurableStore::new(&host, &mut pending);
        let err = store.write("/bad key", &[1]).unwrap_err();
        assert_eq!(err.key, "/bad key");
        let long = format!("/{}", "a".repeat(300));
        assert!(store.read(&long).is_err());
        assert!(store.remove("relative").is_err());
        assert!(pending.is_empty());
    }
}
