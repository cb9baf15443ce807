//! The kernel's side of the level record (its codec is
//! [`pledgeroll_interface::record`]): reading and writing it in durable
//! storage, and the record's lists kept encoded while a level spans several
//! kernel runs, so a later run adds its items to those earlier runs wrote
//! without decoding them.

use pledgeroll_contracts::encoding::{Reader, Writer};
use pledgeroll_contracts::{Decode, Encode};
use pledgeroll_interface::paths;
use pledgeroll_interface::record::{LevelRecord, Progress, RecordError};
use tezos_smart_rollup_host::path::RefPath;
use tezos_smart_rollup_host::runtime::Runtime;

use crate::durable::{read_value, Pending};

fn read(host: &impl Runtime, path: &RefPath<'static>) -> Result<Option<Vec<u8>>, RecordError> {
    read_value(host, path).map_err(|e| RecordError::Storage(e.to_string()))
}

/// A level list as stored, kept encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredList {
    count: u32,
    items: Vec<u8>,
}

impl StoredList {
    /// The list at `path`, empty if there is none. Only its count is
    /// checked: the items are the kernel's own earlier writes.
    pub fn read(host: &impl Runtime, path: &RefPath<'static>) -> Result<Self, RecordError> {
        let Some(bytes) = read(host, path)? else {
            return Ok(Self::default());
        };
        let mut r = Reader::new(&bytes);
        let count = r.fixed_u32("count").map_err(|error| RecordError::Decode {
            part: path.to_string(),
            error,
        })?;
        let items = bytes.get(4..).unwrap_or_default().to_vec();
        Ok(StoredList { count, items })
    }

    /// How many items the list holds.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The bytes of the items.
    pub fn byte_len(&self) -> usize {
        self.items.len()
    }

    /// The list with `more` after its items, as
    /// [`pledgeroll_interface::record::encode_list`] writes it.
    pub fn with<T: Encode>(&self, more: &[T]) -> Vec<u8> {
        let more_count = u32::try_from(more.len()).unwrap_or(u32::MAX);
        let mut w = Writer::with_capacity(4 + self.items.len() + more.len() * 64);
        w.fixed_u32(self.count.saturating_add(more_count));
        w.raw(&self.items);
        for item in more {
            item.encode(&mut w);
        }
        w.into_bytes()
    }
}

/// Records where an unfinished level stands, as part of the run's writes.
pub fn write_progress(progress: &Progress, pending: &mut Pending) {
    pending.write(&paths::LEVEL_PROGRESS, &progress.to_bytes());
}

/// Where the unfinished level stands, or `None` when no level is
/// unfinished.
pub fn read_progress(host: &impl Runtime) -> Result<Option<Progress>, RecordError> {
    match read(host, &paths::LEVEL_PROGRESS)? {
        Some(bytes) => {
            Progress::from_bytes(&bytes)
                .map(Some)
                .map_err(|error| RecordError::Decode {
                    part: paths::LEVEL_PROGRESS.to_string(),
                    error,
                })
        }
        None => Ok(None),
    }
}

/// Replaces the stored record with `record`, as part of the level's writes.
pub fn write_record(record: &LevelRecord, pending: &mut Pending) {
    for (path, value) in record.parts() {
        match value {
            Some(bytes) => pending.write(&path, &bytes),
            None => pending.remove(&path),
        }
    }
}

/// The stored record, or `None` before the first level.
pub fn read_record(host: &impl Runtime) -> Result<Option<LevelRecord>, RecordError> {
    LevelRecord::from_parts(|path| read(host, path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pledgeroll_contracts::{Address, AssetId, Event, Outcome, Receipt};
    use pledgeroll_interface::record::{decode_list, encode_list, Notice, NoticeKind};
    use tezos_smart_rollup_mock::MockHost;

    fn alice() -> Address {
        "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx".parse().unwrap()
    }

    #[test]
    fn progress_is_kept_between_runs_and_bad_bytes_are_refused() {
        let p = Progress {
            level: 9,
            runs: 2,
            next_message: 1_234,
            begun: true,
        };
        let mut host = MockHost::default();
        assert_eq!(read_progress(&host), Ok(None));
        let mut run = Pending::default();
        write_progress(&p, &mut run);
        run.commit(&mut host).unwrap();
        assert_eq!(read_progress(&host), Ok(Some(p)));
        crate::durable::write_value(&mut host, &paths::LEVEL_PROGRESS, &[1, 2]).unwrap();
        assert!(matches!(
            read_progress(&host),
            Err(RecordError::Decode { .. })
        ));
    }

    #[test]
    fn a_stored_list_grows_into_the_list_encode_list_writes() {
        let deposit = |amount| Event::Deposited {
            account: alice(),
            asset: AssetId(0),
            amount,
        };
        let mut host = MockHost::default();
        let empty = StoredList::read(&host, &paths::LEVEL_EVENTS).unwrap();
        assert_eq!((empty.count(), empty.byte_len()), (0, 0));
        assert_eq!(empty.with::<Event>(&[]), encode_list::<Event>(&[]));

        let first = vec![deposit(1), deposit(2)];
        crate::durable::write_value(&mut host, &paths::LEVEL_EVENTS, &empty.with(&first)).unwrap();
        let stored = StoredList::read(&host, &paths::LEVEL_EVENTS).unwrap();
        assert_eq!(stored.count(), 2);
        assert_eq!(stored.byte_len(), encode_list(&first).len() - 4);
        let all = vec![deposit(1), deposit(2), deposit(3)];
        assert_eq!(stored.with(&[deposit(3)]), encode_list(&all));
        assert_eq!(decode_list::<Event>(&stored.with(&[deposit(3)])), Ok(all));

        crate::durable::write_value(&mut host, &paths::LEVEL_EVENTS, &[1, 0]).unwrap();
        assert!(StoredList::read(&host, &paths::LEVEL_EVENTS).is_err());
    }

    #[test]
    fn a_record_replaces_the_previous_one_whole() {
        let mut host = MockHost::default();
        let first = LevelRecord {
            number: 7,
            receipts: vec![Receipt {
                hash: [1; 32],
                signer: alice(),
                nonce: 0,
                outcome: Outcome::Applied { created: None },
            }],
            notices: vec![Notice::new(2, NoticeKind::BatchRejected, "bad")],
            state_hash: [9; 32],
            fault: Some("broken".to_owned()),
            ..LevelRecord::default()
        };
        let mut level = Pending::default();
        write_record(&first, &mut level);
        level.commit(&mut host).unwrap();
        assert_eq!(read_record(&host).unwrap(), Some(first));

        let second = LevelRecord {
            number: 8,
            ..LevelRecord::default()
        };
        let mut level = Pending::default();
        write_record(&second, &mut level);
        level.commit(&mut host).unwrap();
        assert_eq!(read_record(&host).unwrap(), Some(second));
        assert_eq!(read_record(&MockHost::default()).unwrap(), None);
    }
}
