//! `pledgeroll-sandbox up --demo` as a person runs it: the binary starts
//! the stack on free ports, prints where everything is, fills in the demo,
//! and the directory at the printed URL shows the demo's creators and its
//! waiting invoice; SIGINT stops it with status 0, and a second `up` on the
//! same data directory resumes without running the demo again; an
//! operation no mirror could store (a NUL in a profile name) is refused and
//! the mirror goes on, and restarts. Once on the
//! default SQLite mirror, once on Postgres (`DATABASE_URL`, default the
//! local server's `test` database) in a schema of its own.

#![allow(clippy::indexing_slicing, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const WAIT: Duration = Duration::from_secs(180);

/// A running `up` and the lines it has printed.
struct Up {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Up {
    fn start(data_dir: &Path, extra: &[&str]) -> Up {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pledgeroll-sandbox"))
            .args(["up", "--demo", "--native", "--block-time", "0.2"])
            .args([
                "--rpc-addr",
                "127.0.0.1:0",
                "--directory-addr",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start pledgeroll-sandbox up: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Up {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a printed line containing `text`; returns it.
    fn line(&mut self, text: &str) -> String {
        let started = Instant::now();
        if let Some(line) = self.seen.iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        loop {
            let left = WAIT.saturating_sub(started.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "`up` never printed {text:?}; it printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The URL printed on the line starting with `label`.
    fn url(&mut self, label: &str) -> String {
        let line = self.line(label);
        line.split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_owned()
    }

    /// Sends SIGINT, as Ctrl-C does, and expects a clean exit.
    fn interrupt(mut self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "`up` exited with {status} on Ctrl-C");
                return;
            }
            assert!(
                started.elapsed() < WAIT,
                "`up` did not stop on Ctrl-C; it printed:\n{}",
                self.seen.join("\n")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET url`, expecting `200 OK`; returns the body.
async fn get_text(url: &str) -> String {
    let response = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    response
        .text()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// `GET url`, expecting `200 OK` and JSON.
async fn get_json(url: &str) -> Value {
    let body = get_text(url).await;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: {e}: {body}"))
}

const DEMO_CREATORS: [&str; 3] = ["Mira Okafor", "Tarmac Collective", "Ines Duarte"];

/// What the directory at `directory` must show after the demo.
async fn shows_the_demo(directory: &str) {
    let creators = get_json(&format!("{directory}/api/v1/creators")).await;
    let mut names: Vec<&str> = creators["creators"]
        .as_array()
        .expect("creators")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    names.sort_unstable();
    let mut expected = DEMO_CREATORS.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected);
    let home = get_text(&format!("{directory}/")).await;
    for name in DEMO_CREATORS {
        assert!(home.contains(name), "the home page shows {name}");
    }
    let project = get_json(&format!("{directory}/api/v1/projects/0")).await;
    let statuses: Vec<&str> = project["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .filter_map(|i| i["status"].as_str())
        .collect();
    assert!(statuses.contains(&"paid"), "one invoice is paid: {project}");
    assert!(
        statuses.contains(&"open"),
        "one invoice waits on its time-lock: {project}"
    );
    let ledger = get_json(&format!("{directory}/api/v1/ledger?kind=stream&limit=10")).await;
    assert!(
        !ledger["movements"]
            .as_array()
            .expect("movements")
            .is_empty(),
        "a month of pledges streamed"
    );
    // Sam (3 tez at 5 tez a month) is warned a week and a day before he
    // runs dry on day 18, then told his pledge stopped.
    let sam = pledgeroll_devstack::demo::PATRONS
        .iter()
        .find(|p| p.name == "Sam")
        .expect("Sam")
        .address();
    let alerts = get_json(&format!("{directory}/api/v1/accounts/{sam}/alerts")).await;
    let alerts: Vec<(&str, i64)> = alerts["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .rev()
        .map(|a| {
            (
                a["kind"].as_str().expect("kind"),
                a["happened_at"].as_i64().expect("time"),
            )
        })
        .collect();
    let kinds: Vec<&str> = alerts.iter().map(|a| a.0).collect();
    assert_eq!(
        kinds,
        vec!["runway_low", "runway_low", "pledge_ran_dry"],
        "{alerts:?}"
    );
    let dry = alerts[2].1;
    let (week, day) = (dry - alerts[0].1, dry - alerts[1].1);
    assert!((6 * 86_400..=8 * 86_400).contains(&week), "{alerts:?}");
    assert!((0..=2 * 86_400).contains(&day), "{alerts:?}");
}

/// A profile whose name holds a NUL byte (which PostgreSQL refuses in
/// text) is refused by the protocol with a receipt naming the field, and
/// the mirror goes on past its level.
async fn a_nul_profile_is_refused_and_the_mirror_goes_on(node: &str, directory: &str) {
    use pledgeroll_client::{Wallet, WalletError};
    use pledgeroll_contracts::crypto::Curve;
    use pledgeroll_contracts::encoding::Text;
    use pledgeroll_contracts::signing::SecretKey;
    use pledgeroll_contracts::state::Profile;
    use pledgeroll_contracts::Operation;

    let wallet = Wallet::connect(node, Default::default())
        .await
        .expect("the wallet connects");
    let key = SecretKey::from_bytes(Curve::Ed25519, [0x4e; 32]).expect("a key");
    let profile = Operation::SetProfile {
        profile: Profile {
            name: Text::new("Nul\0Name").expect("short"),
            description: Text::new("").expect("short"),
            links: Default::default(),
        },
    };
    match wallet.send(&key, profile, true).await {
        Err(WalletError::Refused(reason)) => assert!(
            reason.contains("profile name holds the control character U+0000"),
            "{reason}"
        ),
        other => panic!("a NUL profile was not refused: {other:?}"),
    }
    let refused_at = wallet.clock().await.expect("the clock").level;
    let started = Instant::now();
    loop {
        let about = get_json(&format!("{directory}/api/v1/about")).await;
        if about["head"]["level"]
            .as_u64()
            .is_some_and(|l| l >= u64::from(refused_at))
        {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "the mirror stopped before level {refused_at}: {about}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn up_demo_then_resume(extra: &[&str]) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data_dir = dir.path().join("stack");

    let mut up = Up::start(&data_dir, extra);
    let node = up.url("rollup node");
    let directory = up.url("directory");
    up.line("(new)");
    up.line("bootstrap1  tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx");
    up.line("The demo is ready");
    shows_the_demo(&directory).await;
    a_nul_profile_is_refused_and_the_mirror_goes_on(&node, &directory).await;
    let head: Value = get_json(&format!("{node}/global/block/head/level")).await;
    let level_before = head.as_u64().expect("a level");
    up.interrupt();

    let mut again = Up::start(&data_dir, extra);
    let node = again.url("rollup node");
    let directory = again.url("directory");
    again.line("(resumed)");
    again.line("The demo is already on this rollup");
    let head: Value = get_json(&format!("{node}/global/block/head/level")).await;
    assert!(
        head.as_u64().expect("a level") >= level_before,
        "the rollup resumed where it stopped"
    );
    shows_the_demo(&directory).await;
    again.interrupt();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_demo_on_sqlite_then_resume() {
    up_demo_then_resume(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_demo_on_postgres_then_resume() {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("up_test_{}", std::process::id());
    up_demo_then_resume(&["--database-url", &url, "--database-schema", &schema]).await;
    pledgeroll_indexer::db::drop_schema(&url, &schema)
        .await
        .expect("the test's schema is dropped");
}

/// A mirror that holds another rollup's blocks is refused with a clear
/// error, and left as it was, instead of being mixed with this one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_of_another_sandbox_is_refused() {
    use pledgeroll_devstack::stack::{self, StackConfig, StackError};
    use pledgeroll_sandbox::KernelSource;

    let dir = tempfile::tempdir().expect("temporary directory");
    let database = format!(
        "sqlite://{}",
        dir.path().join("shared-mirror.sqlite").display()
    );
    let config = |name: &str, genesis: i64| {
        let mut c = StackConfig::local(dir.path().join(name), KernelSource::Native);
        c.database_url = Some(database.clone());
        c.genesis_timestamp = Some(genesis);
        c
    };

    let first = stack::start(config("first", 1_767_225_600))
        .await
        .expect("the first stack starts");
    for _ in 0..3 {
        first
            .sandbox()
            .sandbox()
            .produce_level()
            .await
            .expect("a level");
    }
    let mirrored = first.mirrored(WAIT).await.expect("the mirror catches up");
    first.stop().await.expect("the first stack stops");

    match stack::start(config("second", 1_800_000_000)).await {
        Err(StackError::ForeignMirror { level, .. }) => assert_eq!(level, mirrored),
        Err(e) => panic!("expected a refusal of the foreign mirror, got {e}"),
        Ok(_) => panic!("a mirror of another sandbox was accepted"),
    }

    // The first stack resumes on its mirror, untouched.
    let again = stack::start(config("first", 1_767_225_600))
        .await
        .expect("the first stack resumes");
    assert!(again.resumed());
    again.mirrored(WAIT).await.expect("the mirror follows on");
    again.stop().await.expect("the first stack stops again");
}
