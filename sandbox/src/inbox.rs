//! Inbox messages encoded exactly as Octez puts them in a rollup's inbox:
//! the start-of-level, info-per-level and end-of-level internal messages,
//! ticket deposits as internal transfers, and external messages in the
//! targeted frame.

use num_bigint::BigInt;
use tezos_crypto_rs::hash::{BlockHash, ContractKt1Hash, SmartRollupHash};
use tezos_data_encoding::types::Zarith;
use tezos_smart_rollup_encoding::contract::Contract;
use tezos_smart_rollup_encoding::inbox::{
    InboxMessage, InfoPerLevel, InternalInboxMessage, Transfer,
};
use tezos_smart_rollup_encoding::michelson::ticket::FA2_1Ticket;
use tezos_smart_rollup_encoding::michelson::{
    MichelsonBytes, MichelsonContract, MichelsonInt, MichelsonOption, MichelsonPair, MichelsonUnit,
};
use tezos_smart_rollup_encoding::public_key_hash::PublicKeyHash;
use tezos_smart_rollup_encoding::smart_rollup::SmartRollupAddress;
use tezos_smart_rollup_encoding::timestamp::Timestamp;

use pledgeroll_interface::frame;

use crate::host::MAX_MESSAGE_SIZE;

/// Why a message could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboxError {
    /// The message does not fit the 4,096 bytes of an inbox message.
    #[error("the message is {0} bytes, above the 4096 bytes an inbox message may take")]
    TooLarge(usize),
    /// An address does not parse.
    #[error("{0} is not a valid address")]
    Address(String),
    /// The ticket cannot be built (a zero amount, for one).
    #[error("invalid ticket: {0}")]
    Ticket(String),
    /// The encoder failed.
    #[error("cannot encode the message: {0}")]
    Encoding(String),
}

fn internal(message: InternalInboxMessage<MichelsonUnit>) -> Vec<u8> {
    let mut out = Vec::new();
    // Encoding these fixed internal messages cannot fail.
    let _ = InboxMessage::Internal(message).serialize(&mut out);
    out
}

/// The start-of-level message.
pub fn start_of_level() -> Vec<u8> {
    internal(InternalInboxMessage::StartOfLevel)
}

/// The end-of-level message.
pub fn end_of_level() -> Vec<u8> {
    internal(InternalInboxMessage::EndOfLevel)
}

/// The info-per-level message: the predecessor block's time and hash.
pub fn info_per_level(predecessor_timestamp: i64, predecessor: [u8; 32]) -> Vec<u8> {
    internal(InternalInboxMessage::InfoPerLevel(InfoPerLevel {
        predecessor_timestamp: Timestamp::from(predecessor_timestamp),
        predecessor: BlockHash(predecessor.to_vec()),
    }))
}

/// `payload` as an external inbox message.
pub fn external(payload: &[u8]) -> Result<Vec<u8>, InboxError> {
    let mut out = Vec::with_capacity(payload.len() + 1);
    InboxMessage::<MichelsonUnit>::External(payload)
        .serialize(&mut out)
        .map_err(|e| InboxError::Encoding(e.to_string()))?;
    if out.len() > MAX_MESSAGE_SIZE {
        return Err(InboxError::TooLarge(out.len()));
    }
    Ok(out)
}

/// An L2 message as the batcher sends it: kept as it is if it already is
/// framed for `rollup`, framed for it otherwise, then made an external
/// message.
pub fn batcher_message(rollup: [u8; 20], l2_message: &[u8]) -> Result<Vec<u8>, InboxError> {
    if frame::is_targeted_at(l2_message, &rollup) {
        external(l2_message)
    } else {
        external(&frame::targeted(&rollup, l2_message))
    }
}

/// A ticket `(token_id, metadata)` of `amount` units minted by `ticketer`.
pub fn ticket(
    ticketer: [u8; 20],
    token_id: u64,
    metadata: Option<&[u8]>,
    amount: impl Into<BigInt>,
) -> Result<FA2_1Ticket, InboxError> {
    FA2_1Ticket::new(
        Contract::Originated(ContractKt1Hash(ticketer.to_vec())),
        MichelsonPair(
            MichelsonInt(Zarith(token_id.into())),
            MichelsonOption(metadata.map(|m| MichelsonBytes(m.to_vec()))),
        ),
        amount,
    )
    .map_err(|e| InboxError::Ticket(e.to_string()))
}

