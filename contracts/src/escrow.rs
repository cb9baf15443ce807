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

use crate::asset::AssetId;
use crate::context::Ctx;
use crate::crypto::Address;
use crate::encoding::{codec_enum, codec_struct, List, Text};
use crate::error::{Failure, Fault, Rejection};
use crate::event::Event;
use crate::keys;
use crate::ledger::{credit, debit, fine, settled_flow, store_flow};
use crate::patronage::{checked_rate, end_pledge, load_pledge, open_pledge, require_asset};
use crate::schedule::{self, Task};
use crate::state::{Counters, EndReason, Holder, Pledge, PledgeId, PledgeStatus, ProjectId};
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

/// How a project releases funds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// M-of-N commissioners, or the time-lock with no veto.
    Public,
    /// The funding patron plus commissioners, or the veto window with no
    /// veto from the patron.
    Private {
        /// The funding patron.
        patron: Address,
    },
}
codec_enum!(Mode, "project mode" {
    0 => Public,
    1 => Private { patron },
});

/// The signatures private mode needs, counting the patron, for `n`
/// commissioners: a third of all signers, plus one.
pub fn private_threshold(n: usize) -> usize {
    (n + 1) / 3 + 1
}

/// A project's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectStatus {
    /// Taking funds and paying invoices.
    Active,
    /// Funders are reclaiming what is left.
    Refunding,
}
codec_enum!(ProjectStatus, "project status" {
    0 => Active,
    1 => Refunding,
});

/// A project escrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Who created it.
    pub creator: Address,
    /// Short title.
    pub title: Text<MAX_PROJECT_TITLE>,
    /// What the funds are for.
    pub description: Text<MAX_PROJECT_DESCRIPTION>,
    /// Repository or issue tracker.
    pub link: Option<Text<MAX_URL>>,
    /// The commissioners, distinct.
    pub commissioners: List<Address, MAX_COMMISSIONERS>,
    /// Approvals that pay an invoice at once (counting the patron in private mode).
    pub threshold: u8,
    /// Public or private.
    pub mode: Mode,
    /// Seconds an invoice waits for a veto before it pays by itself.
    pub time_lock: u64,
    /// Time after which funders may reclaim if no invoice has paid; pledge
    /// streams to the project end by then.
    pub refund_deadline: u64,
    /// Where it stands.
    pub status: ProjectStatus,
    /// Whether any invoice has paid.
    pub paid_any: bool,
    /// Tickets opened so far.
    pub tickets: u32,
    /// Invoices raised so far.
    pub invoices: u32,
    /// The assets it has held.
    pub assets: List<AssetId, MAX_PROJECT_ASSETS>,
    /// Signers who approved an early refund.
    pub refund_approvals: List<Address, { MAX_COMMISSIONERS + 1 }>,
}
codec_struct!(Project {
    creator,
    title,
    description,
    link,
    commissioners,
    threshold,
    mode,
    time_lock,
    refund_deadline,
    status,
    paid_any,
    tickets,
    invoices,
    assets,
    refund_approvals,
});

impl Project {
    fn is_commissioner(&self, a: &Address) -> bool {
        self.commissioners.items().contains(a)
    }

    fn patron(&self) -> Option<Address> {
        match self.mode {
            Mode::Public => None,
            Mode::Private { patron } => Some(patron),
        }
    }

    fn is_signer(&self, a: &Address) -> bool {
        self.is_commissioner(a) || self.patron() == Some(*a)
    }

    /// Whether these approvals release funds at once.
    fn approved(&self, approvals: &[Address]) -> bool {
        let commissioners = approvals.iter().filter(|a| self.is_commissioner(a)).count();
        match self.mode {
            Mode::Public => commissioners >= usize::from(self.threshold),
            Mode::Private { patron } => {
                approvals.contains(&patron) && commissioners + 1 >= usize::from(self.threshold)
            }
        }
    }
}

