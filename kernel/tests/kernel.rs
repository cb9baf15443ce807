//! The kernel on `MockHost`: deposits, signed operations, streams,
//! withdrawals, malformed input, aborted levels and the absence of any
//! operator power.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use pledgeroll_contracts::statement::Statement;
use pledgeroll_contracts::{Event, Holder, Outcome, SignedOperation, Signer};
use pledgeroll_interface::{paths, NoticeKind};
use pledgeroll_kernel::outbox::MAX_OUTBOX_PER_LEVEL;
use tezos_smart_rollup_encoding::contract::Contract as L1Contract;
use tezos_smart_rollup_encoding::michelson::ticket::FA2_1Ticket;
use tezos_smart_rollup_encoding::michelson::{MichelsonContract, MichelsonPair};
use tezos_smart_rollup_encoding::outbox::OutboxMessage;
use tezos_smart_rollup_encoding::smart_rollup::SmartRollupAddress;
use tezos_smart_rollup_mock::TransferMetadata;

fn failed(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Applied { .. } => panic!("expected a failure"),
        Outcome::Failed { reason } => reason.to_string(),
    }
}

#[test]
fn a_ticket_deposit_credits_the_receiver() {
    let mut h = Harness::new();
    let alice = addr(&key(1));
    h.deposit(&alice, 1_000);
    let (level, record) = h.run();

    assert_eq!(h.balance(&alice), 1_000);
    assert_eq!(h.protocol().supply(ASSET).unwrap().deposited, 1_000);
    assert_eq!(
        h.protocol().asset(ASSET).unwrap().unwrap().ticketer,
        ticketer()
    );
    assert_eq!(record.number, level);
    assert!(record.events.contains(&Event::Deposited {
        account: alice,
        asset: ASSET,
        amount: 1_000,
    }));
    assert!(record.notices.is_empty());
    assert!(h.outbox(level).is_empty());
}

#[test]
fn a_deposit_to_a_contract_goes_back_to_its_sender() {
    let mut h = Harness::new();
    let kt1 = L1Contract::from_b58check(TICKETER).unwrap();
    h.transfer_in(MichelsonPair(MichelsonContract(kt1.clone()), ticket(500)));
    let (level, record) = h.run();

    assert_eq!(h.protocol().asset(ASSET).unwrap(), None);
    assert_eq!(record.notices.len(), 1);
    assert_eq!(record.notices[0].kind, NoticeKind::DepositRefunded);
    let outbox = h.outbox(level);
    assert_eq!(outbox.len(), 1);
    let tx = only_transaction(&outbox[0]);
    assert_eq!(tx.destination, kt1);
    assert_eq!(tx.entrypoint.name(), "default");
    assert_eq!(tx.parameters, ticket(500));
}

#[test]
fn deposits_the_protocol_cannot_hold_go_back_whole() {
    let mut h = Harness::new();
    let alice = l1(&addr(&key(1)));
    let refused = |i: u32| match i {
        0 => ticket_of(0, None, num_bigint::BigInt::from(u64::MAX) + 7),
        1 => ticket_of(0, Some(vec![1; 257]), 5u64),
        _ => ticket_of(u64::MAX, None, 5u64),
    };
    for i in 0..3 {
        h.transfer_in(MichelsonPair(MichelsonContract(alice.clone()), refused(i)));
    }
    let (level, record) = h.run();

    // The last one is within bounds (a token id of 2^64 - 1 is a u64).
    assert_eq!(h.balance(&addr(&key(1))), 5);
    let refunds = h.outbox(level);
    assert_eq!(refunds.len(), 2);
    for (i, m) in (0..).zip(&refunds) {
        assert_eq!(only_transaction(m).parameters, refused(i));
    }
    let kinds: Vec<_> = record.notices.iter().map(|n| n.kind).collect();
    assert_eq!(kinds, vec![NoticeKind::DepositRefunded; 2]);
}

#[test]
fn a_signed_pledge_applies_and_streams_one_level_later() {
    let mut h = Harness::new();
    let (creator, patron) = h.creator_and_patron(1_000);
    // The pledge's level (the profile and tier came a level before: the
    // pledge's statement names the tier).
    let record = h.record();
    assert_eq!(record.receipts.len(), 1);
    assert!(record
        .events
        .iter()
        .any(|e| matches!(e, Event::PledgeUpdated { .. })));
    let pledge = h
        .protocol()
        .pledge(pledgeroll_contracts::PledgeId(0))
        .unwrap()
        .unwrap();
    assert_eq!(pledge.patron, addr(&patron));
    assert_eq!(pledge.payee, Holder::Account(addr(&creator)));

    // The mock's layer-1 blocks are 15 seconds apart; the tier pays one
    // unit a second.
    h.run();
    assert_eq!(h.balance(&addr(&creator)), 15);
    assert_eq!(h.balance(&addr(&patron)), 985);
    h.run();
    assert_eq!(h.balance(&addr(&creator)), 30);
    assert_eq!(h.balance(&addr(&patron)), 970);
}

