//! The protocol's rules, each success case beside its negative twin.

#![allow(clippy::indexing_slicing, clippy::panic)] // test code: a failed index is a failed test

mod common;

use common::*;
use pledgeroll_contracts::crypto::Contract;
use pledgeroll_contracts::encoding::{Decode, Encode, List, Text};
use pledgeroll_contracts::event::{Event, Outcome, PledgeChange};
use pledgeroll_contracts::operation::Signer;
use pledgeroll_contracts::state::{EndReason, PauseReason, PledgeEnd, PledgeStatus, Profile};
use pledgeroll_contracts::statement::{Statement, StatementError};
use pledgeroll_contracts::{
    AssetId, Created, Holder, Operation, PledgeId, ProjectId, RollupAddress, SignedOperation,
    Ticket, TierId,
};

fn withdraw_op(asset: pledgeroll_contracts::AssetId, amount: u64) -> Operation {
    Operation::Withdraw {
        asset,
        amount,
        destination: Contract::Originated([0x11; 20]),
        entrypoint: Text::new("burn").expect("short"),
    }
}

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
fn only_creators_with_a_profile_add_tiers_and_only_their_own_are_retired() {
    let mut w = World::new(2);
    let asset = w.deposit(0, tez_ticket(), 1);
    let add = Operation::AddTier {
        title: Text::new("fan").expect("short"),
        perks: Text::new("").expect("short"),
        asset,
        amount_per_period: 5,
        period: MONTH,
        patron_limit: None,
    };
    assert!(w.fails(0, add.clone()).contains("no creator profile"));
    let tier = w.creator_with_tier(0, asset, 5);
    assert_eq!(
        w.p.tier(tier)
            .expect("read")
            .expect("exists")
            .amount_per_period,
        5
    );
    assert!(w
        .fails(1, Operation::RetireTier { tier })
        .contains("another creator"));
    w.ok(0, Operation::RetireTier { tier });
    assert!(w
        .fails(0, Operation::RetireTier { tier })
        .contains("retired"));
    let Operation::AddTier {
        title,
        perks,
        asset,
        amount_per_period,
        patron_limit,
        ..
    } = add
    else {
        unreachable!()
    };
    let bad_period = Operation::AddTier {
        title,
        perks,
        asset,
        amount_per_period,
        period: 10,
        patron_limit,
    };
    assert!(w.fails(0, bad_period).contains("period"));
}

#[test]
fn profiles_tiers_and_memos_follow_the_text_rules() {
    let mut w = World::new(2);
    let asset = w.deposit(1, tez_ticket(), 100);
    let profile = |name: &str, description: &str, link: &str| Operation::SetProfile {
        profile: Profile {
            name: Text::new(name).expect("short"),
            description: Text::new(description).expect("short"),
            links: List::new(vec![Text::new(link).expect("short")]).expect("few"),
        },
    };
    let cases = [
        (
            profile("Ada\0", "", "https://a.example"),
            "the profile name holds the control character U+0000",
        ),
        (
            profile("Ada", "a\u{85}", "https://a.example"),
            "the profile description holds the control character U+0085",
        ),
        (
            profile("\u{2067}Ada", "", "https://a.example"),
            "the profile name holds the bidirectional formatting character U+2067",
        ),
        (
            profile("Ada", "", "ftp://a.example"),
            "the profile link is not an http:// or https:// URL",
        ),
    ];
    for (op, said) in cases {
        let reason = w.fails(0, op);
        assert!(reason.starts_with(said), "{reason}");
    }
    assert!(w.p.creator(&w.addr(0)).expect("read").is_none());
    // The twin: any script, line feeds in the description, an https link.
    w.ok(
        0,
        profile(
            "Ада Лавлейс 東京",
            "first line\nsecond",
            "https://a.example/x?y#z",
        ),
    );

    let tier = |title: &str, perks: &str| Operation::AddTier {
        title: Text::new(title).expect("short"),
        perks: Text::new(perks).expect("short"),
        asset,
        amount_per_period: 5,
        period: MONTH,
        patron_limit: None,
    };
    assert!(w
        .fails(0, tier("gold\n", ""))
        .contains("tier title holds a line break"));
    assert!(w.fails(0, tier("gold", "\t- a")).contains("tier perks"));
    let added = w.ok(0, tier("gold", "- a\n- b"));
    let Some(Created::Tier { tier: id }) = added.receipt.outcome.created() else {
        panic!("no tier in {:?}", added.receipt);
    };
    assert_eq!(
        w.p.tier(id).expect("read").expect("exists").title.as_str(),
        "gold"
    );

    let to = Holder::Account(w.addr(0));
    let tip = |memo: &str| Operation::Tip {
        to,
        asset,
        amount: 1,
        memo: Text::new(memo).expect("short"),
    };
    let reason = w.fails(1, tip("thanks\u{b}"));
    assert!(reason.contains("tip memo"), "{reason}");
    assert_eq!(w.balance(1, asset), 100);
    w.ok(1, tip("thanks"));
    assert_eq!(w.balance(1, asset), 99);
}

