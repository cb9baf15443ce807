//! What an inbox message is to this rollup: level markers, a batch of signed
//! operations, a ticket deposit, a message for another rollup, or bytes the
//! kernel cannot use.

use num_bigint::{BigInt, Sign};
use pledgeroll_contracts::asset::MAX_TICKET_METADATA;
use pledgeroll_contracts::crypto::Curve;
use pledgeroll_contracts::{Address, Contract, Ticket};
use tezos_crypto_rs::hash::ContractKt1Hash;
use tezos_data_encoding::types::Zarith;
use tezos_smart_rollup_encoding::contract::Contract as L1Contract;
use tezos_smart_rollup_encoding::inbox::{
    ExternalMessageFrame, InboxMessage, InternalInboxMessage, Transfer,
};
use tezos_smart_rollup_encoding::michelson::ticket::FA2_1Ticket;
use tezos_smart_rollup_encoding::michelson::{
    MichelsonBytes, MichelsonInt, MichelsonOption, MichelsonPair,
};
use tezos_smart_rollup_encoding::public_key_hash::PublicKeyHash;

/// The rollup's parameter type, `pair address (ticket (pair nat (option
/// bytes)))`: who to credit, and the ticket. The address is kept as its
/// binary form so that a receiver of any kind (an originated contract, an
/// address with an entrypoint) is still read and its ticket returned.
pub type DepositParameter = MichelsonPair<MichelsonBytes, FA2_1Ticket>;

/// Length of a rollup address in a message.
const ROLLUP_ADDRESS_LEN: usize = 20;

/// One inbox message, as far as this rollup is concerned.
#[derive(Debug)]
pub enum Input<'a> {
    /// The level starts.
    StartOfLevel,
    /// The level ends.
    EndOfLevel,
    /// The level's information: the previous layer-1 block's time.
    LevelInfo {
        /// Seconds since the Unix epoch.
        timestamp: i64,
    },
    /// A targeted external message for this rollup: a batch's bytes.
    Operations(&'a [u8]),
    /// A ticket transfer from layer 1 to this rollup.
    Deposit(Box<Transfer<DepositParameter>>),
    /// A message for another rollup.
    Foreign,
    /// Bytes this kernel cannot use, and why.
    Unrecognised(&'static str),
}

/// Sorts `bytes`, one inbox message, for the rollup at `rollup`.
pub fn classify<'a>(bytes: &'a [u8], rollup: &[u8; 20]) -> Input<'a> {
    match bytes.split_first() {
        Some((0, _)) => classify_internal(bytes, rollup),
        Some((1, rest)) => classify_external(rest, rollup),
        Some(_) => Input::Unrecognised("unknown inbox message tag"),
        None => Input::Unrecognised("empty inbox message"),
    }
}

fn classify_internal<'a>(bytes: &'a [u8], rollup: &[u8; 20]) -> Input<'a> {
    match InboxMessage::<DepositParameter>::parse(bytes) {
        Ok(([], InboxMessage::Internal(message))) => match message {
            InternalInboxMessage::StartOfLevel => Input::StartOfLevel,
            InternalInboxMessage::EndOfLevel => Input::EndOfLevel,
            InternalInboxMessage::InfoPerLevel(info) => Input::LevelInfo {
                timestamp: info.predecessor_timestamp.i64(),
            },
            InternalInboxMessage::Transfer(transfer) => {
                if transfer.destination.hash().0.as_slice() == rollup.as_slice() {
                    Input::Deposit(Box::new(transfer))
                } else {
                    Input::Foreign
                }
            }
        },
        Ok(_) => Input::Unrecognised("internal message with trailing bytes"),
        // A transfer ends with its destination rollup, so a transfer of
        // another parameter type is recognised as another rollup's without
        // reading its parameter.
        Err(_) => match (bytes.get(1), last_address(bytes)) {
            (Some(0), Some(dest)) if dest != rollup.as_slice() => Input::Foreign,
            (Some(0), _) => Input::Unrecognised(
                "transfer whose parameter is not `pair address (ticket (pair nat (option bytes)))`",
            ),
            _ => Input::Unrecognised("malformed internal message"),
        },
    }
}

fn last_address(bytes: &[u8]) -> Option<&[u8]> {
    bytes
        .len()
        .checked_sub(ROLLUP_ADDRESS_LEN)
        .and_then(|start| bytes.get(start..))
}

