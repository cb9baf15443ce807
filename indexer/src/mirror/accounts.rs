//! Accounts and assets: keys revealed, ticket kinds registered, deposits
//! from and withdrawals to layer 1, and every change of a holder's balance
//! (its flow), which also accrues its stream income per day.

use pledgeroll_contracts::stream::Flow;
use pledgeroll_contracts::{Address, AssetId, Event, Holder};

use super::batch::{asset_key, Batch};
use super::ledger::{Counter, Movement};
use super::prefetch::Keys;
use super::Projection;
use crate::error::{int, IndexError};
use crate::rows::{
    address_text, fine, holder_project, holder_text, AccountRow, AssetRow, BalanceRow, EventRow,
};
use crate::schema::Row;

/// The projection of account, asset and balance events.
pub(super) struct Accounts;

impl Projection for Accounts {
    fn keys(&self, event: &Event, keys: &mut Keys) -> Result<(), IndexError> {
        match event {
            Event::AccountRevealed { account, .. } => {
                keys.accounts.insert((address_text(account),));
            }
            Event::AssetRegistered { asset, .. } => {
                keys.assets.insert((asset_key(*asset),));
            }
            Event::Deposited { account, asset, .. } | Event::Withdrawn { account, asset, .. } => {
                keys.assets.insert((asset_key(*asset),));
                keys.account_balance(account, *asset);
            }
            Event::FlowChanged { holder, asset, .. } => {
                keys.balance(holder, *asset);
                if let Holder::Account(a) = holder {
                    keys.accounts.insert((address_text(a),));
                }
            }
            // Other families' events.
            _ => {}
        }
        Ok(())
    }

    fn describe(&self, event: &Event, row: &mut EventRow) -> Result<(), IndexError> {
        let kind = match event {
            Event::AccountRevealed { account, .. } => {
                row.account = Some(address_text(account));
                "account_revealed"
            }
            Event::AssetRegistered { asset, .. } => {
                row.asset_id = Some(asset_key(*asset));
                "asset_registered"
            }
            Event::Deposited { account, asset, .. } => {
                row.account = Some(address_text(account));
                row.asset_id = Some(asset_key(*asset));
                "deposited"
            }
            Event::Withdrawn {
                account,
                asset,
                destination,
                ..
            } => {
                row.account = Some(address_text(account));
                row.counterparty = Some(destination.to_string());
                row.asset_id = Some(asset_key(*asset));
                "withdrawn"
            }
            Event::FlowChanged { holder, asset, .. } => {
                row.account = Some(holder_text(holder));
                row.project_id = holder_project(holder);
                row.asset_id = Some(asset_key(*asset));
                "flow_changed"
            }
            // Other families' events.
            _ => return Ok(()),
        };
        row.kind = kind.to_owned();
        Ok(())
    }

    fn apply(&self, b: &mut Batch, idx: i64, event: &Event) -> Result<(), IndexError> {
        let level = b.level();
        let now = b.time;
        match event {
            Event::AccountRevealed {
                account,
                public_key,
                index,
            } => {
                let index = int(*index, "account number")?;
                let row = b
                    .accounts
                    .entry(&(address_text(account),), &mut b.undo, || {
                        new_account(account, level)
                    });
                row.public_key = Some(public_key.to_string());
                row.revealed_level = Some(level);
                row.account_index = Some(index);
            }
            Event::AssetRegistered { asset, ticket } => {
                let row = AssetRow {
                    asset_id: asset_key(*asset),
                    ticketer: ticket.ticketer.to_string(),
                    token_id: u128::from(ticket.token_id),
                    metadata: ticket.metadata.as_deref().map(hex::encode),
                    deposited: 0,
                    withdrawn: 0,
                    supply_units: 0,
                    registered_level: level,
                };
                b.assets.set(row, &mut b.undo);
            }
            Event::Deposited {
                account,
                asset,
                amount,
            } => {
                if let Some(a) = b.assets.modify(&(asset_key(*asset),), &mut b.undo) {
                    a.deposited = a.deposited.saturating_add(u128::from(*amount));
                    a.refresh();
                }
                let mut m = Movement::new("deposit", *asset, fine(*amount), now);
                m.to = Some(address_text(account));
                b.record(idx, m, None, Some(Counter::Deposits))?;
            }
            Event::Withdrawn {
                account,
                asset,
                amount,
                destination,
                entrypoint,
            } => {
                if let Some(a) = b.assets.modify(&(asset_key(*asset),), &mut b.undo) {
                    a.withdrawn = a.withdrawn.saturating_add(u128::from(*amount));
                    a.refresh();
                }
                let mut m = Movement::new("withdrawal", *asset, fine(*amount), now);
                m.from = Some(address_text(account));
                m.memo = Some(format!("{destination}%{entrypoint}"));
                b.record(idx, m, Some(Counter::Withdrawals), None)?;
            }
            Event::FlowChanged {
                holder,
                asset,
                flow,
            } => flow_changed(b, holder, *asset, flow)?,
            // Other families' events.
            _ => {}
        }
        Ok(())
    }
}

/// A holder's balance changed: what streamed in since its last change is
/// added to the days it spans, and the new rate noted for the day.
fn flow_changed(
    b: &mut Batch,
    holder: &Holder,
    asset: AssetId,
    flow: &Flow,
) -> Result<(), IndexError> {
    let row = BalanceRow::from_flow(holder, asset, flow, b.level)?;
    if let Some(prev) = b.balances.get(&row.key()).cloned() {
        b.accrue(&prev, asset, flow.at)?;
    }
    let d = b.daily(&row.holder, asset, flow.at)?;
    d.inflow = flow.inflow;
    b.balances.set(row, &mut b.undo);
    if let Holder::Account(a) = holder {
        ensure_account(b, a);
    }
    Ok(())
}

/// An account first seen at `level`, its key not revealed yet.
fn new_account(address: &Address, level: i64) -> AccountRow {
    AccountRow {
        address: address_text(address),
        public_key: None,
        revealed_level: None,
        account_index: None,
        first_level: level,
    }
}

/// Notes an account the first time it holds a balance.
fn ensure_account(b: &mut Batch, address: &Address) {
    let key = (address_text(address),);
    if b.accounts.get(&key).is_none() {
        let row = new_account(address, b.level());
        b.accounts.set(row, &mut b.undo);
    }
}
