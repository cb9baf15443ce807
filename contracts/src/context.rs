//! The working set of one step (an operation, a deposit or a scheduled
//! event): typed reads and writes through an overlay, the events and
//! withdrawals it produced, and the time the step happens at.

use crate::encoding::{Decode, Encode};
use crate::error::Fault;
use crate::event::{Created, Event, Withdrawal};
use crate::store::{Overlay, Store, Writes};

/// One step's view of the state.
pub(crate) struct Ctx<'a, S: Store> {
    overlay: Overlay<'a, S>,
    /// Events produced so far.
    pub events: Vec<Event>,
    /// Withdrawals produced so far.
    pub withdrawals: Vec<Withdrawal>,
    /// The time of this step, in seconds.
    pub now: u64,
    /// The record the step created, if any (an operation creates at most one).
    pub created: Option<Created>,
}

impl<'a, S: Store> Ctx<'a, S> {
    pub fn new(store: &'a S, now: u64) -> Self {
        Self {
            overlay: Overlay::new(store),
            events: Vec::new(),
            withdrawals: Vec::new(),
            now,
            created: None,
        }
    }

    /// The value at `key`, decoded.
    pub fn get<T: Decode>(&self, key: &str) -> Result<Option<T>, Fault> {
        match self.overlay.read(key)? {
            None => Ok(None),
            Some(bytes) => T::from_bytes(&bytes)
                .map(Some)
                .map_err(|error| Fault::Corrupt {
                    key: key.to_owned(),
                    error,
                }),
        }
    }

    /// The state as this step sees it, for read-only queries.
    pub fn state(&self) -> &Overlay<'a, S> {
        &self.overlay
    }

    /// Writes `value` at `key`.
    pub fn put<T: Encode + ?Sized>(&mut self, key: &str, value: &T) {
        self.overlay.write(key, value.to_bytes());
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) {
        self.overlay.remove(key);
    }

    /// Records an event.
    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    /// The writes, events and withdrawals of the finished step.
    pub fn finish(self) -> (Writes, Vec<Event>, Vec<Withdrawal>) {
        (self.overlay.into_writes(), self.events, self.withdrawals)
    }
}

/// Reads a value straight from a store (for queries).
pub(crate) fn read<S: Store, T: Decode>(store: &S, key: &str) -> Result<Option<T>, Fault> {
    match store.read(key)? {
        None => Ok(None),
        Some(bytes) => T::from_bytes(&bytes)
            .map(Some)
            .map_err(|error| Fault::Corrupt {
                key: key.to_owned(),
                error,
            }),
    }
}
