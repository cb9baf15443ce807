//! One inbox message, sorted by the kernel's `inbox::classify` and read on
//! as the kernel reads it: a batch by `Batch::parse`, a deposit by
//! `inbox::read_deposit` and, when it is not credited, returned by
//! `outbox::refund_message`.
//!
//! The message is any bytes, a ticket transfer whose parameter is any
//! bytes, or a well-formed deposit built from fuzzed parts. Checks: no
//! panic; a batch that decodes is canonical; a transfer to another rollup
//! is never taken as this rollup's; a well-formed deposit is credited
//! exactly when its receiver, token id, metadata and amount are within the
//! rollup's bounds, and any ticket of a positive amount can be sent back.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use num_bigint::{BigInt, Sign};
use pledgeroll_contracts::asset::MAX_TICKET_METADATA;
use pledgeroll_contracts::Batch;
use pledgeroll_fuzz::harness::Raw;
use pledgeroll_fuzz::{decode_canonical, ROLLUP};
use pledgeroll_kernel::inbox::{self, Input};
use pledgeroll_kernel::outbox;
use tezos_crypto_rs::hash::{ContractKt1Hash, ContractTz1Hash, SmartRollupHash};
use tezos_data_encoding::types::Zarith;
use tezos_smart_rollup_encoding::contract::Contract as L1Contract;
use tezos_smart_rollup_encoding::inbox::{InboxMessage, InternalInboxMessage, Transfer};
use tezos_smart_rollup_encoding::michelson::ticket::FA2_1Ticket;
use tezos_smart_rollup_encoding::michelson::{
    Michelson, MichelsonBytes, MichelsonInt, MichelsonOption, MichelsonPair,
};
use tezos_smart_rollup_encoding::public_key_hash::PublicKeyHash;
use tezos_smart_rollup_encoding::smart_rollup::SmartRollupAddress;

/// Who a deposit credits, as the binary form of a Michelson address.
#[derive(Arbitrary, Debug)]
enum Receiver<'a> {
    /// A `tz1`/`tz2`/`tz3` account (curve tag taken modulo 4, so an unknown
    /// curve is tried too).
    Implicit { curve: u8, hash: [u8; 20] },
    /// Any bytes.
    Bytes(&'a [u8]),
}

impl Receiver<'_> {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Receiver::Implicit { curve, hash } => {
                let mut out = vec![0, curve % 4];
                out.extend_from_slice(hash);
                out
            }
            Receiver::Bytes(bytes) => bytes.to_vec(),
        }
    }

    /// Whether the rollup can credit this receiver: the binary form of a
    /// tz1, tz2 or tz3 address (tag 0, curve 0 to 2, a 20-byte hash),
    /// however the fuzzer made it.
    fn is_account(&self) -> bool {
        matches!(self.bytes().as_slice(), [0, curve, hash @ ..] if *curve < 3 && hash.len() == 20)
    }
}

/// The rollup a transfer is for.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Rollup {
    This,
    Other([u8; 20]),
}