/// A deposit: the ticketer `sender` transfers `ticket` to the rollup with
/// the parameter `pair address ticket`, `receiver` first, on behalf of the
/// implicit account `source`.
pub fn deposit(
    rollup: [u8; 20],
    sender: [u8; 20],
    source: &str,
    receiver: &str,
    ticket: FA2_1Ticket,
) -> Result<Vec<u8>, InboxError> {
    let receiver =
        Contract::from_b58check(receiver).map_err(|_| InboxError::Address(receiver.to_owned()))?;
    let source =
        PublicKeyHash::from_b58check(source).map_err(|_| InboxError::Address(source.to_owned()))?;
    let transfer = Transfer {
        payload: MichelsonPair(MichelsonContract(receiver), ticket),
        sender: ContractKt1Hash(sender.to_vec()),
        source,
        destination: SmartRollupAddress::new(SmartRollupHash(rollup.to_vec())),
    };
    let mut out = Vec::new();
    InboxMessage::Internal(InternalInboxMessage::Transfer(transfer))
        .serialize(&mut out)
        .map_err(|e| InboxError::Encoding(e.to_string()))?;
    if out.len() > MAX_MESSAGE_SIZE {
        return Err(InboxError::TooLarge(out.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tezos_smart_rollup_encoding::michelson::MichelsonBytes as Bytes;

    #[test]
    fn level_markers_are_the_octez_bytes() {
        assert_eq!(start_of_level(), vec![0, 1]);
        assert_eq!(end_of_level(), vec![0, 2]);
        let info = info_per_level(1_700_000_000, [7; 32]);
        assert_eq!(info[..2], [0, 3]);
        assert_eq!(info[2..10], 1_700_000_000i64.to_be_bytes());
        assert_eq!(info[10..], [7; 32]);
        match InboxMessage::<MichelsonUnit>::parse(&info).unwrap().1 {
            InboxMessage::Internal(InternalInboxMessage::InfoPerLevel(i)) => {
                assert_eq!(i.predecessor_timestamp.i64(), 1_700_000_000);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn batcher_messages_are_framed_once() {
        let rollup = [5; 20];
        let framed = batcher_message(rollup, b"ops").unwrap();
        assert_eq!(framed[..2], [1, 0]);
        assert_eq!(framed[2..22], rollup);
        assert_eq!(&framed[22..], b"ops");
        let again = batcher_message(rollup, &framed[1..]).unwrap();
        assert_eq!(again, framed);
        assert!(batcher_message(rollup, &[0; 4074]).is_ok());
        assert_eq!(
            batcher_message(rollup, &[1; 4075]),
            Err(InboxError::TooLarge(4097))
        );
    }

    #[test]
    fn deposits_carry_the_receiver_and_the_ticket() {
        let rollup = [5; 20];
        let t = || ticket([3; 20], 0, None, 1_000u64).unwrap();
        let bytes = deposit(
            rollup,
            [3; 20],
            "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx",
            "tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN",
            t(),
        )
        .unwrap();
        type Param = MichelsonPair<Bytes, FA2_1Ticket>;
        let (rest, parsed) = InboxMessage::<Param>::parse(&bytes).unwrap();
        assert!(rest.is_empty());
        let InboxMessage::Internal(InternalInboxMessage::Transfer(tr)) = parsed else {
            panic!("not a transfer");
        };
        assert_eq!(tr.payload.1, t());
        assert_eq!(tr.destination.hash().0, rollup.to_vec());
        assert_eq!(tr.payload.0 .0.len(), 22);
        assert!(ticket([3; 20], 0, None, 0u64).is_err());
        assert!(deposit(
            rollup,
            [3; 20],
            "nope",
            "tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN",
            t()
        )
        .is_err());
    }
}
