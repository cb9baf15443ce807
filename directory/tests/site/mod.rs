//! The scenario the directory's tests run on and `Site`, the directory
//! serving it: a mirror seeded by a scripted scenario (the protocol over a
//! memory store, applied through the indexer's own apply path), on SQLite
//! or on Postgres (`DATABASE_URL`), served on 127.0.0.1. Each test file
//! uses only part of it.

#![allow(dead_code)]

use std::net::SocketAddr;

use crate::common::chain::{Script, ROLLUP};
use crate::common::TestDb;
use pledgeroll_contracts::asset::Ticket;
use pledgeroll_contracts::crypto::{Contract, Curve};
use pledgeroll_contracts::encoding::List;
use pledgeroll_contracts::escrow::{Mode, ProjectOperation};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::state::Profile;
use pledgeroll_contracts::{Address, AssetId, Holder, Operation, ProjectId, TierId};
use pledgeroll_directory::{serve, RunningDirectory};
use pledgeroll_indexer::Backend;
use serde_json::Value;

pub const DAY: i64 = pledgeroll_contracts::units::DAY as i64;
pub const TEZ: AssetId = AssetId(0);
pub const USD: AssetId = AssetId(1);
pub const XSS_NAME: &str = "<script>alert(1)</script>";
pub const XSS_DESCRIPTION: &str = "<b>bold</b> & <img src=x onerror=alert(2)>";
/// A link the protocol accepts that would break out of a single-quoted
/// attribute.
pub const XSS_LINK: &str = "https://example.org/?q='onmouseover='alert(3)";

use pledgeroll_contracts::fixtures::text;

/// The ticket of `ticketer`, declaring its unit as `unit` (`tez:6`).
pub fn ticket((ticketer, unit): (&str, &str)) -> Ticket {
    Ticket {
        ticketer: ticketer.parse::<Contract>().expect("KT1"),
        token_id: 0,
        metadata: Some(unit.as_bytes().to_vec()),
    }
}

/// The people of the scenario, by index into `Scenario::keys`.
pub const ADA: usize = 0;
pub const BOB: usize = 1;
pub const CY: usize = 2;
pub const XSS: usize = 3;
pub const DRY: usize = 4;
pub const GRACE: usize = 5;

/// The scenario's people and the levels they made.
pub struct Scenario {
    pub keys: Vec<SecretKey>,
    pub script: Script,
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

    pub fn addr(&self, who: usize) -> Address {
        self.keys[who].public_key().address()
    }

    /// One level `dt` seconds after the last: deposits, then operations,
    /// each of which must apply.
    pub fn level(
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

pub const TEZ_TICKETER: (&str, &str) = ("KT1NJGvnrPNugeem2gLeZ2ukhakXehR85W5g", "tez:6");
pub const USD_TICKETER: (&str, &str) = ("KT1U52yeUwy8kHzFcQm8yLMiqrzyDg3Pswif", "usd:6");

pub fn profile(name: &str, description: &str, links: &[&str]) -> Operation {
    Operation::SetProfile {
        profile: Profile {
            name: text(name),
            description: text(description),
            links: List::new(links.iter().map(|l| text(l)).collect()).expect("short"),
        },
    }
}

pub use pledgeroll_contracts::fixtures::tier_of as tier;

pub fn pledge(tier: u64) -> Operation {
    pledgeroll_contracts::fixtures::pledge(TierId(tier))
}

pub fn project(op: ProjectOperation) -> Operation {
    Operation::Project { op }
}

/// The scenario: three creators (one with a hostile name), patrons on
/// both assets, a patron who runs dry, a tip, and a 2-of-2 project with a
/// ticket, a paid invoice and an open one still time-locked.
pub fn scenario() -> Scenario {
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

pub struct Site {
    pub directory: RunningDirectory,
    pub client: reqwest::Client,
    pub s: Scenario,
    pub db: TestDb,
}

impl Site {
    pub async fn start(backend: Backend) -> Self {
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

    pub fn addr(&self, who: usize) -> String {
        self.s.addr(who).to_string()
    }

    pub async fn get(&self, path: &str) -> (u16, String, String) {
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

    pub async fn page(&self, path: &str) -> String {
        let (status, kind, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        assert!(kind.starts_with("text/html"), "GET {path}: {kind}");
        body
    }

    pub async fn json(&self, path: &str) -> Value {
        let (status, kind, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        assert!(kind.starts_with("application/json"), "GET {path}: {kind}");
        serde_json::from_str(&body).expect("JSON")
    }

    pub async fn stop(self) {
        self.directory.stop().await.expect("stops");
    }
}

impl Site {
    /// A person of the scenario beyond its six, from `seed`: their index
    /// into `Scenario::keys`.
    pub fn newcomer(&mut self, seed: u8) -> usize {
        self.s
            .keys
            .push(SecretKey::from_bytes(Curve::Ed25519, [seed; 32]).expect("valid key"));
        self.s.keys.len() - 1
    }

    /// Applies one more level of the scenario to the mirror the directory
    /// is serving, as the indexer would.
    pub async fn advance(
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
    pub async fn get_with(
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