fn classify_external<'a>(rest: &'a [u8], rollup: &[u8; 20]) -> Input<'a> {
    match ExternalMessageFrame::parse(rest) {
        Ok(ExternalMessageFrame::Targetted { address, contents }) => {
            if address.hash().0.as_slice() == rollup.as_slice() {
                Input::Operations(contents)
            } else {
                Input::Foreign
            }
        }
        Err(_) => match rest.first() {
            Some(0) => Input::Unrecognised("truncated targeted external message frame"),
            _ => Input::Unrecognised("external message without a targeted frame"),
        },
    }
}

/// What a deposit asks of the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    /// The account credited.
    pub receiver: Address,
    /// The ticket kind.
    pub ticket: Ticket,
    /// Base units.
    pub amount: u64,
}

/// A deposit read from its transfer: what to credit, or why it cannot be,
/// and the ticket itself, to send back if it is not credited.
#[derive(Debug)]
pub struct Deposit {
    /// What to credit, or why the deposit cannot be credited.
    pub credit: Result<Credit, &'static str>,
    /// The contract that sent the ticket; it gets the ticket back.
    pub sender: ContractKt1Hash,
    /// The ticket as it arrived.
    pub ticket: FA2_1Ticket,
}

/// Reads a deposit transfer.
pub fn read_deposit(transfer: Transfer<DepositParameter>) -> Deposit {
    let MichelsonPair(MichelsonBytes(receiver), ticket) = transfer.payload;
    Deposit {
        credit: credit(&receiver, &ticket),
        sender: transfer.sender,
        ticket,
    }
}

fn credit(receiver: &[u8], ticket: &FA2_1Ticket) -> Result<Credit, &'static str> {
    let receiver = implicit_account(receiver).ok_or(
        "the receiver is not a tz1, tz2 or tz3 account; the rollup credits implicit accounts only",
    )?;
    let ticketer = contract(&ticket.creator().0).ok_or("the ticketer is not a valid contract")?;
    let MichelsonPair(MichelsonInt(Zarith(token_id)), MichelsonOption(metadata)) =
        ticket.contents();
    let token_id = to_u64(token_id).ok_or("the ticket's token id is above 2^64 - 1")?;
    let metadata = metadata.as_ref().map(|MichelsonBytes(m)| m.clone());
    if metadata
        .as_ref()
        .is_some_and(|m| m.len() > MAX_TICKET_METADATA)
    {
        return Err("the ticket's metadata is longer than 256 bytes");
    }
    let amount = to_u64(ticket.amount()).ok_or("the ticket amount is above 2^64 - 1")?;
    Ok(Credit {
        receiver,
        ticket: Ticket {
            ticketer,
            token_id,
            metadata,
        },
        amount,
    })
}

/// `n` if it is a natural number below 2^64. (`num-bigint`'s `TryFrom`
/// impls depend on a compiler probe that a `build-std` build skips.)
fn to_u64(n: &BigInt) -> Option<u64> {
    let (sign, digits) = n.to_u64_digits();
    match (sign, digits.as_slice()) {
        (Sign::NoSign, []) => Some(0),
        (Sign::Plus, [d]) => Some(*d),
        _ => None,
    }
}

/// A `tz1`/`tz2`/`tz3` account from the binary form of a Michelson address
/// (no entrypoint), or `None` for any other address.
fn implicit_account(bytes: &[u8]) -> Option<Address> {
    let (tag, rest) = bytes.split_first()?;
    let (curve, hash) = rest.split_first()?;
    if *tag != 0 {
        return None;
    }
    let curve = match curve {
        0 => Curve::Ed25519,
        1 => Curve::Secp256k1,
        2 => Curve::P256,
        _ => return None,
    };
    Some(Address::new(curve, hash.try_into().ok()?))
}