impl Rollup {
    fn address(self) -> [u8; 20] {
        match self {
            Rollup::This => ROLLUP,
            Rollup::Other(address) => address,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Message<'a> {
    /// Any bytes.
    Raw(&'a [u8]),
    /// A ticket transfer from layer 1 whose parameter is any bytes.
    Transfer {
        parameter: &'a [u8],
        sender: [u8; 20],
        destination: Rollup,
    },
    /// A deposit whose parameter has the rollup's type.
    Deposit {
        receiver: Receiver<'a>,
        ticketer: [u8; 20],
        token_id: i128,
        metadata: Option<&'a [u8]>,
        amount: i128,
        destination: Rollup,
    },
}

/// The bytes of a transfer of `payload` from the contract `sender` to the
/// rollup `destination`.
fn transfer(payload: impl Michelson, sender: [u8; 20], destination: [u8; 20]) -> Option<Vec<u8>> {
    let message = InboxMessage::Internal(InternalInboxMessage::Transfer(Transfer {
        payload,
        sender: ContractKt1Hash(sender.to_vec()),
        source: PublicKeyHash::Ed25519(ContractTz1Hash(vec![7; 20])),
        destination: SmartRollupAddress::new(SmartRollupHash(destination.to_vec())),
    }));
    let mut out = Vec::new();
    message.serialize(&mut out).ok()?;
    Some(out)
}

/// Reads `bytes` as the kernel does; returns whether it was taken as a
/// deposit, and whether that deposit was credited.
fn read(bytes: &[u8]) -> Option<bool> {
    match inbox::classify(bytes, &ROLLUP) {
        Input::Operations(payload) => {
            if let Ok(batch) = Batch::parse(payload) {
                assert!(decode_canonical::<Batch>(payload).is_some_and(|(b, _)| b == batch));
            }
            None
        }
        Input::Deposit(transfer) => {
            let deposit = inbox::read_deposit(*transfer);
            let positive = deposit.ticket.amount().sign() == Sign::Plus;
            if let Ok(credit) = &deposit.credit {
                assert_eq!(BigInt::from(credit.amount), *deposit.ticket.amount());
                assert!(credit
                    .ticket
                    .metadata
                    .as_ref()
                    .is_none_or(|m| m.len() <= MAX_TICKET_METADATA));
            }
            let credited = deposit.credit.is_ok();
            let refund = outbox::refund_message(deposit.sender, deposit.ticket);
            assert_eq!(
                refund.is_some(),
                positive,
                "a ticket of a positive amount has no refund message, or one of none has"
            );
            Some(credited)
        }
        Input::StartOfLevel
        | Input::EndOfLevel
        | Input::LevelInfo { .. }
        | Input::Foreign
        | Input::Unrecognised(_) => None,
    }
}

fuzz_target!(|message: Message<'_>| {
    match message {
        Message::Raw(bytes) => {
            read(bytes);
        }
        Message::Transfer {
            parameter,
            sender,
            destination,
        } => {
            let destination = destination.address();
            let Some(bytes) = transfer(Raw(parameter.to_vec()), sender, destination) else {
                return;
            };
            let input = inbox::classify(&bytes, &ROLLUP);
            if destination != ROLLUP {
                assert!(
                    matches!(input, Input::Foreign),
                    "a transfer to another rollup is read as {input:?}"
                );
            } else {
                assert!(
                    matches!(input, Input::Deposit(_) | Input::Unrecognised(_)),
                    "a transfer to this rollup is read as {input:?}"
                );
            }
            read(&bytes);
        }
        Message::Deposit {
            receiver,
            ticketer,
            token_id,
            metadata,
            amount,
            destination,
        } => {
            let contents = MichelsonPair(
                MichelsonInt(Zarith(BigInt::from(token_id))),
                MichelsonOption(metadata.map(|m| MichelsonBytes(m.to_vec()))),
            );
            let ticketer = L1Contract::Originated(ContractKt1Hash(ticketer.to_vec()));
            // Layer 1 mints no ticket of no units; the SDK refuses to build one.
            let Ok(ticket) = FA2_1Ticket::new(ticketer, contents, amount) else {
                return;
            };
            let parameter = MichelsonPair(MichelsonBytes(receiver.bytes()), ticket);
            let destination = destination.address();
            let Some(bytes) = transfer(parameter, [3; 20], destination) else {
                return;
            };
            let credited = read(&bytes);
            if destination != ROLLUP {
                assert_eq!(credited, None, "a deposit to another rollup is taken");
                return;
            }
            let within = receiver.is_account()
                && u64::try_from(token_id).is_ok()
                && metadata.is_none_or(|m| m.len() <= MAX_TICKET_METADATA)
                && u64::try_from(amount).is_ok();
            assert_eq!(
                credited,
                Some(within),
                "a deposit of {amount} units of token {token_id} is credited or not wrongly"
            );
        }
    }
});
