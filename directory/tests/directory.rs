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
        page.matches("1 active patron · 1 of 10 places taken")
            .count(),
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
    let (status, _, body) = site
        .get("/api/v1/creators/tz1Ke2h7sDdakHJQh8WX4Z372du1KChsksyU")
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, _, body) = site.get("/api/v1/creators/tz1nobody").await;
    assert_eq!(status, 400, "{body}");
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
        "/api/v1/accounts/{address}/alerts",
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
        ("/api/v1/accounts/{address}/alerts", "AlertsPage"),
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
    // One unit per amount, stated: every field holding an amount says
    // whether it is in base or fine units.
    let amount_words = [
        "amount", "settled", "inflow", "outflow", "streamed", "rate", "monthly", "income", "paid",
        "one_off", "budget", "balance", "refund", "reserved", "funded", "escrowed",
    ];
    let not_amounts = ["_at", "deadline", "level", "approvals", "_id", "refunding"];
    let mut unstated = Vec::new();
    for (schema, body) in schemas.as_object().expect("schemas") {
        let Some(properties) = body["properties"].as_object() else {
            continue;
        };
        for (field, p) in properties {
            // Records state their own fields' units.
            if p["type"] == "boolean" || p.get("$ref").is_some() || p["items"].get("$ref").is_some()
            {
                continue;
            }
            let amount = amount_words.iter().any(|w| field.contains(w))
                && !not_amounts.iter().any(|w| field.contains(w));
            let said = p["description"].as_str().unwrap_or_default().to_lowercase();
            if amount && !(said.contains("base units") || said.contains("fine units")) {
                unstated.push(format!("{schema}.{field}: {said:?}"));
            }
        }
    }
    assert!(
        unstated.is_empty(),
        "amounts without their unit:\n{}",
        unstated.join("\n")
    );
    // Every client error a route answers is in the document, for that
    // route, with the error body.
    let nobody = "tz1Ke2h7sDdakHJQh8WX4Z372du1KChsksyU";
    let unknown_hash = "00".repeat(32);
    let gets = [
        (
            "/api/v1/creators",
            "/api/v1/creators?limit=0".to_owned(),
            400,
        ),
        (
            "/api/v1/creators",
            "/api/v1/creators?sort=loudest".to_owned(),
            400,
        ),
        (
            "/api/v1/creators/{address}",
            "/api/v1/creators/ada".to_owned(),
            400,
        ),
        (
            "/api/v1/creators/{address}",
            format!("/api/v1/creators/{nobody}"),
            404,
        ),
        (
            "/api/v1/creators/{address}/patrons/{patron}",
            format!("/api/v1/creators/{ada}/patrons/0"),
            400,
        ),
        (
            "/api/v1/patrons/{address}",
            "/api/v1/patrons/bob".to_owned(),
            400,
        ),
        (
            "/api/v1/projects",
            "/api/v1/projects?limit=101".to_owned(),
            400,
        ),
        (
            "/api/v1/projects/{id}",
            "/api/v1/projects/first".to_owned(),
            400,
        ),
        (
            "/api/v1/projects/{id}",
            "/api/v1/projects/99".to_owned(),
            404,
        ),
        ("/api/v1/ledger", "/api/v1/ledger?kind=gift".to_owned(), 400),
        (
            "/api/v1/accounts/{address}/alerts",
            "/api/v1/accounts/ada/alerts".to_owned(),
            400,
        ),
        (
            "/api/v1/accounts/{address}/alerts",
            format!("/api/v1/accounts/{ada}/alerts?before=yesterday"),
            400,
        ),
        (
            "/api/v1/operations/{hash}",
            "/api/v1/operations/zz".to_owned(),
            400,
        ),
        (
            "/api/v1/operations/{hash}",
            format!("/api/v1/operations/{unknown_hash}"),
            404,
        ),
    ];
    let documented = |path: &str, method: &str, status: u16| {
        let answer = &doc["paths"][path][method]["responses"][status.to_string()];
        answer["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorBody"
    };
    for (path, url, status) in gets {
        let (got, _, body) = site.get(&url).await;
        assert_eq!(got, status, "GET {url}: {body}");
        assert!(
            documented(path, "get", status),
            "{path} does not document its {status}"
        );
        let error: Value = serde_json::from_str(&body).expect("a JSON error body");
        assert!(error["error"].is_string(), "GET {url}: {body}");
    }
    for path in ["/api/v1/operations/build", "/api/v1/operations/submit"] {
        for (body, content_type, status) in
            [("{", "application/json", 400), ("{}", "text/plain", 400)]
        {
            let r = site
                .client
                .post(format!("{}{path}", site.directory.url()))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .expect("POST");
            let got = r.status().as_u16();
            // Without a rollup node this directory relays nothing: a 503
            // before the body is read is right too, and documented.
            let status = if got == 503 { 503 } else { status };
            assert_eq!(got, status, "POST {path} {content_type} {body}");
            assert!(
                documented(path, "post", status),
                "{path} does not document its {status}"
            );
        }
    }
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
    assert_eq!(status, 400);

    // A pledge's entries keep the terms of their own event: cy's pledge #1
    // moves to 0.2 usd a day, and its first entry still says 0.1.
    let mut site = site;
    site.advance(
        60,
        &[],
        vec![(
            CY,
            Operation::ChangePledge {
                pledge: pledgeroll_contracts::PledgeId(1),
                tier: TierId(1),
                amount: Some(200_000),
            },
        )],
    )
    .await;
    let (_, _, body) = site.get(&format!("/creators/{ada}/feed.atom")).await;
    let feed: atom_syndication::Feed = body.parse().expect("valid Atom");
    let titles: Vec<&str> = feed.entries.iter().map(|e| e.title.as_str()).collect();
    assert!(
        titles.contains(&"New pledge #1: 0.1 usd per day"),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"Pledge #1 changed to 0.2 usd per day"),
        "{titles:?}"
    );
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

