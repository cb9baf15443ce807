//! The indexer against a running sandbox (native kernel), on SQLite and on
//! Postgres (`DATABASE_URL`): a scripted patronage scenario ending with a
//! mirror `verify` finds equal to the node; the binary killed at random
//! points while catching up and restarted, ending where an uninterrupted run
//! ends; and a reorganisation staged through the sandbox, followed.

#![allow(clippy::indexing_slicing, clippy::panic)]

#[macro_use]
mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestDb;
use pledgeroll_client::assets::AssetBook;
use pledgeroll_client::Wallet;
use pledgeroll_contracts::crypto::{Contract, Curve};
use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::escrow::{Mode, ProjectOperation};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::state::Profile;
use pledgeroll_contracts::{Address, AssetId, Holder, Operation, PledgeId, ProjectId, TierId};
use pledgeroll_indexer::rows::{InvoiceRow, LedgerRow, MetaRow, PledgeRow, TierRow};
use pledgeroll_indexer::{start, verify, Backend, IndexerConfig, Mirror, RunningIndexer, Source};
use pledgeroll_sandbox::{KernelSource, RunningSandbox, SandboxConfig};
use rand::{Rng, SeedableRng};

const B1: &str = "edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh";
const B2: &str = "edsk39qAm1fiMjgmPkw1EgQYkMzkJezLNewd7PLNHTkr6w9XA2zdfo";
const B3: &str = "edsk4ArLQgBTLWG5FJmnGnT689VKoqhXwmDPBuGx3z4cvwU9MmrPZZ";
const TEZ: AssetId = AssetId(0);
const USD: AssetId = AssetId(1);
const WAIT: Duration = Duration::from_secs(120);

struct Net {
    sandbox: RunningSandbox,
    wallet: Wallet,
    _dir: tempfile::TempDir,
}

async fn net(block_time: Option<Duration>) -> Net {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = SandboxConfig::local(dir.path().to_owned(), KernelSource::Native);
    config.block_time = block_time;
    let sandbox = pledgeroll_sandbox::start(config)
        .await
        .expect("sandbox starts");
    let wallet = Wallet::connect(&sandbox.url(), AssetBook::default())
        .await
        .expect("wallet connects");
    Net {
        sandbox,
        wallet,
        _dir: dir,
    }
}

fn key(text: &str) -> SecretKey {
    text.parse().expect("valid key")
}

fn text<const N: usize>(s: &str) -> Text<N> {
    Text::new(s).expect("short")
}

async fn send(w: &Wallet, k: &SecretKey, op: Operation) {
    let what = format!("{op:?}");
    w.send(k, op, true)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
}

fn project(op: ProjectOperation) -> Operation {
    Operation::Project { op }
}

async fn indexer(node: &str, db: &TestDb) -> RunningIndexer {
    let mut config = IndexerConfig::new(node, db.config.url.clone());
    config.database = db.config.clone();
    config.metrics_addr = Some("127.0.0.1:0".parse().expect("address"));
    config.poll_interval = Duration::from_millis(200);
    start(config).await.expect("indexer starts")
}

async fn head(w: &Wallet) -> (u32, String) {
    let level = w.node.level("head").await.expect("head");
    let hash: String = w
        .node
        .get_json(&format!("/global/block/{level}/hash"))
        .await
        .expect("hash");
    (level, hash)
}

async fn verified(mirror: &Mirror, node: &str) -> pledgeroll_indexer::Report {
    let report = verify(mirror, &Source::new(node))
        .await
        .expect("verify runs");
    assert!(
        report.is_consistent(),
        "the mirror differs from the node at level {}:\n{}",
        report.level,
        report.differences.join("\n")
    );
    report
}

fn addr(k: &SecretKey) -> Address {
    k.public_key().address()
}

