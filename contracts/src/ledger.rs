//! Moving value: credits, debits and streams over [`Flow`]s, keeping the
//! depletion schedule in step with every change.

use crate::asset::{AssetId, FINE_PER_UNIT};
use crate::context::Ctx;
use crate::error::{Failure, Fault, Rejection};
use crate::event::{Event, PledgeChange};
use crate::keys;
use crate::schedule::{self, Task};
use crate::state::{Holder, Pledge, PledgeId};
use crate::store::Store;
use crate::stream::{Flow, FlowOverflow, MAX_BALANCE, MAX_RATE};

impl From<FlowOverflow> for Fault {
    fn from(_: FlowOverflow) -> Self {
        Fault::Inconsistent("flow arithmetic out of range")
    }
}

impl From<FlowOverflow> for Failure {
    fn from(e: FlowOverflow) -> Self {
        Failure::Fault(e.into())
    }
}

/// A holder's flow in an asset, settled at the step's time.
pub(crate) fn settled_flow<S: Store>(
    ctx: &Ctx<'_, S>,
    holder: &Holder,
    asset: AssetId,
) -> Result<Flow, Fault> {
    let mut flow: Flow = ctx.get(&keys::flow(holder, asset))?.unwrap_or(Flow {
        at: ctx.now,
        ..Flow::default()
    });
    flow.settle(ctx.now)?;
    Ok(flow)
}

/// Stores a flow, emits its change and queues its depletion if that moved.
pub(crate) fn store_flow<S: Store>(
    ctx: &mut Ctx<'_, S>,
    holder: &Holder,
    asset: AssetId,
    mut flow: Flow,
) -> Result<(), Fault> {
    let due = flow.depletion_time();
    if due != flow.depletion_scheduled {
        if let Some(time) = due {
            schedule::push(
                ctx,
                time,
                Task::Depletion {
                    holder: *holder,
                    asset,
                },
            )?;
        }
        flow.depletion_scheduled = due;
    }
    ctx.put(&keys::flow(holder, asset), &flow);
    ctx.emit(Event::FlowChanged {
        holder: *holder,
        asset,
        flow,
    });
    Ok(())
}

/// Adds `fine` units to a holder's balance.
pub(crate) fn credit<S: Store>(
    ctx: &mut Ctx<'_, S>,
    holder: &Holder,
    asset: AssetId,
    fine: u128,
) -> Result<(), Failure> {
    let mut flow = settled_flow(ctx, holder, asset)?;
    flow.settled = flow
        .settled
        .checked_add(fine)
        .filter(|b| *b <= MAX_BALANCE)
        .ok_or(Rejection::TooLarge)?;
    store_flow(ctx, holder, asset, flow)?;
    Ok(())
}

/// Takes `fine` units from a holder's balance, refusing if it has fewer.
pub(crate) fn debit<S: Store>(
    ctx: &mut Ctx<'_, S>,
    holder: &Holder,
    asset: AssetId,
    fine: u128,
) -> Result<(), Failure> {
    take_fine(ctx, holder, asset, fine, |held| {
        Rejection::InsufficientBalance {
            asset,
            available: held / FINE_PER_UNIT,
            needed: fine / FINE_PER_UNIT,
        }
    })
}

/// Takes `fine` units from a holder's settled balance. If it holds fewer,
/// nothing changes and `short` turns what it holds into the error: an
/// account's overdraft is the user's mistake, an escrow paying out more
/// than it holds is broken state, so the caller decides which.
pub(crate) fn take_fine<S: Store, E: Into<Failure>>(
    ctx: &mut Ctx<'_, S>,
    holder: &Holder,
    asset: AssetId,
    fine: u128,
    short: impl FnOnce(u128) -> E,
) -> Result<(), Failure> {
    let mut flow = settled_flow(ctx, holder, asset)?;
    let held = flow.settled;
    flow.settled = held.checked_sub(fine).ok_or_else(|| short(held).into())?;
    store_flow(ctx, holder, asset, flow)?;
    Ok(())
}

