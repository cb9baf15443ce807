//! A headless Chromium driven over WebDriver, for the browser tests of the
//! directory's wallet pages.
//!
//! [`Browser::start`] runs `chromedriver` on a free 127.0.0.1 port and opens
//! one Chromium session with a fresh profile; starting Chromium takes
//! seconds, so one [`Browser`] is meant to serve several scenarios of a test.
//!
//! The pages talk to a wallet through `window.pledgerollWalletClient`, an
//! object with the two methods of the Beacon SDK's `DAppClient` they use.
//! [`Browser::install_test_wallet`] defines a stand-in for it in every
//! document loaded afterwards, whose signing requests wait in the page until
//! the test answers them with [`Browser::next_sign_request`] and
//! [`Browser::answer_sign_request`]. The script is injected through the
//! DevTools protocol, so the pages' Content-Security-Policy does not apply to
//! it.
//!
//! Every helper panics with what it was doing and where when the browser
//! fails or a wait runs out: these are test helpers.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::process::{Child, Command};

/// How often the waits look at the page again.
const POLL: Duration = Duration::from_millis(100);
/// How long chromedriver may take to answer once started.
const DRIVER_START: Duration = Duration::from_secs(30);
/// How long chromedriver may take to quit Chromium when dropped.
const SHUTDOWN: Duration = Duration::from_secs(10);
/// How long [`Browser::click`], [`Browser::fill`] and [`Browser::text`] wait
/// for their element to appear (scripts add the wallet's controls after load).
const FIND: Duration = Duration::from_secs(10);
/// The window's size between screenshots.
const WIDTH: u32 = 1280;
/// The window's height, and the shortest screenshot.
const HEIGHT: u32 = 900;
/// Screenshots at or below this width emulate a phone.
const PHONE_WIDTH: u32 = 600;
/// The tallest full-page screenshot, in CSS pixels; Chromium's tiles have
/// limits and no page of the directory should come near it.
const MAX_SCREENSHOT_HEIGHT: u64 = 16_000;

/// Chromium's command line: headless, quiet, and a profile of its own.
const CHROME_ARGS: [&str; 7] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--window-size=1280,900",
];

/// The test wallet, run in every new document before the page's scripts;
/// `__ACCOUNT__` becomes `{ address, publicKey }` as a JSON literal. It
/// leaves a wallet defined before alone, so a replaced wallet that was not
/// removed shows as the wrong account rather than being hidden.
const WALLET_SCRIPT: &str = r#"(() => {
  if ('pledgerollWalletClient' in window) return;
  const account = __ACCOUNT__;
  const requests = [];
  window.__pledgerollSignRequests = requests;
  window.pledgerollWalletClient = {
    requestPermissions: async () => ({
      address: account.address,
      publicKey: account.publicKey,
      accountInfo: { address: account.address, publicKey: account.publicKey },
    }),
    requestSignPayload: (request) =>
      new Promise((resolve, reject) => requests.push({ request, resolve, reject })),
  };
})();"#;

/// Reads the oldest waiting signing request, or `null`.
const PEEK_SIGN_REQUEST: &str = r#"
  const requests = window.__pledgerollSignRequests;
  return requests && requests.length > 0 ? requests[0].request : null;
"#;

/// Settles the oldest waiting signing request with `arguments[0]`, a
/// signature or `null` for the user declining; returns whether one waited.
const ANSWER_SIGN_REQUEST: &str = r#"
  const requests = window.__pledgerollSignRequests;
  if (!requests || requests.length === 0) return false;
  const { resolve, reject } = requests.shift();
  const signature = arguments[0];
  if (signature === null) {
    reject(Object.assign(new Error('The action was aborted by the user.'), {
      name: 'AbortedBeaconError',
      errorType: 'ABORTED_ERROR',
      title: 'Aborted',
      description: 'The action was aborted by the user.',
    }));
  } else {
    resolve({ signature });
  }
  return true;
"#;

