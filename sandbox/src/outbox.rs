//! Outbox messages: read from the kernel's binary form, shown as the rollup
//! node shows them, and executed on the simulated layer 1, whose ledger of
//! ticket balances they change.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};
use tezos_data_encoding::nom::NomReader;
use tezos_smart_rollup_encoding::contract::Contract;
use tezos_smart_rollup_encoding::entrypoint::Entrypoint;

use crate::assets::ASSETS;
use crate::micheline::{Micheline, MichelineError};

/// Why an outbox message cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboxError {
    /// Not an atomic transaction batch (tag 0).
    #[error("unsupported outbox message kind {0}")]
    Kind(u8),
    /// The message is empty or ends early.
    #[error("outbox message ends early")]
    Truncated,
    /// A transaction's parameters are not Micheline.
    #[error(transparent)]
    Micheline(#[from] MichelineError),
    /// The destination or entrypoint does not decode.
    #[error("outbox transaction has an invalid {0}")]
    Field(&'static str),
    /// The destination is an implicit account, which an outbox transaction
    /// cannot name: layer 1 decodes it as an originated contract.
    #[error("outbox transaction to {0}: layer 1 only calls originated (KT1) contracts")]
    ImplicitDestination(String),
}

/// One transaction of an outbox message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The parameters.
    pub parameters: Micheline,
    /// The destination contract, `KT1…`.
    pub destination: String,
    /// The entrypoint.
    pub entrypoint: String,
}

/// Reads an atomic transaction batch as layer 1 does: each destination is
/// an originated contract (Octez's `Contract_repr.originated_encoding`).
pub fn parse(bytes: &[u8]) -> Result<Vec<Transaction>, OutboxError> {
    let (tag, rest) = bytes.split_first().ok_or(OutboxError::Truncated)?;
    if *tag != 0 {
        return Err(OutboxError::Kind(*tag));
    }
    let (len, rest) = rest.split_at_checked(4).ok_or(OutboxError::Truncated)?;
    let len = u32::from_be_bytes(len.try_into().map_err(|_| OutboxError::Truncated)?);
    let mut body = rest
        .get(..usize::try_from(len).map_err(|_| OutboxError::Truncated)?)
        .ok_or(OutboxError::Truncated)?;
    let mut out = Vec::new();
    while !body.is_empty() {
        let (parameters, rest) = Micheline::read(body)?;
        let (rest, destination) =
            Contract::nom_read(rest).map_err(|_| OutboxError::Field("destination"))?;
        if let Contract::Implicit(_) = destination {
            return Err(OutboxError::ImplicitDestination(destination.to_b58check()));
        }
        let (rest, entrypoint) =
            Entrypoint::nom_read(rest).map_err(|_| OutboxError::Field("entrypoint"))?;
        out.push(Transaction {
            parameters,
            destination: destination.to_b58check(),
            entrypoint: entrypoint.name().to_owned(),
        });
        body = rest;
    }
    Ok(out)
}

impl Transaction {
    /// The transaction as the rollup node's RPC shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "parameters": self.parameters.to_json(),
            "destination": self.destination,
            "entrypoint": self.entrypoint,
        })
    }

    /// The ticket the transaction carries, if its parameters are a ticket of
    /// `pair nat (option bytes)`.
    pub fn ticket(&self) -> Option<L1Ticket> {
        ticket_of(&self.parameters)
    }

    /// The account and ticket of an exchanger's `burn`, if the parameters
    /// are `pair address ticket`: the exchanger pays the account what the
    /// tickets stand for.
    pub fn payout(&self) -> Option<(String, L1Ticket)> {
        let (receiver, ticket) = self.parameters.as_pair()?;
        Some((address_of(receiver)?, ticket_of(ticket)?))
    }
}

