//! The part of the rollup's state a statement names, read from the node as
//! the statement needs it.
//!
//! A statement ([`pledgeroll_contracts::statement`]) is made from the state:
//! the signer's nonce and number, a tier's terms, a project's title. The
//! wallet makes it with the very code the kernel runs, over a read-only
//! store that answers from values already fetched and notes every key it
//! did not have; the wallet fetches those (all from one block) and tries
//! again until nothing is missing.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use pledgeroll_contracts::store::{Store, StoreError};

/// Values fetched so far, and the keys asked for that were not.
#[derive(Debug, Default)]
pub struct Facts {
    values: BTreeMap<String, Option<Vec<u8>>>,
    missing: RefCell<BTreeSet<String>>,
}

impl Facts {
    /// Records the value at `key` (`None`: there is none).
    pub fn insert(&mut self, key: String, value: Option<Vec<u8>>) {
        self.values.insert(key, value);
    }

    /// The keys read since the last call that had not been fetched.
    pub fn take_missing(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.missing.borrow_mut())
    }
}

impl Store for Facts {
    fn read(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.values.get(key) {
            Some(value) => Ok(value.clone()),
            None => {
                self.missing.borrow_mut().insert(key.to_owned());
                Ok(None)
            }
        }
    }

    fn write(&mut self, key: &str, _: &[u8]) -> Result<(), StoreError> {
        Err(read_only(key))
    }

    fn remove(&mut self, key: &str) -> Result<(), StoreError> {
        Err(read_only(key))
    }
}

fn read_only(key: &str) -> StoreError {
    StoreError {
        key: key.to_owned(),
        reason: "the wallet's copy of the state is read-only".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfetched_keys_are_noted_once_and_fetched_ones_answer() {
        let mut facts = Facts::default();
        assert_eq!(facts.read("/a"), Ok(None));
        assert_eq!(facts.read("/a"), Ok(None));
        assert_eq!(facts.take_missing().into_iter().collect::<Vec<_>>(), ["/a"]);
        facts.insert("/a".to_owned(), Some(vec![1]));
        facts.insert("/b".to_owned(), None);
        assert_eq!(facts.read("/a"), Ok(Some(vec![1])));
        assert_eq!(facts.read("/b"), Ok(None));
        assert!(facts.take_missing().is_empty());
        assert!(facts.write("/a", &[2]).is_err());
    }
}