#[test]
fn a_pledge_receipt_names_its_pledge_even_for_identical_pledges() {
    let mut w = World::new(2);
    let asset = w.deposit(1, tez_ticket(), 1_000);
    let tier = w.creator_with_tier(0, asset, 10);
    let pledge = Operation::Pledge {
        tier,
        amount: None,
        end: None,
        cap: None,
    };
    let first = w.ok(1, pledge.clone()).receipt.outcome.created();
    let second = w.ok(1, pledge).receipt.outcome.created();
    assert_eq!(
        first,
        Some(Created::Pledge {
            pledge: PledgeId(0)
        })
    );
    assert_eq!(
        second,
        Some(Created::Pledge {
            pledge: PledgeId(1)
        })
    );
}

#[test]
fn a_profile_needs_a_name() {
    let mut w = World::new(1);
    let empty = Operation::SetProfile {
        profile: Default::default(),
    };
    assert!(w.fails(0, empty).contains("name"));
    assert!(w.p.creator(&w.addr(0)).expect("read").is_none());
}

#[test]
fn a_month_of_pledging_moves_exactly_the_price_and_the_creator_withdraws_it() {
    let mut w = World::new(2);
    let asset = w.deposit(1, tez_ticket(), 10_000_000);
    let tier = w.creator_with_tier(0, asset, 5_000_000);
    w.ok(1, pledge_op(tier));
    w.advance(u64::from(MONTH));
    assert_eq!(w.balance(0, asset), 5_000_000);
    assert_eq!(w.balance(1, asset), 5_000_000);
    w.ok(0, withdraw_op(asset, 5_000_000));
    assert_eq!(w.balance(0, asset), 0);
    assert!(w.fails(0, withdraw_op(asset, 1)).contains("insufficient"));
}

#[test]
fn a_pledge_below_the_price_is_refused_and_above_it_accepted() {
    let mut w = World::new(2);
    let asset = w.deposit(1, tez_ticket(), 10_000);
    let tier = w.creator_with_tier(0, asset, 100);
    let low = Operation::Pledge {
        tier,
        amount: Some(99),
        end: None,
        cap: None,
    };
    assert!(w.fails(1, low).contains("below"));
    let high = Operation::Pledge {
        tier,
        amount: Some(300),
        end: None,
        cap: None,
    };
    w.ok(1, high);
    w.advance(u64::from(MONTH));
    assert_eq!(w.balance(0, asset), 300);
}

#[test]
fn a_creator_cannot_pledge_to_themselves_nor_to_a_retired_or_full_tier() {
    let mut w = World::new(3);
    let asset = w.deposit(1, tez_ticket(), 10_000);
    w.deposit(2, tez_ticket(), 10_000);
    w.deposit(0, tez_ticket(), 10_000);
    let tier = w.creator_with_tier(0, asset, 100);
    assert!(w.fails(0, pledge_op(tier)).contains("themselves"));
    let limited = w.next_limited_tier(0, asset);
    w.ok(1, pledge_op(limited));
    assert!(w.fails(2, pledge_op(limited)).contains("full"));
    w.ok(0, Operation::RetireTier { tier });
    assert!(w.fails(1, pledge_op(tier)).contains("retired"));
}

trait LimitedTier {
    fn next_limited_tier(
        &mut self,
        creator: usize,
        asset: pledgeroll_contracts::AssetId,
    ) -> pledgeroll_contracts::TierId;
}

