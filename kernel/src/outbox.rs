//! Tickets going back to layer 1: outbox messages for withdrawals and for
//! deposits the rollup could not credit, and the durable FIFO queue that
//! holds them beyond the host's limit of messages per level.

use pledgeroll_contracts::crypto::Curve;
use pledgeroll_contracts::{Contract, Ticket, Withdrawal};
use tezos_crypto_rs::hash::{ContractKt1Hash, ContractTz1Hash, ContractTz2Hash, ContractTz3Hash};
use tezos_data_encoding::enc::BinWriter;
use tezos_data_encoding::types::Zarith;
use tezos_smart_rollup_encoding::contract::Contract as L1Contract;
use tezos_smart_rollup_encoding::entrypoint::Entrypoint;
use tezos_smart_rollup_encoding::michelson::ticket::FA2_1Ticket;
use tezos_smart_rollup_encoding::michelson::{
    Michelson, MichelsonBytes, MichelsonContract, MichelsonInt, MichelsonOption, MichelsonPair,
};
use tezos_smart_rollup_encoding::outbox::{OutboxMessage, OutboxMessageTransaction};
use tezos_smart_rollup_encoding::public_key_hash::PublicKeyHash;
use tezos_smart_rollup_host::runtime::Runtime;

use crate::durable::Pending;
use crate::error::Abort;
use pledgeroll_interface::paths;

pub use pledgeroll_interface::pvm::MAX_OUTBOX_PER_LEVEL;

/// The layer-1 form of a protocol contract, as a ticket's ticketer.
pub fn l1_contract(c: &Contract) -> L1Contract {
    match c {
        Contract::Implicit(a) => {
            let hash = a.hash().to_vec();
            L1Contract::Implicit(match a.curve() {
                Curve::Ed25519 => PublicKeyHash::Ed25519(ContractTz1Hash(hash)),
                Curve::Secp256k1 => PublicKeyHash::Secp256k1(ContractTz2Hash(hash)),
                Curve::P256 => PublicKeyHash::P256(ContractTz3Hash(hash)),
            })
        }
        Contract::Originated(h) => L1Contract::Originated(ContractKt1Hash(h.to_vec())),
    }
}

/// The layer-1 ticket of `amount` units of `ticket`.
pub fn l1_ticket(ticket: &Ticket, amount: u64) -> Result<FA2_1Ticket, Abort> {
    FA2_1Ticket::new(
        l1_contract(&ticket.ticketer),
        MichelsonPair(
            MichelsonInt(Zarith(ticket.token_id.into())),
            MichelsonOption(ticket.metadata.clone().map(MichelsonBytes)),
        ),
        amount,
    )
    .map_err(|e| Abort::Outbox(e.to_string()))
}

/// The contract an outbox transaction can call: Octez encodes its
/// destination as an originated contract (`KT1…`), so an implicit account
/// (`tz…`) has no outbox form and gets `None`.
pub fn outbox_destination(c: &Contract) -> Option<ContractKt1Hash> {
    match c {
        Contract::Originated(hash) => Some(ContractKt1Hash(hash.to_vec())),
        Contract::Implicit(_) => None,
    }
}

fn transaction_message<P: Michelson>(
    parameters: P,
    destination: ContractKt1Hash,
    entrypoint: Entrypoint,
) -> Result<Vec<u8>, Abort> {
    let message = OutboxMessage::AtomicTransactionBatch(
        vec![OutboxMessageTransaction {
            parameters,
            destination: L1Contract::Originated(destination),
            entrypoint,
        }]
        .into(),
    );
    let mut out = Vec::new();
    message
        .bin_write(&mut out)
        .map_err(|e| Abort::Outbox(e.to_string()))?;
    Ok(out)
}

