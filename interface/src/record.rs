//! The record of one level, kept under [`paths::LEVEL`] and replaced at every
//! level: its events, operation receipts, notices about unusable messages,
//! the state hash after it, and why it aborted if it did; and where an
//! unfinished level stands between two kernel runs.
//!
//! A rollup node keeps durable storage per block, so an indexer reads level
//! `L`'s record from block `L` without scanning the state, and the record
//! never grows beyond one level's inbox. The kernel writes the parts
//! [`LevelRecord::parts`] gives; readers rebuild it with
//! [`LevelRecord::from_parts`], so both sides share one codec.

use pledgeroll_contracts::encoding::{Reader, Text, Writer};
use pledgeroll_contracts::{Decode, DecodeError, Encode, Event, Receipt};
use tezos_smart_rollup_host::path::RefPath;

use crate::paths;

/// Longest notice detail, in bytes.
pub const MAX_DETAIL: usize = 200;

/// What happened to an inbox message the kernel could not use as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// Not a message this kernel understands (garbage, a truncated frame, a
    /// transfer of another type).
    Unrecognised,
    /// A batch for this rollup that does not decode; none of it applied.
    BatchRejected,
    /// A batch for this rollup dropped because the level aborted; its
    /// operations can be sent again with the same nonces.
    BatchDropped,
    /// A deposit that was not credited; its ticket goes back to the sender.
    DepositRefunded,
    /// A deposit that was not credited and whose ticket cannot be sent back.
    DepositDropped,
    /// An operation of a batch signed by an account number the rollup has
    /// not given: there is no account to hold its receipt, and it was
    /// skipped.
    UnknownSigner,
}

impl NoticeKind {
    fn tag(self) -> u8 {
        match self {
            NoticeKind::Unrecognised => 0,
            NoticeKind::BatchRejected => 1,
            NoticeKind::BatchDropped => 2,
            NoticeKind::DepositRefunded => 3,
            NoticeKind::DepositDropped => 4,
            NoticeKind::UnknownSigner => 5,
        }
    }
}

/// A note about one inbox message of the level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The message's index in the level's inbox.
    pub message: u32,
    /// What happened to it.
    pub kind: NoticeKind,
    /// Why, in words.
    pub detail: Text<MAX_DETAIL>,
}

impl Notice {
    /// A notice, its detail cut to [`MAX_DETAIL`] bytes.
    pub fn new(message: u32, kind: NoticeKind, detail: &str) -> Self {
        let mut cut = detail.len().min(MAX_DETAIL);
        while !detail.is_char_boundary(cut) {
            cut -= 1;
        }
        Notice {
            message,
            kind,
            detail: Text::new(detail.get(..cut).unwrap_or_default()).unwrap_or_default(),
        }
    }
}

impl Encode for Notice {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.message);
        w.u8(self.kind.tag());
        self.detail.encode(w);
    }
}

impl Decode for Notice {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let message = r.u32("notice message")?;
        let kind = match r.u8("notice kind")? {
            0 => NoticeKind::Unrecognised,
            1 => NoticeKind::BatchRejected,
            2 => NoticeKind::BatchDropped,
            3 => NoticeKind::DepositRefunded,
            4 => NoticeKind::DepositDropped,
            5 => NoticeKind::UnknownSigner,
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "notice kind",
                    tag,
                })
            }
        };
        Ok(Notice {
            message,
            kind,
            detail: r.get()?,
        })
    }
}

/// Encodes a level list: a `u32` little-endian count, then each item's
/// canonical encoding.
pub fn encode_list<T: Encode>(items: &[T]) -> Vec<u8> {
    let mut w = Writer::with_capacity(4 + items.len() * 64);
    w.fixed_u32(u32::try_from(items.len()).unwrap_or(u32::MAX));
    for item in items {
        item.encode(&mut w);
    }
    w.into_bytes()
}

/// Decodes a level list written by [`encode_list`].
pub fn decode_list<T: Decode>(bytes: &[u8]) -> Result<Vec<T>, DecodeError> {
    let mut r = Reader::new(bytes);
    let count = usize::try_from(r.fixed_u32("count")?).unwrap_or(usize::MAX);
    // Every item takes at least one byte: a count above what is left is
    // refused before allocating for it.
    if count > r.remaining() {
        return Err(DecodeError::UnexpectedEnd("list"));
    }
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        items.push(T::decode(&mut r)?);
    }
    r.finish()?;
    Ok(items)
}

/// Where an unfinished level stands between two kernel runs. It is kept
/// at [`paths::LEVEL_PROGRESS`] from a run that stops before the level's
/// inbox is read until the level's last run removes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The inbox level.
    pub level: u32,
    /// The level's runs so far.
    pub runs: u32,
    /// The index of the next inbox message to read.
    pub next_message: u32,
    /// Whether the protocol's level has begun (its due tasks ran).
    pub begun: bool,
}

impl Encode for Progress {
    fn encode(&self, w: &mut Writer) {
        w.fixed_u32(self.level);
        w.fixed_u32(self.runs);
        w.fixed_u32(self.next_message);
        w.u8(u8::from(self.begun));
    }
}

