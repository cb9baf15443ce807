//! Creators, tiers and pledge streams: the rules of patronage.

use crate::asset::AssetId;
use crate::context::Ctx;
use crate::encoding::Text;
use crate::error::{Failure, Fault, Rejection};
use crate::event::{Created, Event, PledgeChange};
use crate::keys;
use crate::ledger::{self, start_stream, stop_stream, store_pledge};
use crate::protocol::current_flow;
use crate::state::{
    Counters, Creator, EndReason, Holder, PatronPledges, PauseReason, Pledge, PledgeEnd, PledgeId,
    PledgeStatus, Profile, Tier, TierId, MAX_PERIOD, MAX_PERKS, MAX_PLEDGES_PER_PATRON, MAX_TIERS,
    MAX_TITLE, MIN_PERIOD,
};
use crate::store::Store;
use crate::stream::{rate_for, Flow};

/// Checks a price per period and returns its rate.
pub(crate) fn checked_rate(amount: u64, period: u32) -> Result<u128, Rejection> {
    if amount == 0 {
        return Err(Rejection::ZeroAmount);
    }
    if !(MIN_PERIOD..=MAX_PERIOD).contains(&period) {
        return Err(Rejection::InvalidPeriod {
            min: MIN_PERIOD,
            max: MAX_PERIOD,
        });
    }
    match rate_for(amount, period) {
        Some(rate) if rate > 0 => Ok(rate),
        _ => Err(Rejection::TooLarge),
    }
}

pub(crate) fn load_creator<S: Store>(
    ctx: &Ctx<'_, S>,
    who: &crate::crypto::Address,
) -> Result<Creator, Failure> {
    Ok(ctx
        .get::<Creator>(&keys::creator(who))?
        .ok_or(Rejection::NotACreator(*who))?)
}

fn load_tier<S: Store>(ctx: &Ctx<'_, S>, id: TierId) -> Result<Tier, Failure> {
    Ok(ctx
        .get::<Tier>(&keys::tier(id))?
        .ok_or(Rejection::UnknownTier(id))?)
}

pub(crate) fn load_pledge<S: Store>(ctx: &Ctx<'_, S>, id: PledgeId) -> Result<Pledge, Failure> {
    Ok(ctx
        .get::<Pledge>(&keys::pledge(id))?
        .ok_or(Rejection::UnknownPledge(id))?)
}

pub(crate) fn require_asset<S: Store>(ctx: &Ctx<'_, S>, asset: AssetId) -> Result<(), Failure> {
    let exists = ctx
        .get::<crate::asset::Ticket>(&keys::asset(asset))?
        .is_some();
    if exists {
        Ok(())
    } else {
        Err(Rejection::UnknownAsset(asset).into())
    }
}

fn store_tier<S: Store>(ctx: &mut Ctx<'_, S>, id: TierId, tier: Tier) {
    ctx.put(&keys::tier(id), &tier);
    ctx.emit(Event::TierUpdated {
        tier: id,
        record: tier,
    });
}

/// Publishes or replaces a creator profile.
pub(crate) fn set_profile<S: Store>(
    ctx: &mut Ctx<'_, S>,
    creator: crate::crypto::Address,
    profile: Profile,
) -> Result<(), Failure> {
    if profile.name.as_str().trim().is_empty() {
        return Err(Rejection::Refused("a creator profile needs a name").into());
    }
    let mut record = ctx
        .get::<Creator>(&keys::creator(&creator))?
        .unwrap_or_default();
    record.profile = profile.clone();
    ctx.put(&keys::creator(&creator), &record);
    ctx.emit(Event::ProfileSet { creator, profile });
    Ok(())
}

/// Adds a tier.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_tier<S: Store>(
    ctx: &mut Ctx<'_, S>,
    creator: crate::crypto::Address,
    title: Text<MAX_TITLE>,
    perks: Text<MAX_PERKS>,
    asset: AssetId,
    amount_per_period: u64,
    period: u32,
    patron_limit: Option<u32>,
) -> Result<(), Failure> {
    let mut record = load_creator(ctx, &creator)?;
    require_asset(ctx, asset)?;
    checked_rate(amount_per_period, period)?;
    if patron_limit == Some(0) {
        return Err(Rejection::Refused("a patron limit must be at least 1").into());
    }
    let mut counters: Counters = ctx.get(keys::COUNTERS)?.unwrap_or_default();
    let id = TierId(counters.tier);
    if !record.tiers.push(id) {
        return Err(Rejection::TooManyTiers(MAX_TIERS).into());
    }
    counters.tier += 1;
    ctx.put(keys::COUNTERS, &counters);
    ctx.created = Some(Created::Tier { tier: id });
    ctx.put(&keys::creator(&creator), &record);
    store_tier(
        ctx,
        id,
        Tier {
            creator,
            title,
            perks,
            asset,
            amount_per_period,
            period,
            patron_limit,
            patrons: 0,
            retired: false,
        },
    );
    Ok(())
}

