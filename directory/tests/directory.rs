//! The directory over a mirror seeded by a scripted scenario (the protocol
//! over a memory store, applied through the indexer's own apply path), on
//! SQLite and on Postgres (`DATABASE_URL`): every page and API route on
//! 127.0.0.1, checked for the names, amounts and counts it shows; escaping
//! of what creators write; search strings that look like SQL; 400s for bad
//! parameters; the OpenAPI document against the answers; Atom feeds; the
//! CSV export; a read-only connection; and headless Chromium rendering the
//! pages.

#![allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]

#[path = "../../indexer/tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;

use common::chain::{Script, ROLLUP};
use common::TestDb;
use pledgeroll_contracts::asset::Ticket;
use pledgeroll_contracts::crypto::{Contract, Curve};
use pledgeroll_contracts::encoding::List;
use pledgeroll_contracts::escrow::{Mode, ProjectOperation};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::state::Profile;
use pledgeroll_contracts::{Address, AssetId, Holder, Operation, ProjectId, TierId};
use pledgeroll_directory::store::{Count, Store};
use pledgeroll_directory::{serve, RunningDirectory};
use pledgeroll_indexer::Backend;
use serde_json::Value;

const DAY: i64 = pledgeroll_contracts::units::DAY as i64;
const TEZ: AssetId = AssetId(0);
const USD: AssetId = AssetId(1);
const XSS_NAME: &str = "<script>alert(1)</script>";
const XSS_DESCRIPTION: &str = "<b>bold</b> & <img src=x onerror=alert(2)>";
/// A link the protocol accepts that would break out of a single-quoted
/// attribute.
const XSS_LINK: &str = "https://example.org/?q='onmouseover='alert(3)";

use pledgeroll_contracts::fixtures::text;

/// The ticket of `ticketer`, declaring its unit as `unit` (`tez:6`).
fn ticket((ticketer, unit): (&str, &str)) -> Ticket {
    Ticket {
        ticketer: ticketer.parse::<Contract>().expect("KT1"),
        token_id: 0,
        metadata: Some(unit.as_bytes().to_vec()),
    }
}

/// The people of the scenario, by index into `Scenario::keys`.
const ADA: usize = 0;
const BOB: usize = 1;
const CY: usize = 2;
const XSS: usize = 3;
const DRY: usize = 4;
const GRACE: usize = 5;

/// The scenario's people and the levels they made.
struct Scenario {
    keys: Vec<SecretKey>,
    script: Script,
}

impl Scenario {
    fn new() -> Self {
        let keys = (0..6u8)
            .map(|i| SecretKey::from_bytes(Curve::Ed25519, [i + 1; 32]).expect("valid key"))
            .collect();
        Scenario {
            keys,
            script: Script::default(),
        }
    }

    fn addr(&self, who: usize) -> Address {
        self.keys[who].public_key().address()
    }

    /// One level `dt` seconds after the last: deposits, then operations,
    /// each of which must apply.
    fn level(
        &mut self,
        dt: i64,
        deposits: &[(usize, (&str, &str), u64)],
        ops: Vec<(usize, Operation)>,
    ) {
        let deposits: Vec<_> = deposits
            .iter()
            .map(|(who, ticketer, amount)| (self.addr(*who), ticket(*ticketer), *amount))
            .collect();
        let ops: Vec<_> = ops
            .into_iter()
            .map(|(who, op)| (&self.keys[who], op))
            .collect();
        self.script.level(dt, &deposits, &ops);
    }
}

const TEZ_TICKETER: (&str, &str) = ("KT1NJGvnrPNugeem2gLeZ2ukhakXehR85W5g", "tez:6");
const USD_TICKETER: (&str, &str) = ("KT1U52yeUwy8kHzFcQm8yLMiqrzyDg3Pswif", "usd:6");

fn profile(name: &str, description: &str, links: &[&str]) -> Operation {
    Operation::SetProfile {
        profile: Profile {
            name: text(name),
            description: text(description),
            links: List::new(links.iter().map(|l| text(l)).collect()).expect("short"),
        },
    }
}

use pledgeroll_contracts::fixtures::tier_of as tier;

fn pledge(tier: u64) -> Operation {
    pledgeroll_contracts::fixtures::pledge(TierId(tier))
}

fn project(op: ProjectOperation) -> Operation {
    Operation::Project { op }
}

