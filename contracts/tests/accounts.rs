//! Accounts and the operations on balances, each success case beside its
//! negative twin: key reveal, account numbers, signatures and nonces,
//! transfers, assets, tips and withdrawals; then operation size, the
//! encodings' round trips and the state hash.

#![allow(clippy::indexing_slicing, clippy::panic)] // test code: a failed index is a failed test

mod common;
mod support;

use common::*;
use pledgeroll_contracts::crypto::Contract;
use pledgeroll_contracts::encoding::{Decode, Encode, Text};
use pledgeroll_contracts::event::{Event, Outcome};
use pledgeroll_contracts::operation::Signer;
use pledgeroll_contracts::statement::{Statement, StatementError};
use pledgeroll_contracts::{
    Holder, Operation, PledgeId, ProjectId, RollupAddress, SignedOperation, Ticket, TierId,
};
use support::*;

#[test]
fn first_operation_reveals_the_key_and_numbers_the_account_later_ones_sign_by_number() {
    let mut w = World::new(2);
    let asset = w.deposit(0, tez_ticket(), 100);
    let transfer = Operation::Transfer {
        to: w.addr(1),
        asset,
        amount: 1,
    };
    let first = w.ok(0, transfer.clone());
    assert!(matches!(
        first.events[0],
        Event::AccountRevealed { index: 0, .. }
    ));
    let account = w.p.account(&w.addr(0)).expect("read");
    assert_eq!(account.next_nonce, 1);
    assert_eq!(account.public_key, Some(w.keys[0].public_key()));
    assert_eq!(account.index, Some(0));
    assert_eq!(w.p.account_by_index(0).expect("read"), Some(w.addr(0)));
    let second = w.keys[0]
        .sign_next(w.p.store(), &ROLLUP, transfer)
        .expect("a statement");
    assert_eq!(second.signer, Signer::Index(0));
    let applied =
        w.p.apply(&second)
            .expect("no fault")
            .expect("a known signer");
    assert!(applied.receipt.outcome.is_applied());
    assert!(!applied
        .events
        .iter()
        .any(|e| matches!(e, Event::AccountRevealed { .. })));
}

#[test]
fn an_account_number_never_given_is_not_attributed() {
    let mut w = World::new(2);
    let asset = w.deposit(0, tez_ticket(), 100);
    let transfer = Operation::Transfer {
        to: w.addr(1),
        asset,
        amount: 1,
    };
    let statement =
        Statement::new(w.p.store(), &ROLLUP, &w.addr(0), 0, &transfer).expect("a statement");
    let op = w.keys[0].sign_operation(&statement, transfer, Signer::Index(7));
    let before = w.p.state_hash().expect("read");
    assert_eq!(w.p.apply(&op).expect("no fault"), None);
    assert_eq!(w.p.state_hash().expect("read"), before);
}

#[test]
fn a_signature_for_another_nonce_or_a_replay_changes_nothing() {
    let mut w = World::new(2);
    let asset = w.deposit(0, tez_ticket(), 100);
    let op = Operation::Transfer {
        to: w.addr(1),
        asset,
        amount: 10,
    };
    let key = Signer::Key(w.keys[0].public_key());
    let ahead = Statement::new(w.p.store(), &ROLLUP, &w.addr(0), 1, &op).expect("a statement");
    let skipped = w.keys[0].sign_operation(&ahead, op.clone(), key.clone());
    let before = w.p.state_hash().expect("read");
    let r =
        w.p.apply(&skipped)
            .expect("no fault")
            .expect("a known signer");
    assert!(
        matches!(&r.receipt.outcome, Outcome::Failed { reason } if reason.as_str().contains("at the signer's next nonce, 0")),
        "{:?}",
        r.receipt
    );
    assert_eq!(w.p.state_hash().expect("read"), before);

    let good = w.keys[0]
        .sign_next(w.p.store(), &ROLLUP, op)
        .expect("a statement");
    let applied = w.p.apply(&good).expect("no fault").expect("a known signer");
    assert!(applied.receipt.outcome.is_applied());
    let replay = w.p.apply(&good).expect("no fault").expect("a known signer");
    assert!(matches!(replay.receipt.outcome, Outcome::Failed { .. }));
    assert_ne!(
        replay.receipt.hash, applied.receipt.hash,
        "a replay has its own id"
    );
    assert_eq!(w.balance(1, asset), 10);
}