/// Retires a tier: no new pledges; existing ones go on at their terms.
pub(crate) fn retire_tier<S: Store>(
    ctx: &mut Ctx<'_, S>,
    creator: crate::crypto::Address,
    id: TierId,
) -> Result<(), Failure> {
    let mut tier = load_tier(ctx, id)?;
    if tier.creator != creator {
        return Err(Rejection::NotYourTier(id).into());
    }
    if tier.retired {
        return Err(Rejection::TierRetired(id).into());
    }
    tier.retired = true;
    store_tier(ctx, id, tier);
    Ok(())
}

/// Checks a tier can take a new pledge at `amount` and returns the amount
/// per period to use.
fn admit<S: Store>(
    ctx: &Ctx<'_, S>,
    patron: crate::crypto::Address,
    id: TierId,
    tier: &Tier,
    amount: Option<u64>,
) -> Result<u64, Failure> {
    if tier.retired {
        return Err(Rejection::TierRetired(id).into());
    }
    if tier.creator == patron {
        return Err(Rejection::SelfPledge.into());
    }
    if tier.patron_limit.is_some_and(|limit| tier.patrons >= limit) {
        return Err(Rejection::TierFull(id).into());
    }
    let creator = load_creator(ctx, &tier.creator)?;
    if creator.pause.is_paused() {
        return Err(Rejection::CreatorPaused(tier.creator).into());
    }
    let amount = amount.unwrap_or(tier.amount_per_period);
    if amount < tier.amount_per_period {
        return Err(Rejection::BelowPrice {
            amount,
            price: tier.amount_per_period,
        }
        .into());
    }
    Ok(amount)
}

/// Creates a pledge record, indexes it under its patron and payee, and
/// starts its stream. Shared by tier pledges and project pledges.
pub(crate) fn open_pledge<S: Store>(
    ctx: &mut Ctx<'_, S>,
    mut pledge: Pledge,
) -> Result<PledgeId, Failure> {
    if pledge.end.is_some_and(|end| end <= ctx.now) {
        return Err(Rejection::EndInPast.into());
    }
    if pledge.cap == Some(0) {
        return Err(Rejection::ZeroAmount.into());
    }
    let mut counters: Counters = ctx.get(keys::COUNTERS)?.unwrap_or_default();
    let id = PledgeId(counters.pledge);
    counters.pledge += 1;
    ctx.put(keys::COUNTERS, &counters);
    ctx.created = Some(Created::Pledge { pledge: id });

    let mut list: PatronPledges = ctx
        .get(&keys::patron_pledges(&pledge.patron))?
        .unwrap_or_default();
    if !list.push(id) {
        return Err(Rejection::TooManyPledges(MAX_PLEDGES_PER_PATRON).into());
    }

    let count_key = keys::payee_pledge_count(&pledge.payee);
    let n: u64 = ctx.get(&count_key)?.unwrap_or(0);
    ctx.put(&keys::payee_pledge(&pledge.payee, n), &id);
    ctx.put(&count_key, &(n + 1));

    // Listed once stored: settling the patron's flow reads its list.
    start_stream(ctx, &mut pledge)?;
    ctx.put(&keys::patron_pledges(&pledge.patron), &list);
    store_pledge(ctx, id, pledge, PledgeChange::Started)?;
    Ok(id)
}

/// The time a stated end comes for a pledge starting now.
pub(crate) fn end_time<S: Store>(
    ctx: &Ctx<'_, S>,
    end: Option<PledgeEnd>,
) -> Result<Option<u64>, Failure> {
    end.map(|e| e.time(ctx.now).ok_or(Rejection::TooLarge.into()))
        .transpose()
}