#[test]
fn a_pledge_without_funds_or_tier_fails_with_a_receipt() {
    let mut h = Harness::new();
    h.creator_and_patron(1_000);
    let broke = key(9);
    // No statement names a tier that does not exist: the second is signed
    // over other words.
    h.send(vec![(&broke, pledge(0)), (&broke, pledge(42))]);
    let (_, record) = h.run();
    assert_eq!(record.receipts.len(), 2);
    assert!(failed(&record.receipts[0].outcome).contains("cannot fund"));
    assert_eq!(
        failed(&record.receipts[1].outcome),
        "the operation names tier 42, which does not exist"
    );
    assert_eq!(
        h.protocol()
            .pledge(pledgeroll_contracts::PledgeId(1))
            .unwrap(),
        None
    );
}

#[test]
fn a_withdrawal_yields_the_right_outbox_message() {
    let mut h = Harness::new();
    let saver = key(3);
    h.deposit(&addr(&saver), 1_000);
    h.run();
    h.send(vec![(&saver, withdraw(100)), (&saver, withdraw(5_000))]);
    let (level, record) = h.run();

    assert!(record.receipts[0].outcome.is_applied());
    assert!(failed(&record.receipts[1].outcome).contains("insufficient balance"));
    assert_eq!(h.balance(&addr(&saver)), 900);
    assert_eq!(h.protocol().supply(ASSET).unwrap().withdrawn, 100);
    let outbox = h.outbox(level);
    assert_eq!(outbox.len(), 1);
    let tx = only_transaction(&outbox[0]);
    assert_eq!(tx.destination, L1Contract::from_b58check(TICKETER).unwrap());
    assert_eq!(tx.entrypoint.name(), "burn");
    assert_eq!(tx.parameters, ticket(100));
}

#[test]
fn a_withdrawal_to_an_account_goes_to_the_ticketers_burn_with_the_account() {
    let mut h = Harness::new();
    let saver = key(3);
    h.deposit(&addr(&saver), 1_000);
    h.run();
    let to_self = pledgeroll_contracts::Operation::Withdraw {
        asset: ASSET,
        amount: 100,
        destination: pledgeroll_contracts::Contract::Implicit(addr(&saver)),
        entrypoint: pledgeroll_contracts::encoding::Text::new("burn").unwrap(),
    };
    h.send(vec![(&saver, to_self)]);
    let (level, record) = h.run();

    assert_eq!(record.fault, None);
    assert!(record.receipts[0].outcome.is_applied());
    assert_eq!(h.balance(&addr(&saver)), 900);
    assert_eq!(h.protocol().supply(ASSET).unwrap().withdrawn, 100);
    // One transaction: `Pair <saver> <ticket>` to the ticketer's `burn`, as
    // an exchanger takes it.
    let outbox = h.outbox_of::<MichelsonPair<MichelsonContract, FA2_1Ticket>>(level);
    assert_eq!(outbox.len(), 1);
    let OutboxMessage::AtomicTransactionBatch(batch) = &outbox[0];
    assert_eq!(batch.len(), 1);
    let tx = &batch[0];
    assert_eq!(tx.destination, L1Contract::from_b58check(TICKETER).unwrap());
    assert_eq!(tx.entrypoint.name(), "burn");
    assert_eq!(
        tx.parameters,
        MichelsonPair(MichelsonContract(l1(&addr(&saver))), ticket(100))
    );
}