/// A Michelson address, in bytes (binary) or text form.
fn address_of(m: &Micheline) -> Option<String> {
    match m {
        Micheline::Bytes(b) => Some(
            Contract::nom_read(b)
                .ok()
                .filter(|(r, _)| r.is_empty())?
                .1
                .to_b58check(),
        ),
        Micheline::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// A ticket of `pair nat (option bytes)`, if `m` is one.
fn ticket_of(m: &Micheline) -> Option<L1Ticket> {
    let (ticketer, rest) = m.as_pair()?;
    let ticketer = address_of(ticketer)?;
    let (contents, amount) = rest.as_pair()?;
    let (token, metadata) = contents.as_pair()?;
    let metadata = match metadata {
        Micheline::Prim { tag: 6, args, .. } if args.is_empty() => None,
        Micheline::Prim { tag: 9, args, .. } => match args.as_slice() {
            [Micheline::Bytes(b)] => Some(b.clone()),
            _ => return None,
        },
        _ => return None,
    };
    Some(L1Ticket {
        ticketer,
        token_id: token.as_u64()?,
        metadata,
        amount: amount.as_u128()?,
    })
}

/// A ticket on layer 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1Ticket {
    /// The contract that minted it.
    pub ticketer: String,
    /// Its token id.
    pub token_id: u64,
    /// Its metadata.
    pub metadata: Option<Vec<u8>>,
    /// How many units.
    pub amount: u128,
}

/// A layer-1 ticket balance, as the sandbox endpoint shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    /// The holder; a ticketer holding its own ticket has redeemed it.
    pub holder: String,
    /// The ticketer.
    pub ticketer: String,
    /// The token id.
    pub token_id: u64,
    /// The metadata, hex, if any.
    pub metadata: Option<String>,
    /// The sandbox asset it is, if it is one.
    pub asset: Option<&'static str>,
    /// The amount, in base units, as a decimal string.
    pub amount: String,
}

/// The prefix of the ledger's keys.
pub const LEDGER_PREFIX: &str = "l1/";

fn ledger_key(holder: &str, t: &L1Ticket) -> String {
    let metadata = t
        .metadata
        .as_ref()
        .map_or_else(|| "-".to_owned(), hex::encode);
    format!(
        "{LEDGER_PREFIX}{holder}/{}/{}/{metadata}",
        t.ticketer, t.token_id
    )
}

/// The ticket balances of the simulated layer 1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    balances: BTreeMap<String, u128>,
}

/// What executing an outbox message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Execution {
    /// Every transaction applied.
    Applied,
    /// None applied, and why.
    Failed(String),
}

impl Ledger {
    /// A ledger from stored `(key, amount)` rows.
    pub fn from_rows(rows: impl IntoIterator<Item = (String, u128)>) -> Self {
        Ledger {
            balances: rows.into_iter().collect(),
        }
    }

    /// The balances, keyed as stored.
    pub fn rows(&self) -> &BTreeMap<String, u128> {
        &self.balances
    }

    /// Executes one outbox message: all its transactions, or none.
    pub fn execute(&mut self, message: &[u8]) -> Execution {
        let txs = match parse(message) {
            Ok(txs) => txs,
            Err(e) => return Execution::Failed(e.to_string()),
        };
        let mut next = self.balances.clone();
        for tx in &txs {
            let (holder, ticket) = if let Some(ticket) = tx.ticket() {
                (tx.destination.clone(), ticket)
            } else if let Some((receiver, ticket)) = tx.payout() {
                // A sandbox asset's ticketer is its exchanger: its `burn`
                // takes the tickets back and pays the receiver what they
                // stand for (kept here as the receiver's balance of them).
                let exchanger = ASSETS.iter().any(|a| a.ticketer == tx.destination);
                if !exchanger || tx.entrypoint != "burn" || ticket.ticketer != tx.destination {
                    return Execution::Failed(format!(
                        "{}%{} is not the exchanger of the ticket it was sent; the sandbox's exchangers are its assets' ticketers, at `burn`",
                        tx.destination, tx.entrypoint
                    ));
                }
                (receiver, ticket)
            } else {
                return Execution::Failed(format!(
                    "the transaction to {} carries neither a ticket of `pair nat (option bytes)` nor `pair address ticket`; the sandbox's layer 1 takes only those",
                    tx.destination
                ));
            };
            let entry = next.entry(ledger_key(&holder, &ticket)).or_insert(0);
            match entry.checked_add(ticket.amount) {
                Some(v) => *entry = v,
                None => return Execution::Failed("ticket balance overflow".to_owned()),
            }
        }
        self.balances = next;
        Execution::Applied
    }

