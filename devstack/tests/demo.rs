//! The demo stopped part-way, as a killed `up --demo` leaves it: with
//! deposits and operations still queued on the node, and steps not yet
//! begun. The next run completes it, and the rollup then holds exactly what
//! an uninterrupted demo makes on another rollup: the same creators, tiers,
//! pledges, project, tickets and invoices, each operation applied once. A
//! run over a complete demo sends nothing.

#![allow(clippy::indexing_slicing, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pledgeroll_client::Wallet;
use pledgeroll_contracts::escrow::Project;
use pledgeroll_contracts::{AssetId, Event, Holder, Outcome, ProjectId};
use pledgeroll_devstack::demo::{self, Demo, Step, CREATORS, PATRONS, STEPS};
use pledgeroll_sandbox::assets::{TEZ, USD};
use pledgeroll_sandbox::{KernelSource, RunningSandbox, SandboxConfig};

const WAIT: Duration = Duration::from_secs(60);

/// A sandbox whose levels the test makes, so that it can hold them back
/// while a step is on its way, as a killed `up` leaves it.
struct Node {
    running: RunningSandbox,
    making_levels: Arc<AtomicBool>,
    wallet: Wallet,
    _data: tempfile::TempDir,
}

impl Node {
    async fn start() -> Node {
        let data = tempfile::tempdir().expect("temporary directory");
        let config = SandboxConfig::local(data.path().join("rollup"), KernelSource::Native);
        let running = pledgeroll_sandbox::start(config)
            .await
            .expect("the sandbox starts");
        let making_levels = Arc::new(AtomicBool::new(true));
        let sandbox = running.sandbox().clone();
        let making = making_levels.clone();
        tokio::spawn(async move {
            loop {
                if making.load(Ordering::SeqCst) && sandbox.produce_level().await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        let wallet = demo::connect(&running.url())
            .await
            .expect("the wallet connects");
        Node {
            running,
            making_levels,
            wallet,
            _data: data,
        }
    }

    fn hold_levels(&self) {
        self.making_levels.store(false, Ordering::SeqCst);
    }

    fn release_levels(&self) {
        self.making_levels.store(true, Ordering::SeqCst);
    }

    /// Waits until the node's batcher holds an operation for the next level.
    async fn operation_queued(&self) {
        let started = Instant::now();
        loop {
            let queue: serde_json::Value = self
                .wallet
                .node
                .get_json("/local/batcher/queue")
                .await
                .expect("the batcher queue");
            if queue.as_array().is_some_and(|q| !q.is_empty()) {
                return;
            }
            assert!(started.elapsed() < WAIT, "nothing was queued");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn demo(&self) -> Demo<'_> {
        Demo::settle(&self.wallet).await.expect("the node settles")
    }
}

/// A tier: title, price, period, live pledges.
type TierState = (String, u64, u32, u32);
/// A pledge: patron, payee, tier title, price, status.
type PledgeState = (String, String, Option<String>, u64, String);
/// An invoice: ticket, amount, status, approvals.
type InvoiceState = (u32, u64, String, usize);

/// A project as the demo leaves it.
#[derive(Debug, PartialEq, Eq)]
struct ProjectState {
    title: String,
    /// Each ticket's title and whether it is closed.
    tickets: Vec<(String, bool)>,
    invoices: Vec<InvoiceState>,
    /// Usd funded, in fine units.
    funded: u128,
}

/// What a demo left on a rollup, with names for ids, in a stable order.
#[derive(Debug, PartialEq, Eq)]
struct DemoState {
    /// Each creator's name and tiers.
    creators: Vec<(String, Vec<TierState>)>,
    pledges: Vec<PledgeState>,
    projects: Vec<ProjectState>,
    /// Each demo account's next nonce.
    nonces: Vec<(String, u64)>,
    /// Next tier, pledge and project ids.
    counters: (u64, u64, u64),
    /// Tez and usd ever deposited.
    deposited: (u128, u128),
    /// Tips and profiles set, over every level.
    tips: usize,
    profiles_set: usize,
    /// Operations the rollup refused, over every level.
    refused: usize,
}

async fn demo_state(wallet: &Wallet) -> DemoState {
    let counters = wallet.counters().await.expect("counters");
    let mut projects: Vec<(ProjectId, Project)> = Vec::new();
    for id in (0..counters.project).map(ProjectId) {
        if let Some(p) = wallet.project(id).await.expect("a project") {
            projects.push((id, p));
        }
    }
    let payee = |h: &Holder| match h {
        Holder::Account(a) => CREATORS
            .iter()
            .find(|c| c.address() == *a)
            .map_or_else(|| a.to_string(), |c| c.name.to_owned()),
        Holder::Project(id) => projects
            .iter()
            .find(|(p, _)| p == id)
            .map_or_else(|| format!("project {id}"), |(_, p)| p.title.to_string()),
    };

    let mut creators = Vec::new();
    for creator in CREATORS {
        let record = wallet
            .creator(&creator.address())
            .await
            .expect("a creator")
            .unwrap_or_else(|| panic!("{} is not a creator", creator.name));
        let mut tiers = Vec::new();
        for id in record.tiers.items().iter().copied() {
            let t = wallet.tier(id).await.expect("a tier").expect("listed");
            tiers.push((
                t.title.to_string(),
                t.amount_per_period,
                t.period,
                t.patrons,
            ));
        }
        creators.push((record.profile.name.to_string(), tiers));
    }

    let mut pledges = Vec::new();
    for patron in PATRONS {
        for (_, p) in wallet
            .patron_pledges(&patron.address())
            .await
            .expect("pledges")
        {
            let tier = match p.tier {
                Some(id) => Some(
                    wallet
                        .tier(id)
                        .await
                        .expect("a tier")
                        .expect("pledged")
                        .title
                        .to_string(),
                ),
                None => None,
            };
            pledges.push((
                patron.name.to_owned(),
                payee(&p.payee),
                tier,
                p.amount_per_period,
                p.status.to_string(),
            ));
        }
    }
    pledges.sort();

    let mut project_states = Vec::new();
    for (id, p) in &projects {
        let mut tickets = Vec::new();
        for n in 0..p.tickets {
            let t = wallet
                .work_ticket(*id, n)
                .await
                .expect("a ticket")
                .expect("opened");
            tickets.push((t.title.to_string(), t.closed));
        }
        let mut invoices = Vec::new();
        for n in 0..p.invoices {
            let i = wallet
                .invoice(*id, n)
                .await
                .expect("an invoice")
                .expect("raised");
            invoices.push((i.ticket, i.amount, i.status.to_string(), i.approvals.len()));
        }
        let funded = wallet
            .escrow_asset(*id, AssetId(USD.asset_id))
            .await
            .expect("the escrow")
            .funded;
        project_states.push(ProjectState {
            title: p.title.to_string(),
            tickets,
            invoices,
            funded,
        });
    }

    let mut nonces = Vec::new();
    for who in CREATORS.iter().chain(&PATRONS) {
        let account = wallet.account(&who.address()).await.expect("an account");
        nonces.push((who.name.to_owned(), account.next_nonce));
    }

    let (mut tips, mut profiles_set, mut refused) = (0, 0, 0);
    let head = wallet.node.level("head").await.expect("the head");
    for level in 1..=head {
        for event in wallet.node.events(level).await.expect("events") {
            match event {
                Event::Tipped { .. } => tips += 1,
                Event::ProfileSet { .. } => profiles_set += 1,
                _ => {}
            }
        }
        for receipt in wallet.node.receipts(level).await.expect("receipts") {
            if matches!(receipt.outcome, Outcome::Failed { .. }) {
                refused += 1;
            }
        }
    }

    let deposited =
        |id: u32| async move { wallet.supply(AssetId(id)).await.expect("supply").deposited };
    DemoState {
        creators,
        pledges,
        projects: project_states,
        nonces,
        counters: (counters.tier, counters.pledge, counters.project),
        deposited: (deposited(TEZ.asset_id).await, deposited(USD.asset_id).await),
        tips,
        profiles_set,
        refused,
    }
}

/// Stops the demo part-way twice (once with deposits queued, once with an
/// operation queued), then runs it again.
async fn interrupted_then_completed(node: &Node) -> DemoState {
    assert_eq!(node.demo().await.steps_done().await.expect("progress"), 0);

    // Killed while the deposits wait for their level.
    let demo = node.demo().await;
    node.hold_levels();
    let stopped = tokio::time::timeout(Duration::from_secs(1), demo.complete(Step::FundAccounts));
    assert!(
        stopped.await.is_err(),
        "the deposits landed without a level"
    );
    node.release_levels();

    let demo = node.demo().await;
    for step in &STEPS[..3] {
        demo.complete(*step).await.expect("a step");
    }
    assert_eq!(demo.steps_done().await.expect("progress"), 3);

    // Killed while the project's creation waits for its level.
    node.hold_levels();
    tokio::select! {
        done = demo.complete(Step::CreateProject) => panic!("the project landed without a level: {done:?}"),
        () = node.operation_queued() => {}
    }
    node.release_levels();

    let demo = node.demo().await;
    assert_eq!(demo.steps_done().await.expect("progress"), 4);
    let summary = demo.fill().await.expect("the demo completes");
    assert!(
        summary.invoice_unlocks_at > 0,
        "an invoice waits: {summary:?}"
    );
    assert_eq!(demo.steps_done().await.expect("progress"), STEPS.len());
    demo_state(&node.wallet).await
}

async fn uninterrupted(node: &Node) -> DemoState {
    node.demo().await.fill().await.expect("the demo runs");
    demo_state(&node.wallet).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_demo_stopped_part_way_is_completed_as_an_uninterrupted_one() {
    let (stopped, whole) = tokio::join!(Node::start(), Node::start());
    let (completed, expected) =
        tokio::join!(interrupted_then_completed(&stopped), uninterrupted(&whole));
    assert_eq!(completed, expected);
    assert_eq!(expected.tips, 1);
    assert_eq!(expected.profiles_set, CREATORS.len());
    assert_eq!(expected.refused, 0);

    // A run over the complete demo sends nothing.
    let demo = stopped.demo().await;
    assert_eq!(demo.steps_done().await.expect("progress"), STEPS.len());
    let before = demo_state(&stopped.wallet).await;
    demo.fill().await.expect("the demo is there");
    assert_eq!(demo_state(&stopped.wallet).await, before);

    stopped.running.stop().await.expect("the sandbox stops");
    whole.running.stop().await.expect("the sandbox stops");
}