/// The scenario: three creators (one with a hostile name), patrons on
/// both assets, a patron who runs dry, a tip, and a 2-of-2 project with a
/// ticket, a paid invoice and an open one still time-locked.
fn scenario() -> Scenario {
    let mut s = Scenario::new();
    let (ada, cy) = (s.addr(ADA), s.addr(CY));
    s.level(
        60,
        &[
            (ADA, TEZ_TICKETER, 100_000_000),
            (BOB, TEZ_TICKETER, 100_000_000),
            (CY, TEZ_TICKETER, 100_000_000),
            (XSS, TEZ_TICKETER, 100_000_000),
            (DRY, TEZ_TICKETER, 2_000_000),
            (GRACE, TEZ_TICKETER, 100_000_000),
            (BOB, USD_TICKETER, 100_000_000),
            (CY, USD_TICKETER, 100_000_000),
        ],
        Vec::new(),
    );
    s.level(
        60,
        &[],
        vec![
            (
                ADA,
                profile(
                    "Ada Lovelace",
                    "notes on the analytical engine",
                    &["https://example.org/ada"],
                ),
            ),
            (ADA, tier("Supporter", TEZ, 5_000_000, 2_592_000, None)),
            (ADA, tier("Daily", USD, 100_000, 86_400, Some(10))),
            (XSS, profile(XSS_NAME, XSS_DESCRIPTION, &[XSS_LINK])),
            (XSS, tier("Fan", TEZ, 1_000_000, 2_592_000, None)),
            (GRACE, profile("Grace Hopper", "compilers", &[])),
        ],
    );
    s.level(
        60,
        &[],
        vec![
            (BOB, pledge(0)),
            (CY, pledge(1)),
            (DRY, pledge(0)),
            (CY, pledge(2)),
            (
                BOB,
                Operation::Tip {
                    to: Holder::Account(ada),
                    asset: TEZ,
                    amount: 1_000_000,
                    memo: text("for the notes"),
                },
            ),
        ],
    );
    let p = ProjectId(0);
    let now = s.script.now;
    s.level(
        60,
        &[],
        vec![
            (
                ADA,
                project(ProjectOperation::Create {
                    title: text("Engine repairs"),
                    description: text("fix the mill"),
                    link: Some(text("https://example.org/engine")),
                    commissioners: List::new(vec![ada, cy]).expect("short"),
                    threshold: 2,
                    mode: Mode::Public,
                    time_lock: Some(3_600),
                    refund_deadline: u64::try_from(now + 90 * DAY).expect("positive"),
                }),
            ),
            (
                BOB,
                project(ProjectOperation::Fund {
                    project: p,
                    asset: TEZ,
                    amount: 10_000_000,
                }),
            ),
            (
                CY,
                project(ProjectOperation::OpenTicket {
                    project: p,
                    title: text("replace the gears"),
                    url: Some(text("https://example.org/issues/7")),
                    budget: None,
                }),
            ),
            (
                CY,
                project(ProjectOperation::CloseTicket {
                    project: p,
                    ticket: 0,
                }),
            ),
            (
                CY,
                project(ProjectOperation::RaiseInvoice {
                    project: p,
                    ticket: 0,
                    beneficiary: cy,
                    asset: TEZ,
                    amount: 3_000_000,
                }),
            ),
            (
                ADA,
                project(ProjectOperation::Approve {
                    project: p,
                    invoice: 0,
                }),
            ),
        ],
    );
    // 20 days on: the patron with 2 tez at 5 tez a month has run dry.
    s.level(20 * DAY, &[], Vec::new());
    s.level(
        60,
        &[],
        vec![(
            CY,
            project(ProjectOperation::RaiseInvoice {
                project: p,
                ticket: 0,
                beneficiary: cy,
                asset: TEZ,
                amount: 1_000_000,
            }),
        )],
    );
    s
}

macro_rules! on_both {
    ($body:ident: $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            $body(Backend::Sqlite).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            $body(Backend::Postgres).await;
        }
    };
}

struct Site {
    directory: RunningDirectory,
    client: reqwest::Client,
    s: Scenario,
    db: TestDb,
}

impl Site {
    async fn start(backend: Backend) -> Self {
        let s = scenario();
        let db = TestDb::new(backend);
        let mirror = db.mirror().await;
        mirror
            .check_rollup(&ROLLUP.to_string())
            .await
            .expect("rollup");
        mirror
            .apply(&s.script.levels, 0)
            .await
            .expect("levels apply");
        mirror.db().close().await;
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("address");
        let directory = serve(
            &db.config.url,
            db.config.schema.as_deref(),
            addr,
            None,
            None,
        )
        .await
        .expect("directory serves");
        Site {
            client: reqwest::Client::new(),
            directory,
            s,
            db,
        }
    }

    fn addr(&self, who: usize) -> String {
        self.s.addr(who).to_string()
    }

    async fn get(&self, path: &str) -> (u16, String, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.directory.url()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = r.status().as_u16();
        let kind = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (status, kind, r.text().await.expect("body"))
    }