#[test]
fn withdrawals_beyond_the_outbox_limit_leave_in_order_over_the_next_levels() {
    let mut h = Harness::new();
    let saver = key(4);
    h.deposit(&addr(&saver), 20_000);
    h.run();
    let ops: Vec<SignedOperation> = (1..=150u64)
        .map(|amount| h.sign(&saver, withdraw(amount)))
        .collect();
    for chunk in ops.chunks(25) {
        h.submit(chunk);
    }
    let (first, record) = h.run();
    assert!(record.receipts.iter().all(|r| r.outcome.is_applied()));
    let (second, _) = h.run();
    let (third, _) = h.run();

    let amounts = |level| -> Vec<u64> {
        h.outbox(level)
            .iter()
            .map(|m| {
                only_transaction(m)
                    .parameters
                    .amount_as::<u64, _>()
                    .unwrap()
            })
            .collect()
    };
    assert_eq!(amounts(first), (1..=100).collect::<Vec<_>>());
    assert_eq!(amounts(first).len(), MAX_OUTBOX_PER_LEVEL);
    assert_eq!(amounts(second), (101..=150).collect::<Vec<_>>());
    assert!(amounts(third).is_empty());
    assert_eq!(pledgeroll_kernel::outbox::queued(&h.host).unwrap(), 0);
}

/// A rollup where `alice` deposited 100 units, and a twin of it that will
/// see only empty levels.
fn funded_twins(alice: &pledgeroll_contracts::signing::SecretKey) -> (Harness, Harness) {
    let mut pair = (Harness::new(), Harness::new());
    for h in [&mut pair.0, &mut pair.1] {
        h.deposit(&addr(alice), 100);
        h.run();
    }
    pair
}

#[test]
fn messages_for_another_rollup_are_ignored() {
    let alice = key(1);
    let (mut h, mut twin) = funded_twins(&alice);

    let op = h.sign(&alice, transfer(&addr(&key(2)), 10));
    let other = SmartRollupAddress::from_b58check(OTHER_ROLLUP).unwrap();
    h.host.add_external(
        tezos_smart_rollup_encoding::inbox::ExternalMessageFrame::Targetted {
            address: other.clone(),
            contents: Harness::batch_bytes(&[op]),
        },
    );
    let mut meta = TransferMetadata::new(TICKETER, SOURCE);
    meta.override_destination(other);
    h.host.add_transfer(
        MichelsonPair(MichelsonContract(l1(&addr(&alice))), ticket(50)),
        &meta,
    );
    let (level, record) = h.run();

    assert!(record.receipts.is_empty());
    assert!(record.events.is_empty());
    assert!(record.notices.is_empty());
    assert!(h.outbox(level).is_empty());
    twin.run();
    assert_eq!(h.state_hash(), twin.state_hash());
    assert_eq!(h.balance(&addr(&alice)), 100);
    assert_eq!(h.protocol().account(&addr(&alice)).unwrap().next_nonce, 0);
}

#[test]
fn a_batch_mixing_good_and_bad_operations_applies_the_good_ones() {
    let mut h = Harness::new();
    let alice = key(1);
    let bob = addr(&key(2));
    let mallory = key(3);
    h.deposit(&addr(&alice), 100);
    h.run();

    let rollup = h.rollup();
    let good = h.sign(&alice, transfer(&bob, 10));
    let stolen_op = transfer(&addr(&mallory), 50);
    let as_alice = Signer::Key(alice.public_key());
    let alice_at = |h: &mut Harness, nonce: u64, op: &pledgeroll_contracts::Operation| {
        Statement::new(h.protocol().store(), &rollup, &addr(&alice), nonce, op).unwrap()
    };
    let alice_next = alice_at(&mut h, 1, &stolen_op);
    let forged = mallory.sign_operation(&alice_next, stolen_op, as_alice.clone());
    let stale_op = transfer(&bob, 10);
    let alice_first = alice_at(&mut h, 0, &stale_op);
    let stale = alice.sign_operation(&alice_first, stale_op, as_alice);
    let broke = h.sign(&mallory, transfer(&bob, 5));
    let good_again = h.sign(&alice, transfer(&bob, 20));
    h.submit(&[good, forged, stale, broke, good_again]);
    let (_, record) = h.run();

    let outcomes: Vec<_> = record.receipts.iter().map(|r| &r.outcome).collect();
    assert_eq!(outcomes.len(), 5);
    assert!(outcomes[0].is_applied());
    assert!(failed(outcomes[1]).contains("signature"));
    assert!(failed(outcomes[2]).contains("at the signer's next nonce, 1"));
    assert!(failed(outcomes[3]).contains("insufficient balance"));
    assert!(outcomes[4].is_applied());
    assert_eq!(h.balance(&bob), 30);
    assert_eq!(h.balance(&addr(&alice)), 70);
    assert_eq!(h.balance(&addr(&mallory)), 0);
    assert_eq!(h.protocol().account(&addr(&mallory)).unwrap().next_nonce, 1);
}

