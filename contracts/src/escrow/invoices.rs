//! Invoices: raised by a commissioner against a closed ticket, paid by
//! enough approvals or by their time-lock or veto window ending unvetoed,
//! or withdrawn.

use crate::asset::{AssetId, FINE_PER_UNIT};
use crate::context::Ctx;
use crate::crypto::Address;
use crate::encoding::List;
use crate::error::{Failure, Fault, Rejection};
use crate::event::Created;
use crate::keys;
use crate::ledger::{credit, fine, take_fine};
use crate::protocol::current_flow;
use crate::schedule::{self, Task};
use crate::state::{Holder, ProjectId};
use crate::store::Store;

use super::{
    escrow_asset, load_invoice, load_project, require_active, require_commissioner,
    store_escrow_asset, store_invoice, store_project, Invoice, InvoiceChange, InvoiceStatus, Mode,
    ProjectStatus, WorkTicket,
};

/// Raises an invoice against a closed ticket (commissioners only), holding
/// its amount in the escrow; it pays at once if the raiser's approval is
/// enough, and otherwise waits for approvals or its time-out.
pub(super) fn raise<S: Store>(
    ctx: &mut Ctx<'_, S>,
    signer: Address,
    id: ProjectId,
    ticket: u32,
    beneficiary: Address,
    asset: AssetId,
    amount: u64,
) -> Result<(), Failure> {
    let mut project = load_project(ctx, id)?;
    require_active(&project)?;
    require_commissioner(&project, &signer)?;
    let work: WorkTicket = ctx
        .get(&keys::project_ticket(id, ticket))?
        .ok_or(Rejection::Refused("unknown ticket"))?;
    if !work.closed {
        return Err(Rejection::Refused("invoices are raised against closed tickets").into());
    }
    reserve(ctx, id, asset, amount)?;

    let n = project.invoices;
    project.invoices = n.checked_add(1).ok_or(Rejection::TooLarge)?;
    ctx.created = Some(Created::Invoice {
        project: id,
        invoice: n,
    });
    let mut approvals = List::default();
    approvals.push(signer);
    let unlocks_at = ctx.now.saturating_add(project.time_lock);
    let record = Invoice {
        ticket,
        raised_by: signer,
        beneficiary,
        asset,
        amount,
        approvals,
        vetoes: List::default(),
        raised_at: ctx.now,
        unlocks_at,
        status: InvoiceStatus::Open,
        settled_at: None,
    };
    store_project(ctx, id, project.clone());
    if project.approved(record.approvals.items()) {
        return pay(ctx, id, n, record, Some(InvoiceChange::Raised));
    }
    schedule::push(
        ctx,
        unlocks_at,
        Task::InvoiceUnlock {
            project: id,
            invoice: n,
        },
    )?;
    store_invoice(ctx, id, n, record, InvoiceChange::Raised);
    Ok(())
}

/// The project's balance in `asset` not held for open invoices, in fine units.
fn unreserved<S: Store>(ctx: &Ctx<'_, S>, id: ProjectId, asset: AssetId) -> Result<u128, Fault> {
    let balance = current_flow(ctx.state(), &Holder::Project(id), asset, ctx.now)?.settled;
    Ok(balance.saturating_sub(escrow_asset(ctx, id, asset)?.reserved))
}

/// Holds `amount` of the project's free balance for a new invoice.
fn reserve<S: Store>(
    ctx: &mut Ctx<'_, S>,
    id: ProjectId,
    asset: AssetId,
    amount: u64,
) -> Result<(), Failure> {
    if amount == 0 {
        return Err(Rejection::ZeroAmount.into());
    }
    let units = fine(amount);
    let free = unreserved(ctx, id, asset)?;
    if units > free {
        return Err(Rejection::InsufficientBalance {
            asset,
            available: free / FINE_PER_UNIT,
            needed: u128::from(amount),
        }
        .into());
    }
    let mut escrow = escrow_asset(ctx, id, asset)?;
    escrow.reserved = escrow.reserved.saturating_add(units);
    store_escrow_asset(ctx, id, asset, escrow);
    Ok(())
}

/// Pays an open invoice from the escrow to its beneficiary. `cause` is the
/// change that made it payable (raised or approved), recorded first so the
/// feed shows it before the payment; a time-out has none.
fn pay<S: Store>(
    ctx: &mut Ctx<'_, S>,
    id: ProjectId,
    n: u32,
    mut invoice: Invoice,
    cause: Option<InvoiceChange>,
) -> Result<(), Failure> {
    if let Some(change) = cause {
        store_invoice(ctx, id, n, invoice.clone(), change);
    }
    let units = fine(invoice.amount);
    let mut escrow = escrow_asset(ctx, id, invoice.asset)?;
    escrow.unreserve(invoice.amount)?;
    escrow.paid_out = escrow.paid_out.saturating_add(units);
    store_escrow_asset(ctx, id, invoice.asset, escrow);
    take_fine(ctx, &Holder::Project(id), invoice.asset, units, |_| {
        Fault::Inconsistent("escrow balance below its reservations")
    })?;
    credit(
        ctx,
        &Holder::Account(invoice.beneficiary),
        invoice.asset,
        units,
    )?;
    let mut project = load_project(ctx, id)?;
    if !project.paid_any {
        project.paid_any = true;
        store_project(ctx, id, project);
    }
    invoice.status = InvoiceStatus::Paid;
    invoice.settled_at = Some(ctx.now);
    store_invoice(ctx, id, n, invoice, InvoiceChange::Paid);
    Ok(())
}

