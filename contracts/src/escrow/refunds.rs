//! Refunds: opened by enough signers or by the refund deadline passing with
//! nothing paid, after which each funder reclaims an exact pro-rata share of
//! what is left.

use crate::asset::AssetId;
use crate::context::Ctx;
use crate::crypto::Address;
use crate::error::{Failure, Fault, Rejection};
use crate::event::Event;
use crate::keys;
use crate::ledger::{credit, settled_flow, take_fine};
use crate::patronage::{end_pledge, load_pledge};
use crate::state::{EndReason, Holder, PledgeId, ProjectId};
use crate::store::Store;

use super::invoices::cancel;
use super::{
    escrow_asset, load_funder, load_invoice, load_project, require_active, store_escrow_asset,
    store_project, Funder, InvoiceStatus, Project, ProjectStatus, RefundPool,
};

/// Opens refunds: ends live streams, cancels open invoices and fixes each
/// asset's pool.
fn open_refunds<S: Store>(
    ctx: &mut Ctx<'_, S>,
    id: ProjectId,
    mut project: Project,
) -> Result<(), Failure> {
    project.status = ProjectStatus::Refunding;
    store_project(ctx, id, project.clone());
    let payee = Holder::Project(id);
    let count: u64 = ctx.get(&keys::payee_pledge_count(&payee))?.unwrap_or(0);
    for i in 0..count {
        let pid: PledgeId = ctx
            .get(&keys::payee_pledge(&payee, i))?
            .ok_or(Fault::Inconsistent("payee pledge index has a gap"))?;
        let pledge = load_pledge(ctx, pid)?;
        if pledge.is_live() {
            end_pledge(ctx, pid, pledge, EndReason::Cancelled)?;
        }
    }
    for n in 0..project.invoices {
        let invoice = load_invoice(ctx, id, n)?;
        if invoice.status == InvoiceStatus::Open {
            cancel(ctx, id, n, invoice)?;
        }
    }
    for asset in project.assets.items().iter().copied() {
        let pool = settled_flow(ctx, &payee, asset)?.settled;
        let mut escrow = escrow_asset(ctx, id, asset)?;
        escrow.refund = Some(RefundPool {
            pool,
            contributions: pool.saturating_add(escrow.paid_out),
            claimed_contributions: 0,
            claimed: 0,
        });
        store_escrow_asset(ctx, id, asset, escrow);
    }
    ctx.emit(Event::RefundsOpened { project: id });
    Ok(())
}

/// Approves refunding the funders now (commissioners, and the patron in
/// private mode); enough approvals open refunds.
pub(super) fn approve_refund<S: Store>(
    ctx: &mut Ctx<'_, S>,
    signer: Address,
    id: ProjectId,
) -> Result<(), Failure> {
    let mut project = load_project(ctx, id)?;
    require_active(&project)?;
    if !project.is_signer(&signer) {
        return Err(Rejection::Refused(
            "only the project's commissioners (and its patron) approve a refund",
        )
        .into());
    }
    if project.refund_approvals.items().contains(&signer) {
        return Err(Rejection::Refused("you already approved the refund").into());
    }
    if !project.refund_approvals.push(signer) {
        return Err(Fault::Inconsistent("more refund approvals than signers").into());
    }
    if project.approved(project.refund_approvals.items()) {
        return open_refunds(ctx, id, project);
    }
    store_project(ctx, id, project);
    Ok(())
}

/// Pays the signer their share of every asset they put into the project,
/// opening refunds first if the deadline passed with nothing paid.
pub(super) fn reclaim<S: Store>(
    ctx: &mut Ctx<'_, S>,
    funder_addr: Address,
    id: ProjectId,
) -> Result<(), Failure> {
    let project = refunding(ctx, id)?;
    let mut funder = load_funder(ctx, id, &funder_addr)?;
    if funder.reclaimed {
        return Err(Rejection::Refused("you already reclaimed your share").into());
    }
    let streamed = streamed_by_asset(ctx, &funder)?;
    let mut any = false;
    for asset in project.assets.items().iter().copied() {
        let contribution = contribution(&funder, &streamed, asset);
        if contribution == 0 {
            continue;
        }
        let mut escrow = escrow_asset(ctx, id, asset)?;
        let mut pool = escrow
            .refund
            .ok_or(Fault::Inconsistent("refunding project without a pool"))?;
        let share = claim_share(&mut pool, contribution)?;
        escrow.refund = Some(pool);
        store_escrow_asset(ctx, id, asset, escrow);
        if share > 0 {
            take_fine(ctx, &Holder::Project(id), asset, share, |_| {
                Fault::Inconsistent("refund above the escrow balance")
            })?;
            credit(ctx, &Holder::Account(funder_addr), asset, share)?;
        }
        ctx.emit(Event::Reclaimed {
            project: id,
            funder: funder_addr,
            asset,
            fine: share,
        });
        any = true;
    }
    if !any {
        return Err(Rejection::Refused("you did not fund this project").into());
    }
    funder.reclaimed = true;
    ctx.put(&keys::project_funder(id, &funder_addr), &funder);
    Ok(())
}