#[test]
fn garbage_truncated_frames_and_oversized_batches_are_reported() {
    let alice = key(1);
    let (mut h, mut twin) = funded_twins(&alice);

    let valid = Harness::batch_bytes(&[h.sign(&alice, transfer(&addr(&key(2)), 1))]);
    let mut oversized = vec![65, 0];
    oversized.extend(std::iter::repeat_n(0u8, 4_072));
    let mut padded = valid.clone();
    padded.resize(4_074, 0);

    h.external(vec![0xde, 0xad, 0xbe, 0xef]); // 2
    h.external(vec![0, 1, 2, 3]); // 3
    h.external(vec![]); // 4
    h.submit_bytes(&[0xff; 10]); // 5
    h.submit_bytes(&oversized); // 6
    h.submit_bytes(&valid[..valid.len() - 1]); // 7
    h.submit_bytes(&padded); // 8
    h.submit_bytes(&[]); // 9
    h.transfer_in(Raw(vec![1, 2, 3])); // 10
    let (_, record) = h.run();

    let notices: Vec<_> = record.notices.iter().map(|n| (n.message, n.kind)).collect();
    assert_eq!(
        notices,
        vec![
            (2, NoticeKind::Unrecognised),
            (3, NoticeKind::Unrecognised),
            (4, NoticeKind::Unrecognised),
            (5, NoticeKind::BatchRejected),
            (6, NoticeKind::BatchRejected),
            (7, NoticeKind::BatchRejected),
            (8, NoticeKind::BatchRejected),
            (9, NoticeKind::BatchRejected),
            (10, NoticeKind::Unrecognised),
        ]
    );
    assert!(record.notices[1].detail.as_str().contains("truncated"));
    assert!(record.notices[4].detail.as_str().contains("at most 64"));
    assert!(record.notices[6].detail.as_str().contains("trailing"));
    assert!(record.receipts.is_empty());
    twin.run();
    assert_eq!(h.state_hash(), twin.state_hash());
    assert_eq!(record.state_hash, h.state_hash());
}

#[test]
fn a_level_whose_storage_is_broken_is_undone_and_its_deposits_sent_back() {
    let mut h = Harness::new();
    let alice = key(1);
    h.deposit(&addr(&alice), 100);
    h.run();
    let clock = tezos_smart_rollup_host::path::OwnedPath::try_from(
        "/pledgeroll/state/meta/clock".to_owned(),
    )
    .unwrap();
    pledgeroll_kernel::durable::write_value(&mut h.host, &clock, &[1, 2, 3]).unwrap();
    let before = h.state_hash();

    h.deposit(&addr(&alice), 40);
    h.send(vec![(&alice, transfer(&addr(&key(2)), 10))]);
    let (level, record) = h.run();

    assert!(record.fault.as_deref().unwrap().contains("meta/clock"));
    assert!(record.events.is_empty());
    assert!(record.receipts.is_empty());
    let kinds: Vec<_> = record.notices.iter().map(|n| n.kind).collect();
    assert_eq!(
        kinds,
        vec![NoticeKind::DepositRefunded, NoticeKind::BatchDropped]
    );
    let outbox = h.outbox(level);
    assert_eq!(outbox.len(), 1);
    assert_eq!(only_transaction(&outbox[0]).parameters, ticket(40));
    assert_eq!(h.state_hash(), before);
    assert_eq!(
        h.durable("/pledgeroll/state/meta/clock"),
        Some(vec![1, 2, 3])
    );
    assert_eq!(h.durable("/pledgeroll-backup/layout"), None);
}

#[test]
fn the_level_record_describes_only_the_latest_level() {
    let mut h = Harness::new();
    h.deposit(&addr(&key(1)), 100);
    let (first, record) = h.run();
    assert!(!record.events.is_empty());
    let (second, record) = h.run();
    assert_eq!(second, first + 1);
    assert_eq!(record.number, second);
    assert!(record.events.is_empty());
    assert_eq!(record.state_hash, h.state_hash());
    assert_eq!(
        h.durable("/pledgeroll/level/number"),
        Some(second.to_le_bytes().to_vec())
    );
}

fn scenario(h: &mut Harness) -> Vec<([u8; 32], pledgeroll_interface::LevelRecord)> {
    let (creator, patron) = h.creator_and_patron(500);
    let mut out = vec![(h.state_hash(), h.record())];
    h.send(vec![(&patron, withdraw(7)), (&creator, withdraw(1))]);
    h.external(vec![9; 40]);
    out.push({
        h.run();
        (h.state_hash(), h.record())
    });
    for _ in 0..3 {
        h.run();
        out.push((h.state_hash(), h.record()));
    }
    out
}