impl Decode for Progress {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Progress {
            level: r.fixed_u32("progress level")?,
            runs: r.fixed_u32("progress runs")?,
            next_message: r.fixed_u32("progress next message")?,
            begun: r.bool("progress begun")?,
        })
    }
}

/// One level's record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LevelRecord {
    /// The inbox level.
    pub number: u32,
    /// Every state change, in order: scheduled tasks first, then messages.
    pub events: Vec<Event>,
    /// One receipt per signed operation, in order.
    pub receipts: Vec<Receipt>,
    /// Notes about messages the kernel could not use, by message index.
    pub notices: Vec<Notice>,
    /// The protocol's state hash after the level (after its latest run,
    /// while it is unfinished).
    pub state_hash: [u8; 32],
    /// Why the level aborted, if it did. The operations and deposits of
    /// the runs before the one that failed stand; nothing from that run on
    /// changed the state.
    pub fault: Option<String>,
}

impl LevelRecord {
    /// The record as durable values: each part's path and its bytes, or
    /// `None` for a part to remove (the fault of a level that did not
    /// abort). Writing all of them replaces the previous level's record.
    pub fn parts(&self) -> [(RefPath<'static>, Option<Vec<u8>>); 6] {
        [
            (
                paths::LEVEL_NUMBER,
                Some(self.number.to_le_bytes().to_vec()),
            ),
            (paths::LEVEL_EVENTS, Some(encode_list(&self.events))),
            (paths::LEVEL_RECEIPTS, Some(encode_list(&self.receipts))),
            (paths::LEVEL_NOTICES, Some(encode_list(&self.notices))),
            (paths::LEVEL_STATE_HASH, Some(self.state_hash.to_vec())),
            (
                paths::LEVEL_FAULT,
                self.fault.as_ref().map(|f| f.as_bytes().to_vec()),
            ),
        ]
    }

    /// Rebuilds a record from its parts, `read` giving the value at each
    /// part's path; `None` when there is no record (before the first
    /// level).
    pub fn from_parts(
        mut read: impl FnMut(&RefPath<'static>) -> Result<Option<Vec<u8>>, RecordError>,
    ) -> Result<Option<Self>, RecordError> {
        let Some(number) = read(&paths::LEVEL_NUMBER)? else {
            return Ok(None);
        };
        let mut part = |path: RefPath<'static>| -> Result<Vec<u8>, RecordError> {
            read(&path)?.ok_or_else(|| RecordError::Missing(path.to_string()))
        };
        let decoded = |path: RefPath<'static>| {
            move |error: DecodeError| RecordError::Decode {
                part: path.to_string(),
                error,
            }
        };
        let number = {
            let mut r = Reader::new(&number);
            r.fixed_u32("level number")
                .and_then(|n| r.finish().map(|()| n))
                .map_err(decoded(paths::LEVEL_NUMBER))?
        };
        let events =
            decode_list(&part(paths::LEVEL_EVENTS)?).map_err(decoded(paths::LEVEL_EVENTS))?;
        let receipts =
            decode_list(&part(paths::LEVEL_RECEIPTS)?).map_err(decoded(paths::LEVEL_RECEIPTS))?;
        let notices =
            decode_list(&part(paths::LEVEL_NOTICES)?).map_err(decoded(paths::LEVEL_NOTICES))?;
        let state_hash = <[u8; 32]>::from_bytes(&part(paths::LEVEL_STATE_HASH)?)
            .map_err(decoded(paths::LEVEL_STATE_HASH))?;
        let fault = read(&paths::LEVEL_FAULT)?
            .map(|f| String::from_utf8(f).map_err(|_| DecodeError::InvalidUtf8("level fault")))
            .transpose()
            .map_err(decoded(paths::LEVEL_FAULT))?;
        Ok(Some(LevelRecord {
            number,
            events,
            receipts,
            notices,
            state_hash,
            fault,
        }))
    }
}