    async fn page(&self, path: &str) -> String {
        let (status, kind, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        assert!(kind.starts_with("text/html"), "GET {path}: {kind}");
        body
    }

    async fn json(&self, path: &str) -> Value {
        let (status, kind, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        assert!(kind.starts_with("application/json"), "GET {path}: {kind}");
        serde_json::from_str(&body).expect("JSON")
    }

    async fn stop(self) {
        self.directory.stop().await.expect("stops");
    }
}

async fn pages_show_the_mirror(backend: Backend) {
    let site = Site::start(backend).await;
    let (ada, bob, cy, dry) = (
        site.addr(ADA),
        site.addr(BOB),
        site.addr(CY),
        site.addr(DRY),
    );

    let home = site.page("/").await;
    for want in [
        "3</span> creators",
        "2</span> patrons",
        // 5 + 1 tez a month from bob and cy, 0.1 usd a day from cy.
        "6 tez",
        "3 usd",
        "Ada Lovelace",
        "Grace Hopper",
        "for the notes",
        "/static/style.css",
    ] {
        assert!(home.contains(want), "home lacks {want:?}");
    }
    assert!(!home.contains("<script"), "the home page runs no script");
    // Every page's footer names the rollup, its kernel and the level.
    let level = site.json("/api/v1/about").await["head"]["level"].clone();
    for path in ["/", "/creators", "/projects", "/ledger", "/about"] {
        let page = site.page(path).await;
        assert!(
            page.contains(&format!("Rollup <span class=\"addr\">{ROLLUP}</span>"))
                && page.contains("kernel <span class=\"addr\">not kept by the node</span>")
                && page.contains(&format!("indexed level {level}")),
            "{path}'s footer: {page}"
        );
    }

    let creators = site.page("/creators").await;
    let (a, g) = (
        creators.find("Ada Lovelace").expect("ada listed"),
        creators.find("Grace Hopper").expect("grace listed"),
    );
    assert!(a < g, "most patrons first");
    let found = site.page("/creators?q=grace").await;
    assert!(found.contains("Grace Hopper") && !found.contains("Ada Lovelace"));

    let page = site.page(&format!("/creators/{ada}")).await;
    for want in [
        "Ada Lovelace",
        "notes on the analytical engine",
        "href=\"https://example.org/ada\"",
        "Supporter",
        "5 tez per month",
        "Daily",
        "0.1 usd per day",
        "<svg",
        "Monthly income in tez",
        "for the notes",
        "out of funds",
    ] {
        assert!(page.contains(want), "creator page lacks {want:?}");
    }
    // The income chart runs to the indexed level's day, not to the last
    // change of income; no chart is drawn for an asset without income.
    let about = site.json("/api/v1/about").await;
    let head_time = about["head"]["level_time"].as_i64().expect("a head time");
    let today = pledgeroll_contracts::units::format_date(head_time.div_euclid(86_400));
    assert!(
        page.contains(&format!("text-anchor=\"end\">{today}</text>")),
        "the chart ends on {today}: {page}"
    );
    assert!(!page.contains(">0.000001 "), "no empty chart: {page}");
    // Tier 0 has bob active and the dry patron paused; tier 1 has cy.
    assert_eq!(page.matches("1 active patron<").count(), 1, "{page}");
    assert_eq!(
        page.matches("1 active patron · limit 10").count(),
        1,
        "{page}"
    );
    assert!(page.contains("<span class=\"big\">2</span> active patrons"));

    let patron = site.page(&format!("/patrons/{dry}")).await;
    for want in [
        "<strong>0 tez</strong>",
        "paused",
        "out of funds",
        "5 tez / month",
    ] {
        assert!(
            patron.contains(want),
            "the dry patron's page lacks {want:?}"
        );
    }
    let patron = site.page(&format!("/patrons/{bob}")).await;
    for want in [
        "5 tez / month",
        "Runs out",
        "Pledging 5 tez a month",
        "for the notes",
        "fund",
    ] {
        assert!(patron.contains(want), "bob's page lacks {want:?}");
    }

    let projects = site.page("/projects").await;
    assert!(
        projects.contains("Engine repairs") && projects.contains("7 tez"),
        "{projects}"
    );
    let project = site.page("/projects/0").await;
    for want in [
        "Engine repairs",
        "7 tez",
        "2 of 2",
        "href=\"https://example.org/issues/7\"",
        "replace the gears",
        "unlocks in 1 hour",
        "1 tez",
        "3 tez",
        "paid",
        "10 tez",
        &cy[..8],
        &bob[..8],
    ] {
        assert!(project.contains(want), "project page lacks {want:?}");
    }

    let ledger = site.page(&format!("/ledger?account={bob}&kind=tip")).await;
    assert!(ledger.contains("for the notes"), "{ledger}");
    assert!(
        ledger.contains("<td>tip</td>") && !ledger.contains("<td>deposit</td>"),
        "the kind filter holds"
    );

    // The ledger's form sends its empty fields.
    let all = site.page("/ledger?account=&asset=&kind=").await;
    assert!(all.contains("<td>deposit</td>") && all.contains("<td>tip</td>"));

    let about = site.page("/about").await;
    for want in [
        ROLLUP.to_string().as_str(),
        "no admin key",
        "Indexed level",
        "6 (block",
    ] {
        assert!(about.contains(want), "about lacks {want:?}");
    }

    let (status, kind, css) = site.get("/static/style.css").await;
    assert_eq!((status, kind.as_str()), (200, "text/css; charset=utf-8"));
    assert!(css.contains("font"));

    let (status, kind, body) = site.get("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(
        kind.starts_with("text/html") && body.contains("/static/style.css"),
        "{body}"
    );
    let (status, _, body) = site.get("/projects/99").await;
    assert_eq!(status, 404, "{body}");
    let (status, _, _) = site.get(&format!("/creators/{bob}")).await;
    assert_eq!(status, 404, "bob has no profile");
    site.stop().await;
}

async fn api_answers_what_pages_show(backend: Backend) {
    let site = Site::start(backend).await;
    let (ada, bob, cy, dry, xss) = (
        site.addr(ADA),
        site.addr(BOB),
        site.addr(CY),
        site.addr(DRY),
        site.addr(XSS),
    );

    let totals = site.json("/api/v1/totals").await;
    assert_eq!(totals["creators"], 3);
    assert_eq!(totals["patrons"], 2);
    assert_eq!(
        totals["monthly_flow"],
        serde_json::json!([{"asset_id": 0, "units": 6_000_000}, {"asset_id": 1, "units": 3_000_000}])
    );
    assert_eq!(
        totals["escrowed"],
        serde_json::json!([{"asset_id": 0, "units": 7_000_000}])
    );

    // Cursor pagination, one creator a page, by active patrons.
    let mut seen = Vec::new();
    let mut path = "/api/v1/creators?limit=1".to_owned();
    loop {
        let page = site.json(&path).await;
        let list = page["creators"].as_array().expect("list");
        assert_eq!(list.len(), 1);
        seen.push((list[0]["name"].clone(), list[0]["active_patrons"].clone()));
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/creators?limit=1&after={next}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        vec![
            ("Ada Lovelace".into(), 2.into()),
            (XSS_NAME.into(), 1.into()),
            ("Grace Hopper".into(), 0.into())
        ]
    );
    let by_income = site.json("/api/v1/creators?sort=income&asset=0").await;
    let incomes: Vec<_> = by_income["creators"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["income"].as_i64().expect("income"))
        .collect();
    assert_eq!(incomes, vec![5_000_000, 1_000_000, 0]);

    let creator = site.json(&format!("/api/v1/creators/{ada}")).await;
    assert_eq!(creator["creator"]["name"], "Ada Lovelace");
    let tiers = creator["tiers"].as_array().expect("tiers");
    assert_eq!(tiers.len(), 2);
    assert_eq!(tiers[0]["active_patrons"], 1);
    assert_eq!(tiers[0]["patrons"], 2);
    assert_eq!(creator["tips"][0]["memo"], "for the notes");
    assert_eq!(creator["pledges"].as_array().expect("pledges").len(), 3);

    let member = site
        .json(&format!("/api/v1/creators/{ada}/patrons/{bob}"))
        .await;
    assert_eq!(member["active"], true);
    assert_eq!(member["tier"]["title"], "Supporter");
    let member = site
        .json(&format!("/api/v1/creators/{ada}/patrons/{cy}"))
        .await;
    assert_eq!(member["tier"]["title"], "Daily");
    let member = site
        .json(&format!("/api/v1/creators/{ada}/patrons/{dry}"))
        .await;
    assert_eq!(member["active"], false, "a paused pledge is no membership");
    assert!(member["tier"].is_null());
    let member = site
        .json(&format!("/api/v1/creators/{xss}/patrons/{bob}"))
        .await;
    assert_eq!(member["active"], false);
    assert!(member["at_least"].is_null(), "no tier asked");
    // At least a tier: the same asset, priced at least as high.
    for (patron, min_tier, want) in [
        (&bob, 0, true),
        (&bob, 1, false),
        (&cy, 1, true),
        (&cy, 0, false),
    ] {
        let member = site
            .json(&format!(
                "/api/v1/creators/{ada}/patrons/{patron}?min_tier={min_tier}"
            ))
            .await;
        assert_eq!(
            member["at_least"], want,
            "{patron} at tier {min_tier} or above"
        );
    }
    let member = site
        .json(&format!("/api/v1/creators/{ada}/patrons/{dry}?min_tier=0"))
        .await;
    assert_eq!(
        member["at_least"], false,
        "a paused pledge counts for nothing"
    );

    let patron = site.json(&format!("/api/v1/patrons/{dry}")).await;
    assert_eq!(patron["pledges"][0]["status"], "paused");
    assert_eq!(patron["pledges"][0]["reason"], "out_of_funds");
    assert_eq!(patron["runway"][0]["balance_units"], 0);

    let projects = site.json("/api/v1/projects").await;
    assert_eq!(
        projects["projects"][0]["project"]["title"],
        "Engine repairs"
    );
    assert_eq!(projects["next"], serde_json::Value::Null);
    let project = site.json("/api/v1/projects/0").await;
    assert_eq!(project["project"]["threshold"], 2);
    assert_eq!(project["tickets"][0]["url"], "https://example.org/issues/7");
    let statuses: Vec<_> = project["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .map(|i| i["status"].as_str().expect("status").to_owned())
        .collect();
    assert_eq!(statuses, vec!["open", "paid"]);
    assert_eq!(project["funders"][0]["funder"], bob);

    let ledger = site
        .json(&format!("/api/v1/ledger?account={bob}&asset=0"))
        .await;
    let kinds: Vec<_> = ledger["movements"]
        .as_array()
        .expect("movements")
        .iter()
        .map(|m| m["kind"].as_str().expect("kind").to_owned())
        .collect();
    for kind in ["deposit", "tip", "fund"] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    let payouts = site.json("/api/v1/ledger?kind=payout").await;
    let paid: Vec<_> = payouts["movements"]
        .as_array()
        .expect("movements")
        .iter()
        .map(|m| (m["to_holder"].clone(), m["units"].clone()))
        .collect();
    assert_eq!(paid, vec![(cy.clone().into(), 3_000_000.into())]);

    // Ledger cursor pages cover every movement once.
    let all = site.json("/api/v1/ledger?limit=100").await;
    let total = all["movements"].as_array().expect("movements").len();
    let mut count = 0;
    let mut path = "/api/v1/ledger?limit=3".to_owned();
    loop {
        let page = site.json(&path).await;
        count += page["movements"].as_array().expect("movements").len();
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/ledger?limit=3&before={next}"),
            None => break,
        }
    }
    assert_eq!(count, total);

    let about = site.json("/api/v1/about").await;
    assert_eq!(about["rollup"], ROLLUP.to_string());
    assert_eq!(about["head"]["level"], 6);

    // Every receipt of the chain by its operation hash.
    let receipts: Vec<(u32, &pledgeroll_contracts::Receipt)> = site
        .s
        .script
        .levels
        .iter()
        .filter_map(|l| l.record.as_ref().map(|r| (l.level, r)))
        .flat_map(|(level, r)| r.receipts.iter().map(move |receipt| (level, receipt)))
        .collect();
    assert!(!receipts.is_empty());
    for (level, receipt) in &receipts {
        let answer = site
            .json(&format!("/api/v1/operations/{}", hex::encode(receipt.hash)))
            .await;
        assert_eq!(answer["level"], *level);
        assert_eq!(answer["signer"], receipt.signer.to_string());
        assert_eq!(answer["nonce"], receipt.nonce);
        match &receipt.outcome {
            pledgeroll_contracts::Outcome::Applied { created } => {
                assert_eq!(answer["outcome"], "applied");
                match created {
                    Some(c) => {
                        for (name, id) in c.ids() {
                            assert_eq!(answer["created"][name], id, "{answer}");
                        }
                    }
                    None => assert!(answer["created"].is_null(), "{answer}"),
                }
            }
            pledgeroll_contracts::Outcome::Failed { reason } => {
                assert_eq!(answer["outcome"], "failed");
                assert_eq!(answer["reason"], reason.as_str());
            }
        }
    }
    let (status, _, body) = site
        .get(&format!("/api/v1/operations/{}", "0".repeat(64)))
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("up to 6"), "{body}");
    let (status, _, body) = site.get("/api/v1/operations/xyz").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("64 hex digits"), "{body}");

