//! The rollup and its simulated layer 1, driven level by level: builds each
//! level's inbox, runs the kernel over it, executes its outbox on layer 1 and
//! writes the level to disk in one transaction.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::accounts::BOOTSTRAP_ACCOUNTS;
use crate::assets::{derived_hash, SandboxAsset, ASSETS, ROLLUP_SEED};
use crate::b58;
use crate::durable::{digest, Tree};
use crate::host::{key, HostState, KERNEL_BOOT};
use crate::inbox::{self, InboxError};
use crate::outbox::{Execution, Ledger, LEDGER_PREFIX};
use crate::pvm::{self, install_pvm_values, Kernel, LevelRun, NativeKernel};
use crate::store::{
    BlockRecord, LevelCommit, LevelStore, MessageRecord, PendingMessage, StoreError,
};
use crate::wasm::{WasmError, WasmKernel};

/// The layer-1 level at which the sandbox rollup is originated; the kernel
/// first runs at the level after it.
pub const ORIGINATION_LEVEL: u32 = 1;

/// The durable path of the kernel's code, as steps.
fn kernel_steps() -> Vec<&'static str> {
    KERNEL_BOOT.split('/').filter(|s| !s.is_empty()).collect()
}

/// Levels behind the head that layer 1 considers final.
pub const FINALITY: u32 = 2;

/// How the kernel runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelSource {
    /// `kernel.wasm`'s bytes, run in wasmtime.
    Wasm(Vec<u8>),
    /// The pledgeroll kernel linked into the sandbox.
    Native,
}

/// Why the rollup cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum RollupError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The kernel cannot be loaded.
    #[error(transparent)]
    Kernel(#[from] WasmError),
    /// A message cannot be built.
    #[error(transparent)]
    Inbox(#[from] InboxError),
    /// The data directory cannot be used.
    #[error("cannot use the data directory {path}: {reason}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The stored data contradicts itself.
    #[error("the data directory is inconsistent: {0}")]
    Inconsistent(String),
    /// A request the rollup cannot honour.
    #[error("{0}")]
    Invalid(String),
    /// The batcher's queue holds as many messages as it takes.
    #[error(
        "the batcher's queue is full: {waiting} messages wait and it holds at most {max}; try again after a few levels"
    )]
    QueueFull {
        /// Messages waiting.
        waiting: u64,
        /// The most it holds.
        max: u64,
    },
}

/// Most messages one level's inbox takes from the queue; the rest wait for
/// the next levels, as layer 1's block size makes them wait.
pub const MAX_MESSAGES_PER_LEVEL: usize = 1_000;
/// Most messages the batcher's queue holds.
pub const MAX_QUEUED_MESSAGES: u64 = 20_000;

/// How to open a rollup.
#[derive(Debug, Clone)]
pub struct RollupConfig {
    /// Where its data lives.
    pub data_dir: PathBuf,
    /// The kernel.
    pub kernel: KernelSource,
    /// Seconds between layer-1 blocks' timestamps (at least 1).
    pub seconds_per_level: i64,
    /// The origination block's time; the current time if `None`.
    pub genesis_timestamp: Option<i64>,
    /// A directory of preimages, named by their hash in hex.
    pub preimages: Option<PathBuf>,
}

/// What a data directory was created with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Genesis {
    rollup_address: String,
    origination_level: u32,
    timestamp: i64,
}

const META_GENESIS: &str = "genesis";
const META_FORK: &str = "fork";
const META_ADVANCE: &str = "advance";
const META_SEQ: &str = "next_seq";

fn u64_meta(bytes: Option<Vec<u8>>) -> u64 {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map_or(0, u64::from_be_bytes)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A message to put in the next level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// Its order of arrival.
    pub seq: u64,
    /// The batcher's id, for an injected L2 message.
    pub id: Option<String>,
}

/// An inbox message to queue and, for an L2 message from the batcher, its
/// id and content (hex).
type Incoming = (Vec<u8>, Option<(String, String)>);

/// The rollup: its head state in memory, its history on disk.
pub struct Rollup {
    store: Arc<LevelStore>,
    kernel: Box<dyn Kernel>,
    host: HostState,
    ledger: Ledger,
    head: BlockRecord,
    rollup: [u8; 20],
    seconds_per_level: i64,
    advance: i64,
    fork: u64,
    next_seq: u64,
}