    /// The balances, optionally of one holder.
    pub fn balances(&self, holder: Option<&str>) -> Vec<Balance> {
        self.balances
            .iter()
            .filter_map(|(k, amount)| {
                let mut parts = k.strip_prefix(LEDGER_PREFIX)?.splitn(4, '/');
                let (h, ticketer, token, metadata) =
                    (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
                if holder.is_some_and(|wanted| wanted != h) {
                    return None;
                }
                let token_id: u64 = token.parse().ok()?;
                let metadata = (metadata != "-").then(|| metadata.to_owned());
                let asset = ASSETS
                    .iter()
                    .find(|a| {
                        a.ticketer == ticketer
                            && a.token_id == token_id
                            && a.metadata.map(hex::encode) == metadata
                    })
                    .map(|a| a.name);
                Some(Balance {
                    holder: h.to_owned(),
                    ticketer: ticketer.to_owned(),
                    token_id,
                    metadata,
                    asset,
                    amount: amount.to_string(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets::TEZ;
    use tezos_data_encoding::enc::BinWriter;
    use tezos_smart_rollup_encoding::michelson::ticket::FA2_1Ticket;
    use tezos_smart_rollup_encoding::outbox::{OutboxMessage, OutboxMessageTransaction};

    fn message(destination: &str, entrypoint: &str, amount: u64) -> Vec<u8> {
        let ticket = crate::inbox::ticket(TEZ.ticketer_hash(), 0, TEZ.metadata, amount).unwrap();
        let m: OutboxMessage<FA2_1Ticket> = OutboxMessage::AtomicTransactionBatch(
            vec![OutboxMessageTransaction {
                parameters: ticket,
                destination: Contract::from_b58check(destination).unwrap(),
                entrypoint: Entrypoint::try_from(entrypoint.to_owned()).unwrap(),
            }]
            .into(),
        );
        let mut out = Vec::new();
        m.bin_write(&mut out).unwrap();
        out
    }

    /// A layer-1 contract that takes withdrawn tickets.
    const VAULT: &str = "KT1NgXQ6Mwu3XKFDcKdYFS6dkkY3iNKdBKEc";

    #[test]
    fn a_withdrawal_reads_back_with_its_ticket() {
        let bytes = message(VAULT, "default", 250);
        let txs = parse(&bytes).unwrap();
        assert_eq!(txs.len(), 1);
        assert_eq!(txs[0].destination, VAULT);
        assert_eq!(txs[0].entrypoint, "default");
        let t = txs[0].ticket().unwrap();
        assert_eq!(t.ticketer, TEZ.ticketer);
        assert_eq!(
            (t.token_id, t.metadata.clone(), t.amount),
            (0, TEZ.metadata.map(<[u8]>::to_vec), 250)
        );
        assert_eq!(
            txs[0].to_json()["parameters"]["args"][1]["args"][1]["int"],
            "250"
        );
        assert_eq!(parse(&[1, 0]), Err(OutboxError::Kind(1)));
        assert!(parse(&bytes[..bytes.len() - 3]).is_err());
    }

    #[test]
    fn a_transaction_to_an_implicit_account_is_refused_by_layer1() {
        let implicit = "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx";
        let bytes = message(implicit, "default", 250);
        assert_eq!(
            parse(&bytes),
            Err(OutboxError::ImplicitDestination(implicit.to_owned()))
        );
        let mut ledger = Ledger::default();
        assert!(matches!(ledger.execute(&bytes), Execution::Failed(_)));
        assert_eq!(ledger, Ledger::default());
    }

    #[test]
    fn executed_withdrawals_credit_the_holder_on_layer1() {
        let mut ledger = Ledger::default();
        let holder = VAULT;
        assert_eq!(
            ledger.execute(&message(holder, "default", 250)),
            Execution::Applied
        );
        assert_eq!(
            ledger.execute(&message(holder, "default", 50)),
            Execution::Applied
        );
        assert_eq!(
            ledger.execute(&message(TEZ.ticketer, "burn", 7)),
            Execution::Applied
        );
        let mine = ledger.balances(Some(holder));
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].amount, "300");
        assert_eq!(mine[0].asset, Some("tez"));
        assert_eq!(ledger.balances(None).len(), 2);
        assert!(matches!(ledger.execute(&[0, 0, 0]), Execution::Failed(_)));
        let rebuilt = Ledger::from_rows(ledger.rows().clone());
        assert_eq!(rebuilt, ledger);
    }
}
