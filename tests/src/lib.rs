//! The harness of pledgeroll's end-to-end tests: the whole stack (sandbox,
//! indexer, directory) started in-process on free 127.0.0.1 ports, in one
//! of four combinations — SQLite or Postgres mirror, native or wasm kernel —
//! driven by the wallet library and read back through the directory's JSON
//! API and pages, and the sandbox's simulated layer 1.
//!
//! Postgres comes from `DATABASE_URL` (default: the local server's `test`
//! database); each stack keeps its mirror in a schema of its own, dropped
//! when the test ends. The wasm kernel is `target/kernel/kernel.wasm`,
//! built by `scripts/build-kernel` when missing.

#![allow(clippy::panic, clippy::indexing_slicing)]

pub mod browser;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pledgeroll_client::assets::AssetBook;
use pledgeroll_client::{Submitted, Wallet, WalletError};
use pledgeroll_contracts::crypto::{blake2b_256, Curve};
use pledgeroll_contracts::encoding::Text;
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::{Address, AssetId, Contract, Operation};
use pledgeroll_devstack::stack::{self, RunningStack, StackConfig};
use pledgeroll_sandbox::KernelSource;
use serde_json::Value;

/// The sandbox's tez, asset 0.
pub const TEZ: AssetId = AssetId(pledgeroll_sandbox::assets::TEZ.asset_id);
/// The sandbox's usd, asset 1.
pub const USD: AssetId = AssetId(pledgeroll_sandbox::assets::USD.asset_id);
/// One tez or one usd in base units.
pub const UNIT: u64 = 1_000_000;
/// A day and the protocol's month (30 days), in seconds.
pub use pledgeroll_contracts::units::{DAY, MONTH};
/// How long any one wait may take before a test fails.
pub const WAIT: Duration = Duration::from_secs(120);

/// Where the mirror lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file in the stack's data directory.
    Sqlite,
    /// A schema of its own on the Postgres server.
    Postgres,
}

/// Which kernel the sandbox runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// The kernel linked into the sandbox.
    Native,
    /// `kernel.wasm` in wasmtime.
    Wasm,
}

