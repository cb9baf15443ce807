//! Creators and tiers: profiles, pauses, tiers, and the patron counts the
//! mirror keeps over them (live patrons from the protocol, streaming
//! patrons counted here as pledges start and stop).

use pledgeroll_contracts::{Address, Event};

use super::batch::{asset_key, Batch};
use super::prefetch::Keys;
use super::Projection;
use crate::error::{int, IndexError};
use crate::rows::{address_text, CreatorRow, EventRow, TierRow};

/// The projection of creator and tier events.
pub(super) struct Creators;

impl Projection for Creators {
    fn keys(&self, event: &Event, keys: &mut Keys) -> Result<(), IndexError> {
        match event {
            Event::ProfileSet { creator, .. } | Event::CreatorPaused { creator, .. } => {
                keys.creators.insert((address_text(creator),));
            }
            Event::TierUpdated { tier, record } => {
                keys.tiers.insert((int(tier.0, "tier id")?,));
                keys.creators.insert((address_text(&record.creator),));
            }
            // Other families' events.
            _ => {}
        }
        Ok(())
    }

    fn describe(&self, event: &Event, row: &mut EventRow) -> Result<(), IndexError> {
        let kind = match event {
            Event::ProfileSet { creator, .. } => {
                row.account = Some(address_text(creator));
                "profile_set"
            }
            Event::TierUpdated { tier, record } => {
                row.account = Some(address_text(&record.creator));
                row.tier_id = Some(int(tier.0, "tier id")?);
                row.asset_id = Some(asset_key(record.asset));
                "tier_updated"
            }
            Event::CreatorPaused { creator, pause } => {
                row.account = Some(address_text(creator));
                let change = if pause.is_paused() {
                    "paused"
                } else {
                    "resumed"
                };
                row.change = Some(change.to_owned());
                "creator_paused"
            }
            // Other families' events.
            _ => return Ok(()),
        };
        row.kind = kind.to_owned();
        Ok(())
    }

    fn apply(&self, b: &mut Batch, _idx: i64, event: &Event) -> Result<(), IndexError> {
        let level = b.level();
        match event {
            Event::ProfileSet { creator, profile } => {
                let row = b
                    .creators
                    .entry(&(address_text(creator),), &mut b.undo, || {
                        new_creator(creator, level)
                    });
                row.set_profile(profile);
                row.updated_level = level;
            }
            Event::TierUpdated { tier, record } => {
                let key = (int(tier.0, "tier id")?,);
                let old = b.tiers.get(&key).cloned();
                let row = TierRow::from_tier(*tier, record, old.as_ref(), b.level)?;
                let delta = row.patrons - old.as_ref().map_or(0, |o| o.patrons);
                b.tiers.set(row, &mut b.undo);
                let creator = (address_text(&record.creator),);
                if let Some(c) = b.creators.modify(&creator, &mut b.undo) {
                    c.patrons += delta;
                    if old.is_none() {
                        c.tiers += 1;
                    }
                    c.updated_level = level;
                }
            }
            Event::CreatorPaused { creator, pause } => {
                let key = (address_text(creator),);
                if let Some(c) = b.creators.modify(&key, &mut b.undo) {
                    c.set_pause(pause)?;
                    c.updated_level = level;
                }
            }
            // Other families' events.
            _ => {}
        }
        Ok(())
    }
}

/// A creator's row before their first profile is taken in.
fn new_creator(creator: &Address, level: i64) -> CreatorRow {
    CreatorRow {
        address: address_text(creator),
        name: String::new(),
        name_lower: String::new(),
        description: String::new(),
        links: "[]".to_owned(),
        paused: false,
        paused_seconds: 0,
        paused_since: None,
        tiers: 0,
        patrons: 0,
        active_patrons: 0,
        created_level: level,
        updated_level: level,
    }
}

/// Moves a tier's (and its creator's) count of streaming pledges.
pub(super) fn active_patrons(b: &mut Batch, tier: i64, delta: i64) {
    let level = b.level();
    let creator = match b.tiers.modify(&(tier,), &mut b.undo) {
        Some(t) => {
            t.active_patrons += delta;
            t.updated_level = level;
            t.creator.clone()
        }
        None => return,
    };
    if let Some(c) = b.creators.modify(&(creator,), &mut b.undo) {
        c.active_patrons += delta;
        c.updated_level = level;
    }
}