/// A headless Chromium session, with the chromedriver that runs it.
///
/// [`Browser::close`] ends the session; dropping it instead (a test that
/// failed) still has chromedriver quit Chromium.
#[derive(Debug)]
pub struct Browser {
    client: Client,
    /// The DevTools identifier of the injected test wallet, to replace it.
    wallet_script: Mutex<Option<String>>,
    /// Dropped before the profile, so Chromium is gone when it is removed.
    driver: Driver,
    /// Chromium's profile.
    profile: TempDir,
}

/// A running chromedriver, which quits its browsers and exits when dropped.
#[derive(Debug)]
struct Driver {
    /// Killed when dropped, after the shutdown command.
    process: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Killing chromedriver would leave Chromium running; its shutdown
        // command quits the browsers first. Drop can't await, and this is
        // one local request.
        let shutdown = || -> std::io::Result<()> {
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port))?;
            stream.set_read_timeout(Some(SHUTDOWN))?;
            stream.set_write_timeout(Some(SHUTDOWN))?;
            stream.write_all(
                b"GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            )?;
            stream.read_to_end(&mut Vec::new()).map(drop)
        };
        // Failing here is no news: chromedriver is killed on drop anyway.
        let _ = shutdown();
    }
}

/// A signing request the page made of the test wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignRequest {
    /// Beacon's signing type: `raw`, `operation` or `micheline`.
    pub signing_type: String,
    /// The bytes to sign, as hex.
    pub payload: String,
    /// The account the page asked to sign with, if it said.
    pub source_address: Option<String>,
}

/// How the test wallet's user answers a signing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Signs: the request resolves with `{ signature }`.
    Signature(String),
    /// Declines: the request rejects with Beacon's `ABORTED_ERROR`.
    Reject,
}