/// The project, refunding: an active one opens its refunds here if its
/// deadline passed with no invoice paid, and refuses otherwise.
fn refunding<S: Store>(ctx: &mut Ctx<'_, S>, id: ProjectId) -> Result<Project, Failure> {
    let project = load_project(ctx, id)?;
    if project.status != ProjectStatus::Active {
        return Ok(project);
    }
    if project.paid_any {
        return Err(Rejection::Refused(
            "an invoice has paid: refunds need the commissioners' approval",
        )
        .into());
    }
    if ctx.now <= project.refund_deadline {
        return Err(Rejection::Refused("refunds open after the refund deadline").into());
    }
    open_refunds(ctx, id, project)?;
    load_project(ctx, id)
}

/// What the funder's pledges to the project streamed, per asset, in fine
/// units.
fn streamed_by_asset<S: Store>(
    ctx: &Ctx<'_, S>,
    funder: &Funder,
) -> Result<Vec<(AssetId, u128)>, Failure> {
    let mut streamed: Vec<(AssetId, u128)> = Vec::new();
    for pid in funder.pledges.items().iter().copied() {
        let p = load_pledge(ctx, pid)?;
        let total = p
            .streamed_at(ctx.now, 0) // a project never pauses
            .ok_or(Fault::Inconsistent("pledge total out of range"))?;
        match streamed.iter_mut().find(|(a, _)| *a == p.asset) {
            Some((_, t)) => *t = t.saturating_add(total),
            None => streamed.push((p.asset, total)),
        }
    }
    Ok(streamed)
}

/// All the funder put into the project in `asset`, one-off and streamed.
fn contribution(funder: &Funder, streamed: &[(AssetId, u128)], asset: AssetId) -> u128 {
    let one_off = funder
        .one_off
        .items()
        .iter()
        .find(|(a, _)| *a == asset)
        .map_or(0, |(_, v)| *v);
    let stream = streamed
        .iter()
        .find(|(a, _)| *a == asset)
        .map_or(0, |(_, v)| *v);
    one_off.saturating_add(stream)
}

/// Counts a contribution as claimed and gives its share of the pool.
fn claim_share(pool: &mut RefundPool, contribution: u128) -> Result<u128, Fault> {
    // Cumulative shares: whoever claims last receives exactly what is
    // left, so the pool is shared out with no unit lost or created.
    let claimed_contributions = pool.claimed_contributions.saturating_add(contribution);
    let due_total = mul_div(pool.pool, claimed_contributions, pool.contributions)?;
    let share = due_total
        .checked_sub(pool.claimed)
        .ok_or(Fault::Inconsistent("refund shares decreased"))?;
    pool.claimed_contributions = claimed_contributions;
    pool.claimed = due_total;
    Ok(share)
}

/// `a * b / c` rounded down, exact for `b <= c` without overflowing.
fn mul_div(a: u128, b: u128, c: u128) -> Result<u128, Fault> {
    if c == 0 {
        return Ok(0);
    }
    if b > c {
        return Err(Fault::Inconsistent("refund share above the whole"));
    }
    // a * (b / c) with b <= c: split a = q*c + r so nothing overflows:
    // a*b/c = q*b + r*b/c, and r*b < c*c may still overflow, so reduce again.
    let q = a / c;
    let r = a % c;
    let head = q
        .checked_mul(b)
        .ok_or(Fault::Inconsistent("refund share out of range"))?;
    Ok(head + mul_div_small(r, b, c))
}

/// `r * b / c` for `r, b < c` (or b == c), by binary long multiplication.
fn mul_div_small(r: u128, b: u128, c: u128) -> u128 {
    if let Some(p) = r.checked_mul(b) {
        return p / c;
    }
    // Double-and-add over the bits of b, keeping the running value mod c.
    let mut quotient = 0u128;
    let mut remainder = 0u128;
    for bit in (0..128).rev() {
        // (quotient, remainder) = 2 * (quotient, remainder)
        quotient <<= 1;
        let (doubled, overflow) = remainder.overflowing_add(remainder);
        remainder = doubled;
        if overflow || remainder >= c {
            remainder = remainder.wrapping_sub(c);
            quotient += 1;
        }
        if (b >> bit) & 1 == 1 {
            let (sum, overflow) = remainder.overflowing_add(r);
            remainder = sum;
            if overflow || remainder >= c {
                remainder = remainder.wrapping_sub(c);
                quotient += 1;
            }
        }
    }
    quotient
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_is_exact_even_when_the_product_overflows() {
        assert_eq!(mul_div(10, 1, 3).ok(), Some(3));
        assert_eq!(mul_div(10, 3, 3).ok(), Some(10));
        let big = u128::MAX / 3;
        assert_eq!(mul_div(big, 1 << 100, 1 << 101).ok(), Some(big / 2));
        assert_eq!(
            mul_div_small(u128::MAX - 5, u128::MAX - 7, u128::MAX - 1),
            u128::MAX - 11
        );
        assert!(mul_div(1, 2, 1).is_err());
    }

    #[test]
    fn the_last_claim_takes_exactly_what_is_left() {
        let mut pool = RefundPool {
            pool: 10,
            contributions: 9,
            ..RefundPool::default()
        };
        let shares: Vec<u128> = [3, 3, 3]
            .iter()
            .map(|c| claim_share(&mut pool, *c).expect("within the pool"))
            .collect();
        assert_eq!(shares, vec![3, 3, 4]);
        assert_eq!(pool.claimed, 10);
        assert!(claim_share(&mut pool, 1).is_err());
    }
}
