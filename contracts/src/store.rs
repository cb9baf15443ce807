//! The storage the protocol runs on: a small key-value trait of its own.
//!
//! The kernel backs it with durable storage, tests with [`MemoryStore`]. Keys
//! are durable-storage paths built only by [`crate::keys`]; values are
//! canonical encodings. Every operation writes through an [`Overlay`] that is
//! either committed whole or dropped, and the commit keeps the state hash.

use std::collections::BTreeMap;

use thiserror::Error;

use crate::crypto::blake2b_256;
use crate::keys;

/// A failure of the storage itself (not of an operation): it aborts the level.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("storage failure at {key}: {reason}")]
pub struct StoreError {
    /// The path involved.
    pub key: String,
    /// What the backend reported.
    pub reason: String,
}

/// Key-value storage under durable-storage paths.
pub trait Store {
    /// The value at `key`, if any.
    fn read(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets the value at `key`.
    fn write(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Removes the value at `key`; removing a missing key is not an error.
    fn remove(&mut self, key: &str) -> Result<(), StoreError>;
}

/// An in-memory store for tests, benchmarks and tools.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MemoryStore {
    entries: BTreeMap<String, Vec<u8>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every entry, in key order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The state hash computed from scratch over every entry; equals the
    /// incrementally kept one when the store was only changed by commits.
    pub fn recompute_state_hash(&self) -> [u8; 32] {
        let mut acc = StateHash::default();
        for (k, v) in self.entries() {
            if k != keys::STATE_HASH {
                acc.add(k, Some(v));
            }
        }
        acc.0
    }
}

impl Store for MemoryStore {
    fn read(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.entries.get(key).cloned())
    }

    fn write(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.entries.insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn remove(&mut self, key: &str) -> Result<(), StoreError> {
        self.entries.remove(key);
        Ok(())
    }
}

/// The state hash: the sum, modulo 2^256, of blake2b-256 over every stored
/// (key, value) pair but itself. A sum can be kept up to date with one read
/// per write, however large the state, and depends only on the state's
/// content, never on the order of writes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StateHash(pub [u8; 32]);

impl StateHash {
    fn entry_digest(key: &str, value: &[u8]) -> [u8; 32] {
        let mut data = Vec::with_capacity(4 + key.len() + value.len());
        let key_len = u32::try_from(key.len()).unwrap_or(u32::MAX);
        data.extend_from_slice(&key_len.to_le_bytes());
        data.extend_from_slice(key.as_bytes());
        data.extend_from_slice(value);
        blake2b_256(&data)
    }

    /// Adds the entry `key = value` (a missing value adds nothing).
    pub fn add(&mut self, key: &str, value: Option<&[u8]>) {
        if let Some(v) = value {
            let d = Self::entry_digest(key, v);
            let mut carry = 0u16;
            for (a, b) in self.0.iter_mut().zip(d.iter()) {
                let s = u16::from(*a) + u16::from(*b) + carry;
                *a = s.to_le_bytes()[0];
                carry = s >> 8;
            }
        }
    }

    /// Removes the entry `key = value` (a missing value removes nothing).
    pub fn sub(&mut self, key: &str, value: Option<&[u8]>) {
        if let Some(v) = value {
            let d = Self::entry_digest(key, v);
            let mut borrow = 0i16;
            for (a, b) in self.0.iter_mut().zip(d.iter()) {
                let mut s = i16::from(*a) - i16::from(*b) - borrow;
                borrow = 0;
                if s < 0 {
                    s += 256;
                    borrow = 1;
                }
                *a = s.to_le_bytes()[0];
            }
        }
    }
}

/// Writes buffered over a store: read-your-writes, then committed whole or
/// dropped, so an operation applies whole or leaves no trace.
#[derive(Debug)]
pub struct Overlay<'a, S: Store> {
    inner: &'a S,
    writes: BTreeMap<String, Option<Vec<u8>>>,
}

