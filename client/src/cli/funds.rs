//! Moving funds: `transfer` to an account, `tip` an account or a project
//! with a memo, and `withdraw` to layer 1.

use anyhow::{anyhow, Result};
use pledgeroll_contracts::{Contract, Operation};

use super::context::{amount, text, Ctx};
use super::send::{run_op, Send};

/// `pledgeroll transfer`: moves `amount_text` to the account `to`.
pub async fn transfer(ctx: &Ctx, send: &Send, amount_text: &str, to: &str) -> Result<()> {
    let w = ctx.wallet().await?;
    let (asset, units, _) = amount(&w, amount_text).await?;
    let to = ctx.address(to)?;
    let op = Operation::Transfer {
        to,
        asset,
        amount: units,
    };
    run_op(ctx, &w, send, op).await
}

/// `pledgeroll tip`: a one-off payment with a memo to an account or a
/// project.
pub async fn tip(ctx: &Ctx, send: &Send, amount_text: &str, to: &str, memo: &str) -> Result<()> {
    let w = ctx.wallet().await?;
    let (asset, units, _) = amount(&w, amount_text).await?;
    let to = ctx.holder(to)?;
    let memo = text("memo", memo)?;
    let op = Operation::Tip {
        to,
        asset,
        amount: units,
        memo,
    };
    run_op(ctx, &w, send, op).await
}

/// `pledgeroll withdraw`: sends funds to a layer-1 contract as a ticket.
pub async fn withdraw(
    ctx: &Ctx,
    send: &Send,
    amount_text: &str,
    to: Option<&str>,
    entrypoint: Option<&str>,
) -> Result<()> {
    let w = ctx.wallet().await?;
    let (asset, units, _) = amount(&w, amount_text).await?;
    let destination = match to {
        Some(to) => to.parse::<Contract>().map_err(|e| anyhow!("{e}"))?,
        None => Contract::Implicit(ctx.signer(&send.signer)?.address()),
    };
    let entrypoint = entrypoint.unwrap_or(match destination {
        Contract::Implicit(_) => "burn",
        Contract::Originated(_) => "default",
    });
    let entrypoint = text("entrypoint", entrypoint)?;
    let op = Operation::Withdraw {
        asset,
        amount: units,
        destination,
        entrypoint,
    };
    run_op(ctx, &w, send, op).await
}
