//! The whole local stack in one process: the sandbox, the indexer
//! mirroring it into SQLite (or Postgres), and the directory over that
//! mirror. `pledgeroll-sandbox up` runs one until Ctrl-C; the end-to-end
//! tests start theirs on free ports with [`start`].
//!
//! A data directory holds the rollup (`rollup/`) and, by default, the mirror
//! (`mirror.sqlite`); starting again on the same directory resumes both.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pledgeroll_directory::{self as directory, RunningDirectory};
use pledgeroll_indexer::{Db, DbConfig, IndexError, IndexerConfig, Mirror, RunningIndexer};

use pledgeroll_sandbox::node::{
    start as start_sandbox, RunningSandbox, SandboxConfig, SandboxError,
};
use pledgeroll_sandbox::rollup::KernelSource;

/// How to run the stack.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// Where the rollup and the default SQLite mirror live.
    pub data_dir: PathBuf,
    /// The rollup node's RPC address; port 0 picks a free port.
    pub rpc_addr: SocketAddr,
    /// The directory's address; port 0 picks a free port.
    pub directory_addr: SocketAddr,
    /// The mirror's database (`postgres://…` or `sqlite:…`); a SQLite file
    /// in the data directory if `None`.
    pub database_url: Option<String>,
    /// The Postgres schema holding the mirror, if not the default one.
    pub database_schema: Option<String>,
    /// The kernel: `kernel.wasm`'s bytes, or the native kernel.
    pub kernel: KernelSource,
    /// Time between levels; `None` makes levels only on demand.
    pub block_time: Option<Duration>,
    /// The origination block's time on a fresh rollup; now if `None`.
    pub genesis_timestamp: Option<i64>,
    /// A directory of preimages for the kernel.
    pub preimages: Option<PathBuf>,
    /// Where the indexer serves Prometheus metrics, if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    /// More web origins whose pages may call the rollup node's RPC; the
    /// directory's own are added when its port is fixed
    /// ([`StackConfig::directory_origins`]).
    pub cors_origins: Vec<String>,
}

impl StackConfig {
    /// A stack with data in `data_dir`, everything on free 127.0.0.1 ports,
    /// a level every 200 ms, and a SQLite mirror.
    pub fn local(data_dir: PathBuf, kernel: KernelSource) -> Self {
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        StackConfig {
            data_dir,
            rpc_addr: any_port,
            directory_addr: any_port,
            database_url: None,
            database_schema: None,
            kernel,
            block_time: Some(Duration::from_millis(200)),
            genesis_timestamp: None,
            preimages: None,
            metrics_addr: None,
            cors_origins: Vec::new(),
        }
    }

    /// The origins the directory's pages load from, so they may call the
    /// rollup node: `http://{directory_addr}`, and `http://localhost:{port}`
    /// too on a loopback address. None on port 0, which is only known once
    /// bound.
    pub fn directory_origins(&self) -> Vec<String> {
        let addr = self.directory_addr;
        if addr.port() == 0 {
            return Vec::new();
        }
        let mut origins = vec![format!("http://{addr}")];
        if addr.ip().is_loopback() {
            origins.push(format!("http://localhost:{}", addr.port()));
        }
        origins
    }

    /// Where the rollup's own data lives.
    pub fn rollup_dir(&self) -> PathBuf {
        self.data_dir.join("rollup")
    }

    /// The mirror's database.
    pub fn database(&self) -> DbConfig {
        let url = self.database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}", self.data_dir.join("mirror.sqlite").display())
        });
        let mut config = DbConfig::new(url);
        config.schema = self.database_schema.clone();
        config
    }
}

/// Why the stack cannot start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// The data directory cannot be used.
    #[error("cannot use the data directory {path}: {reason}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The sandbox failed.
    #[error("sandbox: {0}")]
    Sandbox(#[from] SandboxError),
    /// The indexer failed.
    #[error("indexer: {0}")]
    Indexer(#[from] IndexError),
    /// The directory failed.
    #[error("directory: {0}")]
    Directory(#[from] directory::Error),
    /// The mirror holds another chain than the rollup's.
    #[error(
        "the mirror in {database} holds level {level} ({mirror_hash}), which this rollup {found}; \
         it mirrors another sandbox: give another --database-url (or --database-schema), or empty that database"
    )]
    ForeignMirror {
        /// The database, without credentials.
        database: String,
        /// The mirror's last level.
        level: u32,
        /// Its block hash in the mirror.
        mirror_hash: String,
        /// What the rollup has at that level.
        found: String,
    },
}

/// The stack running in this process.
#[derive(Debug)]
pub struct RunningStack {
    sandbox: RunningSandbox,
    indexer: RunningIndexer,
    directory: RunningDirectory,
    database: DbConfig,
    resumed: bool,
}

