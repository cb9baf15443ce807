//! The `pledgeroll` CLI against a running sandbox (native kernel, levels on
//! a short timer): every subcommand once with good input and once with bad
//! input, `--json` output parsed.

#![allow(clippy::indexing_slicing, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use pledgeroll_sandbox::{start, KernelSource, SandboxConfig};
use serde_json::Value;

const B1: &str = "edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh";
const B2: &str = "edsk39qAm1fiMjgmPkw1EgQYkMzkJezLNewd7PLNHTkr6w9XA2zdfo";
const B3: &str = "edsk4ArLQgBTLWG5FJmnGnT689VKoqhXwmDPBuGx3z4cvwU9MmrPZZ";

struct Cli<'a> {
    home: &'a Path,
    node: String,
}

impl Cli<'_> {
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_pledgeroll"))
            .args([
                "--home",
                self.home.to_str().expect("utf-8"),
                "--node",
                &self.node,
            ])
            .args(args)
            .env("PLEDGEROLL_PASSPHRASE", "a long passphrase")
            .output()
            .expect("runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs with `--json`, asserts success and parses the output.
    fn ok(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let (ok, out, err) = self.run(&all);
        assert!(ok, "{args:?} failed: {err}");
        let last = out.lines().last().unwrap_or_default();
        serde_json::from_str(last)
            .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {out}"))
    }

    /// Runs without `--json`, asserts success and returns what it printed.
    fn text(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args);
        assert!(ok, "{args:?} failed: {err}");
        out
    }

    /// Asserts failure with one clear line containing `needle`.
    fn fails(&self, args: &[&str], needle: &str) {
        let (ok, _, err) = self.run(args);
        assert!(!ok, "{args:?} should fail");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: one line expected: {err}"
        );
        assert!(
            err.contains(needle),
            "{args:?}: expected `{needle}` in: {err}"
        );
    }
}

fn units(v: &Value, asset: &str) -> u128 {
    v["accounts"][0]["balances"]
        .as_array()
        .expect("balances")
        .iter()
        .find(|b| b["asset"] == asset)
        .map_or(0, |b| {
            b["balance"]
                .as_str()
                .expect("string")
                .parse()
                .expect("number")
        })
}