/// The outbox message that carries a withdrawal: one transaction.
///
/// - To a contract (`KT1`): the ticket, to the contract's entrypoint.
/// - To an account (`tz`): `Pair <account> <ticket>`, to the ticket's
///   ticketer at the withdrawal's entrypoint, as an exchanger's `burn`
///   takes it (TZIP-029's `exchanger.tz`): the exchanger pays the account
///   what the tickets stand for. An outbox transaction can only call an
///   originated contract, and a ticketer always is one.
///
/// A ticketer that is not a contract (which layer 1 never mints) is refused
/// by the protocol; a withdrawal record naming one all the same is an
/// inconsistency, and an [`Abort`]: the run's changes are dropped, that
/// operation's debit with them, rather than the ticket being lost.
pub fn withdrawal_message(w: &Withdrawal) -> Result<Vec<u8>, Abort> {
    let entrypoint = Entrypoint::try_from(w.entrypoint.as_str().to_owned())
        .map_err(|e| Abort::Outbox(format!("entrypoint {:?}: {e:?}", w.entrypoint.as_str())))?;
    let ticket = l1_ticket(&w.ticket, w.amount)?;
    match outbox_destination(&w.destination) {
        Some(contract) => transaction_message(ticket, contract, entrypoint),
        None => {
            let exchanger = outbox_destination(&w.ticket.ticketer).ok_or_else(|| {
                Abort::Outbox(format!(
                    "a withdrawal to {} was applied, but its ticket's ticketer {} is not a contract",
                    w.destination, w.ticket.ticketer
                ))
            })?;
            let parameters = MichelsonPair(MichelsonContract(l1_contract(&w.destination)), ticket);
            transaction_message(parameters, exchanger, entrypoint)
        }
    }
}

/// The outbox message that returns a deposited ticket, unchanged, to the
/// `%default` entrypoint of the contract that sent it; `None` for a ticket
/// of no units, which layer 1 could not receive.
pub fn refund_message(sender: ContractKt1Hash, ticket: FA2_1Ticket) -> Option<Vec<u8>> {
    if ticket.amount().sign() != num_bigint::Sign::Plus {
        return None;
    }
    transaction_message(ticket, sender, Entrypoint::default()).ok()
}

/// The outbox queue's bounds: entries `head..tail` wait to be sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Queue {
    head: u64,
    tail: u64,
}

fn read_queue(host: &impl Runtime, pending: &Pending) -> Result<Queue, Abort> {
    let Some(bytes) = pending.get(host, &paths::OUTBOX_QUEUE)? else {
        return Ok(Queue::default());
    };
    let corrupt = || Abort::Storage {
        path: paths::OUTBOX_QUEUE.to_string(),
        reason: format!("{} bytes, expected 16 with head <= tail", bytes.len()),
    };
    let (head, tail) = bytes.split_at_checked(8).ok_or_else(corrupt)?;
    let head = u64::from_le_bytes(head.try_into().map_err(|_| corrupt())?);
    let tail = u64::from_le_bytes(tail.try_into().map_err(|_| corrupt())?);
    if head > tail {
        return Err(corrupt());
    }
    Ok(Queue { head, tail })
}

fn write_queue(pending: &mut Pending, q: Queue) {
    let mut bytes = Vec::with_capacity(16);
    bytes.extend_from_slice(&q.head.to_le_bytes());
    bytes.extend_from_slice(&q.tail.to_le_bytes());
    pending.write(&paths::OUTBOX_QUEUE, &bytes);
}

fn entry_path(n: u64) -> Result<tezos_smart_rollup_host::path::OwnedPath, Abort> {
    paths::outbox_entry(n).map_err(|e| Abort::Storage {
        path: format!("/pledgeroll/outbox/{n}"),
        reason: e.to_string(),
    })
}

/// Appends messages at the queue's tail, as part of the run's writes.
pub fn enqueue(
    host: &impl Runtime,
    pending: &mut Pending,
    messages: &[Vec<u8>],
) -> Result<(), Abort> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut q = read_queue(host, pending)?;
    for m in messages {
        pending.write(&entry_path(q.tail)?, m);
        q.tail = q.tail.saturating_add(1);
    }
    write_queue(pending, q);
    Ok(())
}