impl Browser {
    /// Starts chromedriver and opens a headless Chromium session with a
    /// fresh profile and a 1280×900 window.
    ///
    /// Panics when chromedriver is not installed, saying how to install it.
    pub async fn start() -> Browser {
        let port = free_port();
        let process = match Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(process) => process,
            Err(error) if error.kind() == ErrorKind::NotFound => panic!(
                "chromedriver is not installed; run: sudo apt-get install -y chromium chromium-driver"
            ),
            Err(error) => panic!("could not start chromedriver: {error}"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut driver = Driver { process, port };
        wait_until_ready(&mut driver.process, &url).await;

        let profile = tempfile::tempdir().expect("a temporary directory for Chromium's profile");
        let mut args: Vec<String> = CHROME_ARGS.iter().map(|arg| arg.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut capabilities = Capabilities::new();
        capabilities.insert("goog:chromeOptions".into(), json!({ "args": args }));
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .unwrap_or_else(|error| panic!("chromedriver could not start Chromium: {error}"));
        Browser {
            client,
            wallet_script: Mutex::new(None),
            driver,
            profile,
        }
    }

    /// The WebDriver client, for what the helpers here don't cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Ends the session, which quits Chromium, then chromedriver.
    pub async fn close(self) {
        let Browser {
            client,
            driver,
            profile,
            ..
        } = self;
        if let Err(error) = client.close().await {
            panic!("could not end the browser session: {error}");
        }
        drop(driver);
        drop(profile);
    }

    /// Makes every document loaded from now on define
    /// `window.pledgerollWalletClient` as a test wallet for `address`
    /// (public key `public_key`), before any of the page's scripts run.
    /// It replaces the test wallet installed before; the current document
    /// keeps the one it has until it is reloaded.
    pub async fn install_test_wallet(&self, address: &str, public_key: &str) {
        let previous = self.wallet_lock().take();
        if let Some(identifier) = previous {
            self.cdp(
                "Page.removeScriptToEvaluateOnNewDocument",
                json!({ "identifier": identifier }),
            )
            .await;
        }
        let account = json!({ "address": address, "publicKey": public_key });
        let source = WALLET_SCRIPT.replace("__ACCOUNT__", &account.to_string());
        let added = self
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": source }),
            )
            .await;
        let identifier = added["identifier"]
            .as_str()
            .unwrap_or_else(|| panic!("DevTools gave no script identifier: {added}"))
            .to_owned();
        *self.wallet_lock() = Some(identifier);
    }

    /// Waits up to `timeout` for the page to ask the test wallet for a
    /// signature and returns the oldest waiting request, leaving it waiting
    /// for [`Browser::answer_sign_request`].
    pub async fn next_sign_request(&self, timeout: Duration) -> SignRequest {
        let started = Instant::now();
        let mut last_error = None;
        loop {
            match self.client.execute(PEEK_SIGN_REQUEST, vec![]).await {
                Ok(Value::Null) => {}
                Ok(request) => return sign_request(&request),
                // A page being replaced can't run scripts for a moment.
                Err(error) => last_error = Some(error),
            }
            if started.elapsed() > timeout {
                let url = self.url().await;
                match last_error {
                    Some(error) => panic!(
                        "no signing request on {url} within {timeout:?}; last error: {error}"
                    ),
                    None => panic!("no signing request on {url} within {timeout:?}"),
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Settles the oldest waiting signing request with `answer`.
    ///
    /// Panics when none is waiting.
    pub async fn answer_sign_request(&self, answer: Answer) {
        let signature = match answer {
            Answer::Signature(signature) => Value::String(signature),
            Answer::Reject => Value::Null,
        };
        let answered = self
            .client
            .execute(ANSWER_SIGN_REQUEST, vec![signature])
            .await
            .unwrap_or_else(|error| panic!("could not answer the signing request: {error}"));
        if answered != Value::Bool(true) {
            panic!("no signing request is waiting on {}", self.url().await);
        }
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|error| panic!("could not open {url}: {error}"));
    }

    /// The address of the current page.
    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .map(String::from)
            .unwrap_or_else(|error| format!("<unknown page: {error}>"))
    }

    /// Clicks the element `css` selects, once it exists.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        if let Err(error) = element.click().await {
            panic!("could not click {css} on {}: {error}", self.url().await);
        }
    }

    /// Replaces the text of the field `css` selects, once it exists.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        if let Err(error) = element.clear().await {
            panic!("could not clear {css} on {}: {error}", self.url().await);
        }
        if let Err(error) = element.send_keys(text).await {
            panic!("could not type into {css} on {}: {error}", self.url().await);
        }
    }

    /// The rendered text of the element `css` selects, once it exists
    /// (empty when it is hidden).
    pub async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        match element.text().await {
            Ok(text) => text,
            Err(error) => panic!("could not read {css} on {}: {error}", self.url().await),
        }
    }

    /// Waits up to `timeout` for the text of the element `css` selects to
    /// contain `needle`, and returns that text.
    pub async fn wait_for_text(&self, css: &str, needle: &str, timeout: Duration) -> String {
        let started = Instant::now();
        let mut last = None;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if text.contains(needle) {
                        return text;
                    }
                    last = Some(text);
                }
            }
            if started.elapsed() > timeout {
                let url = self.url().await;
                match last {
                    Some(text) => panic!(
                        "{css} on {url} did not show {needle:?} within {timeout:?}; it reads {text:?}"
                    ),
                    None => panic!(
                        "{css} on {url} did not show {needle:?} within {timeout:?}; there is no such element"
                    ),
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits up to `timeout` for an element `css` selects to exist.
    pub async fn wait_for(&self, css: &str, timeout: Duration) {
        let started = Instant::now();
        while !self.exists(css).await {
            if started.elapsed() > timeout {
                panic!("no {css} on {} within {timeout:?}", self.url().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Whether the current page has an element `css` selects.
    pub async fn exists(&self, css: &str) -> bool {
        match self.client.find_all(Locator::Css(css)).await {
            Ok(elements) => !elements.is_empty(),
            Err(error) => panic!("could not look for {css} on {}: {error}", self.url().await),
        }
    }

    /// Writes a PNG of the whole current page laid out `width` CSS pixels
    /// wide (as a phone at or below 600), creating `path`'s folder, then
    /// puts the window back to 1280×900.
    pub async fn screenshot(&self, path: &Path, width: u32) {
        self.screenshot_and_run(path, width, "return null;").await;
    }

    /// Runs `script` (a WebDriver script's body: `return …;`) on the current
    /// page laid out `width` CSS pixels wide, then writes a PNG of it as
    /// [`Browser::screenshot`] does, and returns what the script returned:
    /// what it measured is what the picture shows.
    pub async fn screenshot_and_run(&self, path: &Path, width: u32, script: &str) -> Value {
        self.lay_out(width).await;
        let value = self.client.execute(script, vec![]).await;
        let png = self.client.screenshot().await;
        self.restore_layout().await;
        let value = match value {
            Ok(value) => value,
            Err(error) => panic!(
                "could not run a script at {width} px on {}: {error}",
                self.url().await
            ),
        };
        let png = png.unwrap_or_else(|error| panic!("could not take a screenshot: {error}"));
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)
                .unwrap_or_else(|error| panic!("could not create {}: {error}", folder.display()));
        }
        std::fs::write(path, png)
            .unwrap_or_else(|error| panic!("could not write {}: {error}", path.display()));
        value
    }

    /// Lays the current page out `width` CSS pixels wide (as a phone at or
    /// below 600) in a viewport as tall as the page then is.
    async fn lay_out(&self, width: u32) {
        self.resize(width, HEIGHT).await;
        let mobile = width <= PHONE_WIDTH;
        self.emulate(width, u64::from(HEIGHT), mobile).await;
        // Measured at the new width, where the page may wrap taller.
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight;", vec![])
            .await
            .ok()
            .and_then(|height| height.as_u64())
            .unwrap_or(u64::from(HEIGHT))
            .clamp(u64::from(HEIGHT), MAX_SCREENSHOT_HEIGHT);
        self.emulate(width, height, mobile).await;
    }

    /// Undoes [`Browser::lay_out`]: the window at 1280×900 again.
    async fn restore_layout(&self) {
        self.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
            .await;
        self.resize(WIDTH, HEIGHT).await;
    }

    /// The element `css` selects, waiting up to [`FIND`] for it to exist.
    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.wait_for(css, FIND).await;
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(error) => panic!("could not find {css} on {}: {error}", self.url().await),
        }
    }

    /// Sets the window's outer size.
    async fn resize(&self, width: u32, height: u32) {
        if let Err(error) = self.client.set_window_size(width, height).await {
            panic!("could not resize the window to {width}×{height}: {error}");
        }
    }

    /// Lays the page out in a `width`×`height` viewport at one device pixel
    /// per CSS pixel, as a phone when `mobile`.
    async fn emulate(&self, width: u32, height: u64, mobile: bool) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": width,
                "height": height,
                "deviceScaleFactor": 1,
                "mobile": mobile,
            }),
        )
        .await;
    }

    /// Runs a DevTools command on the current tab and returns its result.
    async fn cdp(&self, cmd: &'static str, params: Value) -> Value {
        self.client
            .issue_cmd(Cdp { cmd, params })
            .await
            .unwrap_or_else(|error| panic!("DevTools command {cmd} failed: {error}"))
    }

    /// The injected wallet's identifier, behind its lock.
    fn wallet_lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.wallet_script
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A DevTools command sent through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port on 127.0.0.1")
}

/// Waits for chromedriver at `url` to say it is ready.
async fn wait_until_ready(driver: &mut Child, url: &str) {
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(response) = http.get(format!("{url}/status")).send().await {
            if let Ok(status) = response.json::<Value>().await {
                if status["value"]["ready"] == Value::Bool(true) {
                    return;
                }
            }
        }
        if let Ok(Some(exit)) = driver.try_wait() {
            panic!("chromedriver exited at start ({exit})");
        }
        if started.elapsed() > DRIVER_START {
            panic!("chromedriver did not answer on {url} within {DRIVER_START:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Reads a signing request the page passed to `requestSignPayload`.
fn sign_request(request: &Value) -> SignRequest {
    let field = |name: &str| {
        request[name]
            .as_str()
            .unwrap_or_else(|| panic!("the signing request has no {name}: {request}"))
            .to_owned()
    };
    SignRequest {
        signing_type: field("signingType"),
        payload: field("payload"),
        source_address: request["sourceAddress"].as_str().map(str::to_owned),
    }
}