impl<'a, S: Store> Overlay<'a, S> {
    /// An empty overlay over `inner`.
    pub fn new(inner: &'a S) -> Self {
        Self {
            inner,
            writes: BTreeMap::new(),
        }
    }

    /// The value at `key` as this overlay sees it.
    pub fn read(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.writes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.inner.read(key),
        }
    }

    /// Buffers a write.
    pub fn write(&mut self, key: &str, value: Vec<u8>) {
        self.writes.insert(key.to_owned(), Some(value));
    }

    /// Buffers a removal.
    pub fn remove(&mut self, key: &str) {
        self.writes.insert(key.to_owned(), None);
    }

    /// The buffered writes, to be committed with [`commit`].
    pub fn into_writes(self) -> Writes {
        Writes(self.writes)
    }
}

/// An overlay is a store too, so a read-only query over the state (such as
/// [`crate::protocol::current_flow`]) runs the same inside a step.
impl<S: Store> Store for Overlay<'_, S> {
    fn read(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Overlay::read(self, key)
    }

    fn write(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        Overlay::write(self, key, value.to_vec());
        Ok(())
    }

    fn remove(&mut self, key: &str) -> Result<(), StoreError> {
        Overlay::remove(self, key);
        Ok(())
    }
}

/// The writes of a finished overlay.
#[derive(Debug, Default)]
pub struct Writes(BTreeMap<String, Option<Vec<u8>>>);

/// Applies `writes` to `store` and updates the state hash kept in it.
pub fn commit<S: Store>(store: &mut S, writes: Writes) -> Result<(), StoreError> {
    if writes.0.is_empty() {
        return Ok(());
    }
    let mut hash = StateHash(read_state_hash(store)?);
    for (key, value) in writes.0 {
        let old = store.read(&key)?;
        if old == value {
            continue;
        }
        hash.sub(&key, old.as_deref());
        hash.add(&key, value.as_deref());
        match value {
            Some(v) => store.write(&key, &v)?,
            None => store.remove(&key)?,
        }
    }
    store.write(keys::STATE_HASH, &hash.0)
}

/// The state hash kept in `store` (all zeros for an empty state).
pub fn read_state_hash<S: Store>(store: &S) -> Result<[u8; 32], StoreError> {
    let mut out = [0u8; 32];
    if let Some(v) = store.read(keys::STATE_HASH)? {
        if v.len() == 32 {
            out.copy_from_slice(&v);
        } else {
            return Err(StoreError {
                key: keys::STATE_HASH.to_owned(),
                reason: format!("state hash is {} bytes, expected 32", v.len()),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_hash_matches_recomputation_and_ignores_order() {
        let mut a = MemoryStore::new();
        let mut o = Overlay::new(&a);
        o.write("/x", vec![1]);
        o.write("/y", vec![2]);
        let w = o.into_writes();
        commit(&mut a, w).expect("memory");
        let mut o = Overlay::new(&a);
        o.write("/x", vec![3]);
        o.remove("/y");
        let w = o.into_writes();
        commit(&mut a, w).expect("memory");

        let mut b = MemoryStore::new();
        let mut o = Overlay::new(&b);
        o.write("/x", vec![3]);
        let w = o.into_writes();
        commit(&mut b, w).expect("memory");

        assert_eq!(read_state_hash(&a), read_state_hash(&b));
        assert_eq!(read_state_hash(&a).ok(), Some(a.recompute_state_hash()));
        assert_ne!(a.recompute_state_hash(), [0; 32]);
    }

    #[test]
    fn dropped_overlay_leaves_no_trace() {
        let store = MemoryStore::new();
        let mut o = Overlay::new(&store);
        o.write("/x", vec![1]);
        assert_eq!(o.read("/x"), Ok(Some(vec![1])));
        drop(o);
        assert_eq!(store.read("/x"), Ok(None));
    }
}