    let (status, kind, body) = site.get("/api/v1/nothing").await;
    assert_eq!(status, 404);
    assert!(kind.starts_with("application/json"), "{body}");
    let (status, _, body) = site.get("/api/v1/creators/tz1nobody").await;
    assert_eq!(status, 404, "{body}");
    site.stop().await;
}

async fn what_creators_write_is_escaped(backend: Backend) {
    let site = Site::start(backend).await;
    let xss = site.addr(XSS);
    let page = site.page(&format!("/creators/{xss}")).await;
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(page.contains("&lt;b&gt;bold&lt;/b&gt; &amp; &lt;img src=x onerror=alert(2)&gt;"));
    // Names are isolated from the text around them, descriptions take
    // their own direction: right-to-left text never reorders the page.
    assert!(
        page.contains("<h1><bdi>&lt;script&gt;alert(1)&lt;/script&gt;</bdi>"),
        "{page}"
    );
    assert!(
        page.contains("<p class=\"desc\" dir=\"auto\">&lt;b&gt;bold"),
        "{page}"
    );
    assert!(!page.contains("<script") && !page.contains("<img") && !page.contains("<b>"));
    assert!(
        page.contains("href=\"https://example.org/?q='onmouseover='alert(3)\"")
            || page.contains("href=\"https://example.org/?q=&#39;onmouseover=&#39;alert(3)\""),
        "the link stays inside its double-quoted attribute: {page}"
    );
    for path in ["/", "/creators", "/creators?q=script"] {
        let body = site.page(path).await;
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
        assert!(!body.contains("<script"), "{path}");
        assert!(
            body.contains("<bdi>&lt;script&gt;alert(1)&lt;/script&gt;</bdi>"),
            "{path}: names are isolated"
        );
    }
    let api = site.json(&format!("/api/v1/creators/{xss}")).await;
    assert_eq!(
        api["creator"]["name"], XSS_NAME,
        "JSON carries the text as written"
    );
    site.stop().await;
}