impl Site {
    /// A person of the scenario beyond its six, from `seed`: their index
    /// into `Scenario::keys`.
    fn newcomer(&mut self, seed: u8) -> usize {
        self.s
            .keys
            .push(SecretKey::from_bytes(Curve::Ed25519, [seed; 32]).expect("valid key"));
        self.s.keys.len() - 1
    }

    /// Applies one more level of the scenario to the mirror the directory
    /// is serving, as the indexer would.
    async fn advance(
        &mut self,
        dt: i64,
        deposits: &[(usize, (&str, &str), u64)],
        ops: Vec<(usize, Operation)>,
    ) {
        let from = self.s.script.levels.len();
        self.s.level(dt, deposits, ops);
        let mirror = self.db.mirror().await;
        mirror
            .apply(&self.s.script.levels[from..], 0)
            .await
            .expect("the new level applies");
        mirror.db().close().await;
        // The directory reads where the mirror is at most this often.
        tokio::time::sleep(
            pledgeroll_directory::cache::LEVEL_CHECK_INTERVAL
                + std::time::Duration::from_millis(100),
        )
        .await;
    }

    /// GET `path` with `headers`: the status, the answer's headers and its
    /// body.
    async fn get_with(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut request = self.client.get(format!("{}{path}", self.directory.url()));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let r = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.text().await.expect("body"))
    }
}

