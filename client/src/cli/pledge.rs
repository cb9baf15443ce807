//! `pledgeroll pledge`: pledging to a tier, and changing, pausing,
//! resuming or cancelling a pledge.

use anyhow::{anyhow, Result};
use clap::Subcommand;
use pledgeroll_client::{AssetInfo, Wallet};
use pledgeroll_contracts::state::PledgeEnd;
use pledgeroll_contracts::stream::rate_for;
use pledgeroll_contracts::units::{format_duration, DAY};
use pledgeroll_contracts::{Address, Holder, Operation, PledgeId, TierId};

use super::context::{seconds, units_in, Ctx};
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
    let (send, op) = match command {
        PledgeCommand::To {
            send,
            tier,
            amount,
            for_,
            until,
            cap,
        } => {
            let end = pledge_end(for_.as_deref(), until.as_deref())?;
            let op = pledge_to(&w, TierId(tier), amount, end, cap).await?;
            warn_if_soon_dry(&w, &ctx.signer(&send.signer)?.address(), &op).await?;
            (send, op)
        }
        PledgeCommand::Change {
            send,
            pledge,
            tier,
            amount,
        } => {
            let info = tier_asset(&w, TierId(tier)).await?;
            let amount = amount.map(|a| units_in(&a, &info)).transpose()?;
            let op = Operation::ChangePledge {
                pledge: PledgeId(pledge),
                tier: TierId(tier),
                amount,
            };
            (send, op)
        }
        PledgeCommand::Pause { send, pledge } => (
            send,
            Operation::PausePledge {
                pledge: PledgeId(pledge),
            },
        ),
        PledgeCommand::Resume { send, pledge } => (
            send,
            Operation::ResumePledge {
                pledge: PledgeId(pledge),
            },
        ),
        PledgeCommand::Cancel { send, pledge } => (
            send,
            Operation::CancelPledge {
                pledge: PledgeId(pledge),
            },
        ),
    };
    run_op(ctx, &w, &send, op).await
}

/// How tier `tier`'s asset is written, or an error when there is no such
/// tier.
async fn tier_asset(w: &Wallet, tier: TierId) -> Result<AssetInfo> {
    let t = w
        .tier(tier)
        .await?
        .ok_or_else(|| anyhow!("there is no tier {}", tier.0))?;
    Ok(w.asset_info(t.asset).await?)
}

/// The operation of `pledge to`: amounts in the tier's asset; `--for`
/// counted from the second the pledge starts, `--until` a date.
async fn pledge_to(
    w: &Wallet,
    tier: TierId,
    amount: Option<String>,
    end: Option<PledgeEnd>,
    cap: Option<String>,
) -> Result<Operation> {
    let info = tier_asset(w, tier).await?;
    let amount = amount.map(|a| units_in(&a, &info)).transpose()?;
    let cap = cap.map(|c| units_in(&c, &info)).transpose()?;
    Ok(Operation::Pledge {
        tier,
        amount,
        end,
        cap,
    })
}

/// When a pledge ends, from `--for` (a duration from its start) or
/// `--until` (a date, midnight UTC, or an RFC 3339 instant).
pub fn pledge_end(for_: Option<&str>, until: Option<&str>) -> Result<Option<PledgeEnd>> {
    match (for_, until) {
        (Some(d), _) => Ok(Some(PledgeEnd::After {
            seconds: seconds(d, "--for takes a duration like 180d")?,
        })),
        (None, Some(u)) => {
            let text = if u.len() == 10 {
                format!("{u}T00:00:00Z")
            } else {
                u.to_owned()
            };
            let at = humantime::parse_rfc3339_weak(&text).map_err(|_| {
                anyhow!("--until takes a date like 2027-03-01 or 2027-03-01T12:00:00Z")
            })?;
            let time = at
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|_| anyhow!("--until is before 1970"))?
                .as_secs();
            Ok(Some(PledgeEnd::At { time }))
        }
        (None, None) => Ok(None),
    }
}

/// Days of balance under which a new pledge earns a warning.
const SOON_DRY_DAYS: u64 = 7;

/// Warns, before a pledge is sent, when with it the patron's balance in its
/// asset would run out within [`SOON_DRY_DAYS`] days (the stream then
/// stops until a deposit).
async fn warn_if_soon_dry(w: &Wallet, patron: &Address, op: &Operation) -> Result<()> {
    let Operation::Pledge { tier, amount, .. } = op else {
        return Ok(());
    };
    let Some(t) = w.tier(*tier).await? else {
        return Ok(());
    };
    let rate = rate_for(amount.unwrap_or(t.amount_per_period), t.period).unwrap_or(u128::MAX);
    let flow = w.flow(&Holder::Account(*patron), t.asset).await?;
    let now = w.clock().await?.now;
    let balance = flow.balance_at(now.max(flow.at)).unwrap_or(0);
    let net_out = flow
        .outflow
        .saturating_add(rate)
        .saturating_sub(flow.inflow);
    if net_out == 0 {
        return Ok(());
    }
    let runway = u64::try_from(balance / net_out).unwrap_or(u64::MAX);
    if runway < SOON_DRY_DAYS * DAY {
        let info = w.asset_info(t.asset).await?;
        eprintln!(
            "warning: with this pledge your {} runs out in {}; the pledge stops then until you deposit",
            info.symbol,
            format_duration(runway)
        );
    }
    Ok(())
}
