//! `pledgeroll pledge`: pledging to a tier, and changing, pausing,
//! resuming or cancelling a pledge.

use anyhow::{Context, Result};
use clap::Subcommand;
use pledgeroll_client::request::pledge_end;
use pledgeroll_client::{Request, Wallet};
use pledgeroll_contracts::{Address, Operation};

use super::context::Ctx;
use super::send::{run_op, Send};

/// `pledgeroll pledge …`.
#[derive(Subcommand)]
pub enum PledgeCommand {
    /// Pledge to a tier.
    To {
        #[command(flatten)]
        send: Send,
        /// The tier's number.
        tier: u64,
        /// Pay more than the tier's price per period, e.g. `8 tez`.
        #[arg(long)]
        amount: Option<String>,
        /// End this long after the pledge starts, e.g. `180d`.
        #[arg(long, conflicts_with = "until")]
        for_: Option<String>,
        /// End at this date (`2027-03-01`, midnight UTC) or instant
        /// (`2027-03-01T12:00:00Z`).
        #[arg(long)]
        until: Option<String>,
        /// Never pay more than this in all, e.g. `50 tez`.
        #[arg(long)]
        cap: Option<String>,
    },
    /// Move a pledge to another tier of the same creator.
    Change {
        #[command(flatten)]
        send: Send,
        /// The pledge's number.
        pledge: u64,
        /// The new tier.
        tier: u64,
        /// Pay more than the new tier's price per period.
        #[arg(long)]
        amount: Option<String>,
    },
    /// Pause a pledge.
    Pause {
        #[command(flatten)]
        send: Send,
        /// The pledge's number.
        pledge: u64,
    },
    /// Resume a paused pledge.
    Resume {
        #[command(flatten)]
        send: Send,
        /// The pledge's number.
        pledge: u64,
    },
    /// Cancel a pledge for good.
    Cancel {
        #[command(flatten)]
        send: Send,
        /// The pledge's number.
        pledge: u64,
    },
}

/// Runs a `pledge` subcommand.
pub async fn run(ctx: &Ctx, command: PledgeCommand) -> Result<()> {
    let w = ctx.wallet().await?;
    let (send, request) = match command {
        PledgeCommand::To {
            send,
            tier,
            amount,
            for_,
            until,
            cap,
        } => {
            // Said against the option that holds it.
            if let Some(u) = until.as_deref() {
                pledge_end(None, Some(u))
                    .context("--until takes a date like 2027-03-01 or 2027-03-01T12:00:00Z")?;
            }
            if let Some(d) = for_.as_deref() {
                pledge_end(Some(d), None).context("--for takes a duration like 180d")?;
            }
            (
                send,
                Request::Pledge {
                    tier,
                    amount,
                    until,
                    for_,
                    cap,
                },
            )
        }
        PledgeCommand::Change {
            send,
            pledge,
            tier,
            amount,
        } => (
            send,
            Request::ChangePledge {
                pledge,
                tier,
                amount,
            },
        ),
        PledgeCommand::Pause { send, pledge } => (send, Request::PausePledge { pledge }),
        PledgeCommand::Resume { send, pledge } => (send, Request::ResumePledge { pledge }),
        PledgeCommand::Cancel { send, pledge } => (send, Request::CancelPledge { pledge }),
    };
    let signer = ctx.signer(&send.signer)?.address();
    let op = request.operation(&w, &signer).await?;
    warn_if_soon_dry(&w, &signer, &op).await?;
    run_op(ctx, &w, &send, op).await
}

/// Warns, before a pledge is sent, when with it the patron's balance would
/// soon run out ([`Wallet::soon_dry`]).
async fn warn_if_soon_dry(w: &Wallet, patron: &Address, op: &Operation) -> Result<()> {
    if let Some(warning) = w.soon_dry(patron, op).await? {
        eprintln!("warning: {warning}");
    }
    Ok(())
}
