//! Inbox levels too big for one kernel run: the kernel spreads them over
//! several runs by reboot, with one record per level and each operation
//! applied whole.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::*;
use pledgeroll_contracts::crypto::Curve;
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::{Address, Event, Operation, SignedOperation};
use pledgeroll_interface::Progress;
use pledgeroll_interface::{paths, NoticeKind};

/// Accounts that send the level's transfers.
const SENDERS: u32 = 16;
/// Accounts that receive them.
const RECEIVERS: u32 = 8;
/// What each sender holds before the level.
const FUNDS: u64 = 100_000;
/// Transfers in a full level: 72 messages of 45 (the last of 5).
const FULL_LEVEL: usize = 3_200;

fn senders() -> Vec<SecretKey> {
    (0..SENDERS).map(|i| key(100 + i)).collect()
}

fn receivers() -> Vec<Address> {
    (0..RECEIVERS).map(|i| addr(&key(200 + i))).collect()
}

/// The account that deposits within the big level.
fn depositor() -> Address {
    addr(&key(300))
}

/// A rollup whose senders are funded and have revealed their keys, so that
/// every transfer of the big level has the same size.
fn funded() -> Harness {
    let mut h = Harness::new();
    for k in senders() {
        h.deposit(&addr(&k), FUNDS);
    }
    h.run();
    let reveals: Vec<SignedOperation> = senders()
        .iter()
        .map(|k| h.sign(k, transfer(&addr(&key(999)), 1)))
        .collect();
    h.submit_packed(&reveals);
    let (_, record) = h.run();
    assert!(record.receipts.iter().all(|r| r.outcome.is_applied()));
    h
}

/// `count` transfers, the `i`th from sender `i % SENDERS` to receiver
/// `i % RECEIVERS` of `i % 5 + 1` units.
fn transfers(h: &mut Harness, count: usize) -> Vec<SignedOperation> {
    let (from, to) = (senders(), receivers());
    (0..count)
        .map(|i| {
            let amount = u64::try_from(i % 5).unwrap() + 1;
            h.sign(&from[i % from.len()], transfer(&to[i % to.len()], amount))
        })
        .collect()
}

/// What each receiver gets from `ops`.
fn received(ops: &[SignedOperation]) -> BTreeMap<Address, u128> {
    let mut out = BTreeMap::new();
    for op in ops {
        if let Operation::Transfer { to, amount, .. } = op.operation {
            *out.entry(to).or_insert(0) += u128::from(amount);
        }
    }
    out
}

/// A full level: half the transfers, a deposit, the other half, another
/// deposit. Returns the transfers, in inbox order.
fn full_level(h: &mut Harness) -> Vec<SignedOperation> {
    let ops = transfers(h, FULL_LEVEL);
    let (first, second) = ops.split_at(FULL_LEVEL / 2);
    let mut sizes = h.submit_packed(first);
    h.deposit(&depositor(), 7);
    sizes.extend(h.submit_packed(second));
    h.deposit(&depositor(), 11);
    assert_eq!(sizes.len(), 72, "45 transfers fill a message");
    ops
}

#[test]
fn a_full_level_is_applied_across_reboots_with_one_record() {
    let mut h = funded();
    let ops = full_level(&mut h);
    let ((level, record), runs) = h.run_counted();

    assert!(runs > 1, "a full level takes several runs, it took {runs}");
    assert!(runs <= 5, "{runs} runs");
    assert_eq!(record.number, level);
    assert_eq!(record.fault, None);
    assert!(record.notices.is_empty(), "{:?}", record.notices);

    // One receipt per operation, in inbox order, none twice.
    let hashes: Vec<[u8; 32]> = record.receipts.iter().map(|r| r.hash).collect();
    let expected: Vec<[u8; 32]> = ops.iter().map(|op| h.id(op)).collect();
    assert_eq!(hashes, expected);
    assert!(record.receipts.iter().all(|r| r.outcome.is_applied()));

    // One event per transfer and per deposit, none twice.
    let transferred = record
        .events
        .iter()
        .filter(|e| matches!(e, Event::Transferred { .. }))
        .count();
    assert_eq!(transferred, FULL_LEVEL);
    let deposited: Vec<u64> = record
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Deposited {
                account, amount, ..
            } if *account == depositor() => Some(*amount),
            _ => None,
        })
        .collect();
    assert_eq!(deposited, vec![7, 11]);

    for (to, amount) in received(&ops) {
        assert_eq!(h.balance(&to), amount);
    }
    assert_eq!(h.balance(&depositor()), 18);
    let spent: u128 = ops
        .iter()
        .filter_map(|op| match op.operation {
            Operation::Transfer { amount, .. } => Some(u128::from(amount)),
            _ => None,
        })
        .sum();
    let left: u128 = senders().iter().map(|k| h.balance(&addr(k))).sum();
    assert_eq!(left + spent, u128::from(SENDERS) * u128::from(FUNDS - 1));

    assert_eq!(record.state_hash, h.state_hash());
    assert_eq!(h.durable("/pledgeroll/level/progress"), None);
    assert_eq!(
        h.protocol().clock().unwrap().level,
        level,
        "the protocol's level is this one"
    );

    // The next level starts a record of its own, in one run.
    let ((next, record), runs) = h.run_counted();
    assert_eq!((next, runs), (level + 1, 1));
    assert!(record.receipts.is_empty() && record.events.is_empty());
}

