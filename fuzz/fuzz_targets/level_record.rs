//! The level record as a reader rebuilds it from its durable parts
//! (`LevelRecord::from_parts`), each part any bytes or missing, and its
//! lists read alone (`record::decode_list`). Checks: no panic, and a record
//! that reads writes back (`LevelRecord::parts`) to exactly the parts it
//! was read from.

#![no_main]

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pledgeroll_contracts::{Event, Receipt};
use pledgeroll_fuzz::hex;
use pledgeroll_interface::paths;
use pledgeroll_interface::record::{decode_list, encode_list, LevelRecord, Notice, RecordError};

/// One stored part: missing, any bytes, or bytes of the part's layout
/// (so that whole records read often enough for their parts to be tried).
#[derive(Arbitrary, Debug)]
enum Part<T> {
    Missing,
    Bytes(Vec<u8>),
    Laid(T),
}

/// A level list's layout: a little-endian count, then the items' bytes.
#[derive(Arbitrary, Debug)]
struct ListBytes {
    count: u8,
    items: Vec<u8>,
}

/// The stored parts of a record, as a rollup node serves them.
#[derive(Arbitrary, Debug)]
struct Parts {
    number: Part<u32>,
    events: Part<ListBytes>,
    receipts: Part<ListBytes>,
    notices: Part<ListBytes>,
    state_hash: Part<[u8; 32]>,
    fault: Part<String>,
}

fn bytes<T>(part: &Part<T>, lay: impl FnOnce(&T) -> Vec<u8>) -> Option<Vec<u8>> {
    match part {
        Part::Missing => None,
        Part::Bytes(bytes) => Some(bytes.clone()),
        Part::Laid(value) => Some(lay(value)),
    }
}

fn list_bytes(list: &ListBytes) -> Vec<u8> {
    let mut out = u32::from(list.count).to_le_bytes().to_vec();
    out.extend_from_slice(&list.items);
    out
}

impl Parts {
    fn stored(&self) -> BTreeMap<String, Vec<u8>> {
        [
            (
                paths::LEVEL_NUMBER,
                bytes(&self.number, |n| n.to_le_bytes().to_vec()),
            ),
            (paths::LEVEL_EVENTS, bytes(&self.events, list_bytes)),
            (paths::LEVEL_RECEIPTS, bytes(&self.receipts, list_bytes)),
            (paths::LEVEL_NOTICES, bytes(&self.notices, list_bytes)),
            (
                paths::LEVEL_STATE_HASH,
                bytes(&self.state_hash, |h| h.to_vec()),
            ),
            (
                paths::LEVEL_FAULT,
                bytes(&self.fault, |f| f.as_bytes().to_vec()),
            ),
        ]
        .into_iter()
        .filter_map(|(path, value)| Some((path.to_string(), value?)))
        .collect()
    }
}

/// Reads a level list of `T`; one that reads writes back to the same bytes.
fn list<T: pledgeroll_contracts::Decode + pledgeroll_contracts::Encode>(bytes: &[u8]) {
    if let Ok(items) = decode_list::<T>(bytes) {
        let written = encode_list(&items);
        assert!(
            written == bytes,
            "a list of {} read from {} writes back as {}",
            core::any::type_name::<T>(),
            hex(bytes),
            hex(&written)
        );
    }
}

fuzz_target!(|parts: Parts| {
    let stored = parts.stored();
    let read = LevelRecord::from_parts(|path| {
        Ok::<_, RecordError>(stored.get(&path.to_string()).cloned())
    });
    if let Ok(Some(record)) = read {
        let written: BTreeMap<String, Vec<u8>> = record
            .parts()
            .into_iter()
            .filter_map(|(path, value)| Some((path.to_string(), value?)))
            .collect();
        for (path, value) in &stored {
            let again = written.get(path);
            assert!(
                again == Some(value),
                "level record part {path} read from {} writes back as {}",
                hex(value),
                again.map_or_else(|| "nothing".to_owned(), |v| hex(v)),
            );
        }
        assert_eq!(
            written.len(),
            stored.len(),
            "the record writes parts it was not read from"
        );
    }
    for path in [
        paths::LEVEL_EVENTS,
        paths::LEVEL_RECEIPTS,
        paths::LEVEL_NOTICES,
    ] {
        if let Some(bytes) = stored.get(&path.to_string()) {
            list::<Event>(bytes);
            list::<Receipt>(bytes);
            list::<Notice>(bytes);
        }
    }
});
