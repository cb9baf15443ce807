//! `pledgeroll-indexer`: mirrors a pledgeroll rollup into Postgres or SQLite
//! (`run`) and checks a mirror against the node (`verify`);
//! `pledgeroll-directory` serves the directory over the mirror.

use std::net::SocketAddr;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use pledgeroll_indexer::cli::{run_command, shutdown_signal, MirrorArgs};
use pledgeroll_indexer::{start, verify, DbConfig, Follow, IndexerConfig, Mirror, Source};
use pledgeroll_interface::Backoff;

#[derive(Parser)]
#[command(
    name = "pledgeroll-indexer",
    version,
    about = "Mirrors a pledgeroll rollup's state and events into Postgres or SQLite"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Follows the node and keeps the mirror up to date until stopped.
    Run(RunArgs),
    /// Compares the mirror with the node's state at the mirror's level;
    /// exits with status 1 on any difference.
    Verify(DbArgs),
}

#[derive(Args, Clone)]
struct DbArgs {
    /// The rollup node's RPC.
    #[arg(long, env = "PLEDGEROLL_NODE", default_value = "http://127.0.0.1:8932")]
    node: String,
    #[command(flatten)]
    mirror: MirrorArgs,
}

impl DbArgs {
    fn database(&self) -> anyhow::Result<DbConfig> {
        Ok(self.mirror.database()?)
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum FollowArg {
    /// The newest block; reorganisations are undone.
    Head,
    /// The finalized block, a few levels behind.
    Finalized,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The first level to index into an empty mirror.
    #[arg(long, default_value_t = 0)]
    from_level: u32,
    /// Which block to follow.
    #[arg(long, value_enum, default_value = "head")]
    follow: FollowArg,
    /// Where to serve Prometheus metrics.
    #[arg(long, default_value = "127.0.0.1:9464")]
    metrics_addr: SocketAddr,
    /// Serve no metrics.
    #[arg(long)]
    no_metrics: bool,
    /// Most levels per database transaction while catching up.
    #[arg(long, default_value_t = 2_000)]
    batch_levels: usize,
    /// Most events per database transaction while catching up.
    #[arg(long, default_value_t = 100_000)]
    batch_events: usize,
    /// Levels read from the node at once.
    #[arg(long, default_value_t = 16)]
    fetch_concurrency: usize,
    /// Levels below the node's finalized level that keep undo information.
    #[arg(long, default_value_t = 100)]
    undo_window: u32,
    /// Milliseconds between looks for new blocks when the node's block
    /// stream is silent.
    #[arg(long, default_value_t = 500)]
    poll_ms: u64,
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let mut config = IndexerConfig::new(args.db.node.clone(), String::new());
    config.database = args.db.database()?;
    config.from_level = args.from_level;
    config.follow = match args.follow {
        FollowArg::Head => Follow::Head,
        FollowArg::Finalized => Follow::Finalized,
    };
    config.metrics_addr = (!args.no_metrics).then_some(args.metrics_addr);
    config.batch_levels = args.batch_levels.max(1);
    config.batch_events = args.batch_events.max(1);
    config.fetch_concurrency = args.fetch_concurrency.max(1);
    config.undo_window = args.undo_window;
    config.poll_interval = Duration::from_millis(args.poll_ms.max(10));
    config.progress = true;

    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));
    let indexer = loop {
        match start(config.clone()).await {
            Ok(indexer) => break indexer,
            Err(e) if e.is_retryable() => {
                let pause = backoff.pause();
                tracing::warn!(error = %e, retry_in = ?pause, "cannot open the mirror yet; retrying");
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = shutdown_signal() => return Ok(()),
                }
            }
            Err(e) => return Err(e.into()),
        }
    };
    if let Some(addr) = indexer.metrics_addr() {
        tracing::info!(%addr, "serving metrics on /metrics");
    }
    tracing::info!(node = %config.node, "following the node");
    let mut status = indexer.subscribe();
    tokio::select! {
        () = shutdown_signal() => tracing::info!("stopping"),
        _ = status.wait_for(|s| s.failed.is_some()) => {}
    }
    indexer.stop().await?;
    Ok(())
}

async fn check(args: DbArgs) -> anyhow::Result<bool> {
    let db = pledgeroll_indexer::Db::connect(&args.database()?).await?;
    let mirror = Mirror::open(db).await?;
    let report = verify(&mirror, &Source::new(&args.node)).await?;
    println!("level {} (block {})", report.level, report.block);
    let checked: Vec<String> = report
        .checked
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    println!("compared: {}", checked.join(", "));
    let statuses: Vec<String> = report
        .pledge_statuses
        .iter()
        .map(|(status, n)| format!("{n} {status}"))
        .collect();
    println!("pledges: {}", statuses.join(", "));
    for d in &report.differences {
        println!("difference: {d}");
    }
    if report.is_consistent() {
        println!("the mirror matches the node");
    } else {
        println!("{} differences", report.differences.len());
    }
    mirror.db().close().await;
    Ok(report.is_consistent())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    run_command(async {
        match cli.command {
            Command::Run(args) => run(args).await.map(|()| true),
            Command::Verify(args) => check(args).await,
        }
    })
}