#[test]
fn two_runs_over_the_same_inbox_give_the_same_state() {
    let a = scenario(&mut Harness::new());
    let b = scenario(&mut Harness::new());
    assert_eq!(a, b);
    let hashes: std::collections::HashSet<_> = a.iter().map(|(h, _)| *h).collect();
    assert!(hashes.len() > 1, "the scenario changes the state");
}

/// Durable values that belong to the creator and the patron.
fn owned_by(
    creator: &pledgeroll_contracts::Address,
    patron: &pledgeroll_contracts::Address,
) -> Vec<String> {
    vec![
        format!("/pledgeroll/state/accounts/{creator}"),
        format!("/pledgeroll/state/accounts/{patron}"),
        format!("/pledgeroll/state/accounts/{patron}/pledges"),
        format!("/pledgeroll/state/creators/{creator}"),
        format!("/pledgeroll/state/flows/{creator}/0"),
        format!("/pledgeroll/state/flows/{patron}/0"),
        format!("/pledgeroll/state/payees/{creator}/count"),
        "/pledgeroll/state/tiers/0".to_owned(),
        "/pledgeroll/state/pledges/0".to_owned(),
        "/kernel/boot.wasm".to_owned(),
    ]
}

#[test]
fn no_message_changes_an_account_without_its_signature_nor_the_kernel() {
    let mut h = Harness::new();
    pledgeroll_kernel::durable::write_value(&mut h.host, &paths::KERNEL_BOOT, b"\0asm the kernel")
        .unwrap();
    let (creator, patron) = h.creator_and_patron(1_000);
    let (c, p) = (addr(&creator), addr(&patron));
    let replayed = h.sign(&patron, transfer(&c, 1));
    h.submit(std::slice::from_ref(&replayed));
    h.run();
    let watched = owned_by(&c, &p);
    let before: Vec<_> = watched.iter().map(|k| h.durable(k)).collect();
    assert!(before.iter().all(Option::is_some));

    let rollup = h.rollup();
    let mallory = key(3);
    let other = pledgeroll_contracts::RollupAddress(
        *SmartRollupAddress::from_b58check(OTHER_ROLLUP)
            .unwrap()
            .hash()
            .0
            .first_chunk::<20>()
            .unwrap(),
    );
    let theft = withdraw(900);
    let account = h.protocol().account(&p).unwrap();
    let as_patron = Signer::Index(account.index.unwrap());
    let (here, there) = {
        let state = h.protocol();
        let at =
            |rollup| Statement::new(state.store(), rollup, &p, account.next_nonce, &theft).unwrap();
        (at(&rollup), at(&other))
    };
    let forged = mallory.sign_operation(&here, theft.clone(), as_patron.clone());
    let elsewhere = patron.sign_operation(&there, theft.clone(), as_patron);
    let cancel = pledgeroll_contracts::Operation::CancelPledge {
        pledge: pledgeroll_contracts::PledgeId(0),
    };
    let retire = pledgeroll_contracts::Operation::RetireTier {
        tier: pledgeroll_contracts::TierId(0),
    };
    h.submit(&[forged, elsewhere, replayed.clone()]);
    h.send(vec![
        (&mallory, cancel),
        (&mallory, retire),
        (&mallory, transfer(&c, 1)),
    ]);
    h.submit_bytes(&[0; 30]);
    h.external(vec![0xff; 64]);
    h.external(vec![0, 9, 9]);
    h.deposit(&addr(&key(5)), 25);
    h.transfer_in(MichelsonPair(
        MichelsonContract(L1Contract::from_b58check(TICKETER).unwrap()),
        ticket(3),
    ));
    h.transfer_in(Raw(vec![7; 12]));
    let (level, record) = h.run();

    let after: Vec<_> = watched.iter().map(|k| h.durable(k)).collect();
    for ((k, b), a) in watched.iter().zip(&before).zip(&after) {
        assert_eq!(b, a, "{k} changed without its owner's signature");
    }
    assert_eq!(record.receipts.len(), 6);
    assert!(record.receipts.iter().all(|r| !r.outcome.is_applied()));
    assert_eq!(h.balance(&addr(&key(5))), 25);
    // Only the refunded deposit leaves; nothing is withdrawn for anyone.
    assert_eq!(h.outbox(level).len(), 1);
    assert_eq!(h.protocol().supply(ASSET).unwrap().withdrawn, 0);
}
