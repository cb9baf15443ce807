//! The browser harness on a page of its own, served like the directory's
//! (a strict Content-Security-Policy, one same-origin script): the test
//! wallet is there before the page's script runs, on every new document,
//! despite the policy; signing requests wait for the test's answer; a
//! decline looks like Beacon's; a new wallet replaces the old; screenshots
//! are PNGs of the asked width.
//!
//! Screenshots go to `screenshots/` in the target folder (the parent of
//! `CARGO_TARGET_TMPDIR`), where a person can look at them.

#![allow(clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::header;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use pledgeroll_tests::browser::{Answer, Browser};
use serde_json::Value;

/// The directory's policy: no inline script.
const CSP: &str = "default-src 'self'; script-src 'self'";

/// How long the page may take to react; everything here is local.
const REACT: Duration = Duration::from_secs(10);

/// A Micheline string, "hello world", packed.
const PAYLOAD: &str = "05010000000b68656c6c6f20776f726c64";

/// A patron's account: address and public key.
const PATRON: (&str, &str) = ("tz1PatronPatronPatronPatronPatron1", "edpkPatronPublicKey");
/// A creator's account, to switch to.
const CREATOR: (&str, &str) = ("tz1CreatorCreatorCreatorCreatorCr2", "edpkCreatorPublicKey");

/// The page: a field, a button that asks for a signature, and an inline
/// script the policy must block.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Browser harness</title>
<script src="/app.js"></script>
</head>
<body>
<h1>Browser harness</h1>
<p id="wallet">no script ran</p>
<p id="inline">inline scripts are blocked</p>
<script>document.getElementById('inline').textContent = 'inline script ran';</script>
<label>Name <input id="name"></label>
<p id="echo"></p>
<button id="sign" type="button">Sign</button>
<p id="out">idle</p>
</body>
</html>"#;

/// The page's own script, the only one its policy allows.
const APP_JS: &str = r#"
// Read as the document starts: the test wallet must already be there.
const wallet = window.pledgerollWalletClient;

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('wallet').textContent = wallet ? 'wallet: present' : 'wallet: missing';

  const name = document.getElementById('name');
  name.addEventListener('input', () => {
    document.getElementById('echo').textContent = 'hello, ' + name.value;
  });

  document.getElementById('sign').addEventListener('click', async () => {
    const out = document.getElementById('out');
    out.textContent = 'signing';
    try {
      const account = await wallet.requestPermissions();
      const { signature } = await wallet.requestSignPayload({
        signingType: 'micheline',
        payload: '05010000000b68656c6c6f20776f726c64',
        sourceAddress: account.address,
      });
      out.textContent = 'signed: ' + signature;
    } catch (error) {
      out.textContent = 'declined: ' + error.errorType + (error instanceof Error ? '' : ' (not an Error)');
    }
  });
});
"#;

/// Serves the page and its script on a free port; returns the page's URL.
async fn serve() -> String {
    let app = Router::new()
        .route(
            "/",
            get(|| async { ([(header::CONTENT_SECURITY_POLICY, CSP)], Html(PAGE)) }),
        )
        .route(
            "/app.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript"),
                        (header::CONTENT_SECURITY_POLICY, CSP),
                    ],
                    APP_JS,
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port for the page");
    let address = listener.local_addr().expect("the page's address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serving the page") });
    format!("http://{address}/")
}

/// Where screenshots go: `screenshots/` in the target folder.
fn screenshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target folder")
        .join("screenshots")
        .join(name)
}

/// The width and height a PNG file declares in its header.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).expect("the screenshot was written");
    assert_eq!(
        bytes[..8],
        *b"\x89PNG\r\n\x1a\n",
        "{} is a PNG",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR", "{} has a header", path.display());
    let number = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("four bytes"));
    (number(16), number(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drives_a_wallet_page_under_a_strict_csp() {
    let url = serve().await;
    let browser = Browser::start().await;
    browser.install_test_wallet(PATRON.0, PATRON.1).await;

    // The policy holds, yet the wallet was there before the page's script.
    browser.goto(&url).await;
    assert_eq!(browser.text("#inline").await, "inline scripts are blocked");
    browser
        .wait_for_text("#wallet", "wallet: present", REACT)
        .await;
    assert!(browser.exists("#sign").await);
    assert!(!browser.exists("#missing").await);

    // Filling replaces what the field held.
    browser.fill("#name", "first").await;
    browser.fill("#name", "second").await;
    assert_eq!(
        browser.wait_for_text("#echo", "second", REACT).await,
        "hello, second"
    );

    // Signing: the request waits, as the page made it, until answered.
    browser.click("#sign").await;
    let request = browser.next_sign_request(REACT).await;
    assert_eq!(request.signing_type, "micheline");
    assert_eq!(request.payload, PAYLOAD);
    assert_eq!(request.source_address.as_deref(), Some(PATRON.0));
    assert_eq!(browser.text("#out").await, "signing");
    assert_eq!(
        browser.next_sign_request(REACT).await,
        request,
        "peeking leaves it waiting"
    );
    browser
        .answer_sign_request(Answer::Signature("edsigTest".into()))
        .await;
    browser
        .wait_for_text("#out", "signed: edsigTest", REACT)
        .await;

    // A new document has the wallet too; declining looks like Beacon's.
    browser.goto(&url).await;
    assert_eq!(browser.text("#out").await, "idle");
    browser.click("#sign").await;
    browser.next_sign_request(REACT).await;
    browser.answer_sign_request(Answer::Reject).await;
    assert_eq!(
        browser.wait_for_text("#out", "declined", REACT).await,
        "declined: ABORTED_ERROR"
    );

    // Another account replaces the first on the next document.
    browser.install_test_wallet(CREATOR.0, CREATOR.1).await;
    browser.goto(&url).await;
    let account = browser
        .client()
        .execute(
            "return window.pledgerollWalletClient.requestPermissions();",
            vec![],
        )
        .await
        .expect("requestPermissions answers");
    assert_eq!(account["address"], Value::from(CREATOR.0));
    assert_eq!(account["publicKey"], Value::from(CREATOR.1));
    assert_eq!(account["accountInfo"]["address"], Value::from(CREATOR.0));
    browser.click("#sign").await;
    let request = browser.next_sign_request(REACT).await;
    assert_eq!(request.source_address.as_deref(), Some(CREATOR.0));
    browser.answer_sign_request(Answer::Reject).await;
    browser.wait_for_text("#out", "declined", REACT).await;

    // Screenshots at a desktop's and a phone's width, of the whole page.
    browser
        .client()
        .execute(
            "const tall = document.createElement('div');
             tall.style.height = '2000px';
             document.body.append(tall);",
            vec![],
        )
        .await
        .expect("the page grows");
    for width in [1280, 390] {
        let path = screenshot_path(&format!("harness-{width}.png"));
        let _ = std::fs::remove_file(&path);
        browser.screenshot(&path, width).await;
        let (png_width, png_height) = png_size(&path);
        assert_eq!(png_width, width, "{}", path.display());
        assert!(png_height > 2000, "{} shows the whole page", path.display());
    }
    let (window_width, _) = browser
        .client()
        .get_window_size()
        .await
        .expect("the window's size");
    assert_eq!(window_width, 1280, "the window is back to its width");

    browser.close().await;
}