/// A budget attached to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The asset.
    pub asset: AssetId,
    /// Base units.
    pub amount: u64,
}
codec_struct!(Budget { asset, amount });

/// A unit of work on a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkTicket {
    /// Short title.
    pub title: Text<MAX_TICKET_TITLE>,
    /// An external issue, e.g. on GitHub or GitLab.
    pub url: Option<Text<MAX_URL>>,
    /// The budget, if set.
    pub budget: Option<Budget>,
    /// The commissioner who opened it.
    pub opened_by: Address,
    /// Whether the work is done.
    pub closed: bool,
}
codec_struct!(WorkTicket {
    title,
    url,
    budget,
    opened_by,
    closed
});

/// Where an invoice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceStatus {
    /// Waiting for approvals or its time-out.
    Open,
    /// Paid to its beneficiary.
    Paid,
    /// Withdrawn by its raiser, or cancelled by a refund.
    Withdrawn,
}
codec_enum!(InvoiceStatus, "invoice status" {
    0 => Open,
    1 => Paid,
    2 => Withdrawn,
});

/// A request to pay for a closed ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// The ticket it pays for.
    pub ticket: u32,
    /// The commissioner who raised it.
    pub raised_by: Address,
    /// Who gets paid.
    pub beneficiary: Address,
    /// The asset.
    pub asset: AssetId,
    /// Base units.
    pub amount: u64,
    /// Signers who approved (the raiser first).
    pub approvals: List<Address, { MAX_COMMISSIONERS + 1 }>,
    /// Signers who vetoed.
    pub vetoes: List<Address, { MAX_COMMISSIONERS + 1 }>,
    /// When it was raised.
    pub raised_at: u64,
    /// When its time-lock or veto window ends.
    pub unlocks_at: u64,
    /// Where it stands.
    pub status: InvoiceStatus,
    /// When it was paid or withdrawn.
    pub settled_at: Option<u64>,
}
codec_struct!(Invoice {
    ticket,
    raised_by,
    beneficiary,
    asset,
    amount,
    approvals,
    vetoes,
    raised_at,
    unlocks_at,
    status,
    settled_at,
});

/// A project's accounts in one asset, in fine units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EscrowAsset {
    /// Held for open invoices.
    pub reserved: u128,
    /// Paid out to beneficiaries.
    pub paid_out: u128,
    /// One-off funding received.
    pub funded: u128,
    /// The refund, once open.
    pub refund: Option<RefundPool>,
}
codec_struct!(EscrowAsset {
    reserved,
    paid_out,
    funded,
    refund
});

/// What funders share when refunds open, and what they took so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefundPool {
    /// The balance when refunds opened.
    pub pool: u128,
    /// All contributions ever (pool plus paid out).
    pub contributions: u128,
    /// Contributions of funders who reclaimed.
    pub claimed_contributions: u128,
    /// What they received.
    pub claimed: u128,
}
codec_struct!(RefundPool {
    pool,
    contributions,
    claimed_contributions,
    claimed,
});

/// One funder's contributions to a project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Funder {
    /// One-off amounts per asset, in fine units.
    pub one_off: List<(AssetId, u128), MAX_PROJECT_ASSETS>,
    /// Pledges streaming to the project.
    pub pledges: List<PledgeId, MAX_FUNDER_PLEDGES>,
    /// Whether the funder reclaimed their share.
    pub reclaimed: bool,
}
codec_struct!(Funder {
    one_off,
    pledges,
    reclaimed
});

/// How an invoice changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceChange {
    /// Raised.
    Raised,
    /// A signer approved.
    Approved,
    /// A signer vetoed.
    Vetoed,
    /// Paid.
    Paid,
    /// Withdrawn or cancelled.
    Withdrawn,
}
codec_enum!(InvoiceChange, "invoice change" {
    0 => Raised,
    1 => Approved,
    2 => Vetoed,
    3 => Paid,
    4 => Withdrawn,
});