/// Starts the sandbox, then the indexer following it, then the directory
/// over the mirror, resuming whatever `config.data_dir` and the database
/// already hold.
pub async fn start(config: StackConfig) -> Result<RunningStack, StackError> {
    let rollup_dir = config.rollup_dir();
    let resumed = pledgeroll_sandbox::rollup::database_path(&rollup_dir).exists();
    std::fs::create_dir_all(&rollup_dir).map_err(|e| StackError::DataDir {
        path: config.data_dir.clone(),
        reason: e.to_string(),
    })?;
    let sandbox = start_sandbox(SandboxConfig {
        data_dir: rollup_dir,
        rpc_addr: config.rpc_addr,
        block_time: config.block_time,
        kernel: config.kernel.clone(),
        genesis_timestamp: config.genesis_timestamp,
        preimages: config.preimages.clone(),
        cors_origins: config
            .directory_origins()
            .into_iter()
            .chain(config.cors_origins.iter().cloned())
            .collect(),
    })
    .await?;
    let database = config.database();
    let indexer = match start_indexer(&config, &database, &sandbox).await {
        Ok(indexer) => indexer,
        Err(e) => {
            let _ = sandbox.stop().await;
            return Err(e);
        }
    };
    let directory = match directory::serve(
        &database.url,
        database.schema.as_deref(),
        config.directory_addr,
        Some(directory::Relay::new(&sandbox.url())),
        None,
    )
    .await
    {
        Ok(directory) => directory,
        Err(e) => {
            let _ = indexer.stop().await;
            let _ = sandbox.stop().await;
            return Err(e.into());
        }
    };
    Ok(RunningStack {
        sandbox,
        indexer,
        directory,
        database,
        resumed,
    })
}

/// Opens the mirror, refusing one that holds another chain before
/// anything follows into it, and starts following the sandbox.
async fn start_indexer(
    config: &StackConfig,
    database: &DbConfig,
    sandbox: &RunningSandbox,
) -> Result<RunningIndexer, StackError> {
    check_mirror(database, sandbox).await?;
    let mut indexer_config = IndexerConfig::new(sandbox.url(), database.url.clone());
    indexer_config.database = database.clone();
    indexer_config.metrics_addr = config.metrics_addr;
    indexer_config.poll_interval = Duration::from_millis(200);
    Ok(pledgeroll_indexer::start(indexer_config).await?)
}

/// Fails unless the mirror is empty or its last block is the sandbox's
/// block at that level.
async fn check_mirror(database: &DbConfig, sandbox: &RunningSandbox) -> Result<(), StackError> {
    let mirror = Mirror::open(Db::connect(database).await?).await?;
    let cursor = mirror.cursor().await;
    mirror.db().close().await;
    let Some(cursor) = cursor? else {
        return Ok(());
    };
    let found = sandbox
        .sandbox()
        .store()
        .block(cursor.level)
        .map_err(|e| SandboxError::Rollup(e.into()))?
        .map(|b| b.hash);
    if found.as_deref() == Some(cursor.hash.as_str()) {
        return Ok(());
    }
    Err(StackError::ForeignMirror {
        database: without_credentials(&database.url),
        level: cursor.level,
        mirror_hash: cursor.hash,
        found: found.map_or_else(
            || "has not reached".to_owned(),
            |h| format!("has as block {h}"),
        ),
    })
}

/// A database URL fit to print: any password replaced by `***`.
pub fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            if user_info.contains(':') {
                format!("{scheme}://{user}:***@{host}")
            } else {
                format!("{scheme}://{user}@{host}")
            }
        }
        None => url.to_owned(),
    }
}

impl RunningStack {
    /// The rollup node's RPC URL.
    pub fn node_url(&self) -> String {
        self.sandbox.url()
    }

    /// The directory's URL.
    pub fn directory_url(&self) -> String {
        self.directory.url()
    }

    /// The mirror's database.
    pub fn database(&self) -> &DbConfig {
        &self.database
    }

    /// Whether the rollup's data directory already held a rollup.
    pub fn resumed(&self) -> bool {
        self.resumed
    }

    /// The running sandbox.
    pub fn sandbox(&self) -> &RunningSandbox {
        &self.sandbox
    }

    /// The running indexer.
    pub fn indexer(&self) -> &RunningIndexer {
        &self.indexer
    }

    /// Waits until the mirror has the sandbox's current head; returns that
    /// level.
    pub async fn mirrored(&self, timeout: Duration) -> Result<u32, StackError> {
        let head = self
            .sandbox
            .sandbox()
            .store()
            .head()
            .map_err(|e| SandboxError::Rollup(e.into()))?
            .map_or(0, |b| b.level);
        self.indexer.wait_for_level(head, timeout).await?;
        Ok(head)
    }

    /// Stops the directory, then the indexer, then the sandbox, each after
    /// the work in hand; the data stays for the next start.
    pub async fn stop(self) -> Result<(), StackError> {
        let directory = self.directory.stop().await;
        let indexer = self.indexer.stop().await;
        let sandbox = self.sandbox.stop().await;
        directory?;
        indexer?;
        sandbox?;
        Ok(())
    }
}

/// The data directory `up` uses when none is given: `~/.pledgeroll/stack`.
pub fn default_data_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| Path::new(&home).join(".pledgeroll").join("stack"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_database_urls_hide_passwords() {
        assert_eq!(
            without_credentials("postgres://app:secret@db:5432/pledgeroll"),
            "postgres://app:***@db:5432/pledgeroll"
        );
        assert_eq!(
            without_credentials("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
        assert_eq!(
            without_credentials("sqlite:///tmp/mirror.sqlite"),
            "sqlite:///tmp/mirror.sqlite"
        );
    }

    #[test]
    fn the_directory_pages_may_call_the_node_once_its_port_is_known() {
        let mut config = StackConfig::local(PathBuf::from("/tmp/stack"), KernelSource::Native);
        assert!(config.directory_origins().is_empty());
        config.directory_addr = "127.0.0.1:8080".parse().expect("an address");
        assert_eq!(
            config.directory_origins(),
            ["http://127.0.0.1:8080", "http://localhost:8080"]
        );
        config.directory_addr = "192.0.2.7:80".parse().expect("an address");
        assert_eq!(config.directory_origins(), ["http://192.0.2.7:80"]);
    }
}