async fn sql_like_searches_are_only_text(backend: Backend) {
    let site = Site::start(backend).await;
    for (q, want) in [
        ("%27%20OR%201%3D1%20--", 0),
        ("%25", 0),
        ("_", 0),
        ("%5C", 0),
        ("ada", 1),
        ("", 3),
        ("%3Cscript", 1),
    ] {
        let page = site.json(&format!("/api/v1/creators?q={q}")).await;
        assert_eq!(
            page["creators"].as_array().expect("list").len(),
            want,
            "search {q:?}: {page}"
        );
        let (status, _, body) = site.get(&format!("/creators?q={q}")).await;
        assert_eq!(status, 200, "search page {q:?}: {body}");
    }
    site.stop().await;
}

async fn bad_parameters_are_400s_that_say_why(backend: Backend) {
    let site = Site::start(backend).await;
    for (path, says) in [
        ("/api/v1/creators?limit=0", "limit"),
        ("/api/v1/creators?limit=1000", "limit"),
        ("/api/v1/creators?limit=ten", "limit"),
        ("/api/v1/creators?sort=name", "sort"),
        ("/api/v1/creators?after=nonsense", "cursor"),
        ("/api/v1/creators?colour=red", "colour"),
        ("/api/v1/creators?asset=-1", "asset"),
        ("/api/v1/ledger?kind=theft", "kind"),
        ("/api/v1/ledger?before=1", "cursor"),
        ("/api/v1/ledger?account=a%20b", "address"),
        ("/api/v1/projects/zero", "id"),
        ("/api/v1/projects?limit=101", "limit"),
        ("/api/v1/projects?before=newest", "before"),
        ("/api/v1/patrons/%3Cx%3E", "address"),
        (
            "/api/v1/creators/{ada}/patrons/{bob}?min_tier=2",
            "min_tier 2",
        ),
        (
            "/api/v1/creators/{ada}/patrons/{bob}?min_tier=gold",
            "min_tier",
        ),
        ("/api/v1/creators/0/patrons/0", "tz1, tz2 or tz3"),
        (
            "/api/v1/creators/{ada}/patrons/project-1",
            "tz1, tz2 or tz3",
        ),
    ] {
        let path = &path
            .replace("{ada}", &site.addr(ADA))
            .replace("{bob}", &site.addr(BOB));
        let (status, kind, body) = site.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(kind.starts_with("application/json"), "{path}: {kind}");
        let error: Value = serde_json::from_str(&body).expect("JSON error");
        let message = error["error"].as_str().expect("message");
        assert!(
            message.contains(says),
            "{path}: {message:?} does not mention {says}"
        );
    }
    // Every answer forbids sniffing and referrers and pages carry the
    // policy; the API may be read from any site's scripts, and preflights
    // for the builder pass.
    let home = site
        .client
        .get(format!("{}/", site.directory.url()))
        .send()
        .await
        .expect("GET /");
    let headers = home.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let csp = headers["content-security-policy"].to_str().expect("ASCII");
    assert!(
        csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    let api = site
        .client
        .get(format!("{}/api/v1/totals", site.directory.url()))
        .header("origin", "https://creator.example")
        .send()
        .await
        .expect("GET totals");
    assert_eq!(api.headers()["access-control-allow-origin"], "*");
    let preflight = site
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/operations/build", site.directory.url()),
        )
        .header("origin", "https://creator.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("OPTIONS build");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let page = site
        .client
        .get(format!("{}/", site.directory.url()))
        .header("origin", "https://creator.example")
        .send()
        .await
        .expect("GET /");
    assert!(
        !page.headers().contains_key("access-control-allow-origin"),
        "pages are not shared across origins"
    );
    // Without a rollup node the directory builds and relays nothing, and
    // says so; its pages offer no action.
    for (path, body) in [
        (
            "/api/v1/operations/build",
            r#"{"signer": "tz1", "operation": {"kind": "pause_creator"}}"#,
        ),
        (
            "/api/v1/operations/submit",
            r#"{"unsigned": "00", "signature": "edsig"}"#,
        ),
    ] {
        let r = site
            .client
            .post(format!("{}{path}", site.directory.url()))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST");
        let status = r.status().as_u16();
        let body = r.text().await.expect("body");
        assert_eq!(status, 503, "{path}: {body}");
        assert!(body.contains("relays no operations"), "{path}: {body}");
    }
    let (_, _, page) = site.get(&format!("/creators/{}", site.addr(ADA))).await;
    assert!(!page.contains("data-op=") && !page.contains("wallet.js"));
    for path in [
        "/creators?limit=0",
        "/ledger?kind=theft",
        "/projects/zero",
        "/ledger.csv?asset=x",
    ] {
        let (status, kind, body) = site.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            kind.starts_with("text/html") && body.contains("400"),
            "{path}"
        );
    }
    site.stop().await;
}

