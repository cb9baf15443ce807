//! Every storage path the protocol uses, in one module. `docs/state-layout.md`
//! describes the same paths for indexers and auditors; keep the two in step.

use crate::asset::AssetId;
use crate::crypto::Address;
use crate::state::{Holder, PledgeId, ProjectId, TierId};

/// The protocol's clock: last level and its time.
pub const CLOCK: &str = "/meta/clock";
/// The id counters.
pub const COUNTERS: &str = "/meta/counters";
/// The state hash over everything else.
pub const STATE_HASH: &str = "/meta/state_hash";
/// Number of entries in the scheduler's heap.
pub const SCHEDULE_LEN: &str = "/schedule/len";

/// An account's nonce and key.
pub fn account(a: &Address) -> String {
    format!("/accounts/{a}")
}

/// The address of the account numbered `n`.
pub fn account_by_index(n: u64) -> String {
    format!("/accounts/by-index/{n}")
}

/// The pledges an account pays, active or paused.
pub fn patron_pledges(a: &Address) -> String {
    format!("/accounts/{a}/pledges")
}

fn holder(h: &Holder) -> String {
    match h {
        Holder::Account(a) => a.to_string(),
        Holder::Project(p) => format!("project-{}", p.0),
    }
}

/// A holder's balance and flow rates in one asset.
pub fn flow(h: &Holder, asset: AssetId) -> String {
    format!("/flows/{}/{}", holder(h), asset.0)
}

/// Number of pledges ever made to a payee.
pub fn payee_pledge_count(h: &Holder) -> String {
    format!("/payees/{}/count", holder(h))
}

/// The `n`th pledge ever made to a payee.
pub fn payee_pledge(h: &Holder, n: u64) -> String {
    format!("/payees/{}/{n}", holder(h))
}

/// An asset's ticket.
pub fn asset(id: AssetId) -> String {
    format!("/assets/{}", id.0)
}

/// The id of the asset with this ticket digest.
pub fn asset_by_ticket(digest: &[u8; 32]) -> String {
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    format!("/assets/by-ticket/{hex}")
}

/// An asset's total deposited and withdrawn.
pub fn supply(id: AssetId) -> String {
    format!("/supply/{}", id.0)
}

/// A creator's profile and settings.
pub fn creator(a: &Address) -> String {
    format!("/creators/{a}")
}

/// A tier.
pub fn tier(id: TierId) -> String {
    format!("/tiers/{}", id.0)
}

/// A pledge.
pub fn pledge(id: PledgeId) -> String {
    format!("/pledges/{}", id.0)
}

/// A project escrow.
pub fn project(id: ProjectId) -> String {
    format!("/projects/{}", id.0)
}

/// A project's accounts in one asset.
pub fn project_asset(id: ProjectId, asset: AssetId) -> String {
    format!("/projects/{}/assets/{}", id.0, asset.0)
}

/// A funder's contributions to a project.
pub fn project_funder(id: ProjectId, funder: &Address) -> String {
    format!("/projects/{}/funders/{funder}", id.0)
}

/// A project's `n`th ticket.
pub fn project_ticket(id: ProjectId, n: u32) -> String {
    format!("/projects/{}/tickets/{n}", id.0)
}

/// A project's `n`th invoice.
pub fn project_invoice(id: ProjectId, n: u32) -> String {
    format!("/projects/{}/invoices/{n}", id.0)
}

/// The `i`th entry of the scheduler's heap.
pub fn schedule_entry(i: u64) -> String {
    format!("/schedule/{i}")
}