/// A header's value as text, empty when absent.
fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn answers_carry_validators_and_an_etag_asked_again_is_not_modified(backend: Backend) {
    let site = Site::start(backend).await;
    let ada = site.addr(ADA);
    let bob = site.addr(BOB);
    for path in [
        format!("/creators/{ada}"),
        "/creators?sort=income".to_owned(),
        format!("/ledger.csv?account={bob}"),
        "/feed.atom".to_owned(),
        format!("/api/v1/creators/{ada}"),
        "/api/v1/creators?sort=income&limit=2".to_owned(),
    ] {
        let (status, first, body) = site.get_with(&path, &[]).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        let etag = header(&first, "etag").to_owned();
        assert!(
            etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'),
            "GET {path}: a strong ETag, got {etag:?}"
        );
        assert_eq!(
            header(&first, "cache-control"),
            "public, max-age=5",
            "GET {path}"
        );
        let modified = header(&first, "last-modified");
        assert!(
            chrono::DateTime::parse_from_rfc2822(modified).is_ok() && modified.ends_with(" GMT"),
            "GET {path}: Last-Modified is an HTTP date, got {modified:?}"
        );
        assert_eq!(header(&first, "x-content-type-options"), "nosniff");

        let (status, again, rest) = site.get_with(&path, &[("if-none-match", &etag)]).await;
        assert_eq!(status, 304, "GET {path} with its ETag: {rest}");
        assert!(rest.is_empty(), "a 304 has no body: {rest}");
        assert_eq!(header(&again, "etag"), etag);
        assert_eq!(header(&again, "cache-control"), "public, max-age=5");
        assert_eq!(header(&again, "last-modified"), modified);

        let (status, _, same) = site
            .get_with(&path, &[("if-none-match", "\"another\", W/\"tag\"")])
            .await;
        assert_eq!(status, 200, "GET {path} with other tags");
        assert_eq!(same, body, "the kept answer is the answer");
    }

    // The API's answers keep their CORS header, kept or not modified.
    for asked in [vec![], vec![("if-none-match", "*")]] {
        let mut headers = vec![("origin", "https://elsewhere.example")];
        headers.extend(asked);
        let (_, answer, _) = site
            .get_with(&format!("/api/v1/creators/{ada}"), &headers)
            .await;
        assert_eq!(header(&answer, "access-control-allow-origin"), "*");
    }

    // A HEAD carries the GET's validators and no body.
    let page = format!("/creators/{ada}");
    let (_, got, _) = site.get_with(&page, &[]).await;
    let head = site
        .client
        .head(format!("{}{page}", site.directory.url()))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(header(head.headers(), "etag"), header(&got, "etag"));
    assert!(head.text().await.expect("body").is_empty());

    // Pages keep their Content-Security-Policy when answered from the cache.
    let (_, kept, _) = site.get_with(&page, &[]).await;
    assert!(header(&kept, "content-security-policy").contains("script-src 'self'"));

    // Errors are neither kept nor validated.
    let (status, missing, _) = site
        .get_with("/creators/tz1Ke2h7sDdakHJQh8WX4Z372du1KChsksyU", &[])
        .await;
    assert_eq!(status, 404);
    assert!(missing.get("etag").is_none() && missing.get("last-modified").is_none());
    let (status, bad, _) = site.get_with("/api/v1/creators?limit=0", &[]).await;
    assert_eq!(status, 400);
    assert!(bad.get("etag").is_none());

    // The stylesheet and scripts: validators, and longer to keep.
    for path in ["/static/style.css", "/static/wallet.js"] {
        let (status, first, _) = site.get_with(path, &[]).await;
        assert_eq!(status, 200);
        assert_eq!(header(&first, "cache-control"), "public, max-age=3600");
        let etag = header(&first, "etag").to_owned();
        assert!(etag.starts_with('"'), "{path}: {etag:?}");
        let (status, _, body) = site.get_with(path, &[("if-none-match", &etag)]).await;
        assert_eq!((status, body.as_str()), (304, ""), "{path}");
    }
    site.stop().await;
}