/// Operations on project escrows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectOperation {
    /// Creates a project; the signer need not be a commissioner.
    Create {
        /// Short title.
        title: Text<MAX_PROJECT_TITLE>,
        /// What the funds are for.
        description: Text<MAX_PROJECT_DESCRIPTION>,
        /// Repository or issue tracker.
        link: Option<Text<MAX_URL>>,
        /// Distinct commissioners.
        commissioners: List<Address, MAX_COMMISSIONERS>,
        /// M; in private mode it must be `(N + 1) / 3 + 1`.
        threshold: u8,
        /// Public or private.
        mode: Mode,
        /// Time-lock (public) or veto window (private), default 72 h or 7 days.
        time_lock: Option<u64>,
        /// When funders may reclaim if nothing has paid.
        refund_deadline: u64,
    },
    /// A one-off contribution.
    Fund {
        /// The project.
        project: ProjectId,
        /// The asset.
        asset: AssetId,
        /// Base units.
        amount: u64,
    },
    /// A pledge stream to the project (ends by the refund deadline).
    Pledge {
        /// The project.
        project: ProjectId,
        /// The asset.
        asset: AssetId,
        /// Base units per period.
        amount_per_period: u64,
        /// Period in seconds.
        period: u32,
        /// Time after which the pledge ends.
        end: Option<u64>,
        /// Most base units in all.
        cap: Option<u64>,
    },
    /// Opens a ticket (commissioners only).
    OpenTicket {
        /// The project.
        project: ProjectId,
        /// Short title.
        title: Text<MAX_TICKET_TITLE>,
        /// External issue URL.
        url: Option<Text<MAX_URL>>,
        /// Budget.
        budget: Option<Budget>,
    },
    /// Closes a ticket (commissioners only).
    CloseTicket {
        /// The project.
        project: ProjectId,
        /// The ticket.
        ticket: u32,
    },
    /// Raises an invoice against a closed ticket (commissioners only).
    RaiseInvoice {
        /// The project.
        project: ProjectId,
        /// The ticket.
        ticket: u32,
        /// Who gets paid.
        beneficiary: Address,
        /// The asset.
        asset: AssetId,
        /// Base units.
        amount: u64,
    },
    /// Approves an invoice (commissioners, and the patron in private mode).
    Approve {
        /// The project.
        project: ProjectId,
        /// The invoice.
        invoice: u32,
    },
    /// Vetoes an invoice (other commissioners in public mode, the patron in
    /// private mode).
    Veto {
        /// The project.
        project: ProjectId,
        /// The invoice.
        invoice: u32,
    },
    /// Withdraws an open invoice (its raiser only).
    WithdrawInvoice {
        /// The project.
        project: ProjectId,
        /// The invoice.
        invoice: u32,
    },
    /// Approves refunding the funders now.
    ApproveRefund {
        /// The project.
        project: ProjectId,
    },
    /// Takes the signer's share of a refunding project.
    Reclaim {
        /// The project.
        project: ProjectId,
    },
}

