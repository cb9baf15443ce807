//! `pledgeroll-sandbox`: a local rollup node running the pledgeroll kernel
//! over a simulated layer 1, serving the octez-smart-rollup-node RPC
//! (`run`), or the whole local stack with the indexer and the directory
//! (`up`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use pledgeroll_contracts::units;
use pledgeroll_devstack::demo;
use pledgeroll_devstack::stack::{self, StackConfig, StackError};
use pledgeroll_indexer::cli::shutdown_signal;
use pledgeroll_sandbox::accounts::BOOTSTRAP_ACCOUNTS;
use pledgeroll_sandbox::{
    start, web_origin, KernelSource, RollupError, SandboxConfig, SandboxError, KERNEL_WASM,
};

/// Prints a line on stdout; a closed stdout (`up | head`) must not stop
/// the stack uncleanly, so write errors are ignored.
macro_rules! say {
    ($($line:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($line)*);
    }};
}

/// A local pledgeroll rollup node with a simulated layer 1.
#[derive(Debug, Parser)]
#[command(name = "pledgeroll-sandbox", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the sandbox until interrupted.
    Run(RunArgs),
    /// Runs the whole local stack until interrupted: the sandbox, the
    /// indexer mirroring it, and the directory over the mirror.
    Up(UpArgs),
}

#[derive(Debug, Args)]
struct UpArgs {
    /// Where the rollup and the SQLite mirror live; a second `up` on it
    /// resumes (default: ~/.pledgeroll/stack).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    node: NodeArgs,
    /// The directory's address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    directory_addr: SocketAddr,
    /// Mirror into this database (postgres://…) instead of the SQLite file
    /// in the data directory.
    #[arg(long)]
    database_url: Option<String>,
    /// The Postgres schema to keep the mirror in (created if missing).
    #[arg(long, requires = "database_url")]
    database_schema: Option<String>,
    /// Fills the rollup with demo creators, patrons and a project, or
    /// completes what an earlier, interrupted run left undone.
    #[arg(long)]
    demo: bool,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Where the rollup's data lives; a restart resumes from it.
    #[arg(long, default_value = "sandbox-data")]
    data_dir: PathBuf,
    #[command(flatten)]
    node: NodeArgs,
}

/// How the rollup node runs, for `run` and `up` alike.
#[derive(Debug, Args)]
struct NodeArgs {
    /// The rollup node's RPC address.
    #[arg(long, default_value = "127.0.0.1:8932")]
    rpc_addr: SocketAddr,
    /// Seconds between levels (fractions allowed); with `run`, 0 makes
    /// levels only on demand (`POST /sandbox/produce-level`).
    #[arg(long, default_value_t = 1.0)]
    block_time: f64,
    /// The kernel to run (default: target/kernel/kernel.wasm; `up` runs
    /// the native kernel when that file is not there).
    #[arg(long, conflicts_with = "native")]
    kernel: Option<PathBuf>,
    /// Runs the kernel linked into the sandbox instead of kernel.wasm.
    #[arg(long)]
    native: bool,
    /// A directory of preimages the kernel may reveal, named by hash.
    #[arg(long)]
    preimages: Option<PathBuf>,
    /// A web origin (`https://pledgeroll.example`) whose pages may call
    /// the RPC from a browser; repeat for more. `up` adds the directory's.
    #[arg(long = "cors-origin", value_name = "ORIGIN", value_parser = web_origin)]
    cors_origins: Vec<String>,
}

impl NodeArgs {
    /// The kernel to run and its name for people: kernel.wasm, or the
    /// native kernel when asked for, or (with `native_if_missing`) when
    /// the default kernel.wasm is not built.
    fn kernel(&self, native_if_missing: bool) -> anyhow::Result<(KernelSource, Option<PathBuf>)> {
        let path = match (&self.kernel, self.native) {
            (_, true) => None,
            (Some(path), false) => Some(path.clone()),
            (None, false) => {
                Some(PathBuf::from(KERNEL_WASM)).filter(|p| !native_if_missing || p.is_file())
            }
        };
        let Some(path) = path else {
            return Ok((KernelSource::Native, None));
        };
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "cannot read the kernel at {}; build it with scripts/build-kernel, pass --kernel PATH, or use --native",
                path.display()
            )
        })?;
        Ok((KernelSource::Wasm(bytes), Some(path)))
    }
}