async fn a_new_level_drops_the_kept_answers(backend: Backend) {
    let mut site = Site::start(backend).await;
    let grace = site.addr(GRACE);
    let page = format!("/creators/{grace}");
    let before = site.page(&page).await;
    assert!(
        before.contains("indexed level 6") && !before.contains("Compilers club"),
        "{before}"
    );
    let (_, first, _) = site.get_with(&page, &[]).await;
    let etag = header(&first, "etag").to_owned();
    let api = format!("/api/v1/creators/{grace}");
    assert_eq!(
        site.json(&api).await["tiers"].as_array().map(Vec::len),
        Some(0)
    );
    let totals = site.json("/api/v1/totals").await;
    assert_eq!(totals["level"], 6);

    site.advance(
        60,
        &[],
        vec![(
            GRACE,
            tier("Compilers club", TEZ, 2_000_000, 2_592_000, None),
        )],
    )
    .await;
    site.advance(60, &[], vec![(BOB, pledge(3))]).await;
    tokio::time::sleep(
        pledgeroll_directory::cache::LEVEL_CHECK_INTERVAL + std::time::Duration::from_millis(100),
    )
    .await;

    let (status, now, after) = site.get_with(&page, &[("if-none-match", &etag)]).await;
    assert_eq!(status, 200, "the page changed with the level: {after}");
    assert_ne!(header(&now, "etag"), etag);
    assert!(
        after.contains("indexed level 8") && after.contains("Compilers club"),
        "{after}"
    );
    assert!(after.contains("1 active patron"), "{after}");
    let v = site.json(&api).await;
    assert_eq!(v["tiers"][0]["title"], "Compilers club");
    assert_eq!(v["creator"]["active_patrons"], 1);
    assert_eq!(site.json("/api/v1/totals").await["level"], 8);
    let by_income = site.json("/api/v1/creators?sort=income").await;
    let incomes: Vec<(String, i64)> = by_income["creators"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_owned(),
                c["income"].as_i64().expect("income"),
            )
        })
        .collect();
    assert_eq!(
        incomes[1],
        ("Grace Hopper".to_owned(), 2_000_000),
        "now second by income, after ada: {incomes:?}"
    );
    site.stop().await;
}

/// Every creator, as the income sort ordered them before it read the
/// index: the reference the paginated walk is checked against.
async fn income_order_by_scanning(site: &Site, asset: i64, pattern: &str) -> Vec<(i64, String)> {
    use pledgeroll_directory::store::{CreatorSummary, Param};
    let store = Store::open(&site.db.config.url, site.db.config.schema.as_deref())
        .await
        .expect("opens");
    let rows: Vec<CreatorSummary> = store
        .all(
            "SELECT c.address, c.name, c.description, c.paused, c.patrons, c.active_patrons, \
             c.created_level, CAST(COALESCE(b.monthly_in_units, 0) AS BIGINT) AS income \
             FROM creators c LEFT JOIN balances b ON b.holder = c.address AND b.asset_id = $1 \
             WHERE c.name_lower LIKE $2 ORDER BY COALESCE(b.monthly_in_units, 0) DESC, c.address",
            &[Param::Int(asset), Param::Text(pattern.to_owned())],
        )
        .await
        .expect("reads");
    store.close().await;
    rows.into_iter().map(|c| (c.income, c.address)).collect()
}

/// Follows `next` from the first page of `/api/v1/creators?{query}` to the
/// last: every creator listed, in order.
async fn walk_creators(site: &Site, query: &str) -> Vec<(i64, String)> {
    let mut seen = Vec::new();
    let mut path = format!("/api/v1/creators?{query}");
    for _ in 0..100 {
        let page = site.json(&path).await;
        for c in page["creators"].as_array().expect("list") {
            seen.push((
                c["income"].as_i64().expect("income"),
                c["address"].as_str().expect("address").to_owned(),
            ));
        }
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/creators?{query}&after={next}"),
            None => return seen,
        }
    }
    panic!("no last page after 100 pages of {query}");
}

