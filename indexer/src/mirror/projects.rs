//! Projects and everything under them: the project records, their escrow
//! accounts, tickets and invoices, and their funders, with the payouts,
//! one-off funding and refunds that move value in and out of an escrow.

use pledgeroll_contracts::escrow::{Invoice, InvoiceChange};
use pledgeroll_contracts::{Address, AssetId, Event, Holder, ProjectId};

use super::batch::{asset_key, project_holder, Batch};
use super::ledger::{Counter, Movement};
use super::prefetch::Keys;
use super::Projection;
use crate::error::{int, IndexError};
use crate::rows::{
    address_text, fine, EscrowRow, EventRow, FunderAssetRow, FunderRow, InvoiceRow, ProjectRow,
    TicketRow,
};

/// The projection of project, escrow, ticket, invoice and funder events.
pub(super) struct Projects;

fn project_id(p: ProjectId) -> Result<i64, IndexError> {
    int(p.0, "project id")
}

fn change_text(c: InvoiceChange) -> &'static str {
    match c {
        InvoiceChange::Raised => "raised",
        InvoiceChange::Approved => "approved",
        InvoiceChange::Vetoed => "vetoed",
        InvoiceChange::Paid => "paid",
        InvoiceChange::Withdrawn => "withdrawn",
    }
}

impl Projection for Projects {
    fn keys(&self, event: &Event, keys: &mut Keys) -> Result<(), IndexError> {
        match event {
            Event::ProjectUpdated { project, .. } => {
                keys.projects.insert((project_id(*project)?,));
            }
            Event::EscrowUpdated { project, asset, .. } => {
                keys.escrows
                    .insert((project_id(*project)?, asset_key(*asset)));
            }
            Event::TicketUpdated {
                project, ticket, ..
            } => {
                keys.tickets
                    .insert((project_id(*project)?, i64::from(*ticket)));
            }
            Event::InvoiceUpdated {
                project,
                invoice,
                record,
                ..
            } => {
                keys.invoices
                    .insert((project_id(*project)?, i64::from(*invoice)));
                keys.balance(&Holder::Project(*project), record.asset);
                keys.account_balance(&record.beneficiary, record.asset);
            }
            Event::ProjectFunded {
                project,
                funder,
                asset,
                ..
            }
            | Event::Reclaimed {
                project,
                funder,
                asset,
                ..
            } => {
                keys.funder(*project, funder, Some(*asset))?;
                keys.balance(&Holder::Project(*project), *asset);
                keys.account_balance(funder, *asset);
            }
            // Refunds opening changes the escrows, in their own events;
            // the rest are other families' events.
            _ => {}
        }
        Ok(())
    }

    fn describe(&self, event: &Event, row: &mut EventRow) -> Result<(), IndexError> {
        let kind = match event {
            Event::ProjectUpdated { project: p, record } => {
                row.account = Some(address_text(&record.creator));
                row.project_id = Some(project_id(*p)?);
                "project_updated"
            }
            Event::EscrowUpdated {
                project: p, asset, ..
            } => {
                row.account = Some(project_holder(*p));
                row.project_id = Some(project_id(*p)?);
                row.asset_id = Some(asset_key(*asset));
                "escrow_updated"
            }
            Event::TicketUpdated {
                project: p, record, ..
            } => {
                row.account = Some(address_text(&record.opened_by));
                row.project_id = Some(project_id(*p)?);
                row.change = Some(if record.closed { "closed" } else { "opened" }.to_owned());
                "ticket_updated"
            }
            Event::InvoiceUpdated {
                project: p,
                change,
                record,
                ..
            } => {
                row.account = Some(address_text(&record.raised_by));
                row.counterparty = Some(address_text(&record.beneficiary));
                row.project_id = Some(project_id(*p)?);
                row.asset_id = Some(asset_key(record.asset));
                row.change = Some(change_text(*change).to_owned());
                "invoice_updated"
            }
            Event::ProjectFunded {
                project: p,
                funder,
                asset,
                ..
            } => {
                describe_funder(row, *p, funder, *asset)?;
                "project_funded"
            }
            Event::RefundsOpened { project: p } => {
                row.account = Some(project_holder(*p));
                row.project_id = Some(project_id(*p)?);
                "refunds_opened"
            }
            Event::Reclaimed {
                project: p,
                funder,
                asset,
                ..
            } => {
                describe_funder(row, *p, funder, *asset)?;
                "reclaimed"
            }
            // Other families' events.
            _ => return Ok(()),
        };
        row.kind = kind.to_owned();
        Ok(())
    }