async fn scenario_is_mirrored(backend: Backend) {
    let net = net(Some(Duration::from_millis(200))).await;
    let url = net.sandbox.url();
    let db = TestDb::new(backend);
    let indexer = indexer(&url, &db).await;
    let w = &net.wallet;
    let (b1, b2, b3) = (key(B1), key(B2), key(B3));
    let dry = creators_and_patrons(w, &b1, &b2, &b3).await;
    project_work(w, &b1, &b2, &b3).await;
    time_passes(w, &b1, &b2).await;
    follows_the_head(&indexer, w).await;

    let mirror = indexer.mirror().clone();
    let report = verified(&mirror, &url).await;
    for kind in [
        "asset",
        "supply",
        "flow",
        "account key",
        "tier",
        "creator",
        "pledge",
        "project",
        "escrow",
        "ticket",
        "invoice",
        "funder",
        "state hash",
    ] {
        assert!(
            report.checked.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} compared"
        );
    }

    rows_tell_the_scenario(&mirror, &dry).await;
    metrics_are_served(&indexer).await;
    indexer.stop().await.expect("stops cleanly");
    verify_finds_a_tampered_mirror(&url, &db).await;
    net.sandbox.stop().await.expect("sandbox stops");
}

/// A creator with two tiers, three patrons (one who runs dry) and a tip;
/// returns the patron who runs dry.
async fn creators_and_patrons(
    w: &Wallet,
    b1: &SecretKey,
    b2: &SecretKey,
    b3: &SecretKey,
) -> SecretKey {
    send(
        w,
        b1,
        Operation::SetProfile {
            profile: Profile {
                name: text("Ada Lovelace"),
                description: text("notes on the analytical engine"),
                links: List::new(vec![text("https://example.org/ada")]).expect("short"),
            },
        },
    )
    .await;
    send(
        w,
        b1,
        Operation::AddTier {
            title: text("Supporter"),
            perks: text("a thank-you"),
            asset: TEZ,
            amount_per_period: 5_000_000,
            period: 2_592_000,
            patron_limit: None,
        },
    )
    .await;
    send(
        w,
        b1,
        Operation::AddTier {
            title: text("Daily"),
            perks: text("daily notes"),
            asset: USD,
            amount_per_period: 100_000,
            period: 86_400,
            patron_limit: Some(10),
        },
    )
    .await;
    let pledge = |tier| Operation::Pledge {
        tier: TierId(tier),
        amount: None,
        end: None,
        cap: None,
    };
    send(w, b2, pledge(0)).await;
    send(w, b3, pledge(1)).await;

    // A patron with 2 tez pledging 5 tez a month runs dry in 12 days.
    let dry = SecretKey::from_bytes(Curve::Ed25519, [9; 32]).expect("valid");
    send(
        w,
        b3,
        Operation::Transfer {
            to: addr(&dry),
            asset: TEZ,
            amount: 2_000_000,
        },
    )
    .await;
    send(w, &dry, pledge(0)).await;
    send(
        w,
        b2,
        Operation::Tip {
            to: Holder::Account(addr(b1)),
            asset: TEZ,
            amount: 1_000_000,
            memo: text("for the notes"),
        },
    )
    .await;
    dry
}

/// A project funded, tipped, with a ticket and two invoices, one paid at
/// once and one when its time-lock passes.
async fn project_work(w: &Wallet, b1: &SecretKey, b2: &SecretKey, b3: &SecretKey) {
    // A project: 2-of-2 commissioners, a one-hour time-lock.
    let now = w.clock().await.expect("clock").now;
    send(
        w,
        b1,
        project(ProjectOperation::Create {
            title: text("Engine repairs"),
            description: text("fix the mill"),
            link: None,
            commissioners: List::new(vec![addr(b1), addr(b3)]).expect("short"),
            threshold: 2,
            mode: Mode::Public,
            time_lock: Some(3_600),
            refund_deadline: now + 90 * 86_400,
        }),
    )
    .await;
    let p = ProjectId(0);
    send(
        w,
        b2,
        project(ProjectOperation::Fund {
            project: p,
            asset: TEZ,
            amount: 10_000_000,
        }),
    )
    .await;
    send(
        w,
        b2,
        Operation::Tip {
            to: Holder::Project(p),
            asset: TEZ,
            amount: 500_000,
            memo: text("go"),
        },
    )
    .await;
    send(
        w,
        b3,
        project(ProjectOperation::OpenTicket {
            project: p,
            title: text("replace the gears"),
            url: Some(text("https://example.org/issues/7")),
            budget: None,
        }),
    )
    .await;
    send(
        w,
        b3,
        project(ProjectOperation::CloseTicket {
            project: p,
            ticket: 0,
        }),
    )
    .await;
    let invoice = |amount| {
        project(ProjectOperation::RaiseInvoice {
            project: p,
            ticket: 0,
            beneficiary: addr(b3),
            asset: TEZ,
            amount,
        })
    };
    send(w, b3, invoice(3_000_000)).await;
    send(
        w,
        b1,
        project(ProjectOperation::Approve {
            project: p,
            invoice: 0,
        }),
    )
    .await;
    // Paid when its time-lock passes with no veto.
    send(w, b3, invoice(1_000_000)).await;
}

