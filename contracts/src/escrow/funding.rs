//! Funding a project: one-off contributions and pledge streams, and the
//! per-funder record refunds are shared out by.

use crate::asset::AssetId;
use crate::context::Ctx;
use crate::crypto::Address;
use crate::encoding::List;
use crate::error::{Failure, Rejection};
use crate::event::Event;
use crate::keys;
use crate::ledger::{credit, debit, fine};
use crate::patronage::{checked_rate, end_time, open_pledge, require_asset};
use crate::state::{Holder, Pledge, PledgeEnd, PledgeStatus, ProjectId};
use crate::store::Store;

use super::{
    escrow_asset, load_funder, load_project, require_active, store_escrow_asset, store_project,
    Project,
};

/// Notes that a project holds `asset`.
fn track_asset<S: Store>(
    ctx: &mut Ctx<'_, S>,
    id: ProjectId,
    project: &mut Project,
    asset: AssetId,
) -> Result<(), Failure> {
    if !project.assets.items().contains(&asset) {
        if !project.assets.push(asset) {
            return Err(Rejection::Refused("a project holds at most 8 assets").into());
        }
        store_project(ctx, id, project.clone());
    }
    Ok(())
}

/// Credits a one-off contribution (a `Fund` or a tip) to a project.
pub(crate) fn contribute<S: Store>(
    ctx: &mut Ctx<'_, S>,
    from: Address,
    id: ProjectId,
    asset: AssetId,
    amount: u64,
) -> Result<(), Failure> {
    let mut project = load_project(ctx, id)?;
    require_active(&project)?;
    if amount == 0 {
        return Err(Rejection::ZeroAmount.into());
    }
    require_asset(ctx, asset)?;
    track_asset(ctx, id, &mut project, asset)?;
    let units = fine(amount);
    debit(ctx, &Holder::Account(from), asset, units)?;
    credit(ctx, &Holder::Project(id), asset, units)?;
    let mut funder = load_funder(ctx, id, &from)?;
    let mut entries: Vec<(AssetId, u128)> = funder.one_off.items().to_vec();
    match entries.iter_mut().find(|(a, _)| *a == asset) {
        Some((_, total)) => *total = total.saturating_add(units),
        None => entries.push((asset, units)),
    }
    funder.one_off =
        List::new(entries).map_err(|_| Rejection::Refused("a project holds at most 8 assets"))?;
    ctx.put(&keys::project_funder(id, &from), &funder);
    let mut record = escrow_asset(ctx, id, asset)?;
    record.funded = record.funded.saturating_add(units);
    store_escrow_asset(ctx, id, asset, record);
    Ok(())
}

/// A `Fund` operation: a one-off contribution, announced as such.
pub(super) fn fund<S: Store>(
    ctx: &mut Ctx<'_, S>,
    from: Address,
    id: ProjectId,
    asset: AssetId,
    amount: u64,
) -> Result<(), Failure> {
    contribute(ctx, from, id, asset, amount)?;
    ctx.emit(Event::ProjectFunded {
        project: id,
        funder: from,
        asset,
        amount,
    });
    Ok(())
}

/// Opens a pledge stream from `patron` to a project.
#[allow(clippy::too_many_arguments)]
pub(super) fn pledge<S: Store>(
    ctx: &mut Ctx<'_, S>,
    patron: Address,
    id: ProjectId,
    asset: AssetId,
    amount_per_period: u64,
    period: u32,
    end: Option<PledgeEnd>,
    cap: Option<u64>,
) -> Result<(), Failure> {
    let end = end_time(ctx, end)?;
    let mut project = load_project(ctx, id)?;
    require_active(&project)?;
    require_asset(ctx, asset)?;
    let rate = checked_rate(amount_per_period, period)?;
    // Streams end by the refund deadline, so a refund's shares are final.
    let end = Some(end.map_or(project.refund_deadline, |e| e.min(project.refund_deadline)));
    track_asset(ctx, id, &mut project, asset)?;
    let mut funder = load_funder(ctx, id, &patron)?;
    let pledge_id = open_pledge(
        ctx,
        Pledge {
            patron,
            payee: Holder::Project(id),
            tier: None,
            asset,
            amount_per_period,
            period,
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
    funder.pledges.retain(|p| *p != pledge_id);
    if !funder.pledges.push(pledge_id) {
        return Err(Rejection::Refused("a funder streams at most 8 pledges to one project").into());
    }
    ctx.put(&keys::project_funder(id, &patron), &funder);
    Ok(())
}