/// Approves an open invoice (commissioners, and the patron in private
/// mode), paying it if that makes enough approvals.
pub(super) fn approve<S: Store>(
    ctx: &mut Ctx<'_, S>,
    signer: Address,
    id: ProjectId,
    n: u32,
) -> Result<(), Failure> {
    let project = load_project(ctx, id)?;
    require_active(&project)?;
    if !project.is_signer(&signer) {
        return Err(Rejection::Refused(
            "only the project's commissioners (and its patron) approve invoices",
        )
        .into());
    }
    let mut invoice = load_invoice(ctx, id, n)?;
    if invoice.status != InvoiceStatus::Open {
        return Err(Rejection::Refused("the invoice is not open").into());
    }
    if invoice.approvals.items().contains(&signer) {
        return Err(Rejection::Refused("you already approved this invoice").into());
    }
    if invoice.vetoes.items().contains(&signer) {
        // The patron lifts their own veto by approving.
        invoice.vetoes.retain(|v| *v != signer);
    }
    if !invoice.approvals.push(signer) {
        return Err(Fault::Inconsistent("more approvals than signers").into());
    }
    if project.approved(invoice.approvals.items()) {
        return pay(ctx, id, n, invoice, Some(InvoiceChange::Approved));
    }
    store_invoice(ctx, id, n, invoice, InvoiceChange::Approved);
    Ok(())
}

/// Vetoes an open invoice, so its time-out no longer pays it (another
/// commissioner than the raiser in public mode, the patron in private mode).
pub(super) fn veto<S: Store>(
    ctx: &mut Ctx<'_, S>,
    signer: Address,
    id: ProjectId,
    n: u32,
) -> Result<(), Failure> {
    let project = load_project(ctx, id)?;
    require_active(&project)?;
    let mut invoice = load_invoice(ctx, id, n)?;
    let allowed = match project.mode {
        Mode::Public => project.is_commissioner(&signer) && signer != invoice.raised_by,
        Mode::Private { patron } => signer == patron,
    };
    if !allowed {
        return Err(Rejection::Refused(match project.mode {
            Mode::Public => "only another commissioner than the raiser vetoes an invoice",
            Mode::Private { .. } => {
                "only the funding patron vetoes an invoice of a private project"
            }
        })
        .into());
    }
    if invoice.status != InvoiceStatus::Open {
        return Err(Rejection::Refused("the invoice is not open").into());
    }
    if invoice.vetoes.items().contains(&signer) {
        return Err(Rejection::Refused("you already vetoed this invoice").into());
    }
    if invoice.approvals.items().contains(&signer) {
        return Err(Rejection::Refused("you approved this invoice").into());
    }
    if !invoice.vetoes.push(signer) {
        return Err(Fault::Inconsistent("more vetoes than signers").into());
    }
    store_invoice(ctx, id, n, invoice, InvoiceChange::Vetoed);
    Ok(())
}

/// An invoice's time-lock or veto window ended: pay it unless vetoed.
pub(crate) fn unlock_due<S: Store>(
    ctx: &mut Ctx<'_, S>,
    id: ProjectId,
    n: u32,
) -> Result<(), Failure> {
    let project = load_project(ctx, id)?;
    let invoice = load_invoice(ctx, id, n)?;
    if invoice.status != InvoiceStatus::Open
        || project.status != ProjectStatus::Active
        || !invoice.vetoes.is_empty()
    {
        return Ok(());
    }
    pay(ctx, id, n, invoice, None)
}

/// Withdraws an open invoice (its raiser only).
pub(super) fn withdraw<S: Store>(
    ctx: &mut Ctx<'_, S>,
    signer: Address,
    id: ProjectId,
    n: u32,
) -> Result<(), Failure> {
    let project = load_project(ctx, id)?;
    require_active(&project)?;
    let invoice = load_invoice(ctx, id, n)?;
    if invoice.raised_by != signer {
        return Err(Rejection::Refused("only the invoice's raiser may withdraw it").into());
    }
    if invoice.status != InvoiceStatus::Open {
        return Err(Rejection::Refused("the invoice is not open").into());
    }
    cancel(ctx, id, n, invoice)?;
    Ok(())
}

/// Closes an open invoice unpaid, releasing what it held: its raiser
/// withdrew it or the project began refunding.
pub(super) fn cancel<S: Store>(
    ctx: &mut Ctx<'_, S>,
    id: ProjectId,
    n: u32,
    mut invoice: Invoice,
) -> Result<(), Fault> {
    let mut escrow = escrow_asset(ctx, id, invoice.asset)?;
    escrow.unreserve(invoice.amount)?;
    store_escrow_asset(ctx, id, invoice.asset, escrow);
    invoice.status = InvoiceStatus::Withdrawn;
    invoice.settled_at = Some(ctx.now);
    store_invoice(ctx, id, n, invoice, InvoiceChange::Withdrawn);
    Ok(())
}