impl std::fmt::Debug for Rollup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rollup")
            .field("head", &self.head.level)
            .field("kernel", &self.kernel.describe())
            .finish()
    }
}

/// The database file inside a data directory.
pub fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("sandbox.redb")
}

fn hash_parts(tag: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut bytes = tag.as_bytes().to_vec();
    for p in parts {
        bytes.extend_from_slice(&u32::try_from(p.len()).unwrap_or(u32::MAX).to_be_bytes());
        bytes.extend_from_slice(p);
    }
    digest(&bytes)
}

fn decode_hash(prefix: &[u8], text: &str) -> Result<[u8; 32], RollupError> {
    b58::decode32(prefix, text)
        .ok_or_else(|| RollupError::Inconsistent(format!("stored hash {text} does not decode")))
}

/// The durable storage and the layer-1 ledger after `level`, from disk.
fn load_state(store: &LevelStore, level: u32) -> Result<(Tree, Ledger), RollupError> {
    let mut tree = Tree::new();
    let mut ledger_rows = Vec::new();
    for (k, v) in store.state_at(level)? {
        if k.starts_with(LEDGER_PREFIX) {
            let amount = <[u8; 16]>::try_from(v.as_slice())
                .map(u128::from_be_bytes)
                .map_err(|_| RollupError::Inconsistent(format!("ledger entry {k}")))?;
            ledger_rows.push((k, amount));
        } else {
            tree.apply(&k, Some(Arc::new(v)))
                .map_err(|e| RollupError::Inconsistent(format!("durable key {k}: {e}")))?;
        }
    }
    Ok((tree, Ledger::from_rows(ledger_rows)))
}