/// The one line a person reads when the sandbox cannot run.
fn explain(e: &SandboxError, data_dir: &Path, kernel: Option<&PathBuf>) -> String {
    match e {
        SandboxError::Bind { addr, reason } => format!(
            "cannot listen on {addr} ({reason}); is another sandbox running? pick another port with --rpc-addr"
        ),
        SandboxError::Rollup(RollupError::Kernel(k)) => format!(
            "{} is not a kernel this sandbox can run: {k}; rebuild it with scripts/build-kernel",
            kernel.map_or_else(|| "the kernel".to_owned(), |p| p.display().to_string())
        ),
        SandboxError::Rollup(RollupError::Store(s)) => format!(
            "cannot use the data directory {}: {s}; stop the other sandbox using it, or remove the directory to start afresh",
            data_dir.display()
        ),
        SandboxError::Rollup(RollupError::Inconsistent(m)) => format!(
            "the data directory {} is damaged ({m}); remove it to start afresh",
            data_dir.display()
        ),
        other => other.to_string(),
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let block_time = args.node.block_time;
    if !block_time.is_finite() || block_time < 0.0 {
        anyhow::bail!("--block-time must be a number of seconds, 0 or more");
    }
    let (kernel, kernel_path) = args.node.kernel(false)?;
    let config = SandboxConfig {
        data_dir: args.data_dir.clone(),
        rpc_addr: args.node.rpc_addr,
        block_time: (block_time > 0.0).then(|| Duration::from_secs_f64(block_time)),
        kernel,
        genesis_timestamp: None,
        preimages: args.node.preimages.clone(),
        cors_origins: args.node.cors_origins.clone(),
    };
    let running = match start(config).await {
        Ok(r) => r,
        Err(e) => anyhow::bail!(explain(&e, &args.data_dir, kernel_path.as_ref())),
    };
    say!(
        "pledgeroll sandbox: RPC at {} for rollup {}; Ctrl-C stops it",
        running.url(),
        running.sandbox().address()
    );
    shutdown_signal().await;
    running
        .stop()
        .await
        .context("the sandbox did not stop cleanly")?;
    Ok(())
}

async fn up(args: UpArgs) -> anyhow::Result<()> {
    let block_time = args.node.block_time;
    if !block_time.is_finite() || block_time <= 0.0 {
        anyhow::bail!("--block-time must be a positive number of seconds");
    }
    let data_dir = match args.data_dir.clone() {
        Some(dir) => dir,
        None => stack::default_data_dir().context("no home directory: give --data-dir")?,
    };
    let (kernel, kernel_path) = args.node.kernel(true)?;
    let kernel_name = match (&kernel, &kernel_path) {
        (KernelSource::Wasm(code), Some(path)) => format!(
            "{} (blake2b-256 {})",
            path.display(),
            hex::encode(pledgeroll_contracts::crypto::blake2b_256(code))
        ),
        _ => "the native kernel".to_owned(),
    };
    let mut config = StackConfig::local(data_dir.clone(), kernel);
    config.rpc_addr = args.node.rpc_addr;
    config.directory_addr = args.directory_addr;
    config.database_url = args.database_url.clone();
    config.database_schema = args.database_schema.clone();
    config.block_time = Some(Duration::from_secs_f64(block_time));
    config.preimages = args.node.preimages.clone();
    config.cors_origins = args.node.cors_origins.clone();
    let running = match stack::start(config).await {
        Ok(running) => running,
        Err(StackError::Sandbox(e)) => {
            anyhow::bail!(explain(&e, &data_dir.join("rollup"), kernel_path.as_ref()))
        }
        Err(StackError::Directory(e)) => anyhow::bail!(
            "{e}; is another directory running? pick another port with --directory-addr"
        ),
        Err(e) => return Err(e.into()),
    };
    let directory = running.directory_url();
    print_banner(&running, &kernel_name, &data_dir);

    let mut indexer_status = running.indexer().subscribe();
    let outcome = tokio::select! {
        () = shutdown_signal() => Ok(()),
        failed = indexer_status.wait_for(|s| s.failed.is_some()) => {
            let why = failed
                .ok()
                .and_then(|s| s.failed.clone())
                .unwrap_or_else(|| "its task ended".to_owned());
            Err(anyhow::anyhow!("the indexer stopped for good: {why}"))
        }
        result = async {
            if args.demo {
                run_demo(&running, &directory).await?;
            }
            std::future::pending::<anyhow::Result<()>>().await
        } => result,
    };
    say!("stopping…");
    let stopped = running.stop().await;
    // What made `up` stop comes first; a failed part also fails its stop.
    outcome?;
    stopped.context("the stack did not stop cleanly")
}

/// What `up` prints once the stack runs: where everything is, and the
/// bootstrap accounts with their public sandbox keys.
fn print_banner(running: &stack::RunningStack, kernel_name: &str, data_dir: &Path) {
    let node = running.node_url();
    let directory = running.directory_url();
    say!("pledgeroll is up, running {kernel_name}");
    say!(
        "  rollup node  {node}  (rollup {})",
        running.sandbox().sandbox().address()
    );
    say!("  directory    {directory}");
    say!(
        "  mirror       {}",
        stack::without_credentials(&running.database().url)
    );
    say!(
        "  data         {} ({})",
        data_dir.display(),
        if running.resumed() { "resumed" } else { "new" }
    );
    say!();
    say!("Bootstrap accounts, funded with 10,000 tez and 10,000 usd on a new rollup");
    say!("(sandbox keys: their secrets are public):");
    for account in &BOOTSTRAP_ACCOUNTS {
        say!(
            "  {}  {}  unencrypted:{}",
            account.name,
            account.address,
            account.secret_key
        );
    }
    say!();
    say!("The wallet talks to {node} (set PLEDGEROLL_NODE for another node).");
    say!("Ctrl-C stops everything; `up` again on the same data directory resumes.");
}

/// Fills the rollup with the demo, or completes what an earlier run left
/// undone, and waits for the mirror to show it.
async fn run_demo(running: &stack::RunningStack, directory: &str) -> anyhow::Result<()> {
    let node = running.node_url();
    let wallet = demo::connect(&node).await?;
    let demo = demo::Demo::settle(&wallet).await?;
    let done = demo.steps_done().await?;
    let steps = demo::STEPS.len();
    say!();
    if done == steps {
        say!("The demo is already on this rollup: {directory}/creators");
        return Ok(());
    }
    if done == 0 {
        say!("Filling in the demo (creators, pledges, a month of streaming, a project)…");
    } else {
        say!("Completing the demo an earlier run left unfinished: {done} of {steps} steps were already done…");
    }
    let summary = demo.fill().await.context("the demo failed")?;
    running
        .mirrored(Duration::from_secs(120))
        .await
        .context("the mirror did not catch up with the demo")?;
    say!("The demo is ready:");
    for (name, address) in &summary.creators {
        say!("  {name:<18} {directory}/creators/{address}");
    }
    say!(
        "  project            {directory}/projects/{} (an invoice waits on its time-lock until {})",
        summary.project.0,
        units::format_time(i64::try_from(summary.invoice_unlocks_at).unwrap_or(i64::MAX))
    );
    Ok(())
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    // `up` prints its own summary; its parts log only what goes wrong
    // unless RUST_LOG asks for more.
    let default_filter = match cli.command {
        Command::Run(_) => "info",
        Command::Up(_) => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Run(args) => run(args).await,
        Command::Up(args) => up(args).await,
    };
    if let Err(e) = result {
        eprintln!("pledgeroll-sandbox: {e:#}");
        std::process::exit(1);
    }
}
