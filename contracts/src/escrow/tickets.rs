//! Work tickets: units of work commissioners open and close, and invoices
//! are raised against.

use crate::context::Ctx;
use crate::crypto::Address;
use crate::encoding::Text;
use crate::error::{Failure, Rejection};
use crate::event::{Created, Event};
use crate::keys;
use crate::patronage::require_asset;
use crate::state::ProjectId;
use crate::store::Store;

use super::{
    load_project, require_active, require_commissioner, store_project, Budget, WorkTicket,
    MAX_TICKET_TITLE, MAX_URL,
};

/// Opens the project's next ticket (commissioners only).
pub(super) fn open<S: Store>(
    ctx: &mut Ctx<'_, S>,
    signer: Address,
    project: ProjectId,
    title: Text<MAX_TICKET_TITLE>,
    url: Option<Text<MAX_URL>>,
    budget: Option<Budget>,
) -> Result<(), Failure> {
    let mut p = load_project(ctx, project)?;
    require_active(&p)?;
    require_commissioner(&p, &signer)?;
    if let Some(b) = budget {
        require_asset(ctx, b.asset)?;
    }
    let n = p.tickets;
    p.tickets = n.checked_add(1).ok_or(Rejection::TooLarge)?;
    ctx.created = Some(Created::Ticket { project, ticket: n });
    let record = WorkTicket {
        title,
        url,
        budget,
        opened_by: signer,
        closed: false,
    };
    ctx.put(&keys::project_ticket(project, n), &record);
    ctx.emit(Event::TicketUpdated {
        project,
        ticket: n,
        record,
    });
    store_project(ctx, project, p);
    Ok(())
}

/// Marks a ticket's work done, so invoices may be raised against it
/// (commissioners only).
pub(super) fn close<S: Store>(
    ctx: &mut Ctx<'_, S>,
    signer: Address,
    project: ProjectId,
    ticket: u32,
) -> Result<(), Failure> {
    let p = load_project(ctx, project)?;
    require_active(&p)?;
    require_commissioner(&p, &signer)?;
    let key = keys::project_ticket(project, ticket);
    let mut record: WorkTicket = ctx.get(&key)?.ok_or(Rejection::Refused("unknown ticket"))?;
    if record.closed {
        return Err(Rejection::Refused("the ticket is already closed").into());
    }
    record.closed = true;
    ctx.put(&key, &record);
    ctx.emit(Event::TicketUpdated {
        project,
        ticket,
        record,
    });
    Ok(())
}