/// Pledges to a tier.
pub(crate) fn pledge<S: Store>(
    ctx: &mut Ctx<'_, S>,
    patron: crate::crypto::Address,
    tier_id: TierId,
    amount: Option<u64>,
    end: Option<PledgeEnd>,
    cap: Option<u64>,
) -> Result<(), Failure> {
    let end = end_time(ctx, end)?;
    let mut tier = load_tier(ctx, tier_id)?;
    let amount = admit(ctx, patron, tier_id, &tier, amount)?;
    let rate = checked_rate(amount, tier.period)?;
    open_pledge(
        ctx,
        Pledge {
            patron,
            payee: Holder::Account(tier.creator),
            tier: Some(tier_id),
            asset: tier.asset,
            amount_per_period: amount,
            period: tier.period,
            rate,
            end,
            cap,
            status: PledgeStatus::Active,
            created_at: ctx.now,
            streamed: 0,
            since: ctx.now,
            pause_clock: 0,
            end_scheduled: None,
        },
    )?;
    tier.patrons = tier.patrons.saturating_add(1);
    store_tier(ctx, tier_id, tier);
    Ok(())
}

fn own_live_pledge<S: Store>(
    ctx: &Ctx<'_, S>,
    patron: crate::crypto::Address,
    id: PledgeId,
) -> Result<Pledge, Failure> {
    let pledge = load_pledge(ctx, id)?;
    if pledge.patron != patron {
        return Err(Rejection::NotYourPledge(id).into());
    }
    if !pledge.is_live() {
        return Err(Rejection::PledgeEnded(id).into());
    }
    Ok(pledge)
}

fn creator_paused<S: Store>(ctx: &Ctx<'_, S>, payee: &Holder) -> Result<bool, Failure> {
    match payee {
        Holder::Account(a) => Ok(ctx
            .get::<Creator>(&keys::creator(a))?
            .is_some_and(|c| c.pause.is_paused())),
        Holder::Project(_) => Ok(false),
    }
}

/// Moves a pledge to another tier of the same creator, at that tier's terms.
pub(crate) fn change_pledge<S: Store>(
    ctx: &mut Ctx<'_, S>,
    patron: crate::crypto::Address,
    id: PledgeId,
    new_tier_id: TierId,
    amount: Option<u64>,
) -> Result<(), Failure> {
    let mut pledge = own_live_pledge(ctx, patron, id)?;
    let mut new_tier = load_tier(ctx, new_tier_id)?;
    if pledge.payee != Holder::Account(new_tier.creator) {
        return Err(Rejection::OtherCreatorsTier(new_tier_id).into());
    }
    if pledge.tier == Some(new_tier_id) && amount.is_none_or(|a| a == pledge.amount_per_period) {
        return Err(Rejection::Refused("the pledge is already at these terms").into());
    }
    let same_tier = pledge.tier == Some(new_tier_id);
    if !same_tier {
        // The pledge itself is not counted on the new tier yet.
        admit(ctx, patron, new_tier_id, &new_tier, amount)?;
    }
    let amount = amount.unwrap_or(new_tier.amount_per_period);
    if amount < new_tier.amount_per_period {
        return Err(Rejection::BelowPrice {
            amount,
            price: new_tier.amount_per_period,
        }
        .into());
    }
    let rate = checked_rate(amount, new_tier.period)?;
    let was_active = pledge.is_active();
    if was_active {
        stop_stream(ctx, &mut pledge)?;
    }
    if let Some(old) = pledge.tier.filter(|_| !same_tier) {
        let mut old_tier = load_tier(ctx, old)?;
        old_tier.patrons = old_tier.patrons.saturating_sub(1);
        store_tier(ctx, old, old_tier);
        new_tier.patrons = new_tier.patrons.saturating_add(1);
        store_tier(ctx, new_tier_id, new_tier.clone());
    }
    pledge.tier = Some(new_tier_id);
    pledge.asset = new_tier.asset;
    pledge.amount_per_period = amount;
    pledge.period = new_tier.period;
    pledge.rate = rate;
    if was_active {
        start_stream(ctx, &mut pledge)?;
    }
    store_pledge(ctx, id, pledge, PledgeChange::Changed)?;
    Ok(())
}

/// Stops a pledge's stream until resumed.
pub(crate) fn pause_pledge<S: Store>(
    ctx: &mut Ctx<'_, S>,
    patron: crate::crypto::Address,
    id: PledgeId,
) -> Result<(), Failure> {
    let mut pledge = own_live_pledge(ctx, patron, id)?;
    match pledge.status {
        PledgeStatus::Active => {
            stop_stream(ctx, &mut pledge)?;
            pledge.status = PledgeStatus::Paused {
                reason: PauseReason::ByPatron,
            };
            store_pledge(ctx, id, pledge, PledgeChange::Paused)?;
            Ok(())
        }
        _ => Err(Rejection::PledgeNotActive(id).into()),
    }
}