/// The protocol's form of a layer-1 contract.
pub fn contract(c: &L1Contract) -> Option<Contract> {
    match c {
        L1Contract::Implicit(pkh) => {
            let (curve, hash) = match pkh {
                PublicKeyHash::Ed25519(h) => (Curve::Ed25519, &h.0),
                PublicKeyHash::Secp256k1(h) => (Curve::Secp256k1, &h.0),
                PublicKeyHash::P256(h) => (Curve::P256, &h.0),
            };
            Some(Contract::Implicit(Address::new(
                curve,
                hash.as_slice().try_into().ok()?,
            )))
        }
        L1Contract::Originated(kt1) => {
            Some(Contract::Originated(kt1.0.as_slice().try_into().ok()?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address_bytes(c: &L1Contract) -> Vec<u8> {
        use tezos_data_encoding::enc::BinWriter;
        let mut out = Vec::new();
        c.bin_write(&mut out).unwrap();
        out
    }

    fn ticket(amount: u64, token: u64, metadata: Option<Vec<u8>>) -> FA2_1Ticket {
        FA2_1Ticket::new(
            L1Contract::from_b58check("KT1NgXQ6Mwu3XKFDcKdYFS6dkkY3iNKdBKEc").unwrap(),
            MichelsonPair(
                MichelsonInt(Zarith(token.into())),
                MichelsonOption(metadata.map(MichelsonBytes)),
            ),
            amount,
        )
        .unwrap()
    }

    #[test]
    fn implicit_receivers_are_read_and_others_refused() {
        let tz1 = L1Contract::from_b58check("tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx").unwrap();
        let account = implicit_account(&address_bytes(&tz1)).unwrap();
        assert_eq!(account.to_string(), "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx");
        let kt1 = L1Contract::from_b58check("KT1NgXQ6Mwu3XKFDcKdYFS6dkkY3iNKdBKEc").unwrap();
        assert_eq!(implicit_account(&address_bytes(&kt1)), None);
        let mut with_entrypoint = address_bytes(&tz1);
        with_entrypoint.extend_from_slice(b"foo");
        assert_eq!(implicit_account(&with_entrypoint), None);
        assert_eq!(implicit_account(&[0, 7]), None);
        assert_eq!(implicit_account(&[]), None);
    }

    #[test]
    fn tickets_become_protocol_tickets_within_bounds() {
        let receiver = L1Contract::from_b58check("tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx").unwrap();
        let bytes = address_bytes(&receiver);
        let ok = credit(&bytes, &ticket(5, 3, Some(vec![1, 2]))).unwrap();
        assert_eq!(ok.amount, 5);
        assert_eq!(ok.ticket.token_id, 3);
        assert_eq!(ok.ticket.metadata, Some(vec![1, 2]));
        assert_eq!(
            ok.ticket.ticketer.to_string(),
            "KT1NgXQ6Mwu3XKFDcKdYFS6dkkY3iNKdBKEc"
        );
        assert!(credit(&bytes, &ticket(5, 3, Some(vec![0; 257]))).is_err());
        assert!(credit(&bytes, &ticket(5, 3, Some(vec![0; 256]))).is_ok());

        let huge = FA2_1Ticket::new(
            L1Contract::from_b58check("KT1NgXQ6Mwu3XKFDcKdYFS6dkkY3iNKdBKEc").unwrap(),
            MichelsonPair(MichelsonInt(Zarith(u64::MAX.into())), MichelsonOption(None)),
            num_bigint::BigInt::from(u64::MAX) + 1,
        )
        .unwrap();
        assert_eq!(
            credit(&bytes, &huge).unwrap_err(),
            "the ticket amount is above 2^64 - 1"
        );
    }

    #[test]
    fn only_naturals_below_2_64_are_u64() {
        assert_eq!(to_u64(&BigInt::from(0)), Some(0));
        assert_eq!(to_u64(&BigInt::from(u64::MAX)), Some(u64::MAX));
        assert_eq!(to_u64(&(BigInt::from(u64::MAX) + 1)), None);
        assert_eq!(to_u64(&BigInt::from(-1)), None);
    }

    #[test]
    fn empty_and_unknown_messages_are_unrecognised() {
        let me = [7u8; 20];
        assert!(matches!(classify(&[], &me), Input::Unrecognised(_)));
        assert!(matches!(classify(&[9, 1], &me), Input::Unrecognised(_)));
        assert!(matches!(classify(&[1], &me), Input::Unrecognised(_)));
        assert!(matches!(
            classify(&[1, 0, 7, 7], &me),
            Input::Unrecognised("truncated targeted external message frame")
        ));
        let mut framed = vec![1, 0];
        framed.extend_from_slice(&me);
        framed.extend_from_slice(b"ops");
        assert!(matches!(classify(&framed, &me), Input::Operations(b"ops")));
        assert!(matches!(classify(&framed, &[8; 20]), Input::Foreign));
        assert!(matches!(classify(&[0, 1], &me), Input::StartOfLevel));
        assert!(matches!(classify(&[0, 2], &me), Input::EndOfLevel));
        assert!(matches!(classify(&[0, 1, 0], &me), Input::Unrecognised(_)));
    }
}