async fn the_ledger_exports_as_csv(backend: Backend) {
    let site = Site::start(backend).await;
    let bob = site.addr(BOB);
    let (status, kind, csv) = site.get(&format!("/ledger.csv?account={bob}")).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/csv"), "{kind}");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("level,idx,time,time_utc,kind,from,to,asset_id,asset,units,amount,pledge_id,project_id,memo")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let tip = rows.iter().find(|r| r[4] == "tip").expect("the tip");
    assert_eq!(
        (tip[5], tip[8], tip[9], tip[10], tip[13]),
        (bob.as_str(), "tez", "1000000", "1", "for the notes")
    );
    assert!(
        tip[3].ends_with('Z') && tip[3].contains('T') && tip[3].len() == 20,
        "an ISO 8601 UTC time beside Unix seconds: {}",
        tip[3]
    );
    let fund = rows.iter().find(|r| r[4] == "fund").expect("the funding");
    assert_eq!((fund[6], fund[10], fund[12]), ("project-0", "10", "0"));
    assert!(
        rows.iter().all(|r| r[5] == bob || r[6] == bob),
        "only bob's movements"
    );
    let (_, _, deposits) = site.get("/ledger.csv?kind=deposit&asset=1").await;
    assert_eq!(
        deposits.lines().count(),
        3,
        "a header and two usd deposits: {deposits}"
    );
    site.stop().await;
}

async fn the_directory_cannot_write(backend: Backend) {
    let site = Site::start(backend).await;
    let store = Store::open(&site.db.config.url, site.db.config.schema.as_deref())
        .await
        .expect("opens");
    let wrote = store
        .all::<Count>("DELETE FROM creators RETURNING CAST(1 AS BIGINT) AS n", &[])
        .await;
    let refused = wrote.expect_err("a read-only mirror refuses the write");
    let message = refused.to_string();
    assert!(
        message.contains("read-only") || message.contains("readonly"),
        "{message}"
    );
    let left: Option<Count> = store
        .one("SELECT COUNT(*) AS n FROM creators", &[])
        .await
        .expect("reads");
    assert_eq!(left.map(|c| c.n), Some(3));
    store.close().await;
    site.stop().await;
}

