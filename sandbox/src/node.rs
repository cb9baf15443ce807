//! The running sandbox: the rollup behind a lock, levels on a timer or on
//! demand, new blocks announced to RPC watchers, and the RPC server. Tests
//! and the stack start one in-process with [`start`] and stop it with
//! [`RunningSandbox::stop`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::{header, HeaderValue, Method};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::rollup::{KernelSource, Rollup, RollupConfig, RollupError};
use crate::store::{BlockRecord, LevelStore};

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where its data lives.
    pub data_dir: PathBuf,
    /// The RPC address; port 0 picks a free port.
    pub rpc_addr: SocketAddr,
    /// Time between levels; `None` makes levels only on demand.
    pub block_time: Option<Duration>,
    /// The kernel: `kernel.wasm`'s bytes, or the native kernel.
    pub kernel: KernelSource,
    /// The origination block's time; the current time if `None`.
    pub genesis_timestamp: Option<i64>,
    /// A directory of preimages for the kernel.
    pub preimages: Option<PathBuf>,
    /// Web origins (`http://127.0.0.1:8080`) whose pages may call the RPC
    /// from a browser: the sandbox answers their CORS preflights. Checked
    /// with [`web_origin`].
    pub cors_origins: Vec<String>,
}

/// Checks a web origin as CORS compares it: `http` or `https`, a host, an
/// optional port, nothing after (`https://pledgeroll.example:8443`).
pub fn web_origin(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .ok_or_else(|| {
            format!("{text:?} is not a web origin: it starts with http:// or https://")
        })?;
    let fine = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if fine {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "{text:?} is not a web origin: a scheme, a host and an optional port, no path"
        ))
    }
}

impl SandboxConfig {
    /// A sandbox on a free 127.0.0.1 port, levels on demand, with data in
    /// `data_dir`.
    pub fn local(data_dir: PathBuf, kernel: KernelSource) -> Self {
        SandboxConfig {
            data_dir,
            rpc_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            block_time: None,
            kernel,
            genesis_timestamp: None,
            preimages: None,
            cors_origins: Vec::new(),
        }
    }

    fn seconds_per_level(&self) -> i64 {
        self.block_time.map_or(1, |d| {
            i64::try_from(d.as_secs_f64().ceil() as u64)
                .unwrap_or(1)
                .max(1)
        })
    }
}

/// Why the sandbox cannot start or go on.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The rollup failed.
    #[error(transparent)]
    Rollup(#[from] RollupError),
    /// The RPC address cannot be bound.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// A background task failed.
    #[error("sandbox task failed: {0}")]
    Task(String),
    /// A CORS origin is not a web origin.
    #[error("{0}")]
    CorsOrigin(String),
}

/// Shared state of a running sandbox.
#[derive(Debug)]
pub struct Shared {
    rollup: Mutex<Rollup>,
    store: Arc<LevelStore>,
    address: String,
    blocks: broadcast::Sender<BlockRecord>,
    shutdown: watch::Receiver<bool>,
    kernel: String,
}

/// A handle on a sandbox, cheap to clone.
#[derive(Debug, Clone)]
pub struct Sandbox {
    shared: Arc<Shared>,
}

impl Sandbox {
    fn lock(&self) -> MutexGuard<'_, Rollup> {
        // A panic while holding the lock leaves the rollup as the last
        // committed level left it, so the lock is taken over.
        self.shared
            .rollup
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on the rollup on a blocking thread.
    pub async fn with_rollup<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Rollup) -> Result<T, RollupError> + Send + 'static,
    ) -> Result<T, SandboxError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || f(&mut me.lock()))
            .await
            .map_err(|e| SandboxError::Task(e.to_string()))?
            .map_err(SandboxError::from)
    }

    /// Produces a level now and announces it.
    pub async fn produce_level(&self) -> Result<BlockRecord, SandboxError> {
        let block = self.with_rollup(Rollup::produce_level).await?;
        self.announce(&block);
        Ok(block)
    }

    /// Replaces the last `depth` levels and announces the new blocks.
    pub async fn reorganise(&self, depth: u32) -> Result<Vec<BlockRecord>, SandboxError> {
        let blocks = self.with_rollup(move |r| r.reorganise(depth)).await?;
        for b in &blocks {
            self.announce(b);
        }
        Ok(blocks)
    }

    fn announce(&self, block: &BlockRecord) {
        tracing::info!(level = block.level, hash = %block.hash, ticks = block.num_ticks, "level done");
        // No watcher is not an error.
        let _ = self.shared.blocks.send(block.clone());
    }

    /// The database, for reads.
    pub fn store(&self) -> &Arc<LevelStore> {
        &self.shared.store
    }

    /// The rollup's address.
    pub fn address(&self) -> &str {
        &self.shared.address
    }

    /// What runs the kernel.
    pub fn kernel(&self) -> &str {
        &self.shared.kernel
    }

    /// New blocks as they are made.
    pub fn subscribe(&self) -> broadcast::Receiver<BlockRecord> {
        self.shared.blocks.subscribe()
    }

    /// Resolves when the sandbox is stopping.
    pub async fn stopping(&self) {
        let mut rx = self.shared.shutdown.clone();
        // An error means the sender is gone: the sandbox is stopping too.
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

/// A sandbox running in this process.
#[derive(Debug)]
pub struct RunningSandbox {
    sandbox: Sandbox,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    timer: Option<JoinHandle<()>>,
}

impl RunningSandbox {
    /// The RPC address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The RPC base URL, `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The sandbox.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Stops the timer and the server and waits for them; the data stays on
    /// disk for the next start.
    pub async fn stop(self) -> Result<(), SandboxError> {
        let _ = self.shutdown.send(true);
        if let Some(timer) = self.timer {
            timer.await.map_err(|e| SandboxError::Task(e.to_string()))?;
        }
        self.server
            .await
            .map_err(|e| SandboxError::Task(e.to_string()))?
            .map_err(|e| SandboxError::Task(e.to_string()))?;
        // Wait for in-flight level work to let go of the database.
        let sandbox = self.sandbox;
        tokio::task::spawn_blocking(move || drop(sandbox.lock()))
            .await
            .map_err(|e| SandboxError::Task(e.to_string()))
    }
}

/// The CORS policy for `origins`: their pages may read and inject (GET,
/// POST with a JSON body); with no origin, no cross-origin call is allowed.
fn cors(origins: &[String]) -> Result<CorsLayer, SandboxError> {
    let allowed = origins
        .iter()
        .map(|o| {
            web_origin(o)
                .and_then(|o| HeaderValue::from_str(&o).map_err(|e| e.to_string()))
                .map_err(SandboxError::CorsOrigin)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600)))
}

