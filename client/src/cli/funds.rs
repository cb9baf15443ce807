//! Moving funds: `deposit` from layer 1, `transfer` to an account, `tip` an
//! account or a project with a memo, and `withdraw` to layer 1.

use anyhow::{anyhow, Result};
use pledgeroll_client::deposit::DepositCall;
use pledgeroll_client::request::amount;
use pledgeroll_client::{sandbox, Request};
use serde_json::json;

use super::context::Ctx;
use super::send::{run_request, Send};

/// `pledgeroll deposit`: prints the layer-1 call that deposits
/// `amount_text` to `to` and, on a sandbox, makes it on the simulated
/// layer 1.
pub async fn deposit(ctx: &Ctx, amount_text: &str, to: &str) -> Result<()> {
    let w = ctx.wallet().await?;
    let (asset, units, info) = amount(&w, amount_text).await?;
    let receiver = ctx.address(to)?;
    let ticket = w
        .assets()
        .await?
        .into_iter()
        .find(|(id, _, _)| *id == asset)
        .map(|(_, ticket, _)| ticket)
        .ok_or_else(|| anyhow!("the rollup has no asset {asset}"))?;
    let call = DepositCall {
        rollup: w.rollup,
        receiver,
        ticket,
        amount: units,
    };
    let what = info.format(u128::from(units));
    let mut lines = vec![
        format!("To deposit {what} to {receiver}, send the tickets to the rollup from layer 1:"),
        format!("  contract    {}", call.rollup),
        format!("  entrypoint  {}", DepositCall::ENTRYPOINT),
        format!("  parameter   {}", call.parameter()),
        format!("  {}", call.octez_client("<your layer-1 account>")),
        "(the tickets come from their ticketer first: for tez, its exchanger's `mint`)".to_owned(),
    ];
    let mut value = json!({
        "contract": call.rollup.to_string(),
        "entrypoint": DepositCall::ENTRYPOINT,
        "parameter": call.parameter_json(),
        "octez_client": call.octez_client("<your layer-1 account>"),
    });
    // A sandbox's simulated layer 1 makes the call itself.
    let sandbox_asset = sandbox::assets(&w.node).await.into_iter().find(|e| {
        e.ticketer == call.ticket.ticketer.to_string()
            && e.token_id == call.ticket.token_id
            && e.metadata == call.ticket.metadata.as_ref().map(hex::encode)
    });
    if let Some(entry) = sandbox_asset {
        let level = sandbox::deposit(&w.node, &receiver, &entry.info.symbol, units).await?;
        lines.push(format!(
            "made on the sandbox's simulated layer 1: {what} credited to {receiver} at level {level}"
        ));
        if let Some(fields) = value.as_object_mut() {
            fields.insert("level".to_owned(), json!(level));
        }
    }
    ctx.print(lines.join("\n"), value);
    Ok(())
}

/// `pledgeroll transfer`: moves `amount` to the account `to`.
pub async fn transfer(ctx: &Ctx, send: &Send, amount: &str, to: &str) -> Result<()> {
    let w = ctx.wallet().await?;
    let request = Request::Transfer {
        to: ctx.address(to)?.to_string(),
        amount: amount.to_owned(),
    };
    run_request(ctx, &w, send, &request).await
}

/// `pledgeroll tip`: a one-off payment with a memo to an account or a
/// project.
pub async fn tip(ctx: &Ctx, send: &Send, amount: &str, to: &str, memo: &str) -> Result<()> {
    let w = ctx.wallet().await?;
    let request = Request::Tip {
        to: match to.strip_prefix("project:") {
            Some(_) => to.to_owned(),
            None => ctx.address(to)?.to_string(),
        },
        amount: amount.to_owned(),
        memo: Some(memo.to_owned()),
    };
    run_request(ctx, &w, send, &request).await
}

/// `pledgeroll withdraw`: sends funds to layer 1, to the signer's own
/// account unless `to` names another account or a contract.
pub async fn withdraw(
    ctx: &Ctx,
    send: &Send,
    amount: &str,
    to: Option<&str>,
    entrypoint: Option<&str>,
) -> Result<()> {
    let w = ctx.wallet().await?;
    let request = Request::Withdraw {
        amount: amount.to_owned(),
        destination: to.map(str::to_owned),
        entrypoint: entrypoint.map(str::to_owned),
    };
    run_request(ctx, &w, send, &request).await
}