async fn income_sort_pages_visit_every_creator_once_in_order(backend: Backend) {
    let mut site = Site::start(backend).await;
    // Five more creators: two earning more than ada, one earning as much
    // as the hostile name's creator, one with a tier nobody took and one
    // with a profile alone; grace has a balance but no income.
    let extra: Vec<usize> = (31..36).map(|seed| site.newcomer(seed)).collect();
    let patrons: Vec<usize> = (41..44).map(|seed| site.newcomer(seed)).collect();
    let mut ops = Vec::new();
    for (n, who) in extra.iter().enumerate() {
        ops.push((*who, profile(&format!("Extra {n}"), "more", &[])));
    }
    ops.push((extra[0], tier("Three", TEZ, 3_000_000, 2_592_000, None)));
    ops.push((extra[1], tier("One", TEZ, 1_000_000, 2_592_000, None)));
    ops.push((extra[2], tier("Three too", TEZ, 3_000_000, 2_592_000, None)));
    ops.push((extra[3], tier("Untaken", TEZ, 9_000_000, 2_592_000, None)));
    let deposits: Vec<_> = patrons
        .iter()
        .map(|p| (*p, TEZ_TICKETER, 100_000_000))
        .collect();
    site.advance(60, &deposits, ops).await;
    site.advance(
        60,
        &[],
        vec![
            (patrons[0], pledge(3)),
            (patrons[2], pledge(3)),
            (patrons[1], pledge(4)),
            (patrons[1], pledge(5)),
        ],
    )
    .await;
    tokio::time::sleep(
        pledgeroll_directory::cache::LEVEL_CHECK_INTERVAL + std::time::Duration::from_millis(100),
    )
    .await;

    let everyone = income_order_by_scanning(&site, 0, "%").await;
    assert_eq!(everyone.len(), 8, "{everyone:?}");
    let incomes: Vec<i64> = everyone.iter().map(|(income, _)| *income).collect();
    assert_eq!(
        incomes,
        vec![6_000_000, 5_000_000, 3_000_000, 1_000_000, 1_000_000, 0, 0, 0],
        "two tied at 1 tez and three earning nothing: {everyone:?}"
    );
    for limit in [1, 2, 3, 7, 100] {
        let walked = walk_creators(&site, &format!("sort=income&asset=0&limit={limit}")).await;
        assert_eq!(walked, everyone, "pages of {limit}");
    }
    // In the other asset only ada earns; everyone else follows by address.
    let usd = income_order_by_scanning(&site, 1, "%").await;
    assert_eq!(usd[0].1, site.addr(ADA));
    assert!(usd[1..].iter().all(|(income, _)| *income == 0));
    assert_eq!(
        walk_creators(&site, "sort=income&asset=1&limit=2").await,
        usd
    );
    // A search walks the same order over the creators it matches.
    let matching = income_order_by_scanning(&site, 0, "%r%").await;
    assert_eq!(matching.len(), 7, "all but Ada Lovelace: {matching:?}");
    assert_eq!(
        walk_creators(&site, "sort=income&asset=0&limit=2&q=R").await,
        matching
    );
    // The pages follow the same cursors.
    let first = site.page("/creators?sort=income&limit=2").await;
    assert!(
        first.contains(&format!("after={}.{}", everyone[1].0, everyone[1].1)),
        "{first}"
    );
    site.stop().await;
}

on_both!(answers_carry_validators_and_an_etag_asked_again_is_not_modified: sqlite_answers_carry_validators_and_an_etag_asked_again_is_not_modified, postgres_answers_carry_validators_and_an_etag_asked_again_is_not_modified);
on_both!(a_new_level_drops_the_kept_answers: sqlite_a_new_level_drops_the_kept_answers, postgres_a_new_level_drops_the_kept_answers);
on_both!(income_sort_pages_visit_every_creator_once_in_order: sqlite_income_sort_pages_visit_every_creator_once_in_order, postgres_income_sort_pages_visit_every_creator_once_in_order);