#[test]
fn the_same_full_inbox_gives_the_same_state_and_record() {
    let play = || {
        let mut h = funded();
        full_level(&mut h);
        let ((_, record), runs) = h.run_counted();
        (h.state_hash(), record, runs)
    };
    let (hash, record, runs) = play();
    let again = play();
    assert!(runs > 1);
    assert_eq!(again, (hash, record.clone(), runs));
    assert_eq!(record.state_hash, hash);
}

#[test]
fn the_budget_follows_the_signature_curve() {
    let runs_for = |curve: Curve| {
        let mut h = Harness::new();
        let keys: Vec<SecretKey> = (0..40u8)
            .map(|i| SecretKey::from_bytes(curve, [i + 1; 32]).unwrap())
            .collect();
        for k in &keys {
            h.deposit(&addr(k), 1_000);
        }
        h.run();
        let ops: Vec<SignedOperation> = (0..10)
            .flat_map(|_| keys.clone())
            .map(|k| h.sign(&k, transfer(&addr(&key(1)), 1)))
            .collect();
        h.submit_packed(&ops);
        let ((_, record), runs) = h.run_counted();
        assert_eq!(record.receipts.len(), 400);
        assert!(record.receipts.iter().all(|r| r.outcome.is_applied()));
        assert_eq!(h.balance(&addr(&key(1))), 400);
        runs
    };
    // 400 ed25519 operations fit one run; as many P-256 ones, eight times
    // dearer to check, do not.
    assert_eq!(runs_for(Curve::Ed25519), 1);
    assert!(runs_for(Curve::P256) >= 3);
}

/// The level's inbox as the test queues it, with each message's index.
struct Inbox {
    next_id: u32,
    /// Each batch's message index and operations.
    sent: Vec<(u32, Vec<SignedOperation>)>,
}

impl Default for Inbox {
    fn default() -> Self {
        // Messages 0 and 1 are the start of the level and its info.
        Inbox {
            next_id: 2,
            sent: Vec::new(),
        }
    }
}

impl Inbox {
    fn batches(&mut self, h: &mut Harness, ops: &[SignedOperation]) {
        let mut rest = ops;
        for size in h.submit_packed(ops) {
            let (batch, tail) = rest.split_at(size);
            self.sent.push((self.next_id, batch.to_vec()));
            self.next_id += 1;
            rest = tail;
        }
    }

    fn deposit(&mut self, h: &mut Harness, amount: u64) -> u32 {
        h.deposit(&depositor(), amount);
        self.next_id += 1;
        self.next_id - 1
    }
}

