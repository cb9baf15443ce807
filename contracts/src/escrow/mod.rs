//! Project escrows: funds for open work held by the protocol and released
//! only by the rules a project was created with.
//!
//! A project has N commissioners, a threshold M and a mode. In public mode M
//! commissioner approvals pay an invoice at once, and an invoice nobody else
//! vetoed pays by itself when its time-lock passes. In private mode the
//! funding patron plus enough commissioners (M = (N + 1) / 3 + 1 signers,
//! counting the patron) pay at once, and an invoice the patron neither signs
//! nor vetoes pays when the veto window ends. The time-outs are scheduled
//! tasks the protocol runs itself. If no invoice has paid by the refund
//! deadline — or M signers approve a refund — funders reclaim the unspent
//! balance pro rata, exactly.
//!
//! The records and the operation type are public; each family of operations
//! (creation, funding, tickets, invoices, refunds) has its own module, and
//! this one dispatches to them and holds the loads and stores they share.

mod create;
mod funding;
mod invoices;
mod operation;
mod records;
mod refunds;
mod tickets;

pub use operation::ProjectOperation;
pub use records::{
    private_threshold, Budget, EscrowAsset, Funder, Invoice, InvoiceChange, InvoiceStatus, Mode,
    Project, ProjectStatus, RefundPool, WorkTicket,
};

pub(crate) use funding::contribute;
pub(crate) use invoices::unlock_due;

use crate::asset::AssetId;
use crate::context::Ctx;
use crate::crypto::Address;
use crate::error::{Failure, Fault, Rejection};
use crate::event::Event;
use crate::keys;
use crate::state::ProjectId;
use crate::store::Store;

/// Most commissioners on a project.
pub const MAX_COMMISSIONERS: usize = 16;
/// Most distinct assets one project holds.
pub const MAX_PROJECT_ASSETS: usize = 8;
/// Most pledges one funder streams to one project.
pub const MAX_FUNDER_PLEDGES: usize = 8;
/// Longest project title, in bytes.
pub const MAX_PROJECT_TITLE: usize = 80;
/// Longest project description, in bytes.
pub const MAX_PROJECT_DESCRIPTION: usize = 1_000;
/// Longest URL, in bytes.
pub const MAX_URL: usize = 200;
/// Longest ticket title, in bytes.
pub const MAX_TICKET_TITLE: usize = 120;
/// Default public time-lock: 72 hours.
pub const DEFAULT_TIME_LOCK: u64 = 72 * 3_600;
/// Default private veto window: 7 days.
pub const DEFAULT_VETO_WINDOW: u64 = 7 * 86_400;
/// Shortest time-lock or veto window: one hour.
pub const MIN_TIME_LOCK: u64 = 3_600;
/// Longest time-lock or veto window: 90 days.
pub const MAX_TIME_LOCK: u64 = 90 * 86_400;

/// Runs a project operation.
pub(crate) fn apply<S: Store>(
    ctx: &mut Ctx<'_, S>,
    signer: Address,
    op: ProjectOperation,
) -> Result<(), Failure> {
    match op {
        ProjectOperation::Create {
            title,
            description,
            link,
            commissioners,
            threshold,
            mode,
            time_lock,
            refund_deadline,
        } => create::create(
            ctx,
            signer,
            title,
            description,
            link,
            commissioners,
            threshold,
            mode,
            time_lock,
            refund_deadline,
        ),
        ProjectOperation::Fund {
            project,
            asset,
            amount,
        } => funding::fund(ctx, signer, project, asset, amount),
        ProjectOperation::Pledge {
            project,
            asset,
            amount_per_period,
            period,
            end,
            cap,
        } => funding::pledge(
            ctx,
            signer,
            project,
            asset,
            amount_per_period,
            period,
            end,
            cap,
        ),
        ProjectOperation::OpenTicket {
            project,
            title,
            url,
            budget,
        } => tickets::open(ctx, signer, project, title, url, budget),
        ProjectOperation::CloseTicket { project, ticket } => {
            tickets::close(ctx, signer, project, ticket)
        }
        ProjectOperation::RaiseInvoice {
            project,
            ticket,
            beneficiary,
            asset,
            amount,
        } => invoices::raise(ctx, signer, project, ticket, beneficiary, asset, amount),
        ProjectOperation::Approve { project, invoice } => {
            invoices::approve(ctx, signer, project, invoice)
        }
        ProjectOperation::Veto { project, invoice } => {
            invoices::veto(ctx, signer, project, invoice)
        }
        ProjectOperation::WithdrawInvoice { project, invoice } => {
            invoices::withdraw(ctx, signer, project, invoice)
        }
        ProjectOperation::ApproveRefund { project } => {
            refunds::approve_refund(ctx, signer, project)
        }
        ProjectOperation::Reclaim { project } => refunds::reclaim(ctx, signer, project),
    }
}

fn load_project<S: Store>(ctx: &Ctx<'_, S>, id: ProjectId) -> Result<Project, Failure> {
    Ok(ctx
        .get::<Project>(&keys::project(id))?
        .ok_or(Rejection::UnknownProject(id))?)
}

fn store_project<S: Store>(ctx: &mut Ctx<'_, S>, id: ProjectId, project: Project) {
    ctx.put(&keys::project(id), &project);
    ctx.emit(Event::ProjectUpdated {
        project: id,
        record: project,
    });
}

fn escrow_asset<S: Store>(
    ctx: &Ctx<'_, S>,
    id: ProjectId,
    asset: AssetId,
) -> Result<EscrowAsset, Fault> {
    Ok(ctx
        .get(&keys::project_asset(id, asset))?
        .unwrap_or_default())
}

fn store_escrow_asset<S: Store>(
    ctx: &mut Ctx<'_, S>,
    id: ProjectId,
    asset: AssetId,
    record: EscrowAsset,
) {
    ctx.put(&keys::project_asset(id, asset), &record);
    ctx.emit(Event::EscrowUpdated {
        project: id,
        asset,
        record,
    });
}

fn load_invoice<S: Store>(
    ctx: &Ctx<'_, S>,
    project: ProjectId,
    n: u32,
) -> Result<Invoice, Failure> {
    Ok(ctx
        .get::<Invoice>(&keys::project_invoice(project, n))?
        .ok_or(Rejection::Refused("unknown invoice"))?)
}

fn store_invoice<S: Store>(
    ctx: &mut Ctx<'_, S>,
    project: ProjectId,
    n: u32,
    record: Invoice,
    change: InvoiceChange,
) {
    ctx.put(&keys::project_invoice(project, n), &record);
    ctx.emit(Event::InvoiceUpdated {
        project,
        invoice: n,
        change,
        record,
    });
}

fn load_funder<S: Store>(ctx: &Ctx<'_, S>, id: ProjectId, who: &Address) -> Result<Funder, Fault> {
    Ok(ctx.get(&keys::project_funder(id, who))?.unwrap_or_default())
}

fn require_active(project: &Project) -> Result<(), Rejection> {
    match project.status {
        ProjectStatus::Active => Ok(()),
        ProjectStatus::Refunding => Err(Rejection::Refused("the project is refunding its funders")),
    }
}

fn require_commissioner(project: &Project, who: &Address) -> Result<(), Rejection> {
    if project.is_commissioner(who) {
        Ok(())
    } else {
        Err(Rejection::Refused(
            "only the project's commissioners may do this",
        ))
    }
}
