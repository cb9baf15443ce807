//! Every record type read back from durable storage or from a level record,
//! the first input byte choosing the type and the rest being the stored
//! value: each read refuses the bytes or returns a value whose encoding is
//! exactly the bytes it consumed, and never panics.

#![no_main]

use core::fmt::Debug;

use libfuzzer_sys::fuzz_target;
use pledgeroll_contracts::asset::Supply;
use pledgeroll_contracts::escrow::{EscrowAsset, Funder, Invoice, Project, WorkTicket};
use pledgeroll_contracts::schedule::Entry;
use pledgeroll_contracts::state::{Account, Clock, Counters, Creator, PatronPledges, Pledge, Tier};
use pledgeroll_contracts::stream::Flow;
use pledgeroll_contracts::{
    Address, AssetId, Decode, Encode, Event, PledgeId, Receipt, Ticket, Withdrawal,
};
use pledgeroll_fuzz::decode_whole;
use pledgeroll_interface::{Notice, Progress};

/// One reader per record type.
const READERS: &[fn(&[u8])] = &[
    // The protocol's state (`contracts::keys`).
    read::<Clock>,
    read::<Counters>,
    read::<Account>,
    read::<Address>,
    read::<PatronPledges>,
    read::<Flow>,
    read::<u64>,
    read::<PledgeId>,
    read::<Ticket>,
    read::<AssetId>,
    read::<Supply>,
    read::<Creator>,
    read::<Tier>,
    read::<Pledge>,
    read::<Project>,
    read::<EscrowAsset>,
    read::<Invoice>,
    read::<WorkTicket>,
    read::<Funder>,
    read::<Entry>,
    // The level record's items, and where an unfinished level stands.
    read::<Event>,
    read::<Receipt>,
    read::<Notice>,
    read::<Progress>,
    // What a withdrawal asks of the outbox.
    read::<Withdrawal>,
];

fn read<T: Decode + Encode + Debug>(bytes: &[u8]) {
    decode_whole::<T>(bytes);
}

fuzz_target!(|data: &[u8]| {
    let Some((choice, value)) = data.split_first() else {
        return;
    };
    if let Some(reader) = READERS.get(usize::from(*choice) % READERS.len()) {
        reader(value);
    }
});