/// Runs an async scenario, `async fn body(Database, Kernel)`, as four
/// tests: SQLite and Postgres, native and wasm kernel.
#[macro_export]
macro_rules! in_all_four_stacks {
    ($body:ident) => {
        mod $body {
            use $crate::{Database, Kernel};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_native() {
                super::$body(Database::Sqlite, Kernel::Native).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_wasm() {
                super::$body(Database::Sqlite, Kernel::Wasm).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_native() {
                super::$body(Database::Postgres, Kernel::Native).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_wasm() {
                super::$body(Database::Postgres, Kernel::Wasm).await;
            }
        }
    };
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| panic!("the tests crate sits in the workspace"))
        .to_path_buf()
}

/// `kernel.wasm`, built by `scripts/build-kernel` if it is missing.
pub fn kernel_wasm() -> Vec<u8> {
    static KERNEL: OnceLock<Vec<u8>> = OnceLock::new();
    KERNEL
        .get_or_init(|| {
            pledgeroll_sandbox::kernel_wasm_or_build(&workspace())
                .unwrap_or_else(|e| panic!("the wasm tests need kernel.wasm: {e}"))
        })
        .clone()
}

/// The Postgres server: `DATABASE_URL`, or the local server's `test`
/// database.
pub fn postgres_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A Postgres schema name no other test run uses.
fn unique_schema() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "e2e_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A key of the test's own, derived from `name`.
pub fn key(name: &str) -> SecretKey {
    SecretKey::from_bytes(
        Curve::Ed25519,
        blake2b_256(format!("pledgeroll-e2e:{name}").as_bytes()),
    )
    .unwrap_or_else(|e| panic!("key {name}: {e:?}"))
}

/// The address of `key`.
pub fn address(key: &SecretKey) -> Address {
    key.public_key().address()
}

/// A layer-1 contract (`KT1…`) of the test's own, derived from `name`.
pub fn contract(name: &str) -> Contract {
    let hash = blake2b_256(format!("pledgeroll-e2e:contract:{name}").as_bytes());
    let mut bytes = [0; 20];
    bytes.copy_from_slice(&hash[..20]);
    Contract::Originated(bytes)
}

/// Short text for an operation.
pub fn text<const N: usize>(s: &str) -> Text<N> {
    Text::new(s).unwrap_or_else(|_| panic!("{s:?} is too long"))
}

/// A running stack with a wallet on its node.
pub struct Stack {
    running: Option<RunningStack>,
    /// The wallet, connected to the stack's node.
    pub wallet: Wallet,
    /// The Postgres schema holding the mirror, dropped at the end.
    schema: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Stack {
    /// Starts a stack on free ports with the given mirror and kernel.
    pub async fn start(database: Database, kernel: Kernel) -> Stack {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
        let source = match kernel {
            Kernel::Native => KernelSource::Native,
            Kernel::Wasm => KernelSource::Wasm(kernel_wasm()),
        };
        let mut config = StackConfig::local(dir.path().to_owned(), source);
        let schema = match database {
            Database::Sqlite => None,
            Database::Postgres => {
                let url = postgres_url();
                let schema = unique_schema();
                config.database_url = Some(url.clone());
                config.database_schema = Some(schema.clone());
                Some((url, schema))
            }
        };
        let running = stack::start(config)
            .await
            .unwrap_or_else(|e| panic!("the stack starts ({database:?}, {kernel:?}): {e}"));
        let wallet = Wallet::connect(&running.node_url(), AssetBook::default())
            .await
            .unwrap_or_else(|e| panic!("the wallet connects: {e}"));
        Stack {
            running: Some(running),
            wallet,
            schema,
            _dir: dir,
        }
    }

    fn running(&self) -> &RunningStack {
        self.running
            .as_ref()
            .unwrap_or_else(|| panic!("the stack is stopped"))
    }

    /// The rollup node's URL.
    pub fn node_url(&self) -> String {
        self.running().node_url()
    }

    /// The directory's URL.
    pub fn directory_url(&self) -> String {
        self.running().directory_url()
    }

    /// Signs and sends `op` as `key`, waiting for it to be applied; fails
    /// the test if the rollup refuses it.
    pub async fn send(&self, key: &SecretKey, op: Operation) -> Submitted {
        let what = format!("{op:?}");
        self.wallet
            .send(key, op, true)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    /// Signs and sends `op` as `key`, expecting the rollup to refuse it;
    /// returns the reason.
    pub async fn refused(&self, key: &SecretKey, op: Operation) -> String {
        let what = format!("{op:?}");
        match self.wallet.send(key, op, true).await {
            Err(WalletError::Refused(reason)) => reason,
            Err(e) => panic!("{what} failed without being refused: {e}"),
            Ok(_) => panic!("{what} was applied; it should have been refused"),
        }
    }

    /// Deposits `units` of the sandbox asset `asset` (`tez`, `usd`) to
    /// `to` from layer 1 and waits for the level that credits them.
    pub async fn deposit(&self, to: &Address, asset: &str, units: u64) {
        pledgeroll_client::sandbox::deposit(&self.wallet.node, to, asset, units)
            .await
            .unwrap_or_else(|e| panic!("deposit to {to}: {e}"));
    }

    /// Moves the layer-1 clock `seconds` forward and waits until the
    /// protocol has run at the new time.
    pub async fn advance(&self, seconds: u64) {
        pledgeroll_client::sandbox::advance(&self.wallet.node, seconds)
            .await
            .unwrap_or_else(|e| panic!("advance {seconds}s: {e}"));
    }

    /// The protocol's time at the head.
    pub async fn now(&self) -> u64 {
        self.wallet
            .clock()
            .await
            .unwrap_or_else(|e| panic!("clock: {e}"))
            .now
    }

    /// `holder`'s balance of `asset` on the rollup, in base units, as the
    /// node tells it.
    pub async fn balance(&self, holder: &Address, asset: AssetId) -> u128 {
        self.wallet
            .balance(&pledgeroll_contracts::Holder::Account(*holder), asset)
            .await
            .unwrap_or_else(|e| panic!("balance of {holder}: {e}"))
    }

    /// Waits until the mirror holds the node's current head.
    pub async fn mirrored(&self) {
        self.running()
            .mirrored(WAIT)
            .await
            .unwrap_or_else(|e| panic!("the mirror catches up: {e}"));
    }

    /// `GET` a directory path once the mirror has caught up with the node,
    /// expecting `200 OK`; returns the content type and the body.
    async fn get(&self, path: &str) -> (String, String) {
        self.mirrored().await;
        let url = format!("{}{path}", self.directory_url());
        let response = reqwest::get(&url)
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert!(status.is_success(), "GET {url}: {status} {body}");
        (content_type, body)
    }

    /// `GET` a directory API path (`/api/v1/…`), expecting JSON.
    pub async fn api(&self, path: &str) -> Value {
        let (_, body) = self.get(path).await;
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    /// `GET` a directory page, expecting HTML; returns its text.
    pub async fn page(&self, path: &str) -> String {
        let (content_type, body) = self.get(path).await;
        assert!(
            content_type.starts_with("text/html"),
            "GET {path}: {content_type}"
        );
        body
    }

    /// What `holder` owns of the sandbox asset `asset` on the simulated
    /// layer 1, waiting up to [`WAIT`] for it to reach `at_least`.
    pub async fn layer1_balance(&self, holder: &str, asset: &str, at_least: u128) -> u128 {
        let url = format!("{}/sandbox/l1/balances?holder={holder}", self.node_url());
        let started = Instant::now();
        loop {
            let balances: Value = reqwest::get(&url)
                .await
                .unwrap_or_else(|e| panic!("GET {url}: {e}"))
                .json()
                .await
                .unwrap_or_else(|e| panic!("GET {url}: {e}"));
            let amount = balances
                .as_array()
                .into_iter()
                .flatten()
                .filter(|b| b["asset"] == asset)
                .map(|b| {
                    b["amount"]
                        .as_str()
                        .and_then(|a| a.parse::<u128>().ok())
                        .unwrap_or_else(|| panic!("layer-1 balance {b}"))
                })
                .sum::<u128>();
            if amount >= at_least || started.elapsed() > WAIT {
                return amount;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Stops the stack and drops its Postgres schema.
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running
                .stop()
                .await
                .unwrap_or_else(|e| panic!("the stack stops cleanly: {e}"));
        }
        if let Some((url, schema)) = self.schema.take() {
            pledgeroll_indexer::db::drop_schema(&url, &schema)
                .await
                .unwrap_or_else(|e| panic!("dropping schema {schema}: {e}"));
        }
    }
}

impl Drop for Stack {
    // A failed test still removes its Postgres schema.
    fn drop(&mut self) {
        if let Some((url, schema)) = self.schema.take() {
            let _ = pledgeroll_indexer::db::drop_schema_blocking(&url, &schema);
        }
    }
}

/// A JSON number or decimal string as an integer.
pub fn int(v: &Value) -> i128 {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .unwrap_or_else(|| panic!("{v} is not an integer")),
        Value::String(s) => s
            .parse()
            .unwrap_or_else(|_| panic!("{v} is not an integer")),
        _ => panic!("{v} is not a number"),
    }
}
