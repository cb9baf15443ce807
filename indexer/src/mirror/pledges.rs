//! Pledges and their streams: each change of a pledge settles what it
//! streamed since the last one into the ledger, moves the streaming
//! patron counts of its tier and creator, and a new pledge to a project
//! makes its patron a funder.

use pledgeroll_contracts::event::PledgeChange;
use pledgeroll_contracts::{AssetId, Event, Holder};

use super::batch::{asset_key, Batch};
use super::ledger::Movement;
use super::prefetch::Keys;
use super::{creators, projects, Projection};
use crate::error::{int, IndexError};
use crate::rows::{address_text, holder_project, holder_text, EventRow, PledgeRow};

/// The projection of pledge events.
pub(super) struct Pledges;

fn change_text(c: PledgeChange) -> &'static str {
    match c {
        PledgeChange::Started => "started",
        PledgeChange::Changed => "changed",
        PledgeChange::Paused => "paused",
        PledgeChange::Resumed => "resumed",
        PledgeChange::Ended => "ended",
        PledgeChange::Settled => "settled",
    }
}

impl Projection for Pledges {
    fn keys(&self, event: &Event, keys: &mut Keys) -> Result<(), IndexError> {
        let Event::PledgeUpdated { pledge, record, .. } = event else {
            return Ok(());
        };
        keys.pledges.insert((int(pledge.0, "pledge id")?,));
        if let Some(t) = record.tier {
            let t = int(t.0, "tier id")?;
            keys.tiers.insert((t,));
            keys.tier_patrons.insert((t, address_text(&record.patron)));
            keys.creator_patrons
                .insert((holder_text(&record.payee), address_text(&record.patron)));
        }
        if let Holder::Account(creator) = record.payee {
            keys.creators.insert((address_text(&creator),));
        }
        keys.balance(&record.payee, record.asset);
        keys.account_balance(&record.patron, record.asset);
        if let Holder::Project(p) = record.payee {
            keys.funder(p, &record.patron, None)?;
        }
        Ok(())
    }

    fn describe(&self, event: &Event, row: &mut EventRow) -> Result<(), IndexError> {
        let Event::PledgeUpdated {
            pledge,
            change,
            record,
        } = event
        else {
            return Ok(());
        };
        row.account = Some(address_text(&record.patron));
        row.counterparty = Some(holder_text(&record.payee));
        row.pledge_id = Some(int(pledge.0, "pledge id")?);
        row.project_id = holder_project(&record.payee);
        row.tier_id = record.tier.map(|t| int(t.0, "tier id")).transpose()?;
        row.asset_id = Some(asset_key(record.asset));
        row.change = Some(change_text(*change).to_owned());
        row.kind = "pledge_updated".to_owned();
        Ok(())
    }

    fn apply(&self, b: &mut Batch, idx: i64, event: &Event) -> Result<(), IndexError> {
        let Event::PledgeUpdated {
            pledge,
            change,
            record,
        } = event
        else {
            return Ok(());
        };
        let key = (int(pledge.0, "pledge id")?,);
        let old = b.pledges.get(&key).cloned();
        let row = PledgeRow::from_pledge(*pledge, record, old.as_ref(), b.level)?;
        // What streamed since the last settlement moved in the asset the
        // pledge streamed in until now.
        let settled = record
            .streamed
            .saturating_sub(old.as_ref().map_or(0, |o| o.streamed));
        if settled > 0 {
            let streamed_in = match &old {
                Some(o) => AssetId(u32::try_from(o.asset_id).unwrap_or(record.asset.0)),
                None => record.asset,
            };
            let mut m = Movement::new("stream", streamed_in, settled, record.since);
            m.from = Some(row.patron.clone());
            m.to = Some(row.payee.clone());
            m.pledge = Some(row.pledge_id);
            m.project = row.project_id;
            b.movement(idx, m)?;
        }
        if let Some(o) = &old {
            creators::count_pledge(b, o, -1);
        }
        creators::count_pledge(b, &row, 1);
        if *change == PledgeChange::Started {
            if let Holder::Project(p) = record.payee {
                projects::funder(b, p, &record.patron)?;
            }
            let d = b.daily(&row.payee, record.asset, record.created_at)?;
            d.pledges_started += 1;
        }
        b.pledges.set(row, &mut b.undo);
        Ok(())
    }
}