/// Restarts a pledge the patron paused or that ran out of funds.
pub(crate) fn resume_pledge<S: Store>(
    ctx: &mut Ctx<'_, S>,
    patron: crate::crypto::Address,
    id: PledgeId,
) -> Result<(), Failure> {
    let mut pledge = own_live_pledge(ctx, patron, id)?;
    // While its creator is paused a pledge streams nothing, whatever its
    // own status: that is the reason to give.
    if creator_paused(ctx, &pledge.payee)? {
        if let Holder::Account(a) = pledge.payee {
            return Err(Rejection::CreatorPaused(a).into());
        }
    }
    let PledgeStatus::Paused { .. } = pledge.status else {
        return Err(Rejection::PledgeNotPaused(id).into());
    };
    if pledge.end.is_some_and(|end| end <= ctx.now) {
        return Err(Rejection::EndInPast.into());
    }
    start_stream(ctx, &mut pledge)?;
    store_pledge(ctx, id, pledge, PledgeChange::Resumed)?;
    Ok(())
}

/// Ends a live pledge with `reason` at the step's time.
pub(crate) fn end_pledge<S: Store>(
    ctx: &mut Ctx<'_, S>,
    id: PledgeId,
    mut pledge: Pledge,
    reason: EndReason,
) -> Result<(), Failure> {
    if pledge.is_active() {
        stop_stream(ctx, &mut pledge)?;
    }
    pledge.status = PledgeStatus::Ended { reason };
    let key = keys::patron_pledges(&pledge.patron);
    let mut list: PatronPledges = ctx.get(&key)?.unwrap_or_default();
    list.retain(|p| *p != id);
    ctx.put(&key, &list);
    if let Some(tier_id) = pledge.tier {
        let mut tier = load_tier(ctx, tier_id)?;
        tier.patrons = tier.patrons.saturating_sub(1);
        store_tier(ctx, tier_id, tier);
    }
    store_pledge(ctx, id, pledge, PledgeChange::Ended)?;
    Ok(())
}

/// Cancels a pledge for good.
pub(crate) fn cancel_pledge<S: Store>(
    ctx: &mut Ctx<'_, S>,
    patron: crate::crypto::Address,
    id: PledgeId,
) -> Result<(), Failure> {
    let pledge = own_live_pledge(ctx, patron, id)?;
    end_pledge(ctx, id, pledge, EndReason::Cancelled)
}

/// Pauses (or resumes) every stream to a creator at the step's time, at a
/// cost that does not grow with patrons: the creator's pause clock moves
/// and its incoming flows hold or release their inflow; each pledge keeps
/// its status and streams nothing while the clock runs. A patron's stored
/// balance goes on being charged for such pledges meanwhile and gets the
/// charge back whenever the protocol next settles it ([`ledger::settled_flow`]),
/// at the latest when its depletion task comes, which finds it not yet
/// out of funds and waits again.
pub(crate) fn set_creator_paused<S: Store>(
    ctx: &mut Ctx<'_, S>,
    creator: crate::crypto::Address,
    paused: bool,
) -> Result<(), Failure> {
    let mut record = load_creator(ctx, &creator)?;
    if record.pause.is_paused() == paused {
        return Err(Rejection::Refused(if paused {
            "the subscription is already paused"
        } else {
            "the subscription is not paused"
        })
        .into());
    }
    record.pause = if paused {
        record.pause.paused_at(ctx.now)
    } else {
        record.pause.resumed_at(ctx.now)
    };
    ctx.put(&keys::creator(&creator), &record);
    ctx.emit(Event::CreatorPaused {
        creator,
        pause: record.pause,
    });
    // Pledges reach a creator through its tiers, so their assets are every
    // asset the creator receives streams in.
    let mut assets: Vec<AssetId> = Vec::new();
    for id in record.tiers.items().iter().copied() {
        let asset = load_tier(ctx, id)?.asset;
        if !assets.contains(&asset) {
            assets.push(asset);
        }
    }
    let payee = Holder::Account(creator);
    for asset in assets {
        if ctx.get::<Flow>(&keys::flow(&payee, asset))?.is_none() {
            continue;
        }
        let mut flow = ledger::settled_flow(ctx, &payee, asset)?;
        flow.inflow_paused = paused;
        ledger::store_flow(ctx, &payee, asset, flow)?;
    }
    Ok(())
}