#[test]
fn every_subcommand_works_and_refuses_bad_input() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let data = tempfile::tempdir().expect("temp dir");
    let home = tempfile::tempdir().expect("temp dir");
    let mut config = SandboxConfig::local(data.path().to_owned(), KernelSource::Native);
    config.block_time = Some(Duration::from_millis(200));
    let sandbox = runtime.block_on(start(config)).expect("sandbox starts");
    let cli = Cli {
        home: home.path(),
        node: sandbox.url(),
    };

    // Keys.
    let b1 = cli.ok(&[
        "keys",
        "import",
        "b1",
        &format!("unencrypted:{B1}"),
        "--unencrypted",
    ]);
    assert_eq!(b1["address"], "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx");
    cli.ok(&["keys", "import", "b2", B2, "--unencrypted"]);
    cli.ok(&["keys", "import", "b3", B3]);
    cli.fails(
        &["keys", "import", "bad", "edsk-not-a-key", "--unencrypted"],
        "not valid base58check",
    );
    cli.fails(
        &["keys", "import", "b1", B2, "--unencrypted"],
        "exists already",
    );
    let gen = cli.ok(&["keys", "gen", "fresh", "--curve", "p256"]);
    assert!(gen["address"].as_str().expect("address").starts_with("tz3"));
    cli.fails(&["keys", "gen", "no/slash"], "not a valid key name");
    let list = cli.ok(&["keys", "list"]);
    assert_eq!(list.as_array().expect("list").len(), 4);
    let shown = cli.ok(&["keys", "show", "b3"]);
    assert_eq!(shown["kept"], "encrypted");
    cli.fails(&["keys", "show", "nobody"], "no key named");
    let exported = cli.ok(&["keys", "export", "b3"]);
    assert_eq!(exported["secret_key"], B3);
    let (ok, _, err) = Command::new(env!("CARGO_BIN_EXE_pledgeroll"))
        .args([
            "--home",
            home.path().to_str().expect("utf-8"),
            "keys",
            "export",
            "b3",
        ])
        .env("PLEDGEROLL_PASSPHRASE", "wrong")
        .output()
        .map(|o| {
            (
                o.status.success(),
                (),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .expect("runs");
    assert!(!ok && err.contains("wrong passphrase"), "{err}");
    // An Octez `encrypted:` key imports with its passphrase (vector made
    // as octez-client makes them, checked by Taquito).
    let vectors: Value = serde_json::from_str(include_str!(
        "../../contracts/tests/vectors/octez_encrypted_keys.json"
    ))
    .expect("vectors");
    let vector = &vectors["vectors"][1];
    let import = |passphrase: &str| {
        Command::new(env!("CARGO_BIN_EXE_pledgeroll"))
            .args([
                "--home",
                home.path().to_str().expect("utf-8"),
                "keys",
                "import",
            ])
            .args(["octez-tz2", vector["encrypted"].as_str().expect("a key")])
            .arg("--unencrypted")
            .env("PLEDGEROLL_PASSPHRASE", passphrase)
            .output()
            .expect("runs")
    };
    let refused = import("not it");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not open"));
    let imported = import(vector["passphrase"].as_str().expect("a passphrase"));
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert!(String::from_utf8_lossy(&imported.stdout)
        .contains(vector["address"].as_str().expect("tz2")));
    cli.ok(&["keys", "remove", "octez-tz2"]);
    let backup = cli.ok(&["keys", "backup", "b3", "--shares", "5", "--threshold", "3"]);
    let shares: Vec<String> = backup["shares"]
        .as_array()
        .expect("shares")
        .iter()
        .map(|s| s.as_str().expect("text").to_owned())
        .collect();
    let recovered = cli.ok(&[
        "keys", "recover", "b3-again", "--share", &shares[0], "--share", &shares[2], "--share",
        &shares[4],
    ]);
    assert_eq!(recovered["address"], shown["address"]);
    cli.fails(
        &[
            "keys", "recover", "b3-twice", "--share", &shares[0], "--share", &shares[1],
        ],
        "needs 3 shares",
    );
    cli.ok(&["keys", "remove", "b3-again"]);
    cli.fails(&["keys", "remove", "b3-again"], "no key named");

    // Bootstrap accounts start funded.
    let status = cli.ok(&["status", "b2"]);
    let start_b2 = units(&status, "tez");
    assert!(start_b2 > 0);
    cli.fails(&["status", "tz1NotAnAddress"], "no key named");

    // A deposit prints the layer-1 call and, on a sandbox, makes it.
    let deposit = cli.ok(&["deposit", "2 tez", "--to", "b2"]);
    assert!(deposit["contract"]
        .as_str()
        .expect("sr1")
        .starts_with("sr1"));
    assert_eq!(deposit["entrypoint"], "default");
    assert_eq!(deposit["parameter"]["args"][1]["args"][3]["int"], "2000000");
    assert!(deposit["octez_client"]
        .as_str()
        .expect("a command")
        .contains("(Pair 0 (Some 0x74657a3a36)) 2000000)'"));
    assert!(deposit["level"].is_u64());
    assert!(units(&cli.ok(&["status", "b2"]), "tez") >= start_b2 + 2_000_000);

    // A creator publishes a tier; a patron pledges.
    cli.ok(&[
        "creator",
        "profile",
        "--as",
        "b1",
        "--name",
        "Ada's podcast",
        "--description",
        "weekly episodes",
        "--link",
        "https://example.org",
    ]);
    cli.fails(
        &[
            "creator", "add-tier", "--as", "b3", "--title", "fan", "--price", "5 tez",
        ],
        "no creator profile",
    );
    cli.ok(&[
        "creator",
        "add-tier",
        "--as",
        "b1",
        "--title",
        "fan",
        "--perks",
        "early episodes",
        "--price",
        "5 tez",
        "--period",
        "month",
    ]);
    cli.fails(
        &[
            "creator", "add-tier", "--as", "b1", "--title", "x", "--price", "five tez",
        ],
        "is not an amount",
    );
    let shown = cli.ok(&["creator", "show", "b1"]);
    assert_eq!(shown["name"], "Ada's podcast");
    assert_eq!(shown["tiers"][0]["price"], 5_000_000);
    let shown = cli.text(&["creator", "show", "b1"]);
    assert!(
        shown.contains("\ntier 0: fan — 5 tez/month, 0 live pledges\n"),
        "{shown}"
    );
    cli.fails(&["creator", "show", "b2"], "no creator profile");
    cli.ok(&["pledge", "to", "0", "--as", "b2"]);
    // An end counted from the pledge's start, or a date, stated in words.
    let dry = cli.ok(&[
        "pledge",
        "to",
        "0",
        "--as",
        "b3",
        "--for",
        "10d",
        "--dry-run",
    ]);
    assert!(
        dry["text"]
            .as_str()
            .expect("text")
            .ends_with(", for 10 days from its start"),
        "{dry}"
    );
    let dry = cli.ok(&[
        "pledge",
        "to",
        "0",
        "--as",
        "b3",
        "--until",
        "2027-03-01",
        "--dry-run",
    ]);
    assert!(
        dry["text"]
            .as_str()
            .expect("text")
            .ends_with(", until 2027-03-01T00:00:00Z"),
        "{dry}"
    );
    cli.fails(
        &[
            "pledge",
            "to",
            "0",
            "--as",
            "b3",
            "--until",
            "March",
            "--dry-run",
        ],
        "--until takes a date",
    );
    // A pledge that would run its patron dry within a week is warned about.
    cli.ok(&["keys", "gen", "thin", "--unencrypted"]);
    cli.ok(&["sandbox", "deposit", "1 tez", "--to", "thin"]);
    let (ok, _, err) = cli.run(&["pledge", "to", "0", "--as", "thin", "--dry-run"]);
    assert!(
        ok && err.contains("warning: with this pledge your tez runs out in 6 days"),
        "{err}"
    );
    let (ok, _, err) = cli.run(&["pledge", "to", "0", "--as", "b3", "--dry-run"]);
    assert!(ok && !err.contains("warning"), "{err}");
    cli.fails(&["pledge", "to", "9", "--as", "b2"], "no tier 9");
    let dry = cli.ok(&[
        "pledge",
        "to",
        "0",
        "--as",
        "b3",
        "--amount",
        "6 tez",
        "--dry-run",
    ]);
    let text = dry["text"].as_str().expect("text");
    assert!(
        text.starts_with("Tezos Signed Message: pledgeroll sr1")
            && text.contains(": pledge 6 tez per month to tz1")
            && text.contains("by choice above the tier's price of 5 tez"),
        "{text}"
    );
    let bytes_to_sign = dry["bytes_to_sign"].as_str().expect("hex");
    assert!(
        bytes_to_sign.starts_with("0501"),
        "a packed Michelson string"
    );

    // Signed offline from the bytes, then sent with the unsigned operation.
    let signed = cli.ok(&["sign", "--as", "b3", bytes_to_sign]);
    assert_eq!(signed["text"], text);
    cli.fails(&["sign", "--as", "b3", "zz"], "not hex");
    cli.fails(
        &["sign", "--as", "b3", "050a0000000101"],
        "not a pledgeroll statement",
    );
    let signature = signed["signature"].as_str().expect("a signature");
    let unsigned = dry["unsigned"].as_str().expect("unsigned hex");
    let submit = ["submit", "--unsigned", unsigned, "--signature", signature];
    let submitted = cli.ok(&submit);
    assert!(submitted["level"].is_u64());
    assert!(submitted["pledge"].is_u64(), "{submitted}");
    cli.fails(&submit, "not over this operation's statement at nonce");

    // A watch-only account: the wallet has bootstrap4's public key only.
    // Its operation is printed, signed outside the wallet, and submitted.
    let b4: pledgeroll_contracts::signing::SecretKey =
        pledgeroll_sandbox::accounts::BOOTSTRAP_ACCOUNTS[3]
            .secret_key
            .parse()
            .expect("a key");
    let watched = cli.ok(&["keys", "add-watch", "w4", &b4.public_key().to_string()]);
    assert_eq!(watched["address"], b4.public_key().address().to_string());
    cli.ok(&[
        "keys",
        "add-watch",
        "w4-address",
        &b4.public_key().address().to_string(),
    ]);
    let listed = cli.text(&["keys", "list"]);
    assert!(listed.contains("watch-only"), "{listed}");
    cli.fails(&["tip", "1 tez", "--as", "w4", "--to", "b1"], "watch-only");
    let dry = cli.ok(&["tip", "1 tez", "--as", "w4", "--to", "b1", "--dry-run"]);
    assert!(dry["text"]
        .as_str()
        .expect("text")
        .contains(": tip 1 tez to tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx with the memo \"\""));
    let bytes = hex::decode(dry["bytes_to_sign"].as_str().expect("hex")).expect("hex");
    let signature = b4.sign(&bytes).to_string();
    let unsigned = dry["unsigned"].as_str().expect("unsigned hex");
    let before = units(&cli.ok(&["status", "b1"]), "tez");
    let sent = cli.ok(&["submit", "--unsigned", unsigned, "--signature", &signature]);
    assert!(sent["level"].is_u64());
    assert!(units(&cli.ok(&["status", "b1"]), "tez") >= before + 1_000_000);
    // A signature by another key is refused before anything is sent.
    let forged = pledgeroll_contracts::signing::SecretKey::from_bytes(
        pledgeroll_contracts::crypto::Curve::Ed25519,
        [9; 32],
    )
    .expect("a key")
    .sign(&bytes)
    .to_string();
    cli.fails(
        &["submit", "--unsigned", unsigned, "--signature", &forged],
        "not over this operation's statement",
    );
    // Known by address alone, before the rollup knows its key: nothing to
    // name the signer by, which the dry run says.
    let fresh = pledgeroll_contracts::signing::SecretKey::from_bytes(
        pledgeroll_contracts::crypto::Curve::Ed25519,
        [8; 32],
    )
    .expect("a key");
    cli.ok(&[
        "keys",
        "add-watch",
        "w-fresh",
        &fresh.public_key().address().to_string(),
    ]);
    let dry = cli.ok(&["creator", "pause", "--as", "w-fresh", "--dry-run"]);
    assert!(dry["unsigned"].is_null(), "{dry}");

    // Pledge lifecycle.
    cli.ok(&[
        "creator", "add-tier", "--as", "b1", "--title", "patron", "--price", "10 tez",
    ]);
    cli.ok(&["pledge", "change", "0", "1", "--as", "b2"]);
    cli.fails(
        &["pledge", "change", "0", "1", "--as", "b2"],
        "already at these terms",
    );
    cli.ok(&["pledge", "pause", "0", "--as", "b2"]);
    cli.fails(&["pledge", "pause", "0", "--as", "b2"], "not active");
    cli.ok(&["pledge", "resume", "0", "--as", "b2"]);
    cli.fails(&["pledge", "cancel", "0", "--as", "b3"], "another patron");
    cli.ok(&["pledge", "cancel", "1", "--as", "b3"]);
    cli.ok(&["creator", "retire-tier", "0", "--as", "b1"]);
    cli.fails(&["creator", "retire-tier", "0", "--as", "b1"], "retired");
    cli.ok(&["creator", "pause", "--as", "b1"]);
    cli.fails(&["creator", "pause", "--as", "b1"], "already paused");
    cli.ok(&["creator", "resume", "--as", "b1"]);

    // Time passes: a month of 10 tez reaches the creator.
    let before = units(&cli.ok(&["status", "b1"]), "tez");
    cli.ok(&["sandbox", "advance", "30d"]);
    cli.fails(&["sandbox", "advance", "soon"], "duration");
    let after = units(&cli.ok(&["status", "b1"]), "tez");
    assert!(after >= before + 10_000_000, "{before} -> {after}");
    let status = cli.ok(&["status", "b2"]);
    assert_eq!(status["accounts"][0]["pledges_out"][0]["status"], "active");
    let status = cli.text(&["status", "b2"]);
    assert!(status.contains(": 10 tez/month — active"), "{status}");
    assert!(status.contains(", runs out in "), "{status}");

    // Moving funds.
    cli.ok(&["transfer", "1 tez", "--as", "b1", "--to", "b3"]);
    cli.fails(
        &["transfer", "1 tez", "--as", "b1", "--to", "b1"],
        "same account",
    );
    cli.ok(&[
        "tip",
        "0.5 tez",
        "--as",
        "b3",
        "--to",
        "b1",
        "--memo",
        "great episode",
    ]);
    cli.fails(
        &["tip", "0.5 doubloons", "--as", "b3", "--to", "b1"],
        "no asset named",
    );
    let vault = "KT1NJGvnrPNugeem2gLeZ2ukhakXehR85W5g";
    cli.ok(&["withdraw", "2 tez", "--as", "b1", "--to", vault]);
    cli.fails(
        &["withdraw", "99999999 tez", "--as", "b1", "--to", vault],
        "insufficient balance",
    );
    // To one's own account by default: the tez ticketer (its exchanger)
    // pays it on the simulated layer 1.
    cli.ok(&["withdraw", "1 tez", "--as", "b1"]);
    cli.ok(&["sandbox", "deposit", "3 usd", "--to", "fresh"]);
    cli.fails(
        &["sandbox", "deposit", "3 gold", "--to", "fresh"],
        "no asset `gold`",
    );

    // A public project: b1, b2, b3 commission, 2 of 3.
    cli.ok(&[
        "project",
        "create",
        "--as",
        "b1",
        "--title",
        "Docs rewrite",
        "--link",
        "https://gitlab.com/x/y",
        "--commissioner",
        "b1",
        "--commissioner",
        "b2",
        "--commissioner",
        "b3",
        "--threshold",
        "2",
    ]);
    cli.fails(
        &[
            "project",
            "create",
            "--as",
            "b1",
            "--title",
            "x",
            "--commissioner",
            "b1",
        ],
        "needs --threshold",
    );
    cli.ok(&["project", "fund", "0", "20 tez", "--as", "b2"]);
    cli.fails(
        &["project", "fund", "7", "1 tez", "--as", "b2"],
        "project 7 does not exist",
    );
    cli.ok(&[
        "project", "pledge", "0", "1 tez", "--period", "day", "--as", "b2",
    ]);
    cli.ok(&[
        "project",
        "open-ticket",
        "0",
        "--title",
        "chapter 1",
        "--url",
        "https://gitlab.com/x/y/-/issues/1",
        "--as",
        "b1",
    ]);
    cli.fails(
        &[
            "project",
            "open-ticket",
            "0",
            "--title",
            "t",
            "--as",
            "fresh",
        ],
        "commissioners",
    );
    cli.ok(&["project", "close-ticket", "0", "0", "--as", "b1"]);
    cli.fails(
        &["project", "close-ticket", "0", "0", "--as", "b1"],
        "already closed",
    );
    cli.ok(&[
        "project", "invoice", "0", "0", "5 tez", "--to", "fresh", "--as", "b1",
    ]);
    cli.fails(
        &[
            "project", "invoice", "0", "0", "5000 tez", "--to", "fresh", "--as", "b1",
        ],
        "insufficient balance",
    );
    cli.ok(&["project", "approve", "0", "0", "--as", "b3"]);
    cli.fails(&["project", "approve", "0", "0", "--as", "b2"], "not open");
    cli.ok(&[
        "project", "invoice", "0", "0", "4 tez", "--to", "fresh", "--as", "b1",
    ]);
    cli.ok(&["project", "veto", "0", "1", "--as", "b2"]);
    cli.fails(
        &["project", "veto", "0", "1", "--as", "b1"],
        "another commissioner",
    );
    cli.ok(&["project", "withdraw-invoice", "0", "1", "--as", "b1"]);
    cli.fails(
        &["project", "withdraw-invoice", "0", "1", "--as", "b1"],
        "not open",
    );
    let project = cli.ok(&["project", "show", "0"]);
    assert_eq!(project["invoices"][0]["status"], "paid");
    assert_eq!(project["invoices"][1]["status"], "withdrawn");
    cli.fails(&["project", "show", "42"], "no project 42");
    cli.fails(
        &["project", "reclaim", "0", "--as", "b2"],
        "commissioners' approval",
    );
    cli.ok(&["project", "refund", "0", "--as", "b1"]);
    cli.fails(
        &["project", "refund", "0", "--as", "b1"],
        "already approved",
    );
    cli.ok(&["project", "refund", "0", "--as", "b2"]);
    cli.ok(&["project", "reclaim", "0", "--as", "b2"]);
    cli.fails(
        &["project", "reclaim", "0", "--as", "b2"],
        "already reclaimed",
    );
    let fresh = cli.ok(&["status", "fresh"]);
    assert_eq!(units(&fresh, "tez"), 5_000_000);
    assert_eq!(units(&fresh, "usd"), 3_000_000);

    runtime.block_on(sandbox.stop()).expect("stops");
}

#[test]
fn an_unreachable_node_is_one_clear_line() {
    let home = tempfile::tempdir().expect("temp dir");
    let cli = Cli {
        home: home.path(),
        node: "http://127.0.0.1:9".into(),
    };
    cli.fails(&["status"], "cannot reach the rollup node");
}

/// What a stand-in directory saw of one alerts request: its action, and
/// whether the signature was the account's over the words the directory
/// makes itself.
type Checked = std::sync::Arc<std::sync::Mutex<Vec<(String, bool)>>>;

/// A stand-in directory on 127.0.0.1 that checks alerts requests the way
/// the directory does (`alerts_statement` over its own URL) and answers in
/// its shape.
async fn stand_in_directory() -> (String, Checked) {
    use axum::routing::post;
    use pledgeroll_contracts::crypto::{PublicKey, Signature};
    use pledgeroll_contracts::off_rollup::{alerts_statement, AlertChannel, AlertsRequest};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let checked: Checked = Checked::default();
    let (seen, here) = (checked.clone(), url.clone());
    let app = axum::Router::new().route(
        "/api/v1/alerts/subscriptions",
        post(move |axum::Json(ask): axum::Json<Value>| {
            let (seen, here) = (seen.clone(), here.clone());
            async move {
                let key: PublicKey = ask["public_key"]
                    .as_str()
                    .unwrap_or_default()
                    .parse()
                    .expect("a key");
                let signature: Signature = ask["signature"]
                    .as_str()
                    .unwrap_or_default()
                    .parse()
                    .expect("a signature");
                let action = ask["action"].as_str().unwrap_or_default().to_owned();
                let request = match action.as_str() {
                    "subscribe" => AlertsRequest::Subscribe {
                        channel: AlertChannel::Webhook {
                            url: ask["webhook"].as_str().unwrap_or_default().to_owned(),
                        },
                        kinds: serde_json::from_value(ask["kinds"].clone()).unwrap_or_default(),
                        runway_days: 7,
                    },
                    "stop" => AlertsRequest::Unsubscribe {
                        subscription: ask["subscription"].as_u64().unwrap_or_default(),
                    },
                    _ => AlertsRequest::List,
                };
                let words = alerts_statement(
                    &here,
                    &key.address(),
                    &request,
                    ask["signed_at"].as_i64().unwrap_or_default(),
                );
                let good = key.verify(&words.bytes(), &signature)
                    && (action != "subscribe"
                        || ask["secret"].as_str().is_some_and(|s| s.len() >= 16));
                seen.lock().expect("lock").push((action, good));
                axum::Json(serde_json::json!({ "subscriptions": [{
                    "subscription": 3, "account": key.address().to_string(), "channel": "webhook",
                    "target": ask["webhook"], "from_level": 9, "stopped_at": null, "deliveries": []
                }] }))
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, checked)
}

#[test]
fn alerts_requests_are_the_accounts_signed_words() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let home = tempfile::tempdir().expect("temp dir");
    let (directory, checked) = runtime.block_on(stand_in_directory());
    let cli = Cli {
        home: home.path(),
        node: "http://127.0.0.1:9".to_owned(),
    };
    cli.ok(&[
        "keys",
        "import",
        "b1",
        &format!("unencrypted:{B1}"),
        "--unencrypted",
    ]);
    let made = cli.ok(&[
        "alerts",
        "add",
        "--as",
        "b1",
        "--directory",
        &directory,
        "--webhook",
        "https://hooks.example/p",
        "--kind",
        "tip_received",
    ]);
    assert_eq!(made["subscription"]["subscription"], 3);
    assert_eq!(made["secret"].as_str().map(str::len), Some(32), "{made}");
    let listed = cli.text(&["alerts", "list", "--as", "b1", "--directory", &directory]);
    assert!(listed.contains("subscription 3: webhook to"), "{listed}");
    cli.ok(&[
        "alerts",
        "remove",
        "3",
        "--as",
        "b1",
        "--directory",
        &directory,
    ]);
    assert_eq!(
        *checked.lock().expect("lock"),
        vec![
            ("subscribe".to_owned(), true),
            ("list".to_owned(), true),
            ("stop".to_owned(), true)
        ]
    );
    let (ok, _, err) = cli.run(&[
        "alerts",
        "list",
        "--as",
        "b1",
        "--directory",
        "http://127.0.0.1:9",
    ]);
    assert!(!ok);
    assert!(err.contains("cannot reach the directory"), "{err}");
}
