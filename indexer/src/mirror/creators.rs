//! Creators and tiers: profiles, pauses, tiers, and the patron counts the
//! mirror keeps over them: patrons with a live pledge and patrons with a
//! streaming one, counted here as pledges start, change and stop, each
//! patron once however many pledges they have.

use pledgeroll_contracts::{Address, Event};

use super::batch::{asset_key, Batch};
use super::prefetch::Keys;
use super::Projection;
use crate::error::{int, IndexError};
use crate::rows::{
    address_text, CreatorPatronRow, CreatorRow, EventRow, PledgeRow, TierPatronRow, TierRow,
};

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
                b.tiers.set(row, &mut b.undo);
                let creator = (address_text(&record.creator),);
                if let Some(c) = b.creators.modify(&creator, &mut b.undo) {
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

/// Counts a pledge to a tier in (`delta` 1) or out (-1) of its patron's
/// pledges to the tier and to the creator; the tier's and the creator's
/// patron counts move when a patron's first pledge comes or last one goes.
pub(super) fn count_pledge(b: &mut Batch, pledge: &PledgeRow, delta: i64) {
    let Some(tier) = pledge.tier_id else {
        return;
    };
    let live = i64::from(pledge.is_live()) * delta;
    let streaming = i64::from(pledge.is_active()) * delta;
    if live == 0 && streaming == 0 {
        return;
    }
    let level = b.level();
    let patron = pledge.patron.clone();
    let t = b
        .tier_patrons
        .entry(&(tier, patron.clone()), &mut b.undo, || TierPatronRow {
            tier_id: tier,
            patron: patron.clone(),
            live_pledges: 0,
            streaming_pledges: 0,
        });
    let tier_streaming = moved(&mut t.streaming_pledges, streaming);
    t.live_pledges += live;
    let c = b
        .creator_patrons
        .entry(&(pledge.payee.clone(), patron.clone()), &mut b.undo, || {
            CreatorPatronRow {
                creator: pledge.payee.clone(),
                patron,
                live_pledges: 0,
                streaming_pledges: 0,
            }
        });
    let creator_live = moved(&mut c.live_pledges, live);
    let creator_streaming = moved(&mut c.streaming_pledges, streaming);
    if tier_streaming != 0 {
        if let Some(t) = b.tiers.modify(&(tier,), &mut b.undo) {
            t.active_patrons += tier_streaming;
            t.updated_level = level;
        }
    }
    if creator_live != 0 || creator_streaming != 0 {
        if let Some(c) = b.creators.modify(&(pledge.payee.clone(),), &mut b.undo) {
            c.patrons += creator_live;
            c.active_patrons += creator_streaming;
            c.updated_level = level;
        }
    }
}

/// Adds `delta` to a patron's count of pledges; returns how the count of
/// patrons moves: 1 when the first one came, -1 when the last one went.
fn moved(count: &mut i64, delta: i64) -> i64 {
    let before = *count > 0;
    *count += delta;
    i64::from(*count > 0) - i64::from(before)
}
