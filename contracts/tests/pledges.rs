//! Creator profiles, tiers and pledges, each success case beside its
//! negative twin: the text rules, pledging and streaming to the second,
//! changing tier, patron pauses, end dates, caps and durations, and a
//! pledge stated in words.

#![allow(clippy::indexing_slicing, clippy::panic)] // test code: a failed index is a failed test

mod common;
mod support;

use common::*;
use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::event::{Event, PledgeChange};
use pledgeroll_contracts::state::{EndReason, PauseReason, PledgeEnd, PledgeStatus, Profile};
use pledgeroll_contracts::{Created, Holder, Operation, PledgeId};
use support::*;

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
