//! `pledgeroll-sandbox`: a local rollup node running the pledgeroll kernel
//! over a simulated layer 1, serving the octez-smart-rollup-node RPC.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use pledgeroll_sandbox::{
    start, KernelSource, RollupError, SandboxConfig, SandboxError, KERNEL_WASM,
};

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
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Where the rollup's data lives; a restart resumes from it.
    #[arg(long, default_value = "sandbox-data")]
    data_dir: PathBuf,
    /// The RPC address.
    #[arg(long, default_value = "127.0.0.1:8932")]
    rpc_addr: SocketAddr,
    /// Seconds between levels (fractions allowed); 0 makes levels only on
    /// demand (`POST /sandbox/produce-level`).
    #[arg(long, default_value_t = 1.0)]
    block_time: f64,
    /// The kernel to run (default: target/kernel/kernel.wasm).
    #[arg(long, conflicts_with = "native")]
    kernel: Option<PathBuf>,
    /// Runs the kernel linked into the sandbox instead of kernel.wasm.
    #[arg(long)]
    native: bool,
    /// A directory of preimages the kernel may reveal, named by hash.
    #[arg(long)]
    preimages: Option<PathBuf>,
}

/// The one line a person reads when the sandbox cannot run.
fn explain(e: &SandboxError, args: &RunArgs, kernel: Option<&PathBuf>) -> String {
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
            args.data_dir.display()
        ),
        SandboxError::Rollup(RollupError::Inconsistent(m)) => format!(
            "the data directory {} is damaged ({m}); remove it to start afresh",
            args.data_dir.display()
        ),
        other => other.to_string(),
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    if !args.block_time.is_finite() || args.block_time < 0.0 {
        anyhow::bail!("--block-time must be a number of seconds, 0 or more");
    }
    let (kernel, kernel_path) = if args.native {
        (KernelSource::Native, None)
    } else {
        let path = args
            .kernel
            .clone()
            .unwrap_or_else(|| PathBuf::from(KERNEL_WASM));
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "cannot read the kernel at {}; build it with scripts/build-kernel, pass --kernel PATH, or use --native",
                path.display()
            )
        })?;
        (KernelSource::Wasm(bytes), Some(path))
    };
    let config = SandboxConfig {
        data_dir: args.data_dir.clone(),
        rpc_addr: args.rpc_addr,
        block_time: (args.block_time > 0.0).then(|| Duration::from_secs_f64(args.block_time)),
        kernel,
        genesis_timestamp: None,
        preimages: args.preimages.clone(),
    };
    let running = match start(config).await {
        Ok(r) => r,
        Err(e) => anyhow::bail!(explain(&e, &args, kernel_path.as_ref())),
    };
    println!(
        "pledgeroll sandbox: RPC at {} for rollup {}; Ctrl-C stops it",
        running.url(),
        running.sandbox().address()
    );
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    running
        .stop()
        .await
        .context("the sandbox did not stop cleanly")?;
    Ok(())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args).await,
    };
    if let Err(e) = result {
        eprintln!("pledgeroll-sandbox: {e:#}");
        std::process::exit(1);
    }
}