impl LimitedTier for World {
    fn next_limited_tier(
        &mut self,
        creator: usize,
        asset: pledgeroll_contracts::AssetId,
    ) -> pledgeroll_contracts::TierId {
        let next = self.p.counters().expect("read").tier;
        self.ok(
            creator,
            Operation::AddTier {
                title: Text::new("one seat").expect("short"),
                perks: Text::new("").expect("short"),
                asset,
                amount_per_period: 100,
                period: MONTH,
                patron_limit: Some(1),
            },
        );
        pledgeroll_contracts::TierId(next)
    }
}

#[test]
fn a_pledge_that_cannot_be_funded_for_a_second_is_refused() {
    let mut w = World::new(2);
    let asset = w.deposit(0, tez_ticket(), 1);
    let tier = w.creator_with_tier(0, asset, 5_000_000);
    assert!(w.fails(1, pledge_op(tier)).contains("fund"));
    // 5 tez a month is about 1.93 mutez a second: 2 mutez fund one second.
    w.deposit(1, tez_ticket(), 2);
    w.ok(1, pledge_op(tier));
}

#[test]
fn when_the_balance_runs_out_the_stream_stops_at_that_exact_second() {
    let mut w = World::new(2);
    // 2.5 months of funding at 1,000 units per 30 days.
    let asset = w.deposit(1, tez_ticket(), 2_500);
    let tier = w.creator_with_tier(0, asset, 1_000);
    w.ok(1, pledge_op(tier));
    let runway =
        w.p.runway(&w.addr(1), asset)
            .expect("read")
            .expect("drains");
    let expected = START as u64 + 2 * u64::from(MONTH) + u64::from(MONTH) / 2;
    assert_eq!(runway, expected);

    // A level just before: still active.
    w.advance(expected - START as u64 - 1);
    assert!(w
        .p
        .pledge(PledgeId(0))
        .expect("read")
        .expect("exists")
        .is_active());
    // A level long after: stopped at the runway second, not at the level's time.
    let events = w.advance(10 * DAY);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::PledgeUpdated {
            change: PledgeChange::Paused,
            ..
        }
    )));
    let pledge = w.p.pledge(PledgeId(0)).expect("read").expect("exists");
    assert_eq!(
        pledge.status,
        PledgeStatus::Paused {
            reason: PauseReason::OutOfFunds
        }
    );
    assert_eq!(pledge.since, expected);
    assert_eq!(w.balance(0, asset), 2_500);
    assert_eq!(w.balance(1, asset), 0);
    assert_eq!(w.p.runway(&w.addr(1), asset).expect("read"), None);

    // After a deposit the patron resumes; before it they cannot.
    assert!(w
        .fails(
            1,
            Operation::ResumePledge {
                pledge: PledgeId(0)
            }
        )
        .contains("fund"));
    w.deposit(1, tez_ticket(), 1_000);
    w.ok(
        1,
        Operation::ResumePledge {
            pledge: PledgeId(0),
        },
    );
}

#[test]
fn a_creator_paid_by_a_patron_who_runs_dry_keeps_what_streamed_until_then() {
    // The creator also pledges onward; the patron's stop changes the
    // creator's own runway, which the scheduler must follow in time order.
    let mut w = World::new(3);
    let asset = w.deposit(2, tez_ticket(), 1_000);
    let tier_a = w.creator_with_tier(0, asset, 1_000); // 2 pays 0
    let tier_b = w.creator_with_tier(1, asset, 500); // 0 pays 1
    w.ok(2, pledge_op(tier_a));
    w.deposit(0, tez_ticket(), 10);
    w.ok(0, pledge_op(tier_b));
    w.advance(3 * u64::from(MONTH));
    // Patron 2 ran out after one month; creator 0 received 1,000 + 10 and
    // pays 500 a month: its own balance lasts 2 months and a bit more.
    assert_eq!(w.balance(2, asset), 0);
    assert_eq!(w.balance(0, asset), 0);
    assert_eq!(w.balance(1, asset), 1_010);
    let total: u128 = (0..3).map(|i| w.balance_fine(i, asset)).sum();
    assert_eq!(total, fine(1_010));
}

