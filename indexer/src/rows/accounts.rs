//! Accounts, assets and balances: who the rollup knows, which ticket kinds
//! it holds and how much, and every holder's flow in every asset.

use pledgeroll_contracts::asset::{Supply, Ticket};
use pledgeroll_contracts::stream::Flow;
use pledgeroll_contracts::{AssetId, Contract, Holder};

use super::{base, corrupt, holder_project, holder_text, monthly_units, uint, units};
use crate::error::{int, IndexError};
use crate::schema::table;

table! {
    /// An account seen by the rollup: it signed an operation or held a
    /// balance.
    AccountRow in "accounts" {
        key {
            /// The address (`tz1…`, `tz2…`, `tz3…`).
            address: String,
        }
        /// Its public key once an operation revealed it.
        public_key: Option<String>,
        /// The level that revealed it.
        revealed_level: Option<i64>,
        /// The number the rollup gave it when its key was revealed.
        account_index: Option<i64>,
        /// The level it first appeared at.
        first_level: i64,
    }
}

table! {
    /// An asset (a layer-1 ticket kind) and its supply.
    AssetRow in "assets" {
        key {
            /// The rollup's number for it.
            asset_id: i64,
        }
        /// The ticketer contract.
        ticketer: String,
        /// The ticket's token id.
        token_id: u128,
        /// The ticket's metadata bytes, hex.
        metadata: Option<String>,
        /// Base units ever deposited.
        deposited: u128,
        /// Base units ever withdrawn.
        withdrawn: u128,
        /// Base units on the rollup (deposited − withdrawn).
        supply_units: i64,
        /// The level that registered it.
        registered_level: i64,
    }
}

table! {
    /// A holder's balance in one asset: the protocol's `Flow`, exact. The
    /// balance at time `t ≥ at` is `settled + (inflow − outflow)·(t − at)`
    /// fine units; `depletion_scheduled` is when a draining balance runs
    /// out (a patron's runway).
    BalanceRow in "balances" {
        key {
            /// The holder: an address or `project-{id}`.
            holder: String,
            /// The asset.
            asset_id: i64,
        }
        /// The project, when the holder is a project escrow.
        project_id: Option<i64>,
        /// Fine units at `at`.
        settled: u128,
        /// When `settled` was computed.
        at: i64,
        /// Fine units per second streaming in.
        inflow: u128,
        /// Fine units per second streaming out. A patron's counts its
        /// pledges to paused creators too (the protocol's stored flow).
        outflow: u128,
        /// Whether `inflow` is held: a creator who paused the subscription.
        inflow_paused: bool,
        /// When the balance runs out, if it drains.
        depletion_scheduled: Option<i64>,
        /// `settled` in base units, rounded down.
        settled_units: i64,
        /// Incoming streams per 30 days, base units: monthly income (none
        /// while the creator is paused).
        monthly_in_units: i64,
        /// Outgoing streams per 30 days, base units: monthly pledges.
        monthly_out_units: i64,
        /// The level of the last change.
        updated_level: i64,
    }
    // Creators by monthly income in an asset; holders by balance.
    index balances_income ("asset_id, monthly_in_units DESC, holder");
    index balances_units ("asset_id, settled_units DESC, holder");
    // Draining balances by when they run out, for runway alerts.
    index balances_depletion ("depletion_scheduled") where "depletion_scheduled IS NOT NULL";
}

impl BalanceRow {
    /// The row of a holder's flow in an asset, changed at `level`.
    pub fn from_flow(
        holder: &Holder,
        asset: AssetId,
        flow: &Flow,
        level: u32,
    ) -> Result<Self, IndexError> {
        Ok(BalanceRow {
            holder: holder_text(holder),
            asset_id: i64::from(asset.0),
            project_id: holder_project(holder),
            settled: flow.settled,
            at: int(flow.at, "flow time")?,
            inflow: flow.inflow,
            outflow: flow.outflow,
            inflow_paused: flow.inflow_paused,
            depletion_scheduled: flow
                .depletion_scheduled
                .map(|t| int(t, "depletion time"))
                .transpose()?,
            settled_units: units(flow.settled),
            monthly_in_units: monthly_units(flow.effective_inflow()),
            monthly_out_units: monthly_units(flow.outflow),
            updated_level: i64::from(level),
        })
    }

    /// The protocol's flow this row mirrors.
    pub fn flow(&self) -> Result<Flow, IndexError> {
        Ok(Flow {
            settled: self.settled,
            at: uint("balances", self.at)?,
            inflow: self.inflow,
            outflow: self.outflow,
            inflow_paused: self.inflow_paused,
            depletion_scheduled: self
                .depletion_scheduled
                .map(|t| uint("balances", t))
                .transpose()?,
        })
    }
}

impl AssetRow {
    /// The ticket this asset is.
    pub fn ticket(&self) -> Result<Ticket, IndexError> {
        Ok(Ticket {
            ticketer: self
                .ticketer
                .parse::<Contract>()
                .map_err(|_| corrupt("assets", format!("ticketer {}", self.ticketer)))?,
            token_id: base("assets", self.token_id)?,
            metadata: self
                .metadata
                .as_deref()
                .map(hex::decode)
                .transpose()
                .map_err(|e| corrupt("assets", format!("metadata: {e}")))?,
        })
    }

    /// Its supply.
    pub fn supply(&self) -> Supply {
        Supply {
            deposited: self.deposited,
            withdrawn: self.withdrawn,
        }
    }

    /// Recomputes the sorting column after a change of supply.
    pub fn refresh(&mut self) {
        self.supply_units =
            i64::try_from(self.deposited.saturating_sub(self.withdrawn)).unwrap_or(i64::MAX);
    }
}

#[cfg(test)]
mod tests {
    use pledgeroll_contracts::asset::FINE_PER_UNIT;

    use super::super::tests::alice;
    use super::*;

    #[test]
    fn flows_round_trip_and_carry_monthly_figures() {
        let flow = Flow {
            settled: 10 * FINE_PER_UNIT + 5,
            at: 1_000,
            inflow: FINE_PER_UNIT / 2_592_000 * 5_000_000,
            outflow: 0,
            inflow_paused: false,
            depletion_scheduled: None,
        };
        let row =
            BalanceRow::from_flow(&Holder::Account(alice()), AssetId(0), &flow, 2).expect("fits");
        assert_eq!(row.settled_units, 10);
        assert_eq!(row.monthly_in_units, 5_000_000);
        assert_eq!(row.flow().expect("decodes"), flow);
    }
}