/// Twenty days pass; a pledge is cancelled and tez withdrawn.
async fn time_passes(w: &Wallet, b1: &SecretKey, b2: &SecretKey) {
    pledgeroll_client::sandbox::advance(&w.node, 20 * 86_400)
        .await
        .expect("time moves");
    send(
        w,
        b2,
        Operation::CancelPledge {
            pledge: PledgeId(0),
        },
    )
    .await;
    send(
        w,
        b1,
        Operation::Withdraw {
            asset: TEZ,
            amount: 1_000_000,
            destination: "KT1NJGvnrPNugeem2gLeZ2ukhakXehR85W5g"
                .parse::<Contract>()
                .expect("KT1"),
            entrypoint: text("default"),
        },
    )
    .await;
}

/// The mirror follows the head within a second of each new level.
async fn follows_the_head(indexer: &RunningIndexer, w: &Wallet) {
    let (level, _) = head(w).await;
    indexer
        .wait_for_level(level, WAIT)
        .await
        .expect("caught up");
    for _ in 0..3 {
        let (seen, _) = head(w).await;
        let next = loop {
            let (l, _) = head(w).await;
            if l > seen {
                break l;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        indexer
            .wait_for_level(next, Duration::from_secs(1))
            .await
            .unwrap_or_else(|e| panic!("level {next} not indexed within a second: {e}"));
    }
}

/// The mirror's rows show what happened: the dry patron paused, the
/// patron counts, the invoices paid, every kind of movement.
async fn rows_tell_the_scenario(mirror: &Mirror, dry: &SecretKey) {
    let mut tx = mirror.db().begin().await.expect("begin");
    let pledges: Vec<PledgeRow> = tx.load_all().await.expect("pledges");
    let dry_pledge = pledges
        .iter()
        .find(|p| p.patron == addr(dry).to_string())
        .expect("the dry patron's pledge");
    assert_eq!(
        (dry_pledge.status.as_str(), dry_pledge.reason.as_deref()),
        ("paused", Some("out_of_funds"))
    );
    let tiers: Vec<TierRow> = tx.load_all().await.expect("tiers");
    assert_eq!(
        tiers
            .iter()
            .map(|t| (t.patrons, t.active_patrons))
            .collect::<Vec<_>>(),
        vec![(1, 0), (1, 1)],
        "tier 0 keeps the paused pledge, tier 1 streams"
    );
    let invoices: Vec<InvoiceRow> = tx.load_all().await.expect("invoices");
    assert!(invoices.iter().all(|i| i.status == "paid"), "{invoices:?}");
    let ledger: Vec<LedgerRow> = tx.load_all().await.expect("ledger");
    for kind in [
        "deposit",
        "transfer",
        "tip",
        "fund",
        "payout",
        "stream",
        "withdrawal",
    ] {
        assert!(
            ledger.iter().any(|l| l.kind == kind),
            "no {kind} in the ledger"
        );
    }
    let payouts: u128 = ledger
        .iter()
        .filter(|l| l.kind == "payout")
        .map(|l| l.fine)
        .sum();
    assert_eq!(payouts, 4_000_000 * pledgeroll_contracts::FINE_PER_UNIT);
    tx.rollback().await.expect("rollback");
}

async fn metrics_are_served(indexer: &RunningIndexer) {
    let addr = indexer.metrics_addr().expect("metrics served");
    let body = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("text");
    assert!(body.contains("pledgeroll_indexer_level "), "{body}");
    assert!(body.contains("pledgeroll_indexer_lag_levels "), "{body}");
    assert!(
        body.contains("pledgeroll_indexer_events_per_second "),
        "{body}"
    );
}

/// `pledgeroll-indexer verify` agrees, and finds a tampered pledge, a
/// rewritten ledger (naming the row) and a node of another rollup.
async fn verify_finds_a_tampered_mirror(url: &str, db: &TestDb) {
    assert!(verify_command(url, db).0, "verify finds the mirror equal");
    let mirror = db.mirror().await;
    let mut tx = mirror.db().begin().await.expect("begin");
    let pledge: PledgeRow = tx.load(&[(0,)]).await.expect("read").remove(0);
    let mut tampered = pledge.clone();
    tampered.streamed += 1;
    tx.store(&[tampered]).await.expect("write");
    tx.commit().await.expect("commit");
    let (consistent, out) = verify_command(url, db);
    assert!(!consistent, "verify missed the change:\n{out}");
    assert!(out.contains("difference: pledge 0:"), "{out}");

    // Every tip raised by 1 tez: no state record holds history, so only
    // the levels the node keeps can tell.
    let mut tx = mirror.db().begin().await.expect("begin");
    tx.store(&[pledge]).await.expect("restore the pledge");
    let ledger: Vec<LedgerRow> = tx.load_all().await.expect("ledger");
    let honest: Vec<LedgerRow> = ledger.iter().filter(|l| l.kind == "tip").cloned().collect();
    assert!(!honest.is_empty(), "the scenario tips");
    let raised: Vec<LedgerRow> = honest
        .iter()
        .cloned()
        .map(|mut l| {
            l.units += 1_000_000;
            l.fine += 1_000_000 * pledgeroll_contracts::FINE_PER_UNIT;
            l
        })
        .collect();
    tx.store(&raised).await.expect("write");
    tx.commit().await.expect("commit");
    let (consistent, out) = verify_command(url, db);
    assert!(!consistent, "verify missed the rewritten ledger:\n{out}");
    let first = &honest[0];
    let named = format!(
        "difference: `ledger` row (level {}, idx {}) differs: fine: the node's levels give {}, the mirror has {}",
        first.level,
        first.idx,
        first.fine,
        first.fine + 1_000_000 * pledgeroll_contracts::FINE_PER_UNIT
    );
    assert!(out.contains(&named), "{named}\nnot in:\n{out}");

    // Another rollup's node: nothing matches.
    let mut tx = mirror.db().begin().await.expect("begin");
    tx.store(&honest).await.expect("restore the ledger");
    let rollup: Vec<MetaRow> = tx.load(&[("rollup".to_owned(),)]).await.expect("meta");
    let mut other = rollup[0].clone();
    other.value = "sr1RYurGZtN8KNSpkMcCt9CgWeUaNkzsAfXf".to_owned();
    tx.store(&[other]).await.expect("write");
    tx.commit().await.expect("commit");
    let (consistent, out) = verify_command(url, db);
    assert!(!consistent, "verify matched another rollup:\n{out}");
    assert!(out.contains("this mirror is of another rollup"), "{out}");
    let mut tx = mirror.db().begin().await.expect("begin");
    tx.store(&rollup).await.expect("restore the rollup");
    tx.commit().await.expect("commit");
    assert!(
        verify_command(url, db).0,
        "verify finds the mirror equal again"
    );
}
on_both!(scenario_is_mirrored: sqlite_scenario_is_mirrored, postgres_scenario_is_mirrored);

/// Runs `pledgeroll-indexer verify`; whether it succeeded, and what it printed.
fn verify_command(node: &str, db: &TestDb) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pledgeroll-indexer"));
    cmd.args(["verify", "--node", node, "--database-url", &db.config.url])
        .env_remove("DATABASE_URL");
    if let Some(schema) = &db.config.schema {
        cmd.args(["--schema", schema]);
    }
    let out = cmd.output().expect("verify runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_goes_away_is_waited_for() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = SandboxConfig::local(dir.path().to_owned(), KernelSource::Native);
    let sandbox = pledgeroll_sandbox::start(config.clone())
        .await
        .expect("starts");
    let addr = sandbox.addr();
    let url = sandbox.url();
    let db = TestDb::new(Backend::Sqlite);
    let indexer = indexer(&url, &db).await;
    let level = sandbox
        .sandbox()
        .produce_level()
        .await
        .expect("level")
        .level;
    indexer.wait_for_level(level, WAIT).await.expect("indexed");

    sandbox.stop().await.expect("stops");
    indexer
        .wait_until("a retry", WAIT, |s| s.retrying.is_some())
        .await
        .expect("the indexer waits for the node");
    assert!(indexer.status().failed.is_none());

    let mut again = config;
    again.rpc_addr = addr;
    let sandbox = pledgeroll_sandbox::start(again)
        .await
        .expect("starts again");
    let mut top = level;
    for _ in 0..3 {
        top = sandbox
            .sandbox()
            .produce_level()
            .await
            .expect("level")
            .level;
    }
    indexer
        .wait_for_level(top, WAIT)
        .await
        .expect("catches up after the outage");
    assert!(indexer
        .metrics()
        .render()
        .contains("pledgeroll_indexer_errors_total "));
    verified(indexer.mirror(), &url).await;
    indexer.stop().await.expect("stops cleanly");
    sandbox.stop().await.expect("sandbox stops");
}

/// Makes `levels` levels on a sandbox without a block timer, each with a
/// few operations: a creator, patrons pledging and cancelling, tips and
/// transfers, and now and then days passing.
async fn build(net: &Net, levels: u32, seed: u64) {
    let w = &net.wallet;
    let keys: Vec<SecretKey> = pledgeroll_sandbox::accounts::BOOTSTRAP_ACCOUNTS
        .iter()
        .map(|a| key(a.secret_key))
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let setup = w
        .sign_batch(vec![
            (
                &keys[4],
                Operation::SetProfile {
                    profile: Profile {
                        name: text("Grace"),
                        description: text("compilers"),
                        links: List::default(),
                    },
                },
            ),
            (
                &keys[4],
                Operation::AddTier {
                    title: text("Daily"),
                    perks: text("updates"),
                    asset: TEZ,
                    amount_per_period: 1_000_000,
                    period: 86_400,
                    patron_limit: None,
                },
            ),
        ])
        .await
        .expect("signs");
    w.submit(setup, false).await.expect("injects");
    net.sandbox.sandbox().produce_level().await.expect("level");
    for n in 0..levels {
        // Pledges are named among those that exist: a statement names the
        // pledge's terms.
        let pledges = w.counters().await.expect("counters").pledge;
        let mut ops = Vec::new();
        for _ in 0..4 {
            let i = rng.gen_range(0..4);
            let other = keys[rng.gen_range(0..5)].public_key().address();
            let some_pledge = (pledges > 0).then(|| PledgeId(rng.gen_range(0..pledges)));
            let op = match (rng.gen_range(0..5), some_pledge) {
                (1, _) => Operation::Transfer {
                    to: other,
                    asset: USD,
                    amount: rng.gen_range(1..1_000),
                },
                (2, _) => Operation::Pledge {
                    tier: TierId(0),
                    amount: None,
                    end: None,
                    cap: None,
                },
                (3, Some(pledge)) => Operation::CancelPledge { pledge },
                (4, Some(pledge)) => Operation::PausePledge { pledge },
                _ => Operation::Tip {
                    to: Holder::Account(other),
                    asset: TEZ,
                    amount: rng.gen_range(1..1_000),
                    memo: text("hi"),
                },
            };
            ops.push((&keys[i], op));
        }
        let signed = w.sign_batch(ops).await.expect("signs");
        w.submit(signed, false).await.expect("injects");
        if n % 50 == 49 {
            let _: serde_json::Value = w
                .node
                .post_json("/sandbox/advance-time", &serde_json::json!({ "days": 2 }))
                .await
                .expect("time moves");
        }
        net.sandbox.sandbox().produce_level().await.expect("level");
    }
}

struct Killable(Child);

impl Drop for Killable {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_indexer(node: &str, db: &TestDb) -> Killable {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pledgeroll-indexer"));
    cmd.args(["run", "--node", node, "--database-url", &db.config.url])
        .args([
            "--batch-levels",
            "3",
            "--fetch-concurrency",
            "2",
            "--no-metrics",
            "--poll-ms",
            "50",
        ])
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(schema) = &db.config.schema {
        cmd.args(["--schema", schema]);
    }
    Killable(cmd.spawn().expect("the indexer starts"))
}

async fn cursor_level(mirror: &Mirror) -> u32 {
    mirror
        .cursor()
        .await
        .expect("cursor readable")
        .map_or(0, |c| c.level)
}

async fn kills_do_not_change_the_mirror(backend: Backend) {
    let net = net(None).await;
    let url = net.sandbox.url();
    build(&net, 400, 17).await;
    let (top, top_hash) = head(&net.wallet).await;

    let killed = TestDb::new(backend);
    let reader = killed.mirror().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut marks: Vec<u32> = (0..24).map(|_| rng.gen_range(1..top)).collect();
    marks.sort_unstable();
    let mut kills = 0;
    let mut during_catch_up = 0;
    for (k, mark) in marks.iter().enumerate() {
        let before = cursor_level(&reader).await;
        let child = spawn_indexer(&url, &killed);
        if k % 4 == 0 {
            // Early: while connecting, migrating or in the first batch.
            tokio::time::sleep(Duration::from_millis(rng.gen_range(0..120))).await;
        } else {
            let deadline = Instant::now() + WAIT;
            while cursor_level(&reader).await < *mark {
                assert!(Instant::now() < deadline, "no progress to level {mark}");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            tokio::time::sleep(Duration::from_millis(rng.gen_range(0..15))).await;
        }
        drop(child); // SIGKILL
        kills += 1;
        let after = cursor_level(&reader).await;
        assert!(
            after >= before,
            "the cursor went back from {before} to {after}"
        );
        if after < top {
            during_catch_up += 1;
        }
    }
    assert!(
        during_catch_up >= 20,
        "only {during_catch_up} of {kills} kills were during catch-up"
    );

    let last = spawn_indexer(&url, &killed);
    let deadline = Instant::now() + WAIT;
    while cursor_level(&reader).await < top {
        assert!(
            Instant::now() < deadline,
            "the restarted indexer did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(last);

    let calm = TestDb::new(backend);
    let uninterrupted = indexer(&url, &calm).await;
    uninterrupted
        .wait_for_block(&top_hash, WAIT)
        .await
        .expect("caught up");
    let expected = uninterrupted
        .mirror()
        .db()
        .snapshot()
        .await
        .expect("snapshot");
    let got = reader.db().snapshot().await.expect("snapshot");
    assert_eq!(got.len(), expected.len());
    for (table, rows) in &expected {
        assert_eq!(got[table].len(), rows.len(), "rows in {table}");
        assert!(got[table] == *rows, "{table} differs after {kills} kills");
    }
    assert!(
        expected["events"].len() > 1_000,
        "a chain too small to test"
    );
    verified(&reader, &url).await;
    uninterrupted.stop().await.expect("stops");
    net.sandbox.stop().await.expect("sandbox stops");
}
on_both!(kills_do_not_change_the_mirror: sqlite_kills_do_not_change_the_mirror, postgres_kills_do_not_change_the_mirror);

async fn a_reorganisation_is_followed(backend: Backend) {
    let net = net(None).await;
    let url = net.sandbox.url();
    build(&net, 30, 23).await;
    let db = TestDb::new(backend);
    let indexer = indexer(&url, &db).await;
    let (old_top, before) = head(&net.wallet).await;
    indexer
        .wait_for_block(&before, WAIT)
        .await
        .expect("caught up");
    let inside = old_top - 2;
    let replaced = indexer.mirror().level_hash(inside).await.expect("read");

    let blocks: serde_json::Value = net
        .wallet
        .node
        .post_json("/sandbox/reorg", &serde_json::json!({ "depth": 5 }))
        .await
        .expect("reorganises");
    assert_eq!(blocks.as_array().map(Vec::len), Some(5));
    build(&net, 4, 29).await;
    let (top, after) = head(&net.wallet).await;
    assert_ne!(before, after);
    indexer
        .wait_for_block(&after, WAIT)
        .await
        .expect("follows the new branch");
    let now = indexer.mirror().level_hash(inside).await.expect("read");
    assert_ne!(now, replaced, "level {inside} was replaced");
    assert!(indexer
        .metrics()
        .render()
        .contains("pledgeroll_indexer_reorgs_total 1\n"));
    verified(indexer.mirror(), &url).await;

    let fresh = db.sibling();
    let direct = self::indexer(&url, &fresh).await;
    direct.wait_for_level(top, WAIT).await.expect("caught up");
    assert_eq!(
        indexer.mirror().db().snapshot().await.expect("snapshot"),
        direct.mirror().db().snapshot().await.expect("snapshot")
    );
    direct.stop().await.expect("stops");
    indexer.stop().await.expect("stops");
    net.sandbox.stop().await.expect("sandbox stops");
}
on_both!(a_reorganisation_is_followed: sqlite_reorganisation_is_followed, postgres_reorganisation_is_followed);

/// `pledgeroll-indexer run` killed (SIGKILL) while a webhook delivery is
/// under way, then run again: every alert of a final level is delivered,
/// and the only one sent twice is the one under way, with the same id.
async fn a_killed_notifier_loses_no_alert(backend: Backend) {
    use common::webhook::{receiver_hanging_first, SECRET};
    use pledgeroll_indexer::rows::{AlertRow, DeliveryRow, SubscriptionRow};

    let net = net(None).await;
    let url = net.sandbox.url();
    build(&net, 30, 29).await;
    let grace = key(pledgeroll_sandbox::accounts::BOOTSTRAP_ACCOUNTS[4].secret_key)
        .public_key()
        .address()
        .to_string();
    let db = TestDb::new(backend);
    let mirror = db.mirror().await;
    let (hook, seen) = receiver_hanging_first(Duration::from_secs(60)).await;
    let mut tx = mirror.db().begin().await.expect("begin");
    tx.store(&[SubscriptionRow {
        subscription_id: 1,
        account: grace.clone(),
        channel: "webhook".to_owned(),
        target: hook,
        secret: SECRET.to_owned(),
        kinds: "[]".to_owned(),
        runway_days: 7,
        from_level: 0,
        statement: "subscribe".to_owned(),
        statement_hash: "00".repeat(32),
        signature: String::new(),
        created_at: 0,
        stopped_at: None,
    }])
    .await
    .expect("subscribes");
    tx.commit().await.expect("commit");

    let first = spawn_indexer(&url, &db);
    let deadline = Instant::now() + WAIT;
    while seen.lock().expect("lock").arrived == 0 {
        assert!(Instant::now() < deadline, "no delivery began");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(first); // SIGKILL, the first delivery unanswered
    let _second = spawn_indexer(&url, &db);
    // Every alert of grace's up to the level the notifier reached.
    let expected = loop {
        let mut tx = mirror.db().begin().await.expect("begin");
        let deliveries: Vec<DeliveryRow> = tx.load_all().await.expect("deliveries");
        let alerts: Vec<AlertRow> = tx.load_all().await.expect("alerts");
        let notified: Vec<pledgeroll_indexer::rows::MetaRow> = tx
            .load(&[("notified_level".to_owned(),)])
            .await
            .expect("meta");
        tx.rollback().await.expect("rollback");
        let notified: i64 = notified
            .first()
            .and_then(|m| m.value.parse().ok())
            .unwrap_or(-1);
        let due: Vec<String> = alerts
            .iter()
            .filter(|a| a.account == grace && a.level <= notified)
            .map(|a| format!("{}.{}", a.level, a.idx))
            .collect();
        let done = deliveries
            .iter()
            .filter(|d| d.status == "delivered")
            .count();
        if !due.is_empty() && done == due.len() && deliveries.len() == due.len() {
            break due;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries stuck: {deliveries:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let requests = seen.lock().expect("lock").requests.clone();
    assert!(
        requests.iter().all(|r| r.1),
        "every body verifies: {requests:?}"
    );
    let mut answered: Vec<String> = requests.iter().map(|r| r.0.clone()).collect();
    answered.sort_unstable();
    let mut twice = answered.clone();
    twice.dedup();
    assert_eq!(twice, {
        let mut e = expected.clone();
        e.sort_unstable();
        e
    });
    // At most the delivery under way at the kill came twice (once answered
    // late to a dead sender, once to the restarted one).
    assert!(answered.len() <= expected.len() + 1, "{answered:?}");
}
on_both!(a_killed_notifier_loses_no_alert: sqlite_a_killed_notifier_loses_no_alert, postgres_a_killed_notifier_loses_no_alert);