#[test]
fn changing_tier_moves_the_rate_and_counts_and_stays_with_the_creator() {
    let mut w = World::new(3);
    let asset = w.deposit(1, tez_ticket(), 100_000);
    let small = w.creator_with_tier(0, asset, 1_000);
    let big = w.add_tier(0, asset, 3_000, MONTH);
    let elsewhere = w.creator_with_tier(2, asset, 1_000);
    w.ok(1, pledge_op(small));
    w.advance(u64::from(MONTH));
    w.ok(
        1,
        Operation::ChangePledge {
            pledge: PledgeId(0),
            tier: big,
            amount: None,
        },
    );
    w.advance(u64::from(MONTH));
    assert_eq!(w.balance(0, asset), 4_000);
    assert_eq!(w.p.tier(small).expect("read").expect("exists").patrons, 0);
    assert_eq!(w.p.tier(big).expect("read").expect("exists").patrons, 1);
    let away = Operation::ChangePledge {
        pledge: PledgeId(0),
        tier: elsewhere,
        amount: None,
    };
    assert!(w.fails(1, away).contains("another creator"));
    let same = Operation::ChangePledge {
        pledge: PledgeId(0),
        tier: big,
        amount: None,
    };
    assert!(w.fails(1, same).contains("already"));
}

#[test]
fn only_the_patron_pauses_resumes_and_cancels() {
    let mut w = World::new(3);
    let asset = w.deposit(1, tez_ticket(), 100_000);
    let tier = w.creator_with_tier(0, asset, 1_000);
    w.ok(1, pledge_op(tier));
    let id = PledgeId(0);
    assert!(w
        .fails(2, Operation::PausePledge { pledge: id })
        .contains("another patron"));
    assert!(w
        .fails(0, Operation::CancelPledge { pledge: id })
        .contains("another patron"));
    assert!(w
        .fails(1, Operation::ResumePledge { pledge: id })
        .contains("not paused"));
    w.ok(1, Operation::PausePledge { pledge: id });
    assert!(w
        .fails(1, Operation::PausePledge { pledge: id })
        .contains("not active"));
    w.advance(u64::from(MONTH));
    assert_eq!(w.balance(0, asset), 0);
    w.ok(1, Operation::ResumePledge { pledge: id });
    w.advance(u64::from(MONTH));
    assert_eq!(w.balance(0, asset), 1_000);
    w.ok(1, Operation::CancelPledge { pledge: id });
    assert!(w
        .fails(1, Operation::ResumePledge { pledge: id })
        .contains("ended"));
    w.advance(u64::from(MONTH));
    assert_eq!(w.balance(0, asset), 1_000);
    assert!(w.p.patron_pledges(&w.addr(1)).expect("read").is_empty());
    assert_eq!(w.p.tier(tier).expect("read").expect("exists").patrons, 0);
}

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

#[test]
fn an_end_date_ends_the_pledge_on_that_second() {
    let mut w = World::new(2);
    let asset = w.deposit(1, tez_ticket(), 100_000);
    let tier = w.creator_with_tier(0, asset, 1_000);
    let end = START as u64 + u64::from(MONTH);
    w.ok(
        1,
        Operation::Pledge {
            tier,
            amount: None,
            end: Some(PledgeEnd::At { time: end }),
            cap: None,
        },
    );
    w.advance(3 * u64::from(MONTH));
    let pledge = w.p.pledge(PledgeId(0)).expect("read").expect("exists");
    assert_eq!(
        pledge.status,
        PledgeStatus::Ended {
            reason: EndReason::EndDate
        }
    );
    assert_eq!(pledge.since, end);
    assert_eq!(w.balance(0, asset), 1_000);
    let past = Operation::Pledge {
        tier,
        amount: None,
        end: Some(PledgeEnd::At { time: START as u64 }),
        cap: None,
    };
    assert!(w.fails(1, past).contains("future"));
}

#[test]
fn a_cap_ends_the_pledge_when_reached_and_never_pays_more() {
    let mut w = World::new(2);
    let asset = w.deposit(1, tez_ticket(), 100_000);
    let tier = w.add_tier_after_profile(0, asset);
    w.ok(
        1,
        Operation::Pledge {
            tier,
            amount: None,
            end: None,
            cap: Some(2_500),
        },
    );
    w.advance(5 * u64::from(MONTH));
    let pledge = w.p.pledge(PledgeId(0)).expect("read").expect("exists");
    assert_eq!(
        pledge.status,
        PledgeStatus::Ended {
            reason: EndReason::CapReached
        }
    );
    assert_eq!(w.balance(0, asset), 2_500);
    assert_eq!(pledge.streamed, fine(2_500));
    let zero_cap = Operation::Pledge {
        tier,
        amount: None,
        end: None,
        cap: Some(0),
    };
    assert!(w.fails(1, zero_cap).contains("positive"));
}

