//! Funds into the rollup: the layer-1 call that sends an asset's tickets to
//! the rollup for an account, as a wallet or `octez-client` makes it.
//!
//! The rollup takes `pair address (ticket (pair nat (option bytes)))` at
//! its `default` entrypoint: the account to credit, and the tickets. The
//! tickets come from their ticketer first (for tez, its exchanger's `mint`
//! takes the tez and returns tickets).

use pledgeroll_contracts::{Address, RollupAddress, Ticket};
use serde_json::{json, Value};

/// A deposit of `amount` base units of `ticket` to `receiver` on `rollup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositCall {
    /// The rollup (`sr1…`), the call's destination.
    pub rollup: RollupAddress,
    /// The account credited on the rollup.
    pub receiver: Address,
    /// The asset's ticket kind.
    pub ticket: Ticket,
    /// Base units.
    pub amount: u64,
}

impl DepositCall {
    /// The rollup's entrypoint the call names.
    pub const ENTRYPOINT: &'static str = "default";

    /// The ticket's contents as Michelson: `Pair 0 None`,
    /// `Pair 0 (Some 0x…)`.
    fn contents(&self) -> String {
        let metadata = self.ticket.metadata.as_ref().map_or_else(
            || "None".to_owned(),
            |m| format!("(Some 0x{})", hex::encode(m)),
        );
        format!("Pair {} {metadata}", self.ticket.token_id)
    }

    /// The parameter in Michelson's text form, as `octez-client --arg`
    /// takes it.
    pub fn parameter(&self) -> String {
        format!(
            "Pair \"{}\" (Ticket \"{}\" (pair nat (option bytes)) ({}) {})",
            self.receiver,
            self.ticket.ticketer,
            self.contents(),
            self.amount
        )
    }

    /// The parameter as Micheline JSON, as RPCs and Taquito take it.
    pub fn parameter_json(&self) -> Value {
        let metadata = match &self.ticket.metadata {
            None => json!({ "prim": "None" }),
            Some(m) => json!({ "prim": "Some", "args": [{ "bytes": hex::encode(m) }] }),
        };
        json!({
            "prim": "Pair",
            "args": [
                { "string": self.receiver.to_string() },
                {
                    "prim": "Ticket",
                    "args": [
                        { "string": self.ticket.ticketer.to_string() },
                        { "prim": "pair", "args": [
                            { "prim": "nat" },
                            { "prim": "option", "args": [{ "prim": "bytes" }] },
                        ] },
                        { "prim": "Pair", "args": [
                            { "int": self.ticket.token_id.to_string() },
                            metadata,
                        ] },
                        { "int": self.amount.to_string() },
                    ],
                },
            ],
        })
    }

    /// The `octez-client` command that makes the call from the layer-1
    /// account `from`, which holds the tickets.
    pub fn octez_client(&self, from: &str) -> String {
        format!(
            "octez-client transfer 0 from {from} to {} --entrypoint {} --arg '{}'",
            self.rollup,
            Self::ENTRYPOINT,
            self.parameter()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pledgeroll_contracts::crypto::Curve;
    use pledgeroll_contracts::Contract;

    fn call(metadata: Option<Vec<u8>>) -> DepositCall {
        DepositCall {
            rollup: RollupAddress([7; 20]),
            receiver: Address::new(Curve::Ed25519, [1; 20]),
            ticket: Ticket {
                ticketer: Contract::Originated([2; 20]),
                token_id: 0,
                metadata,
            },
            amount: 10_000_000,
        }
    }

    #[test]
    fn the_call_names_the_receiver_the_ticket_and_the_amount() {
        let c = call(Some(b"tez:6".to_vec()));
        let receiver = c.receiver.to_string();
        let ticketer = c.ticket.ticketer.to_string();
        assert_eq!(
            c.parameter(),
            format!(
                "Pair \"{receiver}\" (Ticket \"{ticketer}\" (pair nat (option bytes)) (Pair 0 (Some 0x74657a3a36)) 10000000)"
            )
        );
        let line = c.octez_client("alice");
        assert!(
            line.starts_with(&format!(
                "octez-client transfer 0 from alice to {} --entrypoint default --arg 'Pair",
                c.rollup
            )),
            "{line}"
        );
        let json = c.parameter_json();
        assert_eq!(json["args"][0]["string"], receiver);
        assert_eq!(
            json["args"][1]["args"][2]["args"][1]["args"][0]["bytes"],
            "74657a3a36"
        );
        assert_eq!(json["args"][1]["args"][3]["int"], "10000000");
        assert!(call(None).parameter().contains("(Pair 0 None)"));
    }
}