async fn openapi_describes_every_api_route(backend: Backend) {
    let site = Site::start(backend).await;
    let (ada, bob) = (site.addr(ADA), site.addr(BOB));
    // An applied operation that created something: every field answers.
    let some_operation = site
        .s
        .script
        .levels
        .iter()
        .filter_map(|l| l.record.as_ref())
        .flat_map(|r| r.receipts.iter())
        .find(|r| r.outcome.created().is_some())
        .map(|r| hex::encode(r.hash))
        .expect("an operation that created a record");
    let doc = site.json("/api/v1/openapi.json").await;
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    let paths: Vec<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    let mut want = vec![
        "/api/v1/about",
        "/api/v1/creators",
        "/api/v1/creators/{address}",
        "/api/v1/creators/{address}/patrons/{patron}",
        "/api/v1/ledger",
        "/api/v1/operations/build",
        "/api/v1/operations/submit",
        "/api/v1/operations/{hash}",
        "/api/v1/patrons/{address}",
        "/api/v1/projects",
        "/api/v1/projects/{id}",
        "/api/v1/totals",
    ];
    want.sort_unstable();
    assert_eq!(paths, want);
    // Every documented path answers, and its schema names the fields the
    // answer has.
    let schemas = &doc["components"]["schemas"];
    for (path, schema) in [
        ("/api/v1/about", "About"),
        ("/api/v1/creators", "CreatorsPage"),
        ("/api/v1/creators/{address}", "CreatorView"),
        (
            "/api/v1/creators/{address}/patrons/{patron}",
            "MembershipAnswer",
        ),
        ("/api/v1/ledger", "LedgerPage"),
        ("/api/v1/operations/{hash}", "OperationReceipt"),
        ("/api/v1/patrons/{address}", "PatronView"),
        ("/api/v1/projects", "ProjectsPage"),
        ("/api/v1/projects/{id}", "ProjectView"),
        ("/api/v1/totals", "Totals"),
    ] {
        let url = path
            .replace("{address}", &ada)
            .replace("{patron}", &bob)
            .replace("{id}", "0")
            .replace("{hash}", &some_operation);
        let answer = site.json(&url).await;
        let properties = schemas[schema]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("no schema {schema}"));
        let mut documented: Vec<&String> = properties.keys().collect();
        let mut got: Vec<&String> = answer.as_object().expect("object").keys().collect();
        documented.sort_unstable();
        got.sort_unstable();
        assert_eq!(documented, got, "{path} answers what {schema} documents");
    }
    // Every reference resolves, and page sizes say what the server takes.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().expect("a name");
        assert!(
            schemas[name].is_object(),
            "{name} is referenced but not defined"
        );
    }
    for path in ["/api/v1/creators", "/api/v1/projects", "/api/v1/ledger"] {
        let limit = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|p| p["name"] == "limit")
            .unwrap_or_else(|| panic!("{path} has a limit"))
            .clone();
        assert_eq!(
            (&limit["schema"]["minimum"], &limit["schema"]["maximum"]),
            (&Value::from(1), &Value::from(100)),
            "{path}: {limit}"
        );
    }
    // Lists are lists, in the document and in the answers.
    for (schema, field) in [
        ("Creator", "links"),
        ("Project", "commissioners"),
        ("Invoice", "approvals"),
        ("Invoice", "vetoes"),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["type"], "array",
            "{schema}.{field}"
        );
    }
    let answer = site.json(&format!("/api/v1/creators/{ada}")).await;
    assert!(answer["creator"]["links"].is_array(), "{answer}");
    let answer = site.json("/api/v1/projects/0").await;
    assert!(answer["project"]["commissioners"].is_array(), "{answer}");
    let params: Vec<&str> = doc["paths"]["/api/v1/ledger"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(params, vec!["account", "asset", "kind", "before", "limit"]);
    site.stop().await;
}

async fn atom_feeds_carry_the_activity(backend: Backend) {
    let site = Site::start(backend).await;
    let (ada, xss) = (site.addr(ADA), site.addr(XSS));

    let (status, kind, body) = site.get("/feed.atom").await;
    assert_eq!(status, 200);
    assert_eq!(kind, "application/atom+xml; charset=utf-8");
    let feed: atom_syndication::Feed = body.parse().expect("valid Atom");
    let titles: Vec<&str> = feed.entries.iter().map(|e| e.title.as_str()).collect();
    assert!(titles.contains(&"tip: 1 tez"), "{titles:?}");
    assert!(titles.contains(&"payout: 3 tez"), "{titles:?}");
    assert!(
        titles.contains(&"New pledge #1: 0.1 usd per day"),
        "{titles:?}"
    );
    let times: Vec<_> = feed.entries.iter().map(|e| e.updated).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    // Links start from the directory's own URL, whatever `Host` says.
    let forged = site
        .client
        .get(format!("{}/feed.atom", site.directory.url()))
        .header("host", "evil.example")
        .send()
        .await
        .expect("GET feed")
        .text()
        .await
        .expect("feed");
    let forged: atom_syndication::Feed = forged.parse().expect("valid Atom");
    let hrefs: Vec<&str> = forged
        .links
        .iter()
        .chain(forged.entries.iter().flat_map(|e| e.links.iter()))
        .map(|l| l.href.as_str())
        .collect();
    assert!(!hrefs.is_empty());
    assert!(
        hrefs.iter().all(|h| h.starts_with(&site.directory.url())),
        "{hrefs:?}"
    );
    assert_eq!(Some(feed.updated), times.first().copied());

    let (status, _, body) = site.get(&format!("/creators/{ada}/feed.atom")).await;
    assert_eq!(status, 200);
    let feed: atom_syndication::Feed = body.parse().expect("valid Atom");
    assert_eq!(feed.title.as_str(), "Ada Lovelace on pledgeroll");
    let summaries: Vec<String> = feed
        .entries
        .iter()
        .filter_map(|e| e.summary.as_ref().map(|s| s.value.clone()))
        .collect();
    assert!(
        summaries.iter().any(|s| s.ends_with(": for the notes")),
        "{summaries:?}"
    );
    assert_eq!(
        feed.entries
            .iter()
            .filter(|e| e.title.starts_with("New pledge"))
            .count(),
        3,
        "ada's three pledges"
    );
    assert!(
        !feed.entries.iter().any(|e| e.title.starts_with("payout")),
        "not ada's"
    );

    let (status, _, body) = site.get(&format!("/creators/{xss}/feed.atom")).await;
    assert_eq!(status, 200);
    assert!(!body.contains("<script>"), "the name is escaped in XML");
    let feed: atom_syndication::Feed = body.parse().expect("valid Atom");
    assert_eq!(feed.title.as_str(), format!("{XSS_NAME} on pledgeroll"));

    let (status, _, _) = site.get("/creators/tz1nobody/feed.atom").await;
    assert_eq!(status, 404);
    site.stop().await;
}