trait ProfileThenTier {
    fn add_tier_after_profile(
        &mut self,
        creator: usize,
        asset: pledgeroll_contracts::AssetId,
    ) -> pledgeroll_contracts::TierId;
}

impl ProfileThenTier for World {
    fn add_tier_after_profile(
        &mut self,
        creator: usize,
        asset: pledgeroll_contracts::AssetId,
    ) -> pledgeroll_contracts::TierId {
        self.creator_with_tier(creator, asset, 1_000)
    }
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

#[test]
fn a_pledge_is_stated_in_words_with_its_terms() {
    let mut w = World::new(2);
    let asset = w.deposit(1, tez_ticket(), 100_000_000);
    let tier = w.creator_with_tier(0, asset, 5_000_000);
    let op = Operation::Pledge {
        tier,
        amount: None,
        end: Some(PledgeEnd::At {
            time: 1_803_859_200,
        }),
        cap: Some(60_000_000),
    };
    let statement = w.p.statement(&w.addr(1), &op).expect("a statement");
    assert_eq!(
        statement.text(),
        format!(
            "Tezos Signed Message: pledgeroll {ROLLUP} nonce 0 {}: pledge 5 tez per month to {} \
             for tier {} \"supporter\", until 2027-03-01T00:00:00Z, at most 60 tez in all",
            w.addr(1),
            w.addr(0),
            tier.0
        )
    );
    // An amount above the price says so; another asset without a declared
    // unit counts in base units.
    let above = Operation::Pledge {
        tier,
        amount: Some(5_250_000),
        end: None,
        cap: None,
    };
    let text = w.p.statement(&w.addr(1), &above).expect("a statement");
    assert!(
        text.text().ends_with(&format!(
            "pledge 5.25 tez per month to {} for tier 0 \"supporter\", by choice above the \
             tier's price of 5 tez",
            w.addr(0)
        )),
        "{}",
        text.text()
    );
    let usd = w.deposit(1, usd_ticket(), 1_000);
    let tip = Operation::Tip {
        to: w.holder(0),
        asset: usd,
        amount: 250,
        memo: Text::new("for \"the\" café").expect("short"),
    };
    let text = w.p.statement(&w.addr(1), &tip).expect("a statement");
    assert!(
        text.text().ends_with(&format!(
            ": tip 250 base units of asset 1 to {} with the memo \"for \\\"the\\\" caf\\u{{00e9}}\"",
            w.addr(0)
        )),
        "{}",
        text.text()
    );
    assert!(text.text().bytes().all(|b| (0x20..0x7f).contains(&b)));
    assert_eq!(text.bytes()[..2], [0x05, 0x01]);
}

#[test]
fn a_pledge_for_a_duration_streams_exactly_that_long_from_its_start() {
    let mut w = World::new(2);
    let asset = w.deposit(1, tez_ticket(), 100_000);
    let tier = w.creator_with_tier(0, asset, 1_000);
    // The pledge starts a level later than the clock a wallet last read.
    w.advance(7);
    let start = w.now as u64;
    let for_a_month = Operation::Pledge {
        tier,
        amount: None,
        end: Some(PledgeEnd::After {
            seconds: u64::from(MONTH),
        }),
        cap: None,
    };
    let stated =
        w.p.statement(&w.addr(1), &for_a_month)
            .expect("a statement");
    assert!(
        stated.text().ends_with(", for 30 days from its start"),
        "{}",
        stated.text()
    );
    w.ok(1, for_a_month);
    let pledge = w.p.pledge(PledgeId(0)).expect("read").expect("exists");
    assert_eq!(pledge.end, Some(start + u64::from(MONTH)));
    w.advance(3 * u64::from(MONTH));
    let pledge = w.p.pledge(PledgeId(0)).expect("read").expect("exists");
    assert_eq!(
        pledge.status,
        PledgeStatus::Ended {
            reason: EndReason::EndDate
        }
    );
    // A whole month at the tier's price, not a second less.
    assert_eq!(w.balance(0, asset), 1_000);
    assert_eq!(w.balance(1, asset), 99_000);
    // Its twin: a duration past the clock's range is refused.
    let forever = Operation::Pledge {
        tier,
        amount: None,
        end: Some(PledgeEnd::After { seconds: u64::MAX }),
        cap: None,
    };
    assert!(w.fails(1, forever).contains("too large"));
}