/// How long a patron's balance must be able to pay every active pledge at
/// its rate, those to paused creators included, for such pledges to stay
/// active while their creators are paused: one day.
pub const PAUSED_PLEDGE_RESERVE: u64 = crate::units::DAY;

/// A holder's depletion task came: the second its stored balance can no
/// longer pay the next second of every active pledge. The stored balance
/// counts pledges to paused creators, so settled it may still hold more:
///
/// - if it cannot pay the next second of what streams, the patron is out of
///   funds: every active pledge in the asset pauses for want of funds;
/// - if it cannot pay [`PAUSED_PLEDGE_RESERVE`] of every active pledge,
///   the pledges to paused creators pause for want of funds (they stream
///   nothing meanwhile; this way a creator's resume never has to reach its
///   patrons, and a patron's task comes at most once a day while a creator
///   it pays is paused);
/// - otherwise nothing stops and the task is queued again.
pub(crate) fn deplete<S: Store>(
    ctx: &mut Ctx<'_, S>,
    holder: Holder,
    asset: AssetId,
    due: u64,
) -> Result<(), Failure> {
    let key = keys::flow(&holder, asset);
    let Some(mut flow) = ctx.get::<Flow>(&key)? else {
        return Ok(());
    };
    if flow.depletion_scheduled != Some(due) {
        return Ok(()); // stale: the flow was rescheduled since
    }
    flow.depletion_scheduled = None;
    ctx.put(&key, &flow);
    let Holder::Account(patron) = holder else {
        return Err(Fault::Inconsistent("a project escrow pays no stream").into());
    };
    let flow = ledger::settled_flow(ctx, &holder, asset)?;
    ctx.put(&key, &flow);
    let streaming = current_flow(ctx.state(), &holder, asset, ctx.now)?;
    let out_of_funds = streaming.depletion_time().is_some_and(|t| t <= ctx.now);
    let below_reserve = flow
        .depletion_time()
        .is_some_and(|t| t < ctx.now.saturating_add(PAUSED_PLEDGE_RESERVE));
    if out_of_funds || below_reserve {
        let list: PatronPledges = ctx.get(&keys::patron_pledges(&patron))?.unwrap_or_default();
        for id in list.items().iter().copied() {
            let mut pledge = load_pledge(ctx, id)?;
            if pledge.asset != asset || !pledge.is_active() {
                continue;
            }
            if out_of_funds || creator_paused(ctx, &pledge.payee)? {
                stop_stream(ctx, &mut pledge)?;
                pledge.status = PledgeStatus::Paused {
                    reason: PauseReason::OutOfFunds,
                };
                store_pledge(ctx, id, pledge, PledgeChange::Paused)?;
            }
        }
    }
    let flow = ledger::settled_flow(ctx, &holder, asset)?;
    ledger::store_flow(ctx, &holder, asset, flow)?;
    Ok(())
}

/// A pledge reached its end date or cap.
pub(crate) fn end_due<S: Store>(
    ctx: &mut Ctx<'_, S>,
    id: PledgeId,
    due: u64,
) -> Result<(), Failure> {
    let Some(pledge) = ctx.get::<Pledge>(&keys::pledge(id))? else {
        return Err(Fault::Inconsistent("scheduled pledge missing").into());
    };
    if !pledge.is_active() || pledge.end_scheduled != Some(due) {
        return Ok(()); // stale
    }
    if pledge.end.is_some_and(|end| end <= due) {
        return end_pledge(ctx, id, pledge, EndReason::EndDate);
    }
    // The cap: settling the patron settles the pledge too if its creator
    // paused meanwhile, which moves the cap's second (and requeues it).
    let patron = Holder::Account(pledge.patron);
    let flow = ledger::settled_flow(ctx, &patron, pledge.asset)?;
    ledger::store_flow(ctx, &patron, pledge.asset, flow)?;
    let pledge = load_pledge(ctx, id)?;
    if ledger::end_time(&pledge).is_some_and(|t| t <= ctx.now) {
        end_pledge(ctx, id, pledge, EndReason::CapReached)
    } else {
        Ok(())
    }
}
