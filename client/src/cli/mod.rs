//! The `pledgeroll` command line: its arguments, and one module per
//! command group that reads them, calls the wallet library and prints the
//! result ([`output`] prints every result as text or JSON).

mod alerts;
mod context;
mod creator;
mod funds;
mod keys;
mod output;
mod pledge;
mod project;
mod sandbox;
mod send;
mod status;

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use clap::{Parser, Subcommand};

use context::Ctx;
use send::Send;

/// The sandbox's RPC address, the default node.
const DEFAULT_NODE: &str = "http://127.0.0.1:8932";

/// The command line: global options and one command.
#[derive(Parser)]
#[command(
    name = "pledgeroll",
    version,
    about = "Wallet for pledgeroll: recurring pledges and project escrows on a Tezos smart rollup"
)]
pub struct Cli {
    /// The rollup node's RPC address.
    #[arg(long, global = true, env = "PLEDGEROLL_NODE", default_value = DEFAULT_NODE)]
    node: String,
    /// Where keys and settings live (default: ~/.pledgeroll).
    #[arg(long, global = true, env = "PLEDGEROLL_HOME")]
    home: Option<PathBuf>,
    /// Print results as JSON, for scripts.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

/// The commands, a group of subcommands or a single action each.
#[derive(Subcommand)]
pub enum Command {
    /// Manage keys: generate, import, list, show, export, back up, recover.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Balances, pledges in and out, and runway of an account.
    Status {
        /// A key name or a tz address (default: every key).
        who: Option<String>,
        /// Warn when a balance lasts fewer days than this.
        #[arg(long, default_value_t = 14)]
        warn_days: u64,
    },
    /// Move funds to another account.
    Transfer {
        #[command(flatten)]
        send: Send,
        /// Amount with its asset, e.g. `5 tez`.
        amount: String,
        /// The receiver: key name or tz address.
        #[arg(long)]
        to: String,
    },
    /// Deposit funds from layer 1: prints the layer-1 call (and makes it on
    /// a sandbox's simulated layer 1).
    Deposit {
        /// Amount with its asset, e.g. `10 tez`.
        amount: String,
        /// The account credited on the rollup: key name or tz address.
        #[arg(long)]
        to: String,
    },
    /// A one-off tip with a memo, to an account or a project (`project:N`).
    Tip {
        #[command(flatten)]
        send: Send,
        /// Amount with its asset, e.g. `2 tez`.
        amount: String,
        /// The receiver: key name, tz address or `project:N`.
        #[arg(long)]
        to: String,
        /// A short message.
        #[arg(long, default_value = "")]
        memo: String,
    },
    /// Send funds back to layer 1: to your own account by default (the
    /// ticket's exchanger pays it), or to another account or a contract.
    Withdraw {
        #[command(flatten)]
        send: Send,
        /// Amount with its asset, e.g. `5 tez`.
        amount: String,
        /// Who receives it on layer 1: an account (`tz…`, paid by the
        /// ticket's exchanger) or a contract (`KT1…`, sent the ticket).
        /// Default: the signer's own account.
        #[arg(long)]
        to: Option<String>,
        /// The entrypoint called: the exchanger's (default `burn`) for an
        /// account, the contract's (default `default`) for a contract.
        #[arg(long)]
        entrypoint: Option<String>,
    },
    /// Publish a creator profile and manage tiers.
    #[command(subcommand)]
    Creator(creator::CreatorCommand),
    /// Pledge to a tier, and change, pause, resume or cancel pledges.
    #[command(subcommand)]
    Pledge(pledge::PledgeCommand),
    /// Project escrows: create, fund, tickets, invoices, approvals, refunds.
    #[command(subcommand)]
    Project(project::ProjectCommand),
    /// Alerts by webhook from a directory: subscribe, list, stop.
    #[command(subcommand)]
    Alerts(alerts::AlertsCommand),
    /// Sign a statement offline (`bytes_to_sign` from `--dry-run`), showing
    /// its words first; prints the signature.
    Sign {
        /// The signing key's name.
        #[arg(long = "as")]
        signer: String,
        /// The bytes to sign, hex: a packed Michelson string.
        bytes: String,
    },
    /// Send an operation signed elsewhere: a whole signed operation (hex),
    /// or `--unsigned` (from `--dry-run`) with `--signature`.
    Submit {
        /// The signed operation, hex.
        #[arg(required_unless_present = "unsigned", conflicts_with = "unsigned")]
        signed: Option<String>,
        /// The unsigned operation, hex (`unsigned` from `--dry-run`).
        #[arg(long, requires = "signature")]
        unsigned: Option<String>,
        /// Its signature (`edsig…`, `spsig1…`, `p2sig…` or `sig…`).
        #[arg(long, requires = "unsigned")]
        signature: Option<String>,
        /// The signer's public key, to send the operation revealing it
        /// (an account's first operation).
        #[arg(long, requires = "unsigned")]
        public_key: Option<String>,
        /// Do not wait for the receipt.
        #[arg(long)]
        no_wait: bool,
    },
    /// Sandbox helpers: deposit test funds, move time forward.
    #[command(subcommand)]
    Sandbox(sandbox::SandboxCommand),
}

/// Runs one command line; the error is for one line on standard error.
pub async fn run(cli: Cli) -> Result<()> {
    let home = match cli.home {
        Some(h) => h,
        None => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".pledgeroll"))
            .ok_or_else(|| anyhow!("no home directory: set PLEDGEROLL_HOME"))?,
    };
    let ctx = Ctx {
        home,
        node: cli.node,
        json: cli.json,
    };
    match cli.command {
        Command::Keys(k) => keys::run(&ctx, k),
        Command::Status { who, warn_days } => status::run(&ctx, who, warn_days).await,
        Command::Transfer { send, amount, to } => funds::transfer(&ctx, &send, &amount, &to).await,
        Command::Tip {
            send,
            amount,
            to,
            memo,
        } => funds::tip(&ctx, &send, &amount, &to, &memo).await,
        Command::Deposit { amount, to } => funds::deposit(&ctx, &amount, &to).await,
        Command::Withdraw {
            send,
            amount,
            to,
            entrypoint,
        } => funds::withdraw(&ctx, &send, &amount, to.as_deref(), entrypoint.as_deref()).await,
        Command::Creator(c) => creator::run(&ctx, c).await,
        Command::Pledge(p) => pledge::run(&ctx, p).await,
        Command::Project(p) => project::run(&ctx, p).await,
        Command::Alerts(a) => alerts::run(&ctx, a).await,
        Command::Sign { signer, bytes } => send::sign(&ctx, &signer, &bytes),
        Command::Submit {
            signed,
            unsigned,
            signature,
            public_key,
            no_wait,
        } => {
            let from = match (signed, unsigned, signature) {
                (Some(signed), _, _) => send::Elsewhere::Signed(signed),
                (None, Some(unsigned), Some(signature)) => send::Elsewhere::Unsigned {
                    unsigned,
                    signature,
                    public_key,
                },
                _ => anyhow::bail!("give a signed operation, or --unsigned with --signature"),
            };
            send::submit(&ctx, from, no_wait).await
        }
        Command::Sandbox(s) => sandbox::run(&ctx, s).await,
    }
}