impl Rollup {
    /// Opens the rollup in `config.data_dir`, creating it (origination, then
    /// a first level funding the bootstrap accounts) if it is new.
    pub fn open(config: RollupConfig) -> Result<Self, RollupError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| RollupError::DataDir {
            path: config.data_dir.clone(),
            reason: e.to_string(),
        })?;
        let store = Arc::new(LevelStore::open(&database_path(&config.data_dir))?);
        let (kernel, code): (Box<dyn Kernel>, Option<Vec<u8>>) = match config.kernel {
            KernelSource::Wasm(code) => {
                let k = WasmKernel::new()?;
                k.check(&code)?;
                (Box::new(k), Some(code))
            }
            KernelSource::Native => (Box::new(NativeKernel::pledgeroll()), None),
        };
        let rollup = derived_hash(ROLLUP_SEED);
        let seconds_per_level = config.seconds_per_level.max(1);
        let genesis = match store.meta(META_GENESIS)? {
            Some(bytes) => Some(
                serde_json::from_slice::<Genesis>(&bytes)
                    .map_err(|e| RollupError::Inconsistent(format!("genesis record: {e}")))?,
            ),
            None => None,
        };
        let mut me = match (genesis, store.head()?) {
            (Some(_), Some(head)) => {
                let (tree, ledger) = load_state(&store, head.level)?;
                Rollup {
                    host: HostState::new(tree, rollup, ORIGINATION_LEVEL).with_preimages(config.preimages),
                    ledger,
                    head,
                    fork: u64_meta(store.meta(META_FORK)?),
                    advance: i64::try_from(u64_meta(store.meta(META_ADVANCE)?)).unwrap_or(0),
                    next_seq: u64_meta(store.meta(META_SEQ)?),
                    store,
                    kernel,
                    rollup,
                    seconds_per_level,
                }
            }
            (None, None) => Self::originate(store, kernel, rollup, &config.data_dir, config.genesis_timestamp, seconds_per_level, config.preimages, code.as_deref())?,
            _ => {
                return Err(RollupError::Inconsistent(
                    "the genesis record and the blocks disagree; remove the data directory to start afresh".to_owned(),
                ))
            }
        };
        if let Some(code) = code {
            let stored = me
                .host
                .durable
                .value(&key(KERNEL_BOOT))
                .map(|v| v.as_slice() == code.as_slice());
            if stored != Some(true) {
                if stored.is_some() {
                    tracing::info!("kernel.wasm changed; the next level runs the new code");
                }
                me.host.set_pvm_value(KERNEL_BOOT, code);
            }
        }
        if me.head.level == ORIGINATION_LEVEL {
            me.produce_level()?;
        }
        Ok(me)
    }

    #[allow(clippy::too_many_arguments)]
    fn originate(
        store: Arc<LevelStore>,
        kernel: Box<dyn Kernel>,
        rollup: [u8; 20],
        data_dir: &Path,
        timestamp: Option<i64>,
        seconds_per_level: i64,
        preimages: Option<PathBuf>,
        code: Option<&[u8]>,
    ) -> Result<Self, RollupError> {
        let timestamp = timestamp.unwrap_or_else(now);
        let mut host =
            HostState::new(Tree::new(), rollup, ORIGINATION_LEVEL).with_preimages(preimages);
        install_pvm_values(&mut host);
        if let Some(code) = code {
            host.set_pvm_value(KERNEL_BOOT, code.to_vec());
        }
        let genesis = Genesis {
            rollup_address: b58::encode(b58::ROLLUP, &rollup),
            origination_level: ORIGINATION_LEVEL,
            timestamp,
        };
        let block = genesis_block(&host, rollup, timestamp);
        let changes = host
            .durable
            .values()
            .into_iter()
            .map(|(k, v)| (k, Some(v.to_vec())))
            .collect();
        let genesis_json =
            serde_json::to_vec(&genesis).map_err(|e| RollupError::Inconsistent(e.to_string()))?;
        store.commit_level(&LevelCommit {
            block: Some(block.clone()),
            changes,
            meta: vec![(META_GENESIS.to_owned(), genesis_json)],
            ..LevelCommit::default()
        })?;
        tracing::info!(data_dir = %data_dir.display(), rollup = %genesis.rollup_address, "originated the sandbox rollup");
        Ok(Rollup {
            store,
            kernel,
            host,
            ledger: Ledger::default(),
            head: block,
            rollup,
            seconds_per_level,
            advance: 0,
            fork: 0,
            next_seq: 0,
        })
    }

    /// The database, for readers.
    pub fn store(&self) -> Arc<LevelStore> {
        self.store.clone()
    }

    /// The newest block.
    pub fn head(&self) -> &BlockRecord {
        &self.head
    }

    /// The rollup's address, `sr1…`.
    pub fn address(&self) -> String {
        b58::encode(b58::ROLLUP, &self.rollup)
    }

    /// The rollup's address, raw.
    pub fn raw_address(&self) -> [u8; 20] {
        self.rollup
    }

    /// What runs the kernel.
    pub fn kernel_description(&self) -> String {
        self.kernel.describe()
    }

    /// The simulated layer 1's ticket balances.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The durable storage at the head.
    pub fn durable(&self) -> &Tree {
        &self.host.durable
    }

    /// The timestamp the next level will have.
    pub fn next_timestamp(&self) -> i64 {
        self.head
            .timestamp
            .saturating_add(self.seconds_per_level)
            .saturating_add(self.advance)
    }

    /// Moves layer-1 time forward by `seconds` at the next level.
    pub fn advance_time(&mut self, seconds: i64) -> Result<i64, RollupError> {
        if seconds < 0 {
            return Err(RollupError::Invalid("time only moves forward".to_owned()));
        }
        let advance = self
            .advance
            .checked_add(seconds)
            .ok_or_else(|| RollupError::Invalid("too far".to_owned()))?;
        self.store.set_meta(&[(
            META_ADVANCE,
            u64::try_from(advance).unwrap_or(0).to_be_bytes().to_vec(),
        )])?;
        self.advance = advance;
        Ok(self.next_timestamp())
    }

    fn queue(&mut self, entries: Vec<Incoming>) -> Result<Vec<Queued>, RollupError> {
        let mut rows = Vec::with_capacity(entries.len());
        let mut out = Vec::with_capacity(entries.len());
        let mut seq = self.next_seq;
        for (message, batcher) in entries {
            let (id, record) = match batcher {
                Some((id, content)) => (
                    Some(id),
                    Some(MessageRecord {
                        content,
                        level: None,
                        index: None,
                    }),
                ),
                None => (None, None),
            };
            rows.push((
                PendingMessage {
                    seq,
                    id: id.clone(),
                    message: hex::encode(&message),
                },
                record,
            ));
            out.push(Queued { seq, id });
            seq += 1;
        }
        self.store.add_pending(&rows)?;
        self.store
            .set_meta(&[(META_SEQ, seq.to_be_bytes().to_vec())])?;
        self.next_seq = seq;
        Ok(out)
    }

    /// Queues L2 messages from the batcher for the next level; returns their
    /// ids.
    pub fn inject(&mut self, l2_messages: &[Vec<u8>]) -> Result<Vec<String>, RollupError> {
        let waiting = self.store.pending_count()?;
        let adding = u64::try_from(l2_messages.len()).unwrap_or(u64::MAX);
        if waiting.saturating_add(adding) > MAX_QUEUED_MESSAGES {
            return Err(RollupError::QueueFull {
                waiting,
                max: MAX_QUEUED_MESSAGES,
            });
        }
        let mut entries = Vec::with_capacity(l2_messages.len());
        for (i, m) in l2_messages.iter().enumerate() {
            let message = inbox::batcher_message(self.rollup, m)?;
            let counter = self.next_seq + u64::try_from(i).unwrap_or(u64::MAX);
            let id = b58::encode(
                b58::MESSAGE_ID,
                &hash_parts(
                    "pledgeroll-sandbox:l2-message",
                    &[&counter.to_be_bytes(), m],
                ),
            );
            entries.push((message, Some((id, hex::encode(m)))));
        }
        Ok(self
            .queue(entries)?
            .into_iter()
            .filter_map(|q| q.id)
            .collect())
    }

    /// Queues a deposit of `amount` base units of `asset` for `receiver`,
    /// minted by the asset's ticketer, for the next level.
    pub fn deposit(
        &mut self,
        receiver: &str,
        asset: &SandboxAsset,
        amount: u64,
    ) -> Result<Queued, RollupError> {
        let message = self.deposit_message(receiver, asset, amount)?;
        let mut queued = self.queue(vec![(message, None)])?;
        queued
            .pop()
            .ok_or_else(|| RollupError::Inconsistent("no message queued".to_owned()))
    }

    fn deposit_message(
        &self,
        receiver: &str,
        asset: &SandboxAsset,
        amount: u64,
    ) -> Result<Vec<u8>, RollupError> {
        let ticket = inbox::ticket(
            asset.ticketer_hash(),
            asset.token_id,
            asset.metadata,
            amount,
        )?;
        // The receiver stands as the layer-1 source when it is implicit;
        // otherwise the first bootstrap account sends the deposit.
        let source = if receiver.starts_with("tz") {
            receiver
        } else {
            BOOTSTRAP_ACCOUNTS[0].address
        };
        Ok(inbox::deposit(
            self.rollup,
            asset.ticketer_hash(),
            source,
            receiver,
            ticket,
        )?)
    }

    /// Produces the next level from the queued messages; the first level
    /// also funds the bootstrap accounts.
    pub fn produce_level(&mut self) -> Result<BlockRecord, RollupError> {
        let pending = self.store.pending(MAX_MESSAGES_PER_LEVEL)?;
        let mut messages = Vec::new();
        if self.head.level == ORIGINATION_LEVEL {
            for asset in &ASSETS {
                for account in &BOOTSTRAP_ACCOUNTS {
                    messages.push((
                        self.deposit_message(account.address, asset, asset.bootstrap_amount)?,
                        None,
                    ));
                }
            }
        }
        let mut consumed = Vec::with_capacity(pending.len());
        for p in pending {
            let bytes = hex::decode(&p.message).map_err(|_| {
                RollupError::Inconsistent(format!("pending message {} is not hex", p.seq))
            })?;
            messages.push((bytes, p.id));
            consumed.push(p.seq);
        }
        let timestamp = self.next_timestamp();
        self.apply_level(messages, timestamp, consumed)
    }

    /// Runs one level over `messages` at `timestamp` and writes it.
    fn apply_level(
        &mut self,
        messages: Vec<(Vec<u8>, Option<String>)>,
        timestamp: i64,
        consumed: Vec<u64>,
    ) -> Result<BlockRecord, RollupError> {
        let level = self.head.level + 1;
        let predecessor = decode_hash(b58::BLOCK, &self.head.hash)?;
        let (inbox, included) = level_inbox(messages, self.head.timestamp, predecessor);

        let durable_before = self.host.durable.clone();
        let ledger_before = self.ledger.clone();
        let run = pvm::run_level(
            self.kernel.as_mut(),
            &mut self.host,
            level,
            Arc::new(inbox.clone()),
        );
        for (i, m) in run.outbox.iter().enumerate() {
            if let Execution::Failed(reason) = self.ledger.execute(m) {
                tracing::warn!(level, index = i, "layer 1 refused outbox message: {reason}");
            }
        }

        let changes = self.changes_since(&durable_before, &ledger_before);
        let block = self.block_record(level, predecessor, timestamp, &inbox, &run)?;
        let commit = LevelCommit {
            block: Some(block.clone()),
            inbox,
            outbox: run.outbox,
            changes,
            consumed,
            included,
            meta: vec![(META_ADVANCE.to_owned(), 0u64.to_be_bytes().to_vec())],
        };
        if let Err(e) = self.store.commit_level(&commit) {
            self.host.durable = durable_before;
            self.ledger = ledger_before;
            return Err(e.into());
        }
        self.advance = 0;
        self.head = block.clone();
        Ok(block)
    }

    /// What the level changed in durable storage and in the layer-1
    /// ledger, as the store's key-value changes.
    fn changes_since(
        &self,
        durable_before: &Tree,
        ledger_before: &Ledger,
    ) -> Vec<(String, Option<Vec<u8>>)> {
        let mut changes: Vec<(String, Option<Vec<u8>>)> = self
            .host
            .durable
            .changes_since(durable_before)
            .into_iter()
            .map(|(k, v)| (k, v.map(|v| v.to_vec())))
            .collect();
        let (old, new) = (ledger_before.rows(), self.ledger.rows());
        for (k, v) in new {
            if old.get(k) != Some(v) {
                changes.push((k.clone(), Some(v.to_be_bytes().to_vec())));
            }
        }
        for k in old.keys().filter(|k| !new.contains_key(*k)) {
            changes.push((k.clone(), None));
        }
        changes
    }

    /// The block of the level just run: its hash, state hash, commitment
    /// and inbox hash chained to the head's.
    fn block_record(
        &self,
        level: u32,
        predecessor: [u8; 32],
        timestamp: i64,
        inbox: &[Vec<u8>],
        run: &LevelRun,
    ) -> Result<BlockRecord, RollupError> {
        let level_bytes = level.to_be_bytes();
        let payloads: Vec<&[u8]> = inbox.iter().map(Vec::as_slice).collect();
        let witness = hash_parts("pledgeroll-sandbox:payloads", &payloads);
        let hash = hash_parts(
            "pledgeroll-sandbox:block",
            &[
                &predecessor,
                &level_bytes,
                &timestamp.to_be_bytes(),
                &self.fork.to_be_bytes(),
                &witness,
            ],
        );
        let state_hash = self.host.durable.hash_without(&kernel_steps());
        let previous_commitment = decode_hash(b58::COMMITMENT, &self.head.commitment)?;
        let commitment = hash_parts(
            "pledgeroll-sandbox:commitment",
            &[
                &state_hash,
                &level_bytes,
                &previous_commitment,
                &run.ticks.to_be_bytes(),
            ],
        );
        let previous_inbox = decode_hash(b58::INBOX, &self.head.inbox_hash)?;
        Ok(BlockRecord {
            level,
            hash: b58::encode(b58::BLOCK, &hash),
            predecessor: self.head.hash.clone(),
            timestamp,
            state_hash: b58::encode(b58::STATE, &state_hash),
            context: b58::encode(b58::CONTEXT, &self.host.durable.root_hash()),
            commitment: b58::encode(b58::COMMITMENT, &commitment),
            previous_commitment: self.head.commitment.clone(),
            inbox_witness: b58::encode(b58::PAYLOADS, &witness),
            inbox_hash: b58::encode(
                b58::INBOX,
                &hash_parts(
                    "pledgeroll-sandbox:inbox",
                    &[&previous_inbox, &level_bytes, &witness],
                ),
            ),
            initial_tick: self.head.initial_tick.saturating_add(self.head.num_ticks),
            num_ticks: run.ticks,
            num_messages: u32::try_from(inbox.len()).unwrap_or(u32::MAX),
            kernel_runs: run.runs,
            failures: run.failures.clone(),
        })
    }

    /// Replaces the last `depth` levels: runs their inboxes again, at their
    /// times, in blocks with new hashes. Returns the new blocks.
    pub fn reorganise(&mut self, depth: u32) -> Result<Vec<BlockRecord>, RollupError> {
        let first_replaceable = ORIGINATION_LEVEL + 1;
        if depth == 0
            || self.head.level < first_replaceable
            || depth > self.head.level - first_replaceable + 1
        {
            return Err(RollupError::Invalid(format!(
                "can replace between 1 and {} levels",
                self.head.level.saturating_sub(ORIGINATION_LEVEL)
            )));
        }
        let target = self.head.level - depth;
        let mut replayed = Vec::new();
        for level in target + 1..=self.head.level {
            let block = self
                .store
                .block(level)?
                .ok_or_else(|| RollupError::Inconsistent(format!("block {level} missing")))?;
            let inbox = self.store.inbox(level)?;
            // Start, info and end of level are made anew.
            let body: Vec<(Vec<u8>, Option<String>)> = inbox
                .get(2..inbox.len().saturating_sub(1))
                .unwrap_or_default()
                .iter()
                .map(|m| (m.clone(), None))
                .collect();
            replayed.push((body, block.timestamp));
        }
        self.store.truncate_after(target)?;
        self.fork += 1;
        self.store
            .set_meta(&[(META_FORK, self.fork.to_be_bytes().to_vec())])?;
        let head = self
            .store
            .block(target)?
            .ok_or_else(|| RollupError::Inconsistent(format!("block {target} missing")))?;
        let (mut tree, ledger) = load_state(&self.store, target)?;
        // The kernel's code stays what it is now.
        if let Some(code) = self.host.durable.value(&key(KERNEL_BOOT)).cloned() {
            tree.apply(KERNEL_BOOT, Some(code))
                .map_err(|e| RollupError::Inconsistent(e.to_string()))?;
        }
        self.host.durable = tree;
        self.ledger = ledger;
        self.head = head;
        let mut out = Vec::with_capacity(replayed.len());
        for (body, timestamp) in replayed {
            out.push(self.apply_level(body, timestamp, Vec::new())?);
        }
        Ok(out)
    }
}