#[test]
fn a_signature_for_another_rollup_is_refused() {
    let mut w = World::new(2);
    let asset = w.deposit(0, tez_ticket(), 100);
    let other = RollupAddress([0x77; 20]);
    let op = w.keys[0]
        .sign_next(
            w.p.store(),
            &other,
            Operation::Transfer {
                to: w.addr(1),
                asset,
                amount: 10,
            },
        )
        .expect("a statement");
    let r = w.p.apply(&op).expect("no fault").expect("a known signer");
    assert!(
        matches!(&r.receipt.outcome, Outcome::Failed { reason } if reason.as_str().contains("signature"))
    );
    assert_eq!(w.balance(1, asset), 0);
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let mut w = World::new(2);
    let asset = w.deposit(0, tez_ticket(), 100);
    let op = Operation::Transfer {
        to: w.addr(1),
        asset,
        amount: 10,
    };
    let statement = Statement::new(w.p.store(), &ROLLUP, &w.addr(0), 0, &op).expect("a statement");
    let forged = w.keys[1].sign_operation(&statement, op, Signer::Key(w.keys[0].public_key()));
    let r =
        w.p.apply(&forged)
            .expect("no fault")
            .expect("a known signer");
    assert!(matches!(r.receipt.outcome, Outcome::Failed { .. }));
    assert_eq!(w.balance(0, asset), 100);
}

#[test]
fn a_signature_for_other_terms_never_applies() {
    let mut w = World::new(3);
    let asset = w.deposit(1, tez_ticket(), 1_000_000_000);
    let cheap = w.creator_with_tier(0, asset, 5_000_000);
    let dear = w.creator_with_tier(2, asset, 500_000_000);
    let pledge = |tier| Operation::Pledge {
        tier,
        amount: None,
        end: None,
        cap: None,
    };
    let shown =
        Statement::new(w.p.store(), &ROLLUP, &w.addr(1), 0, &pledge(cheap)).expect("a statement");
    assert!(
        shown.text().contains("pledge 5 tez per month to "),
        "{}",
        shown.text()
    );
    let swapped =
        w.keys[1].sign_operation(&shown, pledge(dear), Signer::Key(w.keys[1].public_key()));
    let before = w.p.state_hash().expect("read");
    let r =
        w.p.apply(&swapped)
            .expect("no fault")
            .expect("a known signer");
    assert!(matches!(r.receipt.outcome, Outcome::Failed { .. }));
    assert_eq!(w.p.state_hash().expect("read"), before);
    // The same signature with the operation it was made for applies.
    let honest =
        w.keys[1].sign_operation(&shown, pledge(cheap), Signer::Key(w.keys[1].public_key()));
    let r =
        w.p.apply(&honest)
            .expect("no fault")
            .expect("a known signer");
    assert!(r.receipt.outcome.is_applied(), "{:?}", r.receipt);
}

#[test]
fn an_operation_naming_a_record_that_does_not_exist_uses_no_nonce() {
    let mut w = World::new(2);
    w.deposit(1, tez_ticket(), 100);
    let pledge = Operation::Pledge {
        tier: TierId(9),
        amount: None,
        end: None,
        cap: None,
    };
    let statement = Statement::new(w.p.store(), &ROLLUP, &w.addr(1), 0, &pledge);
    assert_eq!(statement, Err(StatementError::Unknown("tier 9".to_owned())));
    let op = SignedOperation {
        signer: Signer::Key(w.keys[1].public_key()),
        operation: pledge,
        signature: w.keys[1].sign(b"anything"),
    };
    let r = w.p.apply(&op).expect("no fault").expect("a known signer");
    assert!(
        matches!(&r.receipt.outcome, Outcome::Failed { reason } if reason.as_str() == "the operation names tier 9, which does not exist")
    );
    assert_eq!(w.p.account(&w.addr(1)).expect("read").next_nonce, 0);
}

#[test]
fn a_refused_operation_uses_its_nonce_so_it_cannot_be_replayed_later() {
    let mut w = World::new(2);
    let asset = w.deposit(0, tez_ticket(), 5);
    let op = w.keys[0]
        .sign_next(
            w.p.store(),
            &ROLLUP,
            Operation::Transfer {
                to: w.addr(1),
                asset,
                amount: 10,
            },
        )
        .expect("a statement");
    let r = w.p.apply(&op).expect("no fault").expect("a known signer");
    // The reason states the amounts in the asset's unit.
    assert!(
        matches!(&r.receipt.outcome, Outcome::Failed { reason } if reason.as_str() == "insufficient balance: 0.000005 tez available, 0.00001 tez needed"),
        "{:?}",
        r.receipt.outcome
    );
    assert_eq!(w.p.account(&w.addr(0)).expect("read").next_nonce, 1);
    w.p.deposit(w.addr(0), tez_ticket(), 100)
        .expect("no fault")
        .expect("ok");
    let again = w.p.apply(&op).expect("no fault").expect("a known signer");
    assert!(matches!(again.receipt.outcome, Outcome::Failed { .. }));
    assert_eq!(w.balance(1, asset), 0);
}

