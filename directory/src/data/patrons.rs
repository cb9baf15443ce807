//! A patron's page: pledges, what each has paid, runway and history.

use serde::Serialize;
use utoipa::ToSchema;

use super::{check_account, Context, BALANCE_COLS, MOVEMENT_COLS, PLEDGE_COLS};
use crate::store::{Balance, CreatorPledge, Movement, Param, Pledge, Store, StreamRow};
use crate::Error;

/// How long a patron's balance in one asset lasts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Runway {
    /// The asset.
    pub asset_id: i64,
    /// The balance now, base units.
    pub balance_units: u128,
    /// Pledged per 30 days, base units.
    pub monthly_out_units: i64,
    /// When it runs out, if it drains.
    pub runs_out_at: Option<i64>,
}

/// A patron's page: any address.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatronView {
    /// The address.
    pub address: String,
    /// Its pledges, newest first.
    pub pledges: Vec<Pledge>,
    /// Its runway per asset.
    pub runway: Vec<Runway>,
    /// What each of its pledges has paid so far.
    pub paid: Vec<PledgePaid>,
    /// Its latest movements, either side.
    pub history: Vec<Movement>,
}

/// What a pledge has paid its payee so far.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PledgePaid {
    /// The pledge.
    pub pledge_id: i64,
    /// The asset.
    pub asset_id: i64,
    /// Base units paid up to the rollup's current time.
    pub paid_units: String,
}

/// Reads a patron's page.
pub async fn patron(store: &Store, ctx: &Context, address: &str) -> Result<PatronView, Error> {
    check_account(address)?;
    let who = [Param::Text(address.to_owned())];
    let pledges = store
        .all(
            &format!("{PLEDGE_COLS} WHERE patron = $1 ORDER BY pledge_id DESC LIMIT 200"),
            &who,
        )
        .await?;
    let balances: Vec<Balance> = store
        .all(
            &format!("{BALANCE_COLS} WHERE holder = $1 ORDER BY asset_id"),
            &who,
        )
        .await?;
    // Pledges to paused creators stream nothing while paused: the balance
    // and runway shown are the protocol's current ones, not the stored
    // flow's, which still counts them.
    let to_creators: Vec<CreatorPledge> = store
        .all(
            "SELECT p.asset_id, CAST(p.rate AS TEXT) AS rate, p.pause_clock, c.paused_seconds, \
             c.paused_since FROM pledges p JOIN creators c ON c.address = p.payee \
             WHERE p.patron = $1 AND p.status = 'active' AND (c.paused OR c.paused_seconds > 0)",
            &who,
        )
        .await?;
    let runway = balances
        .iter()
        .map(|b| {
            let paused: Vec<_> = to_creators
                .iter()
                .filter(|p| p.asset_id == b.asset_id)
                .filter_map(|p| p.paused_stream(ctx.now()))
                .collect();
            let flow = b.current(ctx.now(), &paused);
            Runway {
                asset_id: b.asset_id,
                balance_units: flow.settled / pledgeroll_contracts::FINE_PER_UNIT,
                monthly_out_units: i64::try_from(pledgeroll_contracts::stream::per_month(
                    flow.outflow,
                ))
                .unwrap_or(i64::MAX),
                runs_out_at: flow.depletion_time().and_then(|t| i64::try_from(t).ok()),
            }
        })
        .collect();
    let streams: Vec<StreamRow> = store
        .all(
            "SELECT p.pledge_id, p.asset_id, p.status, CAST(p.streamed AS TEXT) AS streamed, \
             p.since, CAST(p.rate AS TEXT) AS rate, p.pause_clock, c.paused_seconds, \
             c.paused_since FROM pledges p LEFT JOIN creators c ON c.address = p.payee \
             WHERE p.patron = $1 ORDER BY p.pledge_id DESC LIMIT 200",
            &who,
        )
        .await?;
    let paid = streams
        .iter()
        .filter_map(|r| {
            Some(PledgePaid {
                pledge_id: r.pledge_id,
                asset_id: r.asset_id,
                paid_units: (r.paid(ctx.now())? / pledgeroll_contracts::FINE_PER_UNIT).to_string(),
            })
        })
        .collect();
    let history = store
        .all(
            &format!(
                "{MOVEMENT_COLS} WHERE from_holder = $1 OR to_holder = $1 \
                 ORDER BY level DESC, idx DESC LIMIT 50"
            ),
            &who,
        )
        .await?;
    Ok(PatronView {
        address: address.to_owned(),
        pledges,
        runway,
        paid,
        history,
    })
}
