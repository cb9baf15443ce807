//! Moving value: credits, debits and streams over [`Flow`]s, keeping the
//! depletion schedule in step with every change.

use crate::asset::{AssetId, FINE_PER_UNIT};
use crate::context::{self, Ctx};
use crate::crypto::Address;
use crate::error::{Failure, Fault, Rejection};
use crate::event::{Event, PledgeChange};
use crate::keys;
use crate::schedule::{self, Task};
use crate::state::{Creator, Holder, PatronPledges, PauseClock, Pledge, PledgeId};
use crate::store::Store;
use crate::stream::{Flow, FlowOverflow, PausedStream, MAX_BALANCE, MAX_RATE};

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

/// The pause clock of a pledge's payee (a project never pauses).
pub(crate) fn payee_pause<S: Store>(state: &S, payee: &Holder) -> Result<PauseClock, Fault> {
    match payee {
        Holder::Account(creator) => {
            Ok(context::read::<_, Creator>(state, &keys::creator(creator))?
                .ok_or(Fault::Inconsistent("a pledge's creator is missing"))?
                .pause)
        }
        Holder::Project(_) => Ok(PauseClock::default()),
    }
}

/// One of a patron's active pledges whose creator paused since it last
/// settled, or is paused now.
pub(crate) struct PausedPledge {
    pub id: PledgeId,
    pub pledge: Pledge,
    /// The creator's pause clock now.
    pub clock: u64,
    /// What it means for the patron's balance.
    pub stream: PausedStream,
}

/// A patron's active pledges in `asset` touched by their creators'
/// pauses, at `now`: at most [`crate::state::MAX_PLEDGES_PER_PATRON`].
pub(crate) fn paused_pledges<S: Store>(
    state: &S,
    patron: &Address,
    asset: AssetId,
    now: u64,
) -> Result<Vec<PausedPledge>, Fault> {
    let list: PatronPledges =
        context::read(state, &keys::patron_pledges(patron))?.unwrap_or_default();
    let mut out = Vec::new();
    for id in list.items().iter().copied() {
        let pledge: Pledge = context::read(state, &keys::pledge(id))?
            .ok_or(Fault::Inconsistent("a patron's pledge is missing"))?;
        if pledge.asset != asset || !pledge.is_active() {
            continue;
        }
        let pause = payee_pause(state, &pledge.payee)?;
        if let Some(stream) = PausedStream::of(pledge.rate, pledge.pause_clock, &pause, now)? {
            out.push(PausedPledge {
                id,
                pledge,
                clock: pause.at(now),
                stream,
            });
        }
    }
    Ok(out)
}

/// A holder's flow in an asset, settled at the step's time. A patron's
/// pledges to paused creators settle with it: what the stored balance was
/// charged for the paused seconds comes back (see [`Flow::current`]), so
/// the flow returned is the balance as it is. The caller stores it.
pub(crate) fn settled_flow<S: Store>(
    ctx: &mut Ctx<'_, S>,
    holder: &Holder,
    asset: AssetId,
) -> Result<Flow, Fault> {
    let mut flow: Flow = ctx.get(&keys::flow(holder, asset))?.unwrap_or(Flow {
        at: ctx.now,
        ..Flow::default()
    });
    flow.settle(ctx.now)?;
    let Holder::Account(patron) = holder else {
        return Ok(flow);
    };
    for paused in paused_pledges(ctx.state(), patron, asset, ctx.now)? {
        if paused.stream.paused_seconds == 0 {
            continue;
        }
        let refund = paused
            .stream
            .rate
            .checked_mul(u128::from(paused.stream.paused_seconds))
            .ok_or(FlowOverflow)?;
        flow.settled = flow.settled.checked_add(refund).ok_or(FlowOverflow)?;
        let mut pledge = paused.pledge;
        pledge.streamed = pledge
            .streamed_at(ctx.now, paused.clock)
            .ok_or(Fault::Inconsistent("pledge total out of range"))?;
        pledge.since = ctx.now;
        pledge.pause_clock = paused.clock;
        store_pledge(ctx, paused.id, pledge, PledgeChange::Settled)?;
    }
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
    pledge.pause_clock = payee_pause(ctx.state(), &pledge.payee)?.at(ctx.now);
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
    let clock = payee_pause(ctx.state(), &pledge.payee)?.at(ctx.now);
    pledge.streamed = pledge
        .streamed_at(ctx.now, clock)
        .ok_or(Fault::Inconsistent("pledge total out of range"))?;
    pledge.since = ctx.now;
    pledge.pause_clock = clock;
    Ok(())
}

/// When an active pledge must end by itself: its end date, or the second
/// its cap is reached, whichever comes first. The cap's second assumes
/// the pledge streams from `since` on; a creator's pause only delays it,
/// and the end task, finding the cap not reached, settles and waits again.
pub(crate) fn end_time(pledge: &Pledge) -> Option<u64> {
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