#[test]
fn transfers_move_exact_units_and_refuse_what_is_not_there() {
    let mut w = World::new(3);
    let asset = w.deposit(0, tez_ticket(), 100);
    w.ok(
        0,
        Operation::Transfer {
            to: w.addr(1),
            asset,
            amount: 40,
        },
    );
    assert_eq!((w.balance(0, asset), w.balance(1, asset)), (60, 40));
    assert!(w
        .fails(
            0,
            Operation::Transfer {
                to: w.addr(1),
                asset,
                amount: 61
            }
        )
        .contains("insufficient"));
    assert!(w
        .fails(
            0,
            Operation::Transfer {
                to: w.addr(1),
                asset,
                amount: 0
            }
        )
        .contains("positive"));
    assert!(w
        .fails(
            0,
            Operation::Transfer {
                to: w.addr(0),
                asset,
                amount: 1
            }
        )
        .contains("same account"));
    let unknown = pledgeroll_contracts::AssetId(9);
    assert!(w
        .fails(
            0,
            Operation::Transfer {
                to: w.addr(1),
                asset: unknown,
                amount: 1
            }
        )
        .contains("names asset 9, which does not exist"));
    assert_eq!((w.balance(0, asset), w.balance(1, asset)), (60, 40));
}

#[test]
fn assets_are_numbered_by_ticket_and_kept_apart() {
    let mut w = World::new(2);
    let tez = w.deposit(0, tez_ticket(), 100);
    let usd = w.deposit(0, usd_ticket(), 7);
    let tez_again = w.deposit(1, tez_ticket(), 1);
    assert_ne!(tez, usd);
    assert_eq!(tez, tez_again);
    assert_eq!(w.balance(0, usd), 7);
    assert_eq!(w.p.supply(tez).expect("read").deposited, 101);
    assert!(w
        .p
        .deposit(w.addr(0), tez_ticket(), 0)
        .expect("no fault")
        .is_err());
    let long = Ticket {
        metadata: Some(vec![1; 257]),
        ..usd_ticket()
    };
    assert!(w.p.deposit(w.addr(0), long, 5).expect("no fault").is_err());
    let longest = Ticket {
        metadata: Some(vec![1; 256]),
        ..usd_ticket()
    };
    assert!(w
        .p
        .deposit(w.addr(0), longest, 5)
        .expect("no fault")
        .is_ok());
    assert_eq!(w.p.counters().expect("read").asset, 3);
}

#[test]
fn tips_carry_a_memo_and_need_a_real_receiver() {
    let mut w = World::new(2);
    let asset = w.deposit(0, tez_ticket(), 100);
    let memo = Text::new("for the last episode").expect("short");
    let applied = w.ok(
        0,
        Operation::Tip {
            to: w.holder(1),
            asset,
            amount: 3,
            memo: memo.clone(),
        },
    );
    assert!(applied
        .events
        .iter()
        .any(|e| matches!(e, Event::Tipped { memo: m, amount: 3, .. } if *m == memo)));
    assert_eq!(w.balance(1, asset), 3);
    let to_nowhere = Operation::Tip {
        to: Holder::Project(ProjectId(42)),
        asset,
        amount: 3,
        memo,
    };
    assert_eq!(
        w.fails(0, to_nowhere),
        "the operation names project 42, which does not exist"
    );
    assert_eq!(w.balance(0, asset), 97);
}