/// Base units as fine units.
pub(crate) fn fine(units: u64) -> u128 {
    u128::from(units) * FINE_PER_UNIT
}

/// Starts a pledge's stream at the step's time. The pledge must not be active.
pub(crate) fn start_stream<S: Store>(
    ctx: &mut Ctx<'_, S>,
    pledge: &mut Pledge,
) -> Result<(), Failure> {
    let patron = Holder::Account(pledge.patron);
    let mut out = settled_flow(ctx, &patron, pledge.asset)?;
    out.outflow = out
        .outflow
        .checked_add(pledge.rate)
        .filter(|r| *r <= MAX_RATE)
        .ok_or(Rejection::TooLarge)?;
    if out.outflow > out.inflow && out.settled < out.outflow - out.inflow {
        return Err(Rejection::CannotFundStream(pledge.asset).into());
    }
    let mut inc = settled_flow(ctx, &pledge.payee, pledge.asset)?;
    inc.inflow = inc
        .inflow
        .checked_add(pledge.rate)
        .filter(|r| *r <= MAX_RATE)
        .ok_or(Rejection::TooLarge)?;
    store_flow(ctx, &patron, pledge.asset, out)?;
    store_flow(ctx, &pledge.payee, pledge.asset, inc)?;
    pledge.since = ctx.now;
    pledge.status = crate::state::PledgeStatus::Active;
    Ok(())
}

/// Stops an active pledge's stream at the step's time, settling what it
/// streamed. The caller sets the new status.
pub(crate) fn stop_stream<S: Store>(
    ctx: &mut Ctx<'_, S>,
    pledge: &mut Pledge,
) -> Result<(), Fault> {
    let patron = Holder::Account(pledge.patron);
    let mut out = settled_flow(ctx, &patron, pledge.asset)?;
    let mut inc = settled_flow(ctx, &pledge.payee, pledge.asset)?;
    out.outflow = out
        .outflow
        .checked_sub(pledge.rate)
        .ok_or(Fault::Inconsistent("patron outflow below pledge rate"))?;
    inc.inflow = inc
        .inflow
        .checked_sub(pledge.rate)
        .ok_or(Fault::Inconsistent("payee inflow below pledge rate"))?;
    store_flow(ctx, &patron, pledge.asset, out)?;
    store_flow(ctx, &pledge.payee, pledge.asset, inc)?;
    pledge.streamed = pledge
        .streamed_at(ctx.now)
        .ok_or(Fault::Inconsistent("pledge total out of range"))?;
    pledge.since = ctx.now;
    Ok(())
}

/// When an active pledge must end by itself: its end date, or the second
/// its cap is reached, whichever comes first.
fn end_time(pledge: &Pledge) -> Option<u64> {
    if !pledge.is_active() {
        return None;
    }
    let by_cap = pledge.cap.and_then(|cap| {
        let left = fine(cap).saturating_sub(pledge.streamed);
        let secs = left.checked_div(pledge.rate)?;
        Some(
            pledge
                .since
                .saturating_add(u64::try_from(secs).unwrap_or(u64::MAX)),
        )
    });
    match (pledge.end, by_cap) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Stores a pledge, emits its change and queues its end if that moved.
pub(crate) fn store_pledge<S: Store>(
    ctx: &mut Ctx<'_, S>,
    id: PledgeId,
    mut pledge: Pledge,
    change: PledgeChange,
) -> Result<(), Fault> {
    let due = end_time(&pledge).map(|t| t.max(ctx.now));
    if due != pledge.end_scheduled {
        if let Some(time) = due {
            schedule::push(ctx, time, Task::PledgeEnd { pledge: id })?;
        }
        pledge.end_scheduled = due;
    }
    ctx.put(&keys::pledge(id), &pledge);
    ctx.emit(Event::PledgeUpdated {
        pledge: id,
        change,
        record: pledge,
    });
    Ok(())
}
