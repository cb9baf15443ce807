//! Creator pauses: a pause stops every stream to that creator at its second,
//! patrons keep the rest and their runway moves to match, and caps are
//! reached later by the seconds paused.

#![allow(clippy::indexing_slicing, clippy::panic)] // test code: a failed index is a failed test

mod common;
mod support;

use common::*;
use pledgeroll_contracts::state::{EndReason, PauseReason, PledgeStatus};
use pledgeroll_contracts::{AssetId, Operation, PledgeId};
use support::*;

#[test]
fn a_creator_pause_stops_every_pledge_until_resumed() {
    let mut w = World::new(3);
    let asset = w.deposit(1, tez_ticket(), 100_000);
    w.deposit(2, tez_ticket(), 100_000);
    let tier = w.creator_with_tier(0, asset, 1_000);
    w.ok(1, pledge_op(tier));
    w.ok(2, pledge_op(tier));
    w.ok(0, Operation::PauseCreator);
    assert!(w.fails(0, Operation::PauseCreator).contains("already"));
    w.advance(u64::from(MONTH));
    assert_eq!(w.balance(0, asset), 0);
    assert!(w
        .fails(
            1,
            Operation::ResumePledge {
                pledge: PledgeId(0)
            }
        )
        .contains("paused their subscription"));
    let newcomer = w.next_limited_tier(0, asset);
    assert!(w.fails(2, pledge_op(newcomer)).contains("paused"));
    w.ok(0, Operation::ResumeCreator);
    w.advance(u64::from(MONTH));
    assert_eq!(w.balance(0, asset), 2_000);
    assert!(w
        .fails(2, Operation::ResumeCreator)
        .contains("no creator profile"));
}

/// The status of pledge `id`.
fn status(w: &World, id: u64) -> PledgeStatus {
    w.p.pledge(PledgeId(id))
        .expect("read")
        .expect("exists")
        .status
}

const DAY: u64 = 86_400;
const OUT_OF_FUNDS: PledgeStatus = PledgeStatus::Paused {
    reason: PauseReason::OutOfFunds,
};

#[test]
fn a_creator_pause_stops_streams_at_its_second_and_patrons_keep_the_rest() {
    let mut w = World::new(2);
    let asset = w.deposit(1, tez_ticket(), 100_000);
    let tier = w.creator_with_tier(0, asset, 3_000);
    w.ok(1, pledge_op(tier));
    w.advance(10 * DAY);
    w.ok(0, Operation::PauseCreator);
    w.advance(u64::from(MONTH));
    // Nothing settled the patron since the pause; what it shows is exact.
    assert_eq!(w.balance(0, asset), 1_000);
    assert_eq!(w.balance(1, asset), 99_000);
    assert_eq!(w.p.runway(&w.addr(1), asset).expect("read"), None);
    assert_eq!(status(&w, 0), PledgeStatus::Active);
    w.ok(0, Operation::ResumeCreator);
    w.advance(10 * DAY);
    assert_eq!(w.balance(0, asset), 2_000);
    assert_eq!(w.balance(1, asset), 98_000);
    let runway =
        w.p.runway(&w.addr(1), asset)
            .expect("read")
            .expect("drains");
    assert_eq!(runway - w.now as u64, 980 * DAY);
    // The patron acting settles the pledge: the same figures, stored.
    w.ok(
        1,
        Operation::PausePledge {
            pledge: PledgeId(0),
        },
    );
    let pledge = w.p.pledge(PledgeId(0)).expect("read").expect("exists");
    assert_eq!(pledge.streamed, fine(2_000));
    assert_eq!(
        w.p.flow(&w.holder(1), asset).expect("read").settled,
        fine(98_000)
    );
}

/// Patron 1 with 2,000 pledging 3,000 a month to creator 0 (pledge 0), who
/// then pauses, and as much to creator 2 (pledge 1).
fn patron_of_a_paused_and_a_streaming_creator() -> (World, AssetId) {
    let mut w = World::new(3);
    let asset = w.deposit(1, tez_ticket(), 2_000);
    let paused = w.creator_with_tier(0, asset, 3_000);
    let streaming = w.creator_with_tier(2, asset, 3_000);
    w.ok(1, pledge_op(paused));
    w.ok(1, pledge_op(streaming));
    w.ok(0, Operation::PauseCreator);
    (w, asset)
}

