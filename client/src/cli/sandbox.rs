//! `pledgeroll sandbox`: the sandbox's own helpers, test deposits and
//! moving its layer-1 clock.

use anyhow::{anyhow, Context, Result};
use clap::Subcommand;
use pledgeroll_client::assets::{parse_units, split_symbol};
use pledgeroll_client::{sandbox, Wallet};
use pledgeroll_contracts::units::format_duration;
use serde_json::json;

use super::context::Ctx;

/// `pledgeroll sandbox …`.
#[derive(Subcommand)]
pub enum SandboxCommand {
    /// Deposit sandbox funds to an account (as a layer-1 ticket transfer).
    Deposit {
        /// Amount with its asset, e.g. `100 tez`.
        amount: String,
        /// The receiver: key name or tz address.
        #[arg(long)]
        to: String,
    },
    /// Move the sandbox's layer-1 clock forward, e.g. `30d`.
    Advance {
        /// How far.
        by: String,
    },
}

/// Runs a `sandbox` subcommand.
pub async fn run(ctx: &Ctx, command: SandboxCommand) -> Result<()> {
    let w = ctx.wallet().await?;
    match command {
        SandboxCommand::Deposit { amount, to } => deposit(ctx, &w, &amount, &to).await,
        SandboxCommand::Advance { by } => {
            let secs =
                pledgeroll_client::request::seconds(&by).context("give a duration like 30d")?;
            let level = sandbox::advance(&w.node, secs).await?;
            ctx.print(
                format!(
                    "moved the clock {} forward (level {level})",
                    format_duration(secs)
                ),
                json!({ "level": level }),
            );
            Ok(())
        }
    }
}

/// `sandbox deposit`: mints the sandbox's own asset named in `amount` to
/// `to`, as its layer-1 ticket transfer would.
async fn deposit(ctx: &Ctx, w: &Wallet, amount: &str, to: &str) -> Result<()> {
    let (number, symbol) = split_symbol(amount);
    let symbol = symbol.unwrap_or("tez");
    let entry = sandbox::assets(&w.node)
        .await
        .into_iter()
        .find(|e| e.info.symbol.eq_ignore_ascii_case(symbol))
        .ok_or_else(|| {
            anyhow!("this node is not a pledgeroll sandbox, or has no asset `{symbol}`")
        })?;
    let units = parse_units(number, &entry.info)?;
    let to = ctx.address(to)?;
    let level = sandbox::deposit(&w.node, &to, &entry.info.symbol, units).await?;
    ctx.print(
        format!(
            "deposited {} to {to} (level {level})",
            entry.info.format(u128::from(units))
        ),
        json!({ "level": level }),
    );
    Ok(())
}
