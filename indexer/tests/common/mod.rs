//! Test support: a database per test (a temporary SQLite file, or a fresh
//! Postgres schema in `DATABASE_URL` dropped afterwards), synthetic chains,
//! and checks of a mirror against the protocol's own state.

#![allow(dead_code)]

pub mod chain;
pub mod webhook;

/// Runs an async test body, `async fn body(Backend)`, as two tests: one on
/// SQLite and one on Postgres.
#[allow(unused_macros)]
macro_rules! on_both {
    ($body:ident: $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            $body(pledgeroll_indexer::Backend::Sqlite).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            $body(pledgeroll_indexer::Backend::Postgres).await;
        }
    };
}

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use pledgeroll_contracts::{Address, AssetId, MemoryStore, PledgeId, ProjectId, Protocol, TierId};
use pledgeroll_indexer::db::Tx;
use pledgeroll_indexer::rows::{
    parse_holder, AssetRow, BalanceRow, CreatorRow, DailyRow, EscrowRow, InvoiceRow, LedgerRow,
    PledgeRow, ProjectRow, TicketRow, TierRow,
};
use pledgeroll_indexer::{Backend, DbConfig, Mirror};

/// The Postgres server the tests use: `DATABASE_URL`, or the local
/// server's `test` database.
pub fn postgres_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A name no other test run uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A database of its own for one test.
pub struct TestDb {
    pub config: DbConfig,
    pub backend: Backend,
    dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("mirror.sqlite").display());
                TestDb {
                    config: DbConfig::new(url),
                    backend,
                    dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let mut config = DbConfig::new(postgres_url());
                config.schema = Some(unique("mirror_test"));
                TestDb {
                    config,
                    backend,
                    dir: None,
                }
            }
        }
    }

    /// Another database on the same backend.
    pub fn sibling(&self) -> Self {
        TestDb::new(self.backend)
    }

    pub async fn mirror(&self) -> Mirror {
        let db = pledgeroll_indexer::Db::connect(&self.config)
            .await
            .expect("database reachable");
        Mirror::open(db).await.expect("migrates")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(schema) = self.config.schema.clone() else {
            return;
        };
        let _ = pledgeroll_indexer::db::drop_schema_blocking(&self.config.url, &schema);
    }
}

fn id<T: TryFrom<i64>>(v: i64) -> T {
    T::try_from(v).unwrap_or_else(|_| panic!("id {v} out of range"))
}

/// Checks every mirrored record against the protocol's state, and the
/// mirror's own derived figures against each other.
pub async fn check_against_protocol(mirror: &Mirror, p: &Protocol<MemoryStore>) {
    let mut tx = mirror.db().begin().await.expect("begin");
    check_assets(&mut tx, p).await;
    let balances: Vec<BalanceRow> = tx.load_all().await.expect("balances");
    check_balances(&balances, p);
    let pledges: Vec<PledgeRow> = tx.load_all().await.expect("pledges");
    check_pledges(&pledges, p);
    check_creators(&mut tx, &pledges, p).await;
    check_projects(&mut tx, p).await;
    check_stream_income(&mut tx, &balances, &pledges).await;
    tx.rollback().await.expect("rollback");
}

async fn check_assets(tx: &mut Tx, p: &Protocol<MemoryStore>) {
    let assets: Vec<AssetRow> = tx.load_all().await.expect("assets");
    assert_eq!(
        assets.len() as u32,
        p.counters().expect("counters").asset,
        "assets"
    );
    for a in &assets {
        let asset = AssetId(id(a.asset_id));
        assert_eq!(
            Some(a.ticket().expect("ticket")),
            p.asset(asset).expect("read")
        );
        assert_eq!(
            a.supply(),
            p.supply(asset).expect("read"),
            "supply of {asset}"
        );
    }
}

fn check_balances(balances: &[BalanceRow], p: &Protocol<MemoryStore>) {
    assert!(!balances.is_empty());
    for b in balances {
        let holder = parse_holder(&b.holder).expect("holder");
        let flow = p.flow(&holder, AssetId(id(b.asset_id))).expect("read");
        assert_eq!(
            b.flow().expect("flow"),
            flow,
            "flow of {} in {}",
            b.holder,
            b.asset_id
        );
    }
}

fn check_pledges(pledges: &[PledgeRow], p: &Protocol<MemoryStore>) {
    assert_eq!(
        pledges.len() as u64,
        p.counters().expect("counters").pledge,
        "pledges"
    );
    for row in pledges {
        let pledge = p.pledge(PledgeId(id(row.pledge_id))).expect("read");
        assert_eq!(
            Some(row.pledge().expect("pledge")),
            pledge,
            "pledge {}",
            row.pledge_id
        );
    }
}