codec_enum!(ProjectOperation, "project operation" {
    0 => Create { title, description, link, commissioners, threshold, mode, time_lock, refund_deadline },
    1 => Fund { project, asset, amount },
    2 => Pledge { project, asset, amount_per_period, period, end, cap },
    3 => OpenTicket { project, title, url, budget },
    4 => CloseTicket { project, ticket },
    5 => RaiseInvoice { project, ticket, beneficiary, asset, amount },
    6 => Approve { project, invoice },
    7 => Veto { project, invoice },
    8 => WithdrawInvoice { project, invoice },
    9 => ApproveRefund { project },
    10 => Reclaim { project },
});

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
        } => create(
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
        } => fund(ctx, signer, project, asset, amount),
        ProjectOperation::Pledge {
            project,
            asset,
            amount_per_period,
            period,
            end,
            cap,
        } => pledge(
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
        } => {
            let mut p = load_project(ctx, project)?;
            require_active(&p)?;
            require_commissioner(&p, &signer)?;
            if let Some(b) = budget {
                require_asset(ctx, b.asset)?;
            }
            let n = p.tickets;
            p.tickets = n.checked_add(1).ok_or(Rejection::TooLarge)?;
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
        ProjectOperation::CloseTicket { project, ticket } => {
            let p = load_project(ctx, project)?;
            require_active(&p)?;
            require_commissioner(&p, &signer)?;
            let key = keys::project_ticket(project, ticket);
            let mut record: WorkTicket =
                ctx.get(&key)?.ok_or(Rejection::Refused("unknown ticket"))?;
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
        ProjectOperation::RaiseInvoice {
            project,
            ticket,
            beneficiary,
            asset,
            amount,
        } => raise_invoice(ctx, signer, project, ticket, beneficiary, asset, amount),
        ProjectOperation::Approve { project, invoice } => approve(ctx, signer, project, invoice),
        ProjectOperation::Veto { project, invoice } => veto(ctx, signer, project, invoice),
        ProjectOperation::WithdrawInvoice { project, invoice } => {
            let p = load_project(ctx, project)?;
            require_active(&p)?;
            let mut record = load_invoice(ctx, project, invoice)?;
            if record.raised_by != signer {
                return Err(Rejection::Refused("only the invoice's raiser may withdraw it").into());
            }
            if record.status != InvoiceStatus::Open {
                return Err(Rejection::Refused("the invoice is not open").into());
            }
            release_reservation(ctx, project, &record)?;
            record.status = InvoiceStatus::Withdrawn;
            record.settled_at = Some(ctx.now);
            store_invoice(ctx, project, invoice, record, InvoiceChange::Withdrawn);
            Ok(())
        }
        ProjectOperation::ApproveRefund { project } => approve_refund(ctx, signer, project),
        ProjectOperation::Reclaim { project } => reclaim(ctx, signer, project),
    }
}

#[allow(clippy::too_many_arguments)]
fn create<S: Store>(
    ctx: &mut Ctx<'_, S>,
    creator: Address,
    title: Text<MAX_PROJECT_TITLE>,
    description: Text<MAX_PROJECT_DESCRIPTION>,
    link: Option<Text<MAX_URL>>,
    commissioners: List<Address, MAX_COMMISSIONERS>,
    threshold: u8,
    mode: Mode,
    time_lock: Option<u64>,
    refund_deadline: u64,
) -> Result<(), Failure> {
    if title.as_str().trim().is_empty() {
        return Err(Rejection::Refused("a project needs a title").into());
    }
    let list = commissioners.items();
    if list.is_empty() {
        return Err(Rejection::Refused("a project needs at least one commissioner").into());
    }
    if list
        .iter()
        .enumerate()
        .any(|(i, a)| list.iter().skip(i + 1).any(|b| a == b))
    {
        return Err(Rejection::Refused("commissioners must be distinct").into());
    }
    let n = list.len();
    let (default_lock, required) = match mode {
        Mode::Public => (DEFAULT_TIME_LOCK, None),
        Mode::Private { patron } => {
            if list.contains(&patron) {
                return Err(
                    Rejection::Refused("the funding patron cannot also be a commissioner").into(),
                );
            }
            (DEFAULT_VETO_WINDOW, Some(private_threshold(n)))
        }
    };
    let m = usize::from(threshold);
    if m < 1 || m > n + usize::from(required.is_some()) {
        return Err(Rejection::Refused(
            "the threshold must be between 1 and the number of signers",
        )
        .into());
    }
    if let Some(required) = required {
        if m != required {
            return Err(Rejection::Refused(
                "a private project's threshold is (N + 1) / 3 + 1, counting the patron",
            )
            .into());
        }
    }
    let time_lock = time_lock.unwrap_or(default_lock);
    if !(MIN_TIME_LOCK..=MAX_TIME_LOCK).contains(&time_lock) {
        return Err(
            Rejection::Refused("the time-lock must be between one hour and 90 days").into(),
        );
    }
    if refund_deadline <= ctx.now {
        return Err(Rejection::Refused("the refund deadline must be in the future").into());
    }
    let mut counters: Counters = ctx.get(keys::COUNTERS)?.unwrap_or_default();
    let id = ProjectId(counters.project);
    counters.project += 1;
    ctx.put(keys::COUNTERS, &counters);
    store_project(
        ctx,
        id,
        Project {
            creator,
            title,
            description,
            link,
            commissioners,
            threshold,
            mode,
            time_lock,
            refund_deadline,
            status: ProjectStatus::Active,
            paid_any: false,
            tickets: 0,
            invoices: 0,
            assets: List::default(),
            refund_approvals: List::default(),
        },
    );
    Ok(())
}

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