#[test]
fn a_fault_in_a_later_run_keeps_the_earlier_runs_and_drops_the_rest_whole() {
    let mut h = funded();
    let late = key(150);
    h.deposit(&addr(&late), 100);
    h.run();
    h.send(vec![(&late, transfer(&addr(&key(999)), 1))]);
    h.run();

    let mut inbox = Inbox::default();
    let ops = transfers(&mut h, 300);
    inbox.batches(&mut h, &ops);
    let early_deposit = inbox.deposit(&mut h, 5);
    let ops = transfers(&mut h, 2_700);
    inbox.batches(&mut h, &ops);
    let late_deposit = inbox.deposit(&mut h, 6);
    // The late account's record is broken (after its operation is signed):
    // its operation, far into the level, makes the protocol fail.
    let ops = vec![h.sign(&late, transfer(&addr(&key(999)), 1))];
    let broken = format!("/pledgeroll/state/accounts/{}", addr(&late));
    let path = tezos_smart_rollup_host::path::OwnedPath::try_from(broken.clone()).unwrap();
    pledgeroll_kernel::durable::write_value(&mut h.host, &path, &[0xff; 3]).unwrap();
    inbox.batches(&mut h, &ops);
    let ops = transfers(&mut h, 64);
    inbox.batches(&mut h, &ops);
    let batches = inbox.sent;
    let ((level, record), runs) = h.run_counted();

    assert!(runs > 1);
    let fault = record.fault.clone().unwrap();
    assert!(fault.contains(&addr(&late).to_string()), "{fault}");

    // The runs before the fault stand, whole batches of them; every batch
    // from the failed run's first on is dropped.
    let dropped: Vec<u32> = record
        .notices
        .iter()
        .filter(|n| n.kind == NoticeKind::BatchDropped)
        .map(|n| n.message)
        .collect();
    let kept = batches.len() - dropped.len();
    assert!(kept > 0 && !dropped.is_empty());
    let ids: Vec<u32> = batches.iter().map(|(id, _)| *id).collect();
    assert_eq!(dropped, ids[kept..].to_vec());
    let applied: Vec<SignedOperation> = batches[..kept]
        .iter()
        .flat_map(|(_, ops)| ops.clone())
        .collect();
    let hashes: Vec<[u8; 32]> = record.receipts.iter().map(|r| r.hash).collect();
    assert_eq!(
        hashes,
        applied.iter().map(|op| h.id(op)).collect::<Vec<_>>()
    );
    assert!(applied.len() >= 1_000, "the first run applied its part");

    // The early deposit stands; the one in the failed run goes back.
    assert!(dropped[0] > early_deposit);
    assert_eq!(h.balance(&depositor()), 5);
    let refunds: Vec<(u32, NoticeKind)> = record
        .notices
        .iter()
        .filter(|n| n.kind != NoticeKind::BatchDropped)
        .map(|n| (n.message, n.kind))
        .collect();
    assert_eq!(refunds, vec![(late_deposit, NoticeKind::DepositRefunded)]);
    let outbox = h.outbox(level);
    assert_eq!(outbox.len(), 1);
    assert_eq!(only_transaction(&outbox[0]).parameters, ticket(6));

    // Balances are those of the applied operations exactly.
    for (to, amount) in received(&applied) {
        assert_eq!(h.balance(&to), amount);
    }
    assert_eq!(record.state_hash, h.state_hash());
    assert_eq!(h.durable("/pledgeroll/level/progress"), None);
    assert_eq!(h.durable(&broken), Some(vec![0xff; 3]));
}

#[test]
fn a_level_left_unfinished_gives_way_to_the_next() {
    let mut h = Harness::new();
    let alice = key(1);
    h.deposit(&addr(&alice), 50);
    h.run();
    // As if the last run of the previous level had been cut short.
    let stale = Progress {
        level: h.host.level() - 1,
        runs: 1,
        next_message: 40,
        begun: true,
    };
    let mut writes = pledgeroll_kernel::durable::Pending::default();
    pledgeroll_kernel::level::write_progress(&stale, &mut writes);
    writes.commit(&mut h.host).unwrap();
    pledgeroll_kernel::durable::write_value(&mut h.host, &paths::LEVEL_FAULT, b"old").unwrap();

    h.send(vec![(&alice, transfer(&addr(&key(2)), 20))]);
    h.deposit(&addr(&key(2)), 5);
    let ((level, record), runs) = h.run_counted();
    assert_eq!(runs, 1);
    assert_eq!(record.number, level);
    assert_eq!(record.fault, None);
    assert_eq!(record.receipts.len(), 1);
    assert!(record.receipts[0].outcome.is_applied());
    assert_eq!(h.balance(&addr(&key(2))), 25);
    assert_eq!(h.protocol().clock().unwrap().level, level);
    assert_eq!(h.durable("/pledgeroll/level/progress"), None);
    assert_eq!(
        pledgeroll_kernel::level::read_record(&h.host)
            .unwrap()
            .unwrap(),
        record
    );
}