#[test]
fn a_patron_paying_a_paused_creator_runs_dry_on_the_exact_second() {
    let (mut w, asset) = patron_of_a_paused_and_a_streaming_creator();
    let start = w.now as u64;
    // 2,000 at 3,000 a month streaming: 20 days, to the second. The stored
    // balance, charged for both pledges, would say 10.
    let runway =
        w.p.runway(&w.addr(1), asset)
            .expect("read")
            .expect("drains");
    assert_eq!(runway, start + 20 * DAY);
    w.advance(20 * DAY - 1);
    assert_eq!(status(&w, 1), PledgeStatus::Active);
    // Under a day of both pledges left, the paused creator's one stopped.
    assert_eq!(status(&w, 0), OUT_OF_FUNDS);
    w.advance(1);
    assert_eq!(status(&w, 1), OUT_OF_FUNDS);
    assert_eq!(w.balance(2, asset), 2_000);
    assert_eq!(w.balance(0, asset), 0);
    assert_eq!(w.balance_fine(1, asset), 0);
    w.ok(0, Operation::ResumeCreator);
    w.advance(DAY);
    assert_eq!(status(&w, 0), OUT_OF_FUNDS);
    assert_eq!(w.balance(0, asset), 0);
}

#[test]
fn a_resume_brings_the_patrons_runway_in_to_the_exact_second() {
    let (mut w, asset) = patron_of_a_paused_and_a_streaming_creator();
    w.advance(5 * DAY);
    w.ok(0, Operation::ResumeCreator);
    let resumed = w.now as u64;
    // 1,500 left at 6,000 a month: 7.5 days.
    let runway =
        w.p.runway(&w.addr(1), asset)
            .expect("read")
            .expect("drains");
    assert_eq!(runway, resumed + 7 * DAY + DAY / 2);
    w.advance(7 * DAY + DAY / 2 - 1);
    assert_eq!(status(&w, 0), PledgeStatus::Active);
    assert_eq!(status(&w, 1), PledgeStatus::Active);
    w.advance(1);
    assert_eq!(status(&w, 0), OUT_OF_FUNDS);
    assert_eq!(status(&w, 1), OUT_OF_FUNDS);
    assert_eq!(w.balance(0, asset), 750);
    assert_eq!(w.balance(2, asset), 1_250);
    assert_eq!(w.balance_fine(1, asset), 0);
}

#[test]
fn a_cap_is_reached_later_by_the_seconds_a_creator_paused() {
    let mut w = World::new(2);
    let asset = w.deposit(1, tez_ticket(), 100_000);
    let tier = w.creator_with_tier(0, asset, 3_000);
    w.ok(
        1,
        Operation::Pledge {
            tier,
            amount: None,
            end: None,
            cap: Some(1_000),
        },
    );
    let start = w.now as u64;
    w.advance(5 * DAY);
    w.ok(0, Operation::PauseCreator);
    w.advance(30 * DAY);
    w.ok(0, Operation::ResumeCreator);
    w.advance(5 * DAY - 1);
    assert_eq!(status(&w, 0), PledgeStatus::Active);
    w.advance(1);
    assert_eq!(w.now as u64, start + 40 * DAY);
    assert_eq!(
        status(&w, 0),
        PledgeStatus::Ended {
            reason: EndReason::CapReached
        }
    );
    assert_eq!(w.balance(0, asset), 1_000);
    assert_eq!(w.balance(1, asset), 99_000);
}

#[test]
fn pausing_and_resuming_touch_the_creator_alone() {
    let mut w = World::new(12);
    let asset = w.deposit(1, tez_ticket(), 1);
    let tier = w.creator_with_tier(0, asset, 3_000);
    for i in 1..12 {
        w.deposit(i, tez_ticket(), 100_000);
        w.ok(i, pledge_op(tier));
    }
    for op in [Operation::PauseCreator, Operation::ResumeCreator] {
        let applied = w.ok(0, op);
        // The pause itself and the creator's one incoming flow.
        assert_eq!(applied.events.len(), 2, "{:?}", applied.events);
        w.advance(DAY);
    }
    assert_eq!(w.balance(0, asset), 11 * 100);
}