fn load_funder<S: Store>(ctx: &Ctx<'_, S>, id: ProjectId, who: &Address) -> Result<Funder, Fault> {
    Ok(ctx.get(&keys::project_funder(id, who))?.unwrap_or_default())
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

fn fund<S: Store>(
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

#[allow(clippy::too_many_arguments)]
fn pledge<S: Store>(
    ctx: &mut Ctx<'_, S>,
    patron: Address,
    id: ProjectId,
    asset: AssetId,
    amount_per_period: u64,
    period: u32,
    end: Option<u64>,
    cap: Option<u64>,
) -> Result<(), Failure> {
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

/// The project's balance in `asset` not held for open invoices, in fine units.
fn unreserved<S: Store>(ctx: &Ctx<'_, S>, id: ProjectId, asset: AssetId) -> Result<u128, Fault> {
    let balance = settled_flow(ctx, &Holder::Project(id), asset)?.settled;
    Ok(balance.saturating_sub(escrow_asset(ctx, id, asset)?.reserved))
}

fn raise_invoice<S: Store>(
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
    if amount == 0 {
        return Err(Rejection::ZeroAmount.into());
    }
    let units = fine(amount);
    let free = unreserved(ctx, id, asset)?;
    if units > free {
        return Err(Rejection::InsufficientBalance {
            asset,
            available: free / crate::asset::FINE_PER_UNIT,
            needed: u128::from(amount),
        }
        .into());
    }
    let mut escrow = escrow_asset(ctx, id, asset)?;
    escrow.reserved = escrow.reserved.saturating_add(units);
    store_escrow_asset(ctx, id, asset, escrow);

    let n = project.invoices;
    project.invoices = n.checked_add(1).ok_or(Rejection::TooLarge)?;
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

fn release_reservation<S: Store>(
    ctx: &mut Ctx<'_, S>,
    id: ProjectId,
    invoice: &Invoice,
) -> Result<(), Fault> {
    let mut escrow = escrow_asset(ctx, id, invoice.asset)?;
    escrow.reserved =
        escrow
            .reserved
            .checked_sub(fine(invoice.amount))
            .ok_or(Fault::Inconsistent(
                "escrow reservation below an open invoice",
            ))?;
    store_escrow_asset(ctx, id, invoice.asset, escrow);
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
    escrow.reserved = escrow
        .reserved
        .checked_sub(units)
        .ok_or(Fault::Inconsistent(
            "escrow reservation below an open invoice",
        ))?;
    escrow.paid_out = escrow.paid_out.saturating_add(units);
    store_escrow_asset(ctx, id, invoice.asset, escrow);
    let mut flow = settled_flow(ctx, &Holder::Project(id), invoice.asset)?;
    flow.settled = flow
        .settled
        .checked_sub(units)
        .ok_or(Fault::Inconsistent("escrow balance below its reservations"))?;
    store_flow(ctx, &Holder::Project(id), invoice.asset, flow)?;
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

fn approve<S: Store>(
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

fn veto<S: Store>(
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
        let mut invoice = load_invoice(ctx, id, n)?;
        if invoice.status == InvoiceStatus::Open {
            release_reservation(ctx, id, &invoice)?;
            invoice.status = InvoiceStatus::Withdrawn;
            invoice.settled_at = Some(ctx.now);
            store_invoice(ctx, id, n, invoice, InvoiceChange::Withdrawn);
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

fn approve_refund<S: Store>(
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

fn reclaim<S: Store>(
    ctx: &mut Ctx<'_, S>,
    funder_addr: Address,
    id: ProjectId,
) -> Result<(), Failure> {
    let mut project = load_project(ctx, id)?;
    if project.status == ProjectStatus::Active {
        if project.paid_any {
            return Err(Rejection::Refused(
                "an invoice has paid: refunds need the commissioners' approval",
            )
            .into());
        }
        if ctx.now <= project.refund_deadline {
            return Err(Rejection::Refused("refunds open after the refund deadline").into());
        }
        open_refunds(ctx, id, project.clone())?;
        project = load_project(ctx, id)?;
    }
    let mut funder = load_funder(ctx, id, &funder_addr)?;
    if funder.reclaimed {
        return Err(Rejection::Refused("you already reclaimed your share").into());
    }
    let mut streamed: Vec<(AssetId, u128)> = Vec::new();
    for pid in funder.pledges.items().iter().copied() {
        let p = load_pledge(ctx, pid)?;
        let total = p
            .streamed_at(ctx.now)
            .ok_or(Fault::Inconsistent("pledge total out of range"))?;
        match streamed.iter_mut().find(|(a, _)| *a == p.asset) {
            Some((_, t)) => *t = t.saturating_add(total),
            None => streamed.push((p.asset, total)),
        }
    }
    let mut any = false;
    for asset in project.assets.items().iter().copied() {
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
        let contribution = one_off.saturating_add(stream);
        if contribution == 0 {
            continue;
        }
        let mut escrow = escrow_asset(ctx, id, asset)?;
        let mut pool = escrow
            .refund
            .ok_or(Fault::Inconsistent("refunding project without a pool"))?;
        // Cumulative shares: whoever claims last receives exactly what is
        // left, so the pool is shared out with no unit lost or created.
        let claimed_contributions = pool.claimed_contributions.saturating_add(contribution);
        let due_total = mul_div(pool.pool, claimed_contributions, pool.contributions)?;
        let share = due_total
            .checked_sub(pool.claimed)
            .ok_or(Fault::Inconsistent("refund shares decreased"))?;
        pool.claimed_contributions = claimed_contributions;
        pool.claimed = due_total;
        escrow.refund = Some(pool);
        store_escrow_asset(ctx, id, asset, escrow);
        if share > 0 {
            let mut flow = settled_flow(ctx, &Holder::Project(id), asset)?;
            flow.settled = flow
                .settled
                .checked_sub(share)
                .ok_or(Fault::Inconsistent("refund above the escrow balance"))?;
            store_flow(ctx, &Holder::Project(id), asset, flow)?;
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
    use crate::encoding::{Decode, Encode};

    #[test]
    fn private_threshold_counts_the_patron() {
        assert_eq!(private_threshold(2), 2);
        assert_eq!(private_threshold(1), 1);
        assert_eq!(private_threshold(5), 3);
    }

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
    fn project_records_round_trip() {
        let a = Address::new(crate::crypto::Curve::Ed25519, [1; 20]);
        let mut commissioners = List::default();
        commissioners.push(a);
        let op = ProjectOperation::Create {
            title: Text::new("docs").expect("short"),
            description: Text::new("").expect("short"),
            link: Some(Text::new("https://example.org/issues/1").expect("short")),
            commissioners,
            threshold: 1,
            mode: Mode::Private { patron: a },
            time_lock: None,
            refund_deadline: 9,
        };
        assert_eq!(ProjectOperation::from_bytes(&op.to_bytes()), Ok(op));
        let pool = EscrowAsset {
            refund: Some(RefundPool {
                pool: 5,
                ..RefundPool::default()
            }),
            ..EscrowAsset::default()
        };
        assert_eq!(EscrowAsset::from_bytes(&pool.to_bytes()), Ok(pool));
    }
}