/// Tiers and creators, with the patron counts the mirror keeps: each
/// patron counted once, however many pledges they have.
async fn check_creators(tx: &mut Tx, pledges: &[PledgeRow], p: &Protocol<MemoryStore>) {
    let tiers: Vec<TierRow> = tx.load_all().await.expect("tiers");
    assert_eq!(
        tiers.len() as u64,
        p.counters().expect("counters").tier,
        "tiers"
    );
    let mut tier_streaming: HashMap<i64, HashSet<&str>> = HashMap::new();
    let mut creator_live: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut creator_streaming: HashMap<&str, HashSet<&str>> = HashMap::new();
    for row in pledges.iter().filter(|r| r.tier_id.is_some()) {
        let patron = row.patron.as_str();
        if row.is_live() {
            creator_live.entry(&row.payee).or_default().insert(patron);
        }
        if row.is_active() {
            creator_streaming
                .entry(&row.payee)
                .or_default()
                .insert(patron);
            if let Some(t) = row.tier_id {
                tier_streaming.entry(t).or_default().insert(patron);
            }
        }
    }
    let count = |set: Option<&HashSet<&str>>| set.map_or(0, |s| s.len() as i64);
    let mut tiers_of: HashMap<String, i64> = HashMap::new();
    for t in &tiers {
        assert_eq!(
            Some(t.tier().expect("tier")),
            p.tier(TierId(id(t.tier_id))).expect("read"),
            "tier {}",
            t.tier_id
        );
        assert_eq!(
            t.active_patrons,
            count(tier_streaming.get(&t.tier_id)),
            "streaming patrons of tier {}",
            t.tier_id
        );
        *tiers_of.entry(t.creator.clone()).or_default() += 1;
    }
    let creators: Vec<CreatorRow> = tx.load_all().await.expect("creators");
    for c in &creators {
        let address: Address = c.address.parse().expect("address");
        let record = p.creator(&address).expect("read").expect("a creator");
        assert_eq!(c.profile().expect("profile"), record.profile);
        assert_eq!(c.pause().expect("pause"), record.pause);
        assert_eq!(c.tiers as usize, record.tiers.len());
        let key = c.address.as_str();
        assert_eq!(
            (c.tiers, c.patrons, c.active_patrons),
            (
                tiers_of.get(key).copied().unwrap_or(0),
                count(creator_live.get(key)),
                count(creator_streaming.get(key))
            ),
            "{}",
            c.address
        );
    }
}

/// Projects, their escrow accounts, tickets and invoices.
async fn check_projects(tx: &mut Tx, p: &Protocol<MemoryStore>) {
    let projects: Vec<ProjectRow> = tx.load_all().await.expect("projects");
    assert_eq!(
        projects.len() as u64,
        p.counters().expect("counters").project,
        "projects"
    );
    for row in &projects {
        let pid = ProjectId(id(row.project_id));
        assert_eq!(
            Some(row.project().expect("project")),
            p.project(pid).expect("read")
        );
    }
    for e in tx.load_all::<EscrowRow>().await.expect("escrows") {
        let pid = ProjectId(id(e.project_id));
        assert_eq!(
            e.escrow().expect("escrow"),
            p.escrow_asset(pid, AssetId(id(e.asset_id))).expect("read")
        );
    }
    for t in tx.load_all::<TicketRow>().await.expect("tickets") {
        let pid = ProjectId(id(t.project_id));
        assert_eq!(
            Some(t.ticket().expect("ticket")),
            p.work_ticket(pid, id(t.ticket_no)).expect("read")
        );
    }
    for i in tx.load_all::<InvoiceRow>().await.expect("invoices") {
        let pid = ProjectId(id(i.project_id));
        assert_eq!(
            Some(i.invoice().expect("invoice")),
            p.invoice(pid, id(i.invoice_no)).expect("read")
        );
    }
}

/// Stream income per day adds up, for every payee and asset, to what its
/// streams settled plus what its active streams ran since.
async fn check_stream_income(tx: &mut Tx, balances: &[BalanceRow], pledges: &[PledgeRow]) {
    let ledger: Vec<LedgerRow> = tx.load_all().await.expect("ledger");
    let daily: Vec<DailyRow> = tx.load_all().await.expect("daily");
    let mut accrued: BTreeMap<(String, i64), u128> = BTreeMap::new();
    for d in &daily {
        *accrued.entry((d.holder.clone(), d.asset_id)).or_default() += d.streamed_in;
    }
    let mut expected: BTreeMap<(String, i64), u128> = BTreeMap::new();
    for l in ledger.iter().filter(|l| l.kind == "stream") {
        *expected
            .entry((l.to_holder.clone().expect("payee"), l.asset_id))
            .or_default() += l.fine;
    }
    let at: HashMap<(String, i64), (i64, bool)> = balances
        .iter()
        .map(|b| ((b.holder.clone(), b.asset_id), (b.at, b.inflow_paused)))
        .collect();
    // A payee's flow settles at every pause and resume, so between its last
    // change and a pledge's last settlement the creator's pause state held:
    // a paused creator's pledges streamed nothing there, the others their
    // rate. A pledge settled after its payee's flow (its patron settled it
    // after a pause) has counted in the ledger what the daily rows have not.
    for row in pledges.iter().filter(|r| r.is_active()) {
        let entry = expected
            .entry((row.payee.clone(), row.asset_id))
            .or_default();
        let (until, held) = at[&(row.payee.clone(), row.asset_id)];
        if held {
            continue;
        }
        let seconds = |d: i64| u128::try_from(d).expect("ordered");
        if until >= row.since {
            *entry += row.rate * seconds(until - row.since);
        } else {
            *entry -= row.rate * seconds(row.since - until);
        }
    }
    expected.retain(|_, v| *v != 0);
    accrued.retain(|_, v| *v != 0);
    assert_eq!(accrued, expected, "stream income per payee and asset");
    assert!(
        ledger.iter().any(|l| l.kind == "stream"),
        "the chain settled no stream"
    );
}
