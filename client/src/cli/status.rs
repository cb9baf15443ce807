//! `pledgeroll status`: each account's balances with their flows and
//! runway, and its pledges out and in.

use anyhow::Result;
use pledgeroll_client::{AssetInfo, Wallet};
use pledgeroll_contracts::state::Clock;
use pledgeroll_contracts::stream::per_month;
use pledgeroll_contracts::units::{format_duration, format_period, DAY};
use pledgeroll_contracts::{Address, AssetId, Holder, Ticket, FINE_PER_UNIT};
use serde_json::json;

use super::context::Ctx;
use super::output::when;

/// `pledgeroll status`: the account `who`, or every stored key's; warns
/// of a balance that lasts fewer than `warn_days`.
pub async fn run(ctx: &Ctx, who: Option<String>, warn_days: u64) -> Result<()> {
    let w = ctx.wallet().await?;
    let addresses = match who {
        Some(who) => vec![(who.clone(), ctx.address(&who)?)],
        None => ctx
            .keystore()
            .list()?
            .into_iter()
            .filter_map(
                |e| match e.and_then(|e| Ok((e.alias.clone(), e.address()?))) {
                    Ok(named) => Some(named),
                    Err(damaged) => {
                        eprintln!("warning: {damaged}");
                        None
                    }
                },
            )
            .collect(),
    };
    let clock = w.clock().await?;
    let assets = w.assets().await?;
    let mut out = Vec::new();
    let mut lines = vec![format!(
        "rollup {} at level {}, {}",
        w.rollup,
        clock.level,
        when(clock.now)
    )];
    for (name, a) in addresses {
        lines.push(format!("\n{name} ({a})"));
        let balances = balances(&w, &a, &assets, &clock, warn_days, &mut lines).await?;
        let outgoing = pledges_out(&w, &a, &mut lines).await?;
        let incoming = w.pledges_to(&Holder::Account(a)).await?;
        if !incoming.is_empty() {
            let active = incoming.iter().filter(|(_, p)| p.is_active()).count();
            let n = incoming.len();
            let plural = if n == 1 { "" } else { "s" };
            lines.push(format!("  {n} pledge{plural} in ({active} active)"));
        }
        out.push(json!({ "name": name, "address": a.to_string(), "balances": balances, "pledges_out": outgoing, "pledges_in": incoming.len() }));
    }
    ctx.print(
        lines.join("\n"),
        json!({ "level": clock.level, "time": clock.now, "accounts": out }),
    );
    Ok(())
}

/// A line per asset `a` holds or streams: the balance, the flows per
/// month and the runway, with a warning when it is under `warn_days`;
/// their JSON for `--json`.
async fn balances(
    w: &Wallet,
    a: &Address,
    assets: &[(AssetId, Ticket, AssetInfo)],
    clock: &Clock,
    warn_days: u64,
    lines: &mut Vec<String>,
) -> Result<Vec<serde_json::Value>> {
    let mut balances = Vec::new();
    for (id, _, info) in assets {
        let flow = w.flow(&Holder::Account(*a), *id).await?;
        if flow == Default::default() {
            continue;
        }
        let units = w.balance(&Holder::Account(*a), *id).await?;
        let runway = flow.depletion_time().map(|t| t.saturating_sub(clock.now));
        // Flows are fine units per second; a rate no balance could sustain
        // saturates rather than overflows.
        let mut line = format!("  {}", info.format(units));
        if flow.outflow > 0 || flow.inflow > 0 {
            line.push_str(&format!(
                " (in {}/month, out {}/month)",
                info.format(per_month(flow.inflow)),
                info.format(per_month(flow.outflow))
            ));
        }
        if let Some(r) = runway {
            line.push_str(&format!(", runs out in {}", format_duration(r)));
            if r < warn_days.saturating_mul(DAY) {
                line.push_str(&format!(
                    "  WARNING: under {warn_days} days left; deposit to keep your pledges going"
                ));
            }
        }
        lines.push(line);
        balances.push(json!({ "asset": info.symbol, "balance": units.to_string(), "runway_seconds": runway, "inflow_per_month": per_month(flow.inflow).to_string(), "outflow_per_month": per_month(flow.outflow).to_string() }));
    }
    Ok(balances)
}

/// A line per pledge `a` pays; their JSON for `--json`.
async fn pledges_out(
    w: &Wallet,
    a: &Address,
    lines: &mut Vec<String>,
) -> Result<Vec<serde_json::Value>> {
    let mut outgoing = Vec::new();
    let now = w.clock().await?.now;
    for (id, p) in w.patron_pledges(a).await? {
        let info = w.asset_info(p.asset).await?;
        let pause = match p.payee {
            Holder::Account(creator) => w.creator(&creator).await?.map(|c| c.pause),
            Holder::Project(_) => None,
        }
        .unwrap_or_default();
        let status = if p.is_active() && pause.is_paused() {
            "active, creator paused: streams nothing until they resume".to_owned()
        } else {
            p.status.to_string()
        };
        let paid = p.streamed_at(now, pause.at(now)).unwrap_or(p.streamed) / FINE_PER_UNIT;
        let mut line = format!(
            "  pledge {} to {}: {}/{} — {status}, {} paid so far",
            id.0,
            p.payee,
            info.format(u128::from(p.amount_per_period)),
            format_period(u64::from(p.period)),
            info.format(paid)
        );
        if let Some(end) = p.end {
            line.push_str(&format!(", ends {}", when(end)));
        }
        let left = p.cap.map(|cap| u128::from(cap).saturating_sub(paid));
        if let (Some(cap), Some(left)) = (p.cap, left) {
            line.push_str(&format!(
                ", at most {} in all ({} left)",
                info.format(u128::from(cap)),
                info.format(left)
            ));
        }
        lines.push(line);
        outgoing.push(json!({ "id": id.0, "payee": p.payee.to_string(), "amount_per_period": p.amount_per_period, "period": p.period, "status": status, "paid": paid.to_string(), "end": p.end, "cap": p.cap, "left": left.map(|l| l.to_string()) }));
    }
    Ok(outgoing)
}
