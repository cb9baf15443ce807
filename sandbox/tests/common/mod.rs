//! Helpers for the sandbox's RPC tests: the kernel, a sandbox in a temporary
//! directory, an RPC client that checks every answer against the
//! octez-smart-rollup-node OpenAPI document, and signed operations.

#![allow(dead_code, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pledgeroll_contracts::encoding::List;
use pledgeroll_contracts::signing::{sign_batch, SecretKey, Signed};
use pledgeroll_contracts::{
    AssetId, Batch, Encode, Holder, MemoryStore, Operation, Protocol, RollupAddress,
    SignedOperation, Store, TierId,
};
use pledgeroll_sandbox::accounts::BOOTSTRAP_ACCOUNTS;
use pledgeroll_sandbox::{start, KernelSource, Rollup, RunningSandbox, SandboxConfig};
use serde_json::Value;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the sandbox crate sits in the workspace")
        .to_path_buf()
}

/// `kernel.wasm` at the path `scripts/build-kernel` writes, built by that
/// script if it is missing.
pub fn kernel_wasm() -> Vec<u8> {
    static KERNEL: OnceLock<Vec<u8>> = OnceLock::new();
    KERNEL
        .get_or_init(|| {
            pledgeroll_sandbox::kernel_wasm_or_build(&workspace()).unwrap_or_else(|e| panic!("{e}"))
        })
        .clone()
}

/// A fixed layer-1 start time, so that runs can be compared.
pub const GENESIS: i64 = 1_767_225_600;

/// A sandbox config with levels on demand in `dir`.
pub fn config(dir: &Path, kernel: KernelSource) -> SandboxConfig {
    let mut c = SandboxConfig::local(dir.to_path_buf(), kernel);
    c.genesis_timestamp = Some(GENESIS);
    c
}

/// Starts a wasm-mode sandbox in a fresh temporary directory.
pub async fn wasm_sandbox() -> (tempfile::TempDir, Api, RunningSandbox) {
    sandbox(KernelSource::Wasm(kernel_wasm())).await
}

/// Starts a sandbox running `kernel` in a fresh temporary directory.
pub async fn sandbox(kernel: KernelSource) -> (tempfile::TempDir, Api, RunningSandbox) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let running = start(config(dir.path(), kernel))
        .await
        .expect("the sandbox starts");
    let api = Api::new(&running.url());
    (dir, api, running)
}

/// The OpenAPI document, with OpenAPI's `nullable` made JSON Schema.
fn openapi() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        // From the workspace root: the binary's tests in devstack/ share
        // these helpers.
        let path = workspace().join("sandbox/tests/openapi/octez-smart-rollup-node.json");
        let text = std::fs::read_to_string(&path).expect("the OpenAPI document");
        let mut doc: Value = serde_json::from_str(&text).expect("the OpenAPI document parses");
        nullable_to_json_schema(&mut doc);
        doc
    })
}

fn nullable_to_json_schema(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for child in o.values_mut() {
                nullable_to_json_schema(child);
            }
            if o.remove("nullable") == Some(Value::Bool(true)) {
                let inner = Value::Object(std::mem::take(o));
                o.insert(
                    "anyOf".into(),
                    serde_json::json!([{ "type": "null" }, inner]),
                );
            }
        }
        Value::Array(a) => a.iter_mut().for_each(nullable_to_json_schema),
        _ => {}
    }
}

/// Checks `body` against the 200 response of `method` on `template`.
pub fn check_schema(method: &str, template: &str, body: &Value) {
    let doc = openapi();
    let schema = &doc["paths"][template][method]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    assert!(
        !schema.is_null(),
        "no OpenAPI schema for {method} {template}"
    );
    let mut root = schema.clone();
    root.as_object_mut()
        .expect("schemas are objects")
        .insert("components".into(), doc["components"].clone());
    let validator = jsonschema::validator_for(&root).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} answered against its OpenAPI schema: {errors:?}\n{body:#}"
    );
}