/// Takes up to `max` messages from the queue's head, oldest first, as part
/// of the run's writes.
pub fn dequeue(
    host: &impl Runtime,
    pending: &mut Pending,
    max: usize,
) -> Result<Vec<Vec<u8>>, Abort> {
    let mut q = read_queue(host, pending)?;
    let mut out = Vec::new();
    while q.head < q.tail && out.len() < max {
        let path = entry_path(q.head)?;
        let message = pending.get(host, &path)?.ok_or_else(|| Abort::Storage {
            path: path.to_string(),
            reason: "queued outbox message missing".to_owned(),
        })?;
        pending.remove(&path);
        out.push(message);
        q.head += 1;
    }
    if !out.is_empty() {
        write_queue(pending, q);
    }
    Ok(out)
}

/// How many messages wait in the queue in durable storage.
pub fn queued(host: &impl Runtime) -> Result<u64, Abort> {
    let q = read_queue(host, &Pending::default())?;
    Ok(q.tail - q.head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pledgeroll_contracts::encoding::Text;
    use tezos_data_encoding::nom::NomReader;
    use tezos_smart_rollup_mock::MockHost;

    #[test]
    fn a_withdrawal_becomes_one_ticket_transaction() {
        let destination: Contract = "KT1NgXQ6Mwu3XKFDcKdYFS6dkkY3iNKdBKEc".parse().unwrap();
        let ticketer = Contract::Originated([3; 20]);
        let w = Withdrawal {
            destination,
            entrypoint: Text::new("burn").unwrap(),
            ticket: Ticket {
                ticketer,
                token_id: 4,
                metadata: Some(vec![0xab]),
            },
            amount: 250,
        };
        let bytes = withdrawal_message(&w).unwrap();
        let (rest, decoded) = OutboxMessage::<FA2_1Ticket>::nom_read(&bytes).unwrap();
        assert!(rest.is_empty());
        let OutboxMessage::AtomicTransactionBatch(batch) = decoded;
        assert_eq!(batch.len(), 1);
        let tx = &batch[0];
        assert_eq!(tx.entrypoint.name(), "burn");
        assert_eq!(tx.destination, l1_contract(&destination));
        assert_eq!(tx.parameters, l1_ticket(&w.ticket, 250).unwrap());
        assert_eq!(tx.parameters.amount_as::<u64, _>().unwrap(), 250);
    }

    #[test]
    fn a_withdrawal_to_an_account_calls_the_ticketer_with_the_account() {
        let ticket = Ticket {
            ticketer: Contract::Originated([3; 20]),
            token_id: 0,
            metadata: None,
        };
        for curve in [Curve::Ed25519, Curve::Secp256k1, Curve::P256] {
            let destination =
                Contract::Implicit(pledgeroll_contracts::Address::new(curve, [5; 20]));
            assert_eq!(outbox_destination(&destination), None);
            let w = Withdrawal {
                destination,
                entrypoint: Text::new("burn").unwrap(),
                ticket: ticket.clone(),
                amount: 7,
            };
            let bytes = withdrawal_message(&w).unwrap();
            let (rest, message) =
                OutboxMessage::<MichelsonPair<MichelsonContract, FA2_1Ticket>>::nom_read(&bytes)
                    .unwrap();
            assert!(rest.is_empty());
            let OutboxMessage::AtomicTransactionBatch(batch) = message;
            let tx = &batch[0];
            assert_eq!(tx.destination, l1_contract(&ticket.ticketer));
            assert_eq!(tx.entrypoint.name(), "burn");
            assert_eq!(
                tx.parameters,
                MichelsonPair(
                    MichelsonContract(l1_contract(&destination)),
                    l1_ticket(&ticket, 7).unwrap()
                )
            );
        }
        // A ticketer that is no contract has no outbox form.
        let odd = Withdrawal {
            destination: Contract::Implicit(pledgeroll_contracts::Address::new(
                Curve::Ed25519,
                [5; 20],
            )),
            entrypoint: Text::new("burn").unwrap(),
            ticket: Ticket {
                ticketer: Contract::Implicit(pledgeroll_contracts::Address::new(
                    Curve::Ed25519,
                    [6; 20],
                )),
                token_id: 0,
                metadata: None,
            },
            amount: 1,
        };
        let Err(Abort::Outbox(reason)) = withdrawal_message(&odd) else {
            panic!("a withdrawal through an account was encoded");
        };
        assert!(reason.contains("not a contract"), "{reason}");
        let kt1 = Contract::Originated([8; 20]);
        assert_eq!(outbox_destination(&kt1), Some(ContractKt1Hash(vec![8; 20])));
    }

    #[test]
    fn a_refund_goes_to_the_sending_contract_default_entrypoint() {
        let sender =
            ContractKt1Hash::from_base58_check("KT1NgXQ6Mwu3XKFDcKdYFS6dkkY3iNKdBKEc").unwrap();
        let kind = Ticket {
            ticketer: Contract::Originated([3; 20]),
            token_id: 1,
            metadata: None,
        };
        let ticket = || l1_ticket(&kind, 9).unwrap();
        let bytes = refund_message(sender.clone(), ticket()).unwrap();
        let (rest, decoded) = OutboxMessage::<FA2_1Ticket>::nom_read(&bytes).unwrap();
        assert!(rest.is_empty());
        let OutboxMessage::AtomicTransactionBatch(batch) = decoded;
        assert_eq!(batch.len(), 1);
        assert_eq!(batch[0].destination, L1Contract::Originated(sender));
        assert_eq!(batch[0].entrypoint.name(), "default");
        assert_eq!(batch[0].parameters, ticket());
    }

    #[test]
    fn a_zero_ticket_has_no_layer1_form() {
        let ticket = Ticket {
            ticketer: Contract::Originated([1; 20]),
            token_id: 0,
            metadata: None,
        };
        assert!(matches!(l1_ticket(&ticket, 0), Err(Abort::Outbox(_))));
    }

    #[test]
    fn implicit_ticketers_keep_their_curve() {
        for curve in [Curve::Ed25519, Curve::Secp256k1, Curve::P256] {
            let c = Contract::Implicit(pledgeroll_contracts::Address::new(curve, [5; 20]));
            assert_eq!(l1_contract(&c).to_b58check(), c.to_string());
            assert_eq!(crate::inbox::contract(&l1_contract(&c)), Some(c));
        }
    }

    #[test]
    fn the_queue_is_first_in_first_out_across_levels() {
        let mut host = MockHost::default();
        assert_eq!(queued(&host).unwrap(), 0);
        let mut level = Pending::default();
        enqueue(&host, &mut level, &[vec![1], vec![2], vec![3]]).unwrap();
        assert_eq!(
            dequeue(&host, &mut level, 2).unwrap(),
            vec![vec![1], vec![2]]
        );
        level.commit(&mut host).unwrap();
        assert_eq!(queued(&host).unwrap(), 1);

        let mut level = Pending::default();
        enqueue(&host, &mut level, &[vec![4]]).unwrap();
        assert_eq!(
            dequeue(&host, &mut level, 10).unwrap(),
            vec![vec![3], vec![4]]
        );
        assert_eq!(
            dequeue(&host, &mut level, 10).unwrap(),
            Vec::<Vec<u8>>::new()
        );
        level.commit(&mut host).unwrap();
        assert_eq!(queued(&host).unwrap(), 0);
        let first = paths::outbox_entry(0).unwrap();
        assert_eq!(crate::durable::read_value(&host, &first).unwrap(), None);
    }

    #[test]
    fn a_corrupt_queue_aborts() {
        let mut host = MockHost::default();
        crate::durable::write_value(&mut host, &paths::OUTBOX_QUEUE, &[1, 2, 3]).unwrap();
        assert!(matches!(queued(&host), Err(Abort::Storage { .. })));
        let mut backwards = 5u64.to_le_bytes().to_vec();
        backwards.extend_from_slice(&1u64.to_le_bytes());
        crate::durable::write_value(&mut host, &paths::OUTBOX_QUEUE, &backwards).unwrap();
        assert!(enqueue(&host, &mut Pending::default(), &[vec![1]]).is_err());
    }
}