    fn apply(&self, b: &mut Batch, idx: i64, event: &Event) -> Result<(), IndexError> {
        match event {
            Event::ProjectUpdated { project, record } => {
                let key = (project_id(*project)?,);
                let old = b.projects.get(&key).cloned();
                let row = ProjectRow::from_project(*project, record, old.as_ref(), b.level)?;
                b.projects.set(row, &mut b.undo);
            }
            Event::EscrowUpdated {
                project,
                asset,
                record,
            } => {
                let row = EscrowRow::from_escrow(*project, *asset, record, b.level)?;
                b.escrows.set(row, &mut b.undo);
            }
            Event::TicketUpdated {
                project,
                ticket,
                record,
            } => {
                let key = (project_id(*project)?, i64::from(*ticket));
                let old = b.tickets.get(&key).cloned();
                let row = TicketRow::from_ticket(*project, *ticket, record, old.as_ref(), b.level)?;
                b.tickets.set(row, &mut b.undo);
            }
            Event::InvoiceUpdated {
                project,
                invoice,
                change,
                record,
            } => invoice_updated(b, idx, *project, *invoice, *change, record)?,
            Event::ProjectFunded {
                project,
                funder,
                asset,
                amount,
            } => {
                contribute(b, *project, funder, *asset, fine(*amount))?;
                let mut m = Movement::new("fund", *asset, fine(*amount), b.time);
                m.from = Some(address_text(funder));
                m.to = Some(project_holder(*project));
                m.project = Some(project_id(*project)?);
                let (out, into) = (Counter::FundingOut, Counter::FundingIn);
                b.record(idx, m, Some(out), Some(into))?;
            }
            Event::Reclaimed {
                project,
                funder,
                asset,
                fine: share,
            } => reclaimed(b, idx, *project, funder, *asset, *share)?,
            // Refunds opening changes the escrows, in their own events;
            // the rest are other families' events.
            _ => {}
        }
        Ok(())
    }
}

/// An invoice changed; a paid one moves its amount out of the escrow.
fn invoice_updated(
    b: &mut Batch,
    idx: i64,
    project: ProjectId,
    invoice: u32,
    change: InvoiceChange,
    record: &Invoice,
) -> Result<(), IndexError> {
    let key = (project_id(project)?, i64::from(invoice));
    let old = b.invoices.get(&key).cloned();
    let row = InvoiceRow::from_invoice(project, invoice, record, old.as_ref(), b.level)?;
    b.invoices.set(row, &mut b.undo);
    if change == InvoiceChange::Paid {
        let at = record.settled_at.unwrap_or(b.time);
        let mut m = Movement::new("payout", record.asset, fine(record.amount), at);
        m.from = Some(project_holder(project));
        m.to = Some(address_text(&record.beneficiary));
        m.project = Some(key.0);
        m.invoice = Some(key.1);
        let (out, into) = (Counter::PayoutsOut, Counter::PayoutsIn);
        b.record(idx, m, Some(out), Some(into))?;
    }
    Ok(())
}

/// A funder took their `share` of a refund in an asset.
fn reclaimed(
    b: &mut Batch,
    idx: i64,
    project: ProjectId,
    who: &Address,
    asset: AssetId,
    share: u128,
) -> Result<(), IndexError> {
    let level = b.level();
    let f = funder(b, project, who)?;
    f.reclaimed = true;
    f.updated_level = level;
    let fa = funder_asset(b, project, who, asset)?;
    fa.refunded = fa.refunded.saturating_add(share);
    fa.updated_level = level;
    if share > 0 {
        let mut m = Movement::new("refund", asset, share, b.time);
        m.from = Some(project_holder(project));
        m.to = Some(address_text(who));
        m.project = Some(project_id(project)?);
        let (out, into) = (Counter::RefundsOut, Counter::RefundsIn);
        b.record(idx, m, Some(out), Some(into))?;
    }
    Ok(())
}

/// An event between a funder and a project's escrow, in an asset.
fn describe_funder(
    row: &mut EventRow,
    p: ProjectId,
    funder: &Address,
    asset: AssetId,
) -> Result<(), IndexError> {
    row.account = Some(address_text(funder));
    row.counterparty = Some(project_holder(p));
    row.project_id = Some(project_id(p)?);
    row.asset_id = Some(asset_key(asset));
    Ok(())
}

/// A project's funder, made at this level if new.
pub(super) fn funder<'b>(
    b: &'b mut Batch,
    p: ProjectId,
    who: &Address,
) -> Result<&'b mut FunderRow, IndexError> {
    let project_id = project_id(p)?;
    let level = b.level();
    let key = (project_id, address_text(who));
    Ok(b.funders.entry(&key, &mut b.undo, || FunderRow {
        project_id,
        funder: address_text(who),
        reclaimed: false,
        created_level: level,
        updated_level: level,
    }))
}

/// A funder's one-off funds and refund in an asset, made if new.
fn funder_asset<'b>(
    b: &'b mut Batch,
    p: ProjectId,
    who: &Address,
    asset: AssetId,
) -> Result<&'b mut FunderAssetRow, IndexError> {
    let project_id = project_id(p)?;
    let level = b.level();
    let key = (project_id, address_text(who), asset_key(asset));
    Ok(b.funder_assets.entry(&key, &mut b.undo, || FunderAssetRow {
        project_id,
        funder: address_text(who),
        asset_id: asset_key(asset),
        one_off: 0,
        refunded: 0,
        updated_level: level,
    }))
}

/// A one-off contribution to a project (funding or a tip).
pub(super) fn contribute(
    b: &mut Batch,
    p: ProjectId,
    who: &Address,
    asset: AssetId,
    amount: u128,
) -> Result<(), IndexError> {
    let level = b.level();
    funder(b, p, who)?;
    let row = funder_asset(b, p, who, asset)?;
    row.one_off = row.one_off.saturating_add(amount);
    row.updated_level = level;
    Ok(())
}
