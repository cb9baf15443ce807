//! `pledgeroll-directory`: serves the read-only directory (website, JSON
//! API, feeds) over a mirror that `pledgeroll-indexer run` keeps.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use pledgeroll_directory::Relay;
use pledgeroll_indexer::cli::{run_command, shutdown_signal, MirrorArgs};

#[derive(Parser)]
#[command(
    name = "pledgeroll-directory",
    version,
    about = "Serves the read-only pledgeroll directory over a mirror"
)]
struct Cli {
    #[command(flatten)]
    mirror: MirrorArgs,
    /// Where to serve the directory.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// A rollup node's RPC URL: the pages then offer their actions, and the
    /// directory builds operations for wallets and relays them to it.
    #[arg(long, env = "PLEDGEROLL_NODE")]
    node: Option<String>,
    /// The Tezos network Beacon wallets are asked to connect for: mainnet,
    /// ghostnet, shadownet, weeklynet or custom.
    #[arg(long, env = "PLEDGEROLL_WALLET_NETWORK", default_value = "mainnet")]
    wallet_network: String,
    /// Where people reach the directory (`https://directory.example`):
    /// feeds link from it. Default: `http://` and `--addr`.
    #[arg(long, env = "PLEDGEROLL_PUBLIC_URL", value_parser = public_url)]
    public_url: Option<String>,
}

/// A public URL: `http://` or `https://`, a host, no query or fragment.
fn public_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or("the public URL starts with https:// or http://")?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || rest.contains(['?', '#', ' ', '"', '<', '>']) {
        return Err("the public URL needs a host and no query, fragment, space or quote".into());
    }
    Ok(text.trim_end_matches('/').to_owned())
}

async fn serve(cli: Cli) -> anyhow::Result<()> {
    let db = cli.mirror.database()?;
    let relay = cli
        .node
        .as_deref()
        .map(|node| Relay::new(node).for_network(&cli.wallet_network))
        .transpose()?;
    let directory = pledgeroll_directory::serve(
        &db.url,
        db.schema.as_deref(),
        cli.addr,
        relay,
        cli.public_url.as_deref(),
    )
    .await?;
    tracing::info!(url = %directory.url(), "serving the directory");
    shutdown_signal().await;
    tracing::info!("stopping");
    directory.stop().await?;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    run_command(async { serve(cli).await.map(|()| true) })
}