/// Why a stored level record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Durable storage, or the node serving it, failed.
    #[error("cannot read the level record: {0}")]
    Storage(String),
    /// A part of the record is missing.
    #[error("level record part {0} is missing")]
    Missing(String),
    /// A part does not decode.
    #[error("level record part {part} does not decode: {error}")]
    Decode {
        /// The part's durable path.
        part: String,
        /// Why it does not decode.
        error: DecodeError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use pledgeroll_contracts::{Address, AssetId, Created, Outcome, ProjectId};
    use std::collections::HashMap;

    fn alice() -> Address {
        "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx".parse().unwrap()
    }

    fn deposit(amount: u64) -> Event {
        Event::Deposited {
            account: alice(),
            asset: AssetId(0),
            amount,
        }
    }

    #[test]
    fn notices_round_trip_and_reject_unknown_kinds() {
        for kind in [
            NoticeKind::Unrecognised,
            NoticeKind::BatchRejected,
            NoticeKind::BatchDropped,
            NoticeKind::DepositRefunded,
            NoticeKind::DepositDropped,
            NoticeKind::UnknownSigner,
        ] {
            let n = Notice::new(3, kind, "why");
            assert_eq!(Notice::from_bytes(&n.to_bytes()), Ok(n));
        }
        let mut bytes = Notice::new(3, NoticeKind::Unrecognised, "x").to_bytes();
        bytes[1] = 9;
        assert!(Notice::from_bytes(&bytes).is_err());
    }

    #[test]
    fn long_details_are_cut_on_a_character_boundary() {
        let n = Notice::new(0, NoticeKind::Unrecognised, &"é".repeat(150));
        assert_eq!(n.detail.as_str().len(), MAX_DETAIL);
        let n = Notice::new(
            0,
            NoticeKind::Unrecognised,
            &format!("a{}", "é".repeat(150)),
        );
        assert_eq!(n.detail.as_str().len(), MAX_DETAIL - 1);
    }

    #[test]
    fn lists_round_trip_and_refuse_bad_counts() {
        let events = vec![deposit(5), deposit(7)];
        let bytes = encode_list(&events);
        assert_eq!(bytes.get(..4), Some(&2u32.to_le_bytes()[..]));
        assert_eq!(decode_list::<Event>(&bytes), Ok(events));
        assert_eq!(decode_list::<Event>(&encode_list::<Event>(&[])), Ok(vec![]));

        let mut lying = bytes.clone();
        lying[0] = 0xff;
        assert!(decode_list::<Event>(&lying).is_err());
        let mut trailing = bytes;
        trailing.push(0);
        assert_eq!(
            decode_list::<Event>(&trailing),
            Err(DecodeError::TrailingBytes(1))
        );
        assert!(decode_list::<Event>(&[1, 0]).is_err());
    }

    #[test]
    fn progress_round_trips_and_refuses_bad_bytes() {
        let p = Progress {
            level: 9,
            runs: 2,
            next_message: 1_234,
            begun: true,
        };
        let bytes = p.to_bytes();
        assert_eq!(bytes.len(), 13);
        assert_eq!(bytes.get(..4), Some(&9u32.to_le_bytes()[..]));
        assert_eq!(Progress::from_bytes(&bytes), Ok(p));
        let not_begun = Progress { begun: false, ..p };
        assert_eq!(Progress::from_bytes(&not_begun.to_bytes()), Ok(not_begun));
        let mut bad_flag = bytes.clone();
        bad_flag[12] = 2;
        assert!(Progress::from_bytes(&bad_flag).is_err());
        assert!(Progress::from_bytes(&bytes[..12]).is_err());
    }

    fn stored(record: &LevelRecord) -> HashMap<String, Vec<u8>> {
        record
            .parts()
            .into_iter()
            .filter_map(|(path, value)| Some((path.to_string(), value?)))
            .collect()
    }

    fn read_back(values: &HashMap<String, Vec<u8>>) -> Result<Option<LevelRecord>, RecordError> {
        LevelRecord::from_parts(|path| Ok(values.get(&path.to_string()).cloned()))
    }

    #[test]
    fn a_record_round_trips_through_its_parts() {
        let record = LevelRecord {
            number: 7,
            events: vec![deposit(1)],
            receipts: vec![Receipt {
                hash: [1; 32],
                signer: alice(),
                nonce: 0,
                outcome: Outcome::Applied {
                    created: Some(Created::Invoice {
                        project: ProjectId(3),
                        invoice: 4,
                    }),
                },
            }],
            notices: vec![Notice::new(2, NoticeKind::BatchRejected, "bad")],
            state_hash: [9; 32],
            fault: Some("broken".to_owned()),
        };
        assert_eq!(read_back(&stored(&record)), Ok(Some(record.clone())));
        let clean = LevelRecord {
            fault: None,
            ..record
        };
        assert_eq!(stored(&clean).len(), 5);
        assert_eq!(read_back(&stored(&clean)), Ok(Some(clean)));
        assert_eq!(read_back(&HashMap::new()), Ok(None));
    }

    #[test]
    fn a_record_with_a_missing_or_corrupt_part_is_refused() {
        let record = LevelRecord {
            number: 3,
            events: vec![deposit(2)],
            ..LevelRecord::default()
        };
        let mut missing = stored(&record);
        missing.remove(&paths::LEVEL_RECEIPTS.to_string());
        assert_eq!(
            read_back(&missing),
            Err(RecordError::Missing("/pledgeroll/level/receipts".into()))
        );
        let mut corrupt = stored(&record);
        if let Some(v) = corrupt.get_mut(&paths::LEVEL_EVENTS.to_string()) {
            v.push(0);
        }
        assert!(matches!(
            read_back(&corrupt),
            Err(RecordError::Decode { part, .. }) if part == "/pledgeroll/level/events"
        ));
        let mut not_text = stored(&record);
        not_text.insert(paths::LEVEL_FAULT.to_string(), vec![0xff]);
        assert!(matches!(
            read_back(&not_text),
            Err(RecordError::Decode { part, .. }) if part == "/pledgeroll/level/fault"
        ));
        let failing = LevelRecord::from_parts(|_| Err(RecordError::Storage("gone".into())));
        assert_eq!(failing, Err(RecordError::Storage("gone".into())));
    }
}