on_both!(pages_show_the_mirror: sqlite_pages_show_the_mirror, postgres_pages_show_the_mirror);
on_both!(api_answers_what_pages_show: sqlite_api_answers_what_pages_show, postgres_api_answers_what_pages_show);
on_both!(what_creators_write_is_escaped: sqlite_what_creators_write_is_escaped, postgres_what_creators_write_is_escaped);
on_both!(sql_like_searches_are_only_text: sqlite_sql_like_searches_are_only_text, postgres_sql_like_searches_are_only_text);
on_both!(bad_parameters_are_400s_that_say_why: sqlite_bad_parameters_are_400s_that_say_why, postgres_bad_parameters_are_400s_that_say_why);
on_both!(the_ledger_exports_as_csv: sqlite_the_ledger_exports_as_csv, postgres_the_ledger_exports_as_csv);
on_both!(the_directory_cannot_write: sqlite_the_directory_cannot_write, postgres_the_directory_cannot_write);
on_both!(openapi_describes_every_api_route: sqlite_openapi_describes_every_api_route, postgres_openapi_describes_every_api_route);
on_both!(atom_feeds_carry_the_activity: sqlite_atom_feeds_carry_the_activity, postgres_atom_feeds_carry_the_activity);

/// Runs headless Chromium on `args`; its standard output.
async fn chromium(profile: &std::path::Path, args: &[String]) -> String {
    let found = std::process::Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "chromium is not installed: the browser test needs it (`apt-get install -y chromium`)"
    );
    let run = tokio::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(90), run)
        .await
        .expect("chromium finishes within 90 s")
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Headless Chromium loads the home, a creator's and a project's pages at
/// a phone's width, renders their key content, and leaves screenshots in
/// `target/directory-screenshots/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_renders_the_pages() {
    let site = Site::start(Backend::Sqlite).await;
    let ada = site.addr(ADA);
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("directory-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    for (name, path, wants) in [
        (
            "home",
            "/".to_owned(),
            vec!["3</span> creators", "Ada Lovelace", "for the notes"],
        ),
        (
            "creator",
            format!("/creators/{ada}"),
            vec![
                "Ada Lovelace",
                "5 tez per month",
                "<svg",
                "Monthly income in tez",
            ],
        ),
        (
            "project",
            "/projects/0".to_owned(),
            vec![
                "Engine repairs",
                "7 tez",
                "unlocks in 1 hour",
                "replace the gears",
            ],
        ),
    ] {
        let url = format!("{}{path}", site.directory.url());
        let profile = tempfile::tempdir().expect("profile");
        let dom = chromium(profile.path(), &["--dump-dom".to_owned(), url.clone()]).await;
        for want in wants {
            assert!(
                dom.contains(want),
                "{name}: the rendered page lacks {want:?}"
            );
        }
        let shot = shots.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&shot);
        let profile = tempfile::tempdir().expect("profile");
        chromium(
            profile.path(),
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=390,2200".to_owned(),
                url,
            ],
        )
        .await;
        let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{name}: no screenshot: {e}"));
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 5_000,
            "{name}: screenshot is empty"
        );
    }
    site.stop().await;
}

/// The `pledgeroll-directory` command serves the same directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_command_serves_the_mirror() {
    let site = Site::start(Backend::Sqlite).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pledgeroll-directory"))
        .args([
            "--database-url",
            &site.db.config.url,
            "--addr",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let url = format!("http://127.0.0.1:{port}/api/v1/totals");
    let mut answer = None;
    for _ in 0..300 {
        if let Ok(r) = reqwest::get(&url).await {
            answer = Some(r.json::<Value>().await.expect("JSON"));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let totals = answer.expect("the directory command answers within 30 s");
    assert_eq!(totals["creators"], 3);
    assert_eq!(totals["level"], 6);
    site.stop().await;
}
