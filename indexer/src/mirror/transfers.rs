//! Transfers between accounts and tips to creators or projects: a ledger
//! movement each, and a tip to a project is a one-off contribution that
//! makes its sender a funder.

use pledgeroll_contracts::{Event, Holder};

use super::batch::{asset_key, Batch};
use super::ledger::{Counter, Movement};
use super::prefetch::Keys;
use super::{projects, Projection};
use crate::error::IndexError;
use crate::rows::{address_text, fine, holder_project, holder_text, EventRow};

/// The projection of transfer and tip events.
pub(super) struct Transfers;

impl Projection for Transfers {
    fn keys(&self, event: &Event, keys: &mut Keys) -> Result<(), IndexError> {
        match event {
            Event::Transferred {
                from, to, asset, ..
            } => {
                keys.account_balance(from, *asset);
                keys.account_balance(to, *asset);
            }
            Event::Tipped {
                from, to, asset, ..
            } => {
                keys.account_balance(from, *asset);
                keys.balance(to, *asset);
                if let Holder::Project(p) = to {
                    keys.funder(*p, from, Some(*asset))?;
                }
            }
            // Other families' events.
            _ => {}
        }
        Ok(())
    }

    fn describe(&self, event: &Event, row: &mut EventRow) -> Result<(), IndexError> {
        let kind = match event {
            Event::Transferred {
                from, to, asset, ..
            } => {
                row.account = Some(address_text(from));
                row.counterparty = Some(address_text(to));
                row.asset_id = Some(asset_key(*asset));
                "transferred"
            }
            Event::Tipped {
                from, to, asset, ..
            } => {
                row.account = Some(address_text(from));
                row.counterparty = Some(holder_text(to));
                row.project_id = holder_project(to);
                row.asset_id = Some(asset_key(*asset));
                "tipped"
            }
            // Other families' events.
            _ => return Ok(()),
        };
        row.kind = kind.to_owned();
        Ok(())
    }

    fn apply(&self, b: &mut Batch, idx: i64, event: &Event) -> Result<(), IndexError> {
        let now = b.time;
        match event {
            Event::Transferred {
                from,
                to,
                asset,
                amount,
            } => {
                let mut m = Movement::new("transfer", *asset, fine(*amount), now);
                m.from = Some(address_text(from));
                m.to = Some(address_text(to));
                let (out, into) = (Counter::TransfersOut, Counter::TransfersIn);
                b.record(idx, m, Some(out), Some(into))?;
            }
            Event::Tipped {
                from,
                to,
                asset,
                amount,
                memo,
            } => {
                let mut m = Movement::new("tip", *asset, fine(*amount), now);
                m.from = Some(address_text(from));
                m.to = Some(holder_text(to));
                m.project = holder_project(to);
                m.memo = Some(memo.as_str().to_owned());
                b.record(idx, m, Some(Counter::TipsOut), Some(Counter::TipsIn))?;
                if let Holder::Project(p) = to {
                    projects::contribute(b, *p, from, *asset, fine(*amount))?;
                }
            }
            // Other families' events.
            _ => {}
        }
        Ok(())
    }
}