#[test]
fn withdrawals_yield_an_outbox_record_and_count_in_the_supply() {
    let mut w = World::new(1);
    let asset = w.deposit(0, tez_ticket(), 100);
    let applied = w.ok(0, withdraw_op(asset, 30));
    assert_eq!(applied.withdrawals.len(), 1);
    let out = &applied.withdrawals[0];
    assert_eq!(
        (out.amount, &out.ticket, out.entrypoint.as_str()),
        (30, &tez_ticket(), "burn")
    );
    assert_eq!(w.balance(0, asset), 70);
    assert_eq!(w.p.supply(asset).expect("read").withdrawn, 30);

    let too_much = w.op(0, withdraw_op(asset, 71));
    assert!(too_much.withdrawals.is_empty());
    let bad_entrypoint = Operation::Withdraw {
        asset,
        amount: 1,
        destination: Contract::Originated([0x11; 20]),
        entrypoint: Text::new("bu rn").expect("short"),
    };
    assert!(w.fails(0, bad_entrypoint).contains("entrypoint"));
    // To one's own account: a withdrawal record naming the account, which
    // the kernel sends through the ticket's ticketer.
    let to_an_account = Operation::Withdraw {
        asset,
        amount: 1,
        destination: Contract::Implicit(w.addr(0)),
        entrypoint: Text::new("burn").expect("short"),
    };
    let applied = w.ok(0, to_an_account);
    assert_eq!(
        applied.withdrawals[0].destination,
        Contract::Implicit(w.addr(0))
    );
    assert_eq!(w.p.supply(asset).expect("read").withdrawn, 31);
    // Its twin: a ticket whose ticketer is no contract has no exchanger.
    let odd = Ticket {
        ticketer: Contract::Implicit(w.addr(0)),
        token_id: 0,
        metadata: None,
    };
    let odd_asset = w.deposit(0, odd, 5);
    let nowhere = Operation::Withdraw {
        asset: odd_asset,
        amount: 1,
        destination: Contract::Implicit(w.addr(0)),
        entrypoint: Text::new("burn").expect("short"),
    };
    assert!(w.fails(0, nowhere).contains("ticketer is not a contract"));
    assert_eq!(w.balance(0, odd_asset), 5);
}

#[test]
fn a_signed_pledge_from_a_known_account_fits_in_80_bytes() {
    let w = World::new(1);
    // (account number, tier, bytes): 71 to 72 for the first 16,384 accounts
    // and 128 tiers, 74 up to two million accounts and 16,384 tiers.
    for (index, tier, len) in [
        (0, 0, 71),
        (16_383, 127, 72),
        (16_384, 128, 74),
        (2_097_151, 16_383, 74),
    ] {
        let op = SignedOperation {
            signer: Signer::Index(index),
            operation: pledge_op(TierId(tier)),
            signature: w.keys[0].sign(b"a statement"),
        };
        let bytes = op.to_bytes();
        assert_eq!(bytes.len(), len, "account {index}, tier {tier}");
        assert!(bytes.len() <= 80);
        assert_eq!(SignedOperation::from_bytes(&bytes), Ok(op));
    }
}

#[test]
fn every_event_and_receipt_round_trips() {
    let mut w = World::new(3);
    let asset = w.deposit(1, tez_ticket(), 100_000);
    let tier = w.creator_with_tier(0, asset, 1_000);
    let mut events = Vec::new();
    let mut receipts = Vec::new();
    for (who, op) in [
        (1, pledge_op(tier)),
        (
            1,
            Operation::PausePledge {
                pledge: PledgeId(0),
            },
        ),
        (
            1,
            Operation::ResumePledge {
                pledge: PledgeId(0),
            },
        ),
        (
            1,
            Operation::Tip {
                to: w.holder(0),
                asset,
                amount: 2,
                memo: Text::new("hi").expect("short"),
            },
        ),
        (0, Operation::PauseCreator),
        (0, Operation::ResumeCreator),
        (
            1,
            Operation::CancelPledge {
                pledge: PledgeId(0),
            },
        ),
        (1, withdraw_op(asset, 5)),
        (2, Operation::PauseCreator),
    ] {
        let applied = w.op(who, op);
        events.extend(applied.events);
        receipts.push(applied.receipt);
    }
    events.extend(w.advance(DAY));
    assert!(events.len() > 15);
    for e in events {
        assert_eq!(Event::from_bytes(&e.to_bytes()), Ok(e));
    }
    for r in receipts {
        assert_eq!(
            pledgeroll_contracts::Receipt::from_bytes(&r.to_bytes()),
            Ok(r)
        );
    }
}

#[test]
fn the_same_operations_give_the_same_state_hash_and_it_covers_the_whole_state() {
    let run = || {
        let mut w = World::new(3);
        let asset = w.deposit(1, tez_ticket(), 100_000);
        let tier = w.creator_with_tier(0, asset, 1_000);
        w.ok(1, pledge_op(tier));
        w.advance(DAY);
        w.ok(0, withdraw_op(asset, 10));
        w.advance(DAY);
        w
    };
    let (a, b) = (run(), run());
    let hash = a.p.state_hash().expect("read");
    assert_eq!(hash, b.p.state_hash().expect("read"));
    assert_eq!(hash, a.p.store().recompute_state_hash());
    let mut c = run();
    c.advance(1);
    assert_ne!(c.p.state_hash().expect("read"), hash);
}