/// The rollup's first block, at its origination: nothing before it.
fn genesis_block(host: &HostState, rollup: [u8; 20], timestamp: i64) -> BlockRecord {
    let zero = [0u8; 32];
    let level_bytes = ORIGINATION_LEVEL.to_be_bytes();
    let hash = hash_parts(
        "pledgeroll-sandbox:genesis",
        &[&rollup, &level_bytes, &timestamp.to_be_bytes()],
    );
    let state_hash = host.durable.hash_without(&kernel_steps());
    let witness = hash_parts("pledgeroll-sandbox:payloads", &[]);
    let commitment = hash_parts(
        "pledgeroll-sandbox:commitment",
        &[&state_hash, &level_bytes, &zero, &0u64.to_be_bytes()],
    );
    BlockRecord {
        level: ORIGINATION_LEVEL,
        hash: b58::encode(b58::BLOCK, &hash),
        predecessor: b58::encode(b58::BLOCK, &zero),
        timestamp,
        state_hash: b58::encode(b58::STATE, &state_hash),
        context: b58::encode(b58::CONTEXT, &host.durable.root_hash()),
        commitment: b58::encode(b58::COMMITMENT, &commitment),
        previous_commitment: b58::encode(b58::COMMITMENT, &zero),
        inbox_witness: b58::encode(b58::PAYLOADS, &witness),
        inbox_hash: b58::encode(
            b58::INBOX,
            &hash_parts("pledgeroll-sandbox:inbox", &[&level_bytes, &witness]),
        ),
        initial_tick: 0,
        num_ticks: 0,
        num_messages: 0,
        kernel_runs: 0,
        failures: Vec::new(),
    }
}

/// A level's inbox: start of level, the info message with the
/// predecessor's time and hash, the messages, end of level; and where each
/// batcher message with an id landed.
fn level_inbox(
    messages: Vec<(Vec<u8>, Option<String>)>,
    predecessor_timestamp: i64,
    predecessor: [u8; 32],
) -> (Vec<Vec<u8>>, Vec<(String, u32)>) {
    let mut inbox = Vec::with_capacity(messages.len() + 3);
    inbox.push(inbox::start_of_level());
    inbox.push(inbox::info_per_level(predecessor_timestamp, predecessor));
    let mut included = Vec::new();
    for (m, id) in messages {
        if let Some(id) = id {
            included.push((id, u32::try_from(inbox.len()).unwrap_or(u32::MAX)));
        }
        inbox.push(m);
    }
    inbox.push(inbox::end_of_level());
    (inbox, included)
}