/// A creator's income by day runs to the indexed level's day, streams
/// included on days nothing settled them.
async fn income_exports_by_day(backend: Backend) {
    let site = Site::start(backend).await;
    let ada = site.addr(ADA);
    let (status, kind, body) = site.get(&format!("/creators/{ada}/income.csv")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(kind, "text/csv; charset=utf-8");
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some(
            "date,asset_id,asset,streamed_in,tips_in,transfers_in,payouts_in,funding_in,\
             refunds_in,income,monthly_income"
        )
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let about = site.json("/api/v1/about").await;
    let head_time = about["head"]["level_time"].as_i64().expect("a head time");
    let day = |d: i64| pledgeroll_contracts::units::format_date(d);
    let today = head_time.div_euclid(86_400);
    let tez: Vec<&Vec<&str>> = rows.iter().filter(|r| r[1] == "0").collect();
    assert_eq!(
        tez.last().map(|r| r[0].to_owned()),
        Some(day(today)),
        "{body}"
    );
    // Yesterday only bob streamed (5 tez a month): nothing settled it.
    let yesterday = tez
        .iter()
        .find(|r| r[0] == day(today - 1))
        .unwrap_or_else(|| panic!("no row for yesterday: {body}"));
    assert_eq!(yesterday[3], "0.166666", "{body}");
    assert_eq!(yesterday[9], "0.166666", "{body}");
    // The tip is income on its day.
    assert!(tez.iter().any(|r| r[4] == "1"), "{body}");
    let (status, _, _) = site.get("/creators/tz1nobody/income.csv").await;
    assert_eq!(status, 400);
    let (status, _, _) = site
        .get("/creators/tz1Ke2h7sDdakHJQh8WX4Z372du1KChsksyU/income.csv")
        .await;
    assert_eq!(status, 404);
    site.stop().await;
}
on_both!(income_exports_by_day: sqlite_income_exports_by_day, postgres_income_exports_by_day);

/// An account's alerts, in words, from the API and its Atom feed.
async fn accounts_read_their_alerts(backend: Backend) {
    let site = Site::start(backend).await;
    let (ada, bob, cy, dry) = (
        site.addr(ADA),
        site.addr(BOB),
        site.addr(CY),
        site.addr(DRY),
    );
    let page = site.json(&format!("/api/v1/accounts/{ada}/alerts")).await;
    let kinds: Vec<&str> = page["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|a| a["kind"].as_str().expect("kind"))
        .collect();
    // Newest first: the second invoice, the dry patron, the first invoice
    // approved (by ada) and raised (by cy), then the tip and the pledges.
    assert_eq!(
        kinds,
        vec![
            "invoice_raised",
            "patron_ran_dry",
            "invoice_approved",
            "invoice_raised",
            "tip_received",
            "pledge_started",
            "pledge_started",
            "pledge_started",
        ],
        "{page}"
    );
    let alerts = page["alerts"].as_array().expect("alerts");
    let tip = &alerts[4];
    assert_eq!(tip["counterparty"], bob.as_str());
    assert_eq!(tip["amount"], "1000000");
    assert_eq!(
        tip["title"].as_str().expect("title"),
        format!("Tip from {}…{}: 1 tez", &bob[..8], &bob[bob.len() - 4..])
    );
    let dry_alert = &alerts[1];
    assert_eq!(dry_alert["counterparty"], dry.as_str());
    assert!(
        dry_alert["text"]
            .as_str()
            .expect("text")
            .contains("(5 tez per month) stopped streaming"),
        "{dry_alert}"
    );
    assert_eq!(alerts[0]["link"], "/projects/0");
    // The dry patron hears that their pledge stopped; the beneficiary that
    // the invoice paid.
    let theirs = site.json(&format!("/api/v1/accounts/{dry}/alerts")).await;
    assert_eq!(theirs["alerts"][0]["kind"], "pledge_ran_dry", "{theirs}");
    let cys = site.json(&format!("/api/v1/accounts/{cy}/alerts")).await;
    assert!(
        cys["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .any(|a| a["kind"] == "invoice_paid" && a["amount"] == "3000000"),
        "{cys}"
    );
    // Pages of two walk the same alerts.
    let mut walked = Vec::new();
    let mut path = format!("/api/v1/accounts/{ada}/alerts?limit=2");
    loop {
        let page = site.json(&path).await;
        walked.extend(
            page["alerts"]
                .as_array()
                .expect("alerts")
                .iter()
                .map(|a| a["id"].as_str().expect("id").to_owned()),
        );
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/accounts/{ada}/alerts?limit=2&before={next}"),
            None => break,
        }
    }
    let all: Vec<String> = alerts
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(walked, all);
    // The Atom feed says the same.
    let (status, kind, body) = site.get(&format!("/accounts/{ada}/feed.atom")).await;
    assert_eq!(status, 200);
    assert_eq!(kind, "application/atom+xml; charset=utf-8");
    let feed: atom_syndication::Feed = body.parse().expect("valid Atom");
    assert_eq!(feed.entries.len(), all.len());
    assert!(feed
        .entries
        .iter()
        .all(|e| e.id.starts_with("urn:pledgeroll:alert:")));
    assert!(feed
        .entries
        .iter()
        .any(|e| e.title.as_str().starts_with("Tip from ")));
    let (status, _, _) = site.get("/accounts/ada/feed.atom").await;
    assert_eq!(status, 400);
    site.stop().await;
}
on_both!(accounts_read_their_alerts: sqlite_accounts_read_their_alerts, postgres_accounts_read_their_alerts);
