//! Every decoder, fed random or mutated bytes, either refuses them or reads a
//! value whose encoding is exactly those bytes (one byte string per value),
//! and never panics.

#![allow(clippy::indexing_slicing, clippy::panic)] // test code: a failed index is a failed test

mod common;

use common::*;
use pledgeroll_contracts::asset::Supply;
use pledgeroll_contracts::encoding::{Decode, Encode, Text};
use pledgeroll_contracts::schedule::Entry;
use pledgeroll_contracts::state::{Account, Clock, Counters, Creator, Pledge, Profile, Tier};
use pledgeroll_contracts::stream::Flow;
use pledgeroll_contracts::{
    Batch, Event, Operation, PledgeId, Receipt, SignedOperation, Ticket, Withdrawal,
};
use proptest::prelude::*;

fn canonical_or_refused<T: Decode + Encode>(bytes: &[u8]) {
    if let Ok(v) = T::from_bytes(bytes) {
        assert_eq!(
            v.to_bytes(),
            bytes,
            "{} decoded but is not canonical",
            std::any::type_name::<T>()
        );
    }
}

fn all_decoders(bytes: &[u8]) {
    let _ = Batch::parse(bytes);
    canonical_or_refused::<Batch>(bytes);
    canonical_or_refused::<SignedOperation>(bytes);
    canonical_or_refused::<Operation>(bytes);
    canonical_or_refused::<Event>(bytes);
    canonical_or_refused::<Receipt>(bytes);
    canonical_or_refused::<Withdrawal>(bytes);
    canonical_or_refused::<Ticket>(bytes);
    canonical_or_refused::<Pledge>(bytes);
    canonical_or_refused::<Tier>(bytes);
    canonical_or_refused::<Creator>(bytes);
    canonical_or_refused::<Profile>(bytes);
    canonical_or_refused::<Account>(bytes);
    canonical_or_refused::<Flow>(bytes);
    canonical_or_refused::<Entry>(bytes);
    canonical_or_refused::<Clock>(bytes);
    canonical_or_refused::<Counters>(bytes);
    canonical_or_refused::<Supply>(bytes);
}

/// Valid encodings of many kinds, to mutate.
fn samples() -> Vec<Vec<u8>> {
    let mut w = World::new(3);
    let asset = w.deposit(1, tez_ticket(), 100_000);
    let tier = w.creator_with_tier(0, asset, 1_000);
    let mut out = Vec::new();
    let ops = [
        pledge_op(tier),
        Operation::Tip {
            to: w.holder(0),
            asset,
            amount: 2,
            memo: Text::new("thanks!").expect("short"),
        },
        Operation::CancelPledge {
            pledge: PledgeId(0),
        },
    ];
    let mut batch = Batch::default();
    for op in ops {
        let signed = w.keys[1]
            .sign_next(w.p.store(), &ROLLUP, op.clone())
            .expect("a statement");
        out.push(signed.to_bytes());
        out.push(op.to_bytes());
        let applied =
            w.p.apply(&signed)
                .expect("no fault")
                .expect("a known signer");
        out.push(applied.receipt.to_bytes());
        out.extend(applied.events.iter().map(Encode::to_bytes));
        batch.operations.push(signed);
    }
    out.push(batch.to_bytes());
    out.extend(w.advance(DAY).iter().map(Encode::to_bytes));
    out.push(
        w.p.pledge(PledgeId(0))
            .expect("read")
            .expect("exists")
            .to_bytes(),
    );
    out.push(w.p.tier(tier).expect("read").expect("exists").to_bytes());
    out.push(
        w.p.creator(&w.addr(0))
            .expect("read")
            .expect("exists")
            .to_bytes(),
    );
    out
}

#[test]
fn samples_are_canonical() {
    for s in samples() {
        all_decoders(&s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        all_decoders(&bytes);
    }

    #[test]
    fn mutated_encodings_are_refused_or_canonical(
        pick in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        thread_local!(static SAMPLES: Vec<Vec<u8>> = samples());
        let mut bytes = SAMPLES.with(|s| pick.get(s).clone());
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        all_decoders(&bytes);
    }
}

fn round_trip<T: Decode + Encode + PartialEq + std::fmt::Debug>(value: &T) {
    let bytes = value.to_bytes();
    assert_eq!(
        T::from_bytes(&bytes).as_ref(),
        Ok(value),
        "{}",
        std::any::type_name::<T>()
    );
}

/// Every stored and transmitted type, taken from a live scenario, reads back
/// to itself.
#[test]
fn every_type_round_trips() {
    use pledgeroll_contracts::escrow::{Mode, ProjectOperation};
    use pledgeroll_contracts::{Holder, ProjectId};

    let mut w = World::new(4);
    let asset = w.deposit(1, tez_ticket(), 100_000);
    let tier = w.creator_with_tier(0, asset, 1_000);
    w.ok(1, pledge_op(tier));
    let commissioners =
        pledgeroll_contracts::encoding::List::new(vec![w.addr(0), w.addr(2)]).expect("few");
    let project = ProjectId(0);
    for (who, op) in [
        (
            0,
            ProjectOperation::Create {
                title: Text::new("p").expect("short"),
                description: Text::new("d").expect("short"),
                link: Some(Text::new("https://example.org").expect("short")),
                commissioners,
                threshold: 2,
                mode: Mode::Private { patron: w.addr(1) },
                time_lock: None,
                refund_deadline: START as u64 + 30 * DAY,
            },
        ),
        (
            1,
            ProjectOperation::Fund {
                project,
                asset,
                amount: 500,
            },
        ),
        (
            0,
            ProjectOperation::OpenTicket {
                project,
                title: Text::new("t").expect("short"),
                url: None,
                budget: None,
            },
        ),
        (0, ProjectOperation::CloseTicket { project, ticket: 0 }),
        (
            0,
            ProjectOperation::RaiseInvoice {
                project,
                ticket: 0,
                beneficiary: w.addr(3),
                asset,
                amount: 100,
            },
        ),
        (
            1,
            ProjectOperation::Veto {
                project,
                invoice: 0,
            },
        ),
    ] {
        w.ok(who, Operation::Project { op });
    }
    let withdrawal = w.ok(
        1,
        Operation::Withdraw {
            asset,
            amount: 1,
            destination: pledgeroll_contracts::Contract::Originated([3; 20]),
            entrypoint: Text::new("burn").expect("short"),
        },
    );
    round_trip(&withdrawal.withdrawals[0]);
    round_trip(&withdrawal.receipt);
    let p = &w.p;
    round_trip(&p.account(&w.addr(1)).expect("read"));
    round_trip(&p.clock().expect("read"));
    round_trip(&p.counters().expect("read"));
    round_trip(&p.supply(asset).expect("read"));
    round_trip(&p.asset(asset).expect("read").expect("exists"));
    round_trip(&p.flow(&Holder::Account(w.addr(1)), asset).expect("read"));
    round_trip(&p.creator(&w.addr(0)).expect("read").expect("exists"));
    round_trip(&p.tier(tier).expect("read").expect("exists"));
    round_trip(&p.pledge(PledgeId(0)).expect("read").expect("exists"));
    round_trip(&p.project(project).expect("read").expect("exists"));
    round_trip(&p.escrow_asset(project, asset).expect("read"));
    round_trip(&p.work_ticket(project, 0).expect("read").expect("exists"));
    round_trip(&p.invoice(project, 0).expect("read").expect("exists"));
    round_trip(&p.funder(project, &w.addr(1)).expect("read"));
}