/// An RPC client.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    /// A client for the sandbox at `base`.
    pub fn new(base: &str) -> Self {
        Api {
            base: base.to_owned(),
            client: reqwest::Client::new(),
        }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// GETs `path` and checks the answer against the schema of `template`.
    pub async fn get(&self, template: &str, path: &str) -> Value {
        let body = self.get_raw(path).await;
        check_schema("get", template, &body);
        body
    }

    /// GETs `path`, expecting 200, without a schema check.
    pub async fn get_raw(&self, path: &str) -> Value {
        let (status, body) = self.request("GET", path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// POSTs `body` to `path`, expecting 200; checks the schema of
    /// `template` if given.
    pub async fn post(&self, template: Option<&str>, path: &str, body: Value) -> Value {
        let (status, answer) = self.request("POST", path, Some(body)).await;
        assert_eq!(status, 200, "POST {path}: {answer}");
        if let Some(t) = template {
            check_schema("post", t, &answer);
        }
        answer
    }

    /// Any request; the status and the JSON answer.
    pub async fn request(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.client.get(&url),
            _ => self.client.post(&url),
        };
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = res.status().as_u16();
        let text = res.text().await.expect("a body");
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {url} gave non-JSON {text:?}: {e}"));
        (status, json)
    }

    /// Produces a level; returns it.
    pub async fn produce(&self) -> u32 {
        let b = self.post(None, "/sandbox/produce-level", Value::Null).await;
        check_schema("get", "/global/monitor_blocks", &b);
        b["level"].as_u64().expect("a level") as u32
    }

    /// The rollup's address as the protocol takes it.
    pub async fn rollup(&self) -> RollupAddress {
        let a = self
            .get(
                "/global/smart_rollup_address",
                "/global/smart_rollup_address",
            )
            .await;
        a.as_str()
            .expect("an address")
            .parse()
            .expect("an sr1 address")
    }

    /// The head's level.
    pub async fn head(&self) -> u32 {
        self.get("/global/block/{block_id}/level", "/global/block/head/level")
            .await
            .as_u64()
            .expect("a level") as u32
    }

    /// The state hash at `block`.
    pub async fn state_hash(&self, block: &str) -> String {
        self.get(
            "/global/block/{block_id}/state_hash",
            &format!("/global/block/{block}/state_hash"),
        )
        .await
        .as_str()
        .expect("a hash")
        .to_owned()
    }

    /// The durable value at `key` in `block`.
    pub async fn durable(&self, block: &str, key: &str) -> Option<Vec<u8>> {
        let v = self
            .get(
                "/global/block/{block_id}/durable/wasm_2_0_0/value",
                &format!("/global/block/{block}/durable/wasm_2_0_0/value?key={key}"),
            )
            .await;
        v.as_str().map(|h| hex::decode(h).expect("hex"))
    }

    /// The protocol's state at `block`, read over the RPC as an indexer
    /// reads it.
    pub async fn protocol(&self, block: &str) -> Protocol<MemoryStore> {
        let mut store = MemoryStore::new();
        let mut todo = vec![String::from("/pledgeroll/state")];
        while let Some(key) = todo.pop() {
            let names = self
                .get(
                    "/global/block/{block_id}/durable/wasm_2_0_0/subkeys",
                    &format!("/global/block/{block}/durable/wasm_2_0_0/subkeys?key={key}"),
                )
                .await;
            let values = self
                .get(
                    "/global/block/{block_id}/durable/wasm_2_0_0/values",
                    &format!("/global/block/{block}/durable/wasm_2_0_0/values?key={key}"),
                )
                .await;
            for v in values.as_array().expect("a list") {
                let child = format!("{key}/{}", v["key"].as_str().expect("a key"));
                let protocol_key = child
                    .strip_prefix("/pledgeroll/state")
                    .expect("under the state");
                let bytes = hex::decode(v["value"].as_str().expect("hex")).expect("hex");
                store.write(protocol_key, &bytes).expect("memory store");
            }
            for n in names.as_array().expect("a list") {
                let n = n.as_str().expect("a name");
                if !n.is_empty() {
                    todo.push(format!("{key}/{n}"));
                }
            }
        }
        Protocol::new(store, self.rollup().await)
    }

    /// An account's balance of `asset` at `block`, in base units.
    pub async fn balance(&self, block: &str, key: &SecretKey, asset: u32) -> u128 {
        self.protocol(block)
            .await
            .balance(&Holder::Account(key.public_key().address()), AssetId(asset))
            .expect("the protocol reads its state")
    }

    /// The bytes of a batch of `ops`, each signed as its key's account
    /// would send it next at the head.
    pub async fn batch(&self, ops: Vec<(&SecretKey, Operation)>) -> Vec<u8> {
        let protocol = self.protocol("head").await;
        let signed = sign_batch(protocol.store(), protocol.rollup(), ops)
            .expect("the operations name records that exist");
        batch_bytes(&operations(&signed))
    }

    /// Injects batches through the batcher; returns the message ids.
    pub async fn inject(&self, batches: &[Vec<u8>]) -> Vec<String> {
        let hexes: Vec<String> = batches.iter().map(hex::encode).collect();
        let ids = self
            .post(
                Some("/local/batcher/injection"),
                "/local/batcher/injection",
                serde_json::json!(hexes),
            )
            .await;
        ids.as_array()
            .expect("a list")
            .iter()
            .map(|i| i.as_str().expect("an id").to_owned())
            .collect()
    }
}

/// A bootstrap account's key.
pub fn bootstrap(n: usize) -> SecretKey {
    BOOTSTRAP_ACCOUNTS[n - 1]
        .secret_key
        .parse()
        .expect("a bootstrap key")
}

/// A fresh test key.
pub fn key(n: u8) -> SecretKey {
    SecretKey::from_bytes(pledgeroll_contracts::crypto::Curve::Ed25519, [n; 32]).expect("a key")
}

/// The protocol's state at the head of an in-process rollup.
pub fn protocol_of(rollup: &Rollup) -> Protocol<MemoryStore> {
    let mut store = MemoryStore::new();
    for (key, value) in rollup.durable().values() {
        if let Some(k) = key.strip_prefix("/pledgeroll/state") {
            store.write(k, &value).expect("memory store");
        }
    }
    let address: RollupAddress = rollup.address().parse().expect("an sr1 address");
    Protocol::new(store, address)
}

/// `ops` signed as each key's account would send them next from the head
/// of an in-process rollup.
pub fn sign_on(rollup: &Rollup, ops: Vec<(&SecretKey, Operation)>) -> Vec<Signed> {
    let state = protocol_of(rollup);
    sign_batch(state.store(), state.rollup(), ops).expect("the operations name records that exist")
}

/// The operations of `signed`, as sent.
pub fn operations(signed: &[Signed]) -> Vec<SignedOperation> {
    signed.iter().map(|s| s.operation.clone()).collect()
}

/// The bytes of a batch of signed operations.
pub fn batch_bytes(ops: &[SignedOperation]) -> Vec<u8> {
    Batch {
        operations: List::new(ops.to_vec()).expect("a short batch"),
    }
    .to_bytes()
}

/// `ops` in order, in as few batches as fit a message each.
pub fn pack(ops: &[SignedOperation]) -> Vec<Vec<u8>> {
    use pledgeroll_contracts::operation::{MAX_BATCH_BYTES, MAX_BATCH_OPERATIONS};
    let mut out = Vec::new();
    let mut current: Vec<SignedOperation> = Vec::new();
    for op in ops {
        current.push(op.clone());
        if current.len() > MAX_BATCH_OPERATIONS || batch_bytes(&current).len() > MAX_BATCH_BYTES {
            let last = current.pop().expect("just pushed");
            out.push(batch_bytes(&current));
            current = vec![last];
        }
    }
    if !current.is_empty() {
        out.push(batch_bytes(&current));
    }
    out
}

/// A creator profile, and a tier of `per_period` base units of tez every
/// `period` seconds.
#[allow(unused_imports)]
pub use pledgeroll_contracts::fixtures::{profile, tier};

/// A pledge at a tier's price.
pub fn pledge(tier: u64) -> Operation {
    pledgeroll_contracts::fixtures::pledge(TierId(tier))
}