/// The origins given with `--cors-origin`, as browsers send them.
fn allowed_origins(origins: &[String]) -> Result<Vec<String>, SandboxError> {
    origins
        .iter()
        .map(|o| web_origin(o).map_err(SandboxError::CorsOrigin))
        .collect()
}

/// Refuses a `POST` that a browser sent from a page of another origin
/// than those allowed. CORS alone would let it through: a cross-origin
/// `text/plain` post needs no preflight, and its effect (an injected
/// message, a deposit, a new level) happens even though the page cannot
/// read the answer. Programs that send no `Origin` (the wallet, the
/// indexer, curl) are not affected.
async fn refuse_other_origins(
    axum::extract::State(allowed): axum::extract::State<Arc<Vec<String>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .map(|o| o.to_str().unwrap_or("(not text)").to_owned());
    match origin {
        Some(origin) if !allowed.contains(&origin) => crate::rpc::RpcError::Forbidden(format!(
            "a page at {origin} may not post to this node; start it with --cors-origin {origin} to allow it"
        ))
        .into_response(),
        _ => next.run(request).await,
    }
}

/// Opens the rollup in `config.data_dir` and serves its RPC.
pub async fn start(config: SandboxConfig) -> Result<RunningSandbox, SandboxError> {
    let listener = TcpListener::bind(config.rpc_addr)
        .await
        .map_err(|e| SandboxError::Bind {
            addr: config.rpc_addr,
            reason: e.to_string(),
        })?;
    let addr = listener.local_addr().map_err(|e| SandboxError::Bind {
        addr: config.rpc_addr,
        reason: e.to_string(),
    })?;
    let rollup_config = RollupConfig {
        data_dir: config.data_dir.clone(),
        kernel: config.kernel.clone(),
        seconds_per_level: config.seconds_per_level(),
        genesis_timestamp: config.genesis_timestamp,
        preimages: config.preimages.clone(),
    };
    let rollup = tokio::task::spawn_blocking(move || Rollup::open(rollup_config))
        .await
        .map_err(|e| SandboxError::Task(e.to_string()))??;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let (blocks, _) = broadcast::channel(256);
    let sandbox = Sandbox {
        shared: Arc::new(Shared {
            store: rollup.store(),
            address: rollup.address(),
            kernel: rollup.kernel_description(),
            rollup: Mutex::new(rollup),
            blocks,
            shutdown: shutdown_rx,
        }),
    };
    let app = crate::rpc::router(sandbox.clone())
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(allowed_origins(&config.cors_origins)?),
            refuse_other_origins,
        ))
        .layer(cors(&config.cors_origins)?);
    let stopping = sandbox.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stopping.stopping().await })
            .await
    });
    let timer = config.block_time.filter(|d| !d.is_zero()).map(|period| {
        let sandbox = sandbox.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                tokio::select! {
                    _ = ticks.tick() => {
                        if let Err(e) = sandbox.produce_level().await {
                            tracing::error!("cannot produce a level: {e}");
                        }
                    }
                    () = sandbox.stopping() => break,
                }
            }
        })
    });
    tracing::info!(rpc = %addr, rollup = %sandbox.address(), kernel = %sandbox.kernel(), "sandbox running");
    Ok(RunningSandbox {
        sandbox,
        addr,
        shutdown,
        server,
        timer,
    })
}
