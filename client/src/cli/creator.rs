//! `pledgeroll creator`: publishing a creator profile, adding and retiring
//! tiers, pausing and resuming every pledge to you, and showing a creator.

use anyhow::{anyhow, Result};
use clap::Subcommand;
use pledgeroll_client::{Request, Wallet};
use pledgeroll_contracts::stream::per_month;
use pledgeroll_contracts::units::format_period;
use pledgeroll_contracts::Holder;
use serde_json::json;

use super::context::Ctx;
use super::send::{run_request, Send};

/// `pledgeroll creator …`.
#[derive(Subcommand)]
pub enum CreatorCommand {
    /// Publish or replace your creator profile.
    Profile {
        #[command(flatten)]
        send: Send,
        /// Display name.
        #[arg(long)]
        name: String,
        /// What you make.
        #[arg(long, default_value = "")]
        description: String,
        /// A link to your work; repeat for more.
        #[arg(long = "link")]
        links: Vec<String>,
    },
    /// Add a tier.
    AddTier {
        #[command(flatten)]
        send: Send,
        /// Short title.
        #[arg(long)]
        title: String,
        /// What patrons get.
        #[arg(long, default_value = "")]
        perks: String,
        /// Price per period with its asset, e.g. `5 tez`.
        #[arg(long)]
        price: String,
        /// hour, day, week, month (30 days), year, or a duration like 90d.
        #[arg(long, default_value = "month")]
        period: String,
        /// Most patrons the tier takes.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Retire a tier: no new pledges, existing ones go on.
    RetireTier {
        #[command(flatten)]
        send: Send,
        /// The tier's number.
        tier: u64,
    },
    /// Pause every pledge to you.
    Pause {
        #[command(flatten)]
        send: Send,
    },
    /// Resume the pledges your pause stopped.
    Resume {
        #[command(flatten)]
        send: Send,
    },
    /// Show a creator: profile, tiers, patrons, income.
    Show {
        /// A key name or tz address.
        who: String,
    },
}

/// Runs a `creator` subcommand.
pub async fn run(ctx: &Ctx, command: CreatorCommand) -> Result<()> {
    let w = ctx.wallet().await?;
    let (send, request) = match command {
        CreatorCommand::Profile {
            send,
            name,
            description,
            links,
        } => (
            send,
            Request::SetProfile {
                name,
                description: Some(description),
                links,
            },
        ),
        CreatorCommand::AddTier {
            send,
            title,
            perks,
            price,
            period,
            limit,
        } => (
            send,
            Request::AddTier {
                title,
                perks: Some(perks),
                price,
                period: Some(period),
                patron_limit: limit,
            },
        ),
        CreatorCommand::RetireTier { send, tier } => (send, Request::RetireTier { tier }),
        CreatorCommand::Pause { send } => (send, Request::PauseCreator),
        CreatorCommand::Resume { send } => (send, Request::ResumeCreator),
        CreatorCommand::Show { who } => return show(ctx, &w, &who).await,
    };
    run_request(ctx, &w, &send, &request).await
}

/// `creator show`: the profile, then one line per tier.
async fn show(ctx: &Ctx, w: &Wallet, who: &str) -> Result<()> {
    let a = ctx.address(who)?;
    let c = w
        .creator(&a)
        .await?
        .ok_or_else(|| anyhow!("{a} has no creator profile"))?;
    let mut lines = vec![format!(
        "{} ({a}){}",
        c.profile.name,
        if c.pause.is_paused() {
            " — paused"
        } else {
            ""
        }
    )];
    if !c.profile.description.as_str().is_empty() {
        lines.push(c.profile.description.to_string());
    }
    for l in c.profile.links.items() {
        lines.push(format!("  {l}"));
    }
    let mut tiers = Vec::new();
    for id in c.tiers.items().iter().copied() {
        if let Some(t) = w.tier(id).await? {
            let info = w.asset_info(t.asset).await?;
            // The protocol counts pledges against a tier's limit, and a
            // patron may hold several: these are pledges, not patrons.
            let pledges = match t.patron_limit {
                Some(limit) => format!("{} of at most {limit} live pledges", t.patrons),
                None if t.patrons == 1 => "1 live pledge".to_owned(),
                None => format!("{} live pledges", t.patrons),
            };
            lines.push(format!(
                "tier {}: {} — {}/{}, {pledges}{}",
                id.0,
                t.title,
                info.format(u128::from(t.amount_per_period)),
                format_period(u64::from(t.period)),
                if t.retired { " (retired)" } else { "" }
            ));
            for perk in t.perks.as_str().lines().filter(|l| !l.trim().is_empty()) {
                lines.push(format!("  {perk}"));
            }
            tiers.push(json!({ "id": id.0, "title": t.title.as_str(), "perks": t.perks.as_str(), "price": t.amount_per_period, "period": t.period, "asset": t.asset.0, "live_pledges": t.patrons, "patron_limit": t.patron_limit, "retired": t.retired }));
        }
    }
    // Income: what streams in now, per month, in each asset.
    let mut income = Vec::new();
    for (asset, _, info) in w.assets().await? {
        let flow = w.flow(&Holder::Account(a), asset).await?;
        if flow.inflow > 0 {
            let monthly = per_month(flow.inflow);
            lines.push(format!("income: {} a month", info.format(monthly)));
            income.push(json!({ "asset": info.symbol, "per_month": monthly.to_string() }));
        }
    }
    ctx.print(
        lines.join("\n"),
        json!({ "address": a.to_string(), "name": c.profile.name.as_str(), "description": c.profile.description.as_str(), "paused": c.pause.is_paused(), "tiers": tiers, "income": income }),
    );
    Ok(())
}
