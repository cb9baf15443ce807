//! `pledgeroll project`: creating, funding and pledging to project
//! escrows; tickets, invoices, approvals, vetoes and refunds; and showing a
//! project.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use pledgeroll_client::request::{seconds, text};
use pledgeroll_client::{Request, Wallet};
use pledgeroll_contracts::encoding::List;
use pledgeroll_contracts::escrow::{private_threshold, Mode, Project, ProjectOperation};
use pledgeroll_contracts::units::format_duration;
use pledgeroll_contracts::{Holder, Operation, ProjectId, FINE_PER_UNIT};
use serde_json::json;

use super::context::Ctx;
use super::output::when;
use super::send::{run_op, run_request, Send};

/// `pledgeroll project …`.
#[derive(Subcommand)]
pub enum ProjectCommand {
    /// Create a project escrow.
    Create(Create),
    /// Fund a project once.
    Fund {
        #[command(flatten)]
        send: Send,
        /// The project's number.
        project: u64,
        /// Amount with its asset.
        amount: String,
    },
    /// Stream funds to a project (ends by its refund deadline).
    Pledge {
        #[command(flatten)]
        send: Send,
        /// The project's number.
        project: u64,
        /// Amount per period with its asset.
        amount: String,
        /// hour, day, week, month, year, or a duration.
        #[arg(long, default_value = "month")]
        period: String,
        /// Never pay more than this in all.
        #[arg(long)]
        cap: Option<String>,
    },
    /// Open a ticket (commissioners).
    OpenTicket {
        #[command(flatten)]
        send: Send,
        /// The project's number.
        project: u64,
        /// Short title.
        #[arg(long)]
        title: String,
        /// The URL.
        #[arg(long)]
        url: Option<String>,
        /// A budget with its asset.
        #[arg(long)]
        budget: Option<String>,
    },
    /// Close a ticket (commissioners).
    CloseTicket {
        #[command(flatten)]
        send: Send,
        /// The project's number.
        project: u64,
        /// The ticket's number.
        ticket: u32,
    },
    /// Raise an invoice against a closed ticket (commissioners).
    Invoice {
        #[command(flatten)]
        send: Send,
        /// The project's number.
        project: u64,
        /// The ticket's number.
        ticket: u32,
        /// Amount with its asset.
        amount: String,
        /// Who gets paid (key name or tz address).
        #[arg(long)]
        to: String,
    },
    /// Approve an invoice.
    Approve {
        #[command(flatten)]
        send: Send,
        /// The project's number.
        project: u64,
        /// The invoice's number.
        invoice: u32,
    },
    /// Veto an invoice.
    Veto {
        #[command(flatten)]
        send: Send,
        /// The project's number.
        project: u64,
        /// The invoice's number.
        invoice: u32,
    },
    /// Withdraw an invoice you raised.
    WithdrawInvoice {
        #[command(flatten)]
        send: Send,
        /// The project's number.
        project: u64,
        /// The invoice's number.
        invoice: u32,
    },
    /// Approve refunding the funders now.
    Refund {
        #[command(flatten)]
        send: Send,
        /// The project's number.
        project: u64,
    },
    /// Take your share of a refunding project.
    Reclaim {
        #[command(flatten)]
        send: Send,
        /// The project's number.
        project: u64,
    },
    /// Show a project: escrow, commissioners, tickets, invoices.
    Show {
        /// The project's number.
        project: u64,
    },
}

/// The options of `project create`, apart so that one function builds its
/// operation.
#[derive(Args)]
pub struct Create {
    #[command(flatten)]
    send: Send,
    /// Short title.
    #[arg(long)]
    title: String,
    /// What the funds are for.
    #[arg(long, default_value = "")]
    description: String,
    /// Repository or issue tracker URL.
    #[arg(long)]
    link: Option<String>,
    /// A commissioner (key name or tz address); repeat for each.
    #[arg(long = "commissioner", required = true)]
    commissioners: Vec<String>,
    /// Approvals that pay an invoice at once (private mode: computed if omitted).
    #[arg(long)]
    threshold: Option<u8>,
    /// Private mode, with this funding patron (key name or tz address).
    #[arg(long)]
    private_patron: Option<String>,
    /// Time-lock (public) or veto window (private), e.g. `72h`.
    #[arg(long)]
    time_lock: Option<String>,
    /// Refunds open if nothing has paid within this, e.g. `90d`.
    #[arg(long, default_value = "90d")]
    refund_after: String,
}

/// Runs a `project` subcommand.
pub async fn run(ctx: &Ctx, command: ProjectCommand) -> Result<()> {
    let w = ctx.wallet().await?;
    let (send, request) = match command {
        ProjectCommand::Show { project } => return show(ctx, &w, ProjectId(project)).await,
        ProjectCommand::Create(create) => {
            let send = create.send.clone();
            let op = Operation::Project {
                op: create_op(ctx, &w, create).await?,
            };
            return run_op(ctx, &w, &send, op).await;
        }
        ProjectCommand::Fund {
            send,
            project,
            amount,
        } => (send, Request::Fund { project, amount }),
        ProjectCommand::Pledge {
            send,
            project,
            amount,
            period,
            cap,
        } => (
            send,
            Request::PledgeToProject {
                project,
                amount,
                period: Some(period),
                until: None,
                for_: None,
                cap,
            },
        ),
        ProjectCommand::OpenTicket {
            send,
            project,
            title,
            url,
            budget,
        } => (
            send,
            Request::OpenTicket {
                project,
                title,
                url,
                budget,
            },
        ),
        ProjectCommand::CloseTicket {
            send,
            project,
            ticket,
        } => (send, Request::CloseTicket { project, ticket }),
        ProjectCommand::Invoice {
            send,
            project,
            ticket,
            amount,
            to,
        } => (
            send,
            Request::RaiseInvoice {
                project,
                ticket,
                amount,
                beneficiary: ctx.address(&to)?.to_string(),
            },
        ),
        ProjectCommand::Approve {
            send,
            project,
            invoice,
        } => (send, Request::Approve { project, invoice }),
        ProjectCommand::Veto {
            send,
            project,
            invoice,
        } => (send, Request::Veto { project, invoice }),
        ProjectCommand::WithdrawInvoice {
            send,
            project,
            invoice,
        } => (send, Request::WithdrawInvoice { project, invoice }),
        ProjectCommand::Refund { send, project } => (send, Request::ApproveRefund { project }),
        ProjectCommand::Reclaim { send, project } => (send, Request::Reclaim { project }),
    };
    run_request(ctx, &w, &send, &request).await
}

/// The operation of `project create`: commissioners and patron by key name
/// or address, the private mode's threshold computed when not given, and
/// the refund deadline that far from the rollup's clock.
async fn create_op(ctx: &Ctx, w: &Wallet, create: Create) -> Result<ProjectOperation> {
    let commissioners = create
        .commissioners
        .iter()
        .map(|c| ctx.address(c))
        .collect::<Result<Vec<_>>>()?;
    let n = commissioners.len();
    let mode = match create.private_patron {
        Some(pp) => Mode::Private {
            patron: ctx.address(&pp)?,
        },
        None => Mode::Public,
    };
    let threshold = match (create.threshold, mode) {
        (Some(t), _) => t,
        (None, Mode::Private { .. }) => u8::try_from(private_threshold(n))?,
        (None, Mode::Public) => bail!("a public project needs --threshold"),
    };
    let time_lock = create
        .time_lock
        .map(|t| seconds(&t))
        .transpose()
        .context("--time-lock takes a duration like 72h")?;
    let after =
        seconds(&create.refund_after).context("--refund-after takes a duration like 90d")?;
    Ok(ProjectOperation::Create {
        title: text("title", &create.title)?,
        description: text("description", &create.description)?,
        link: create.link.map(|l| text("link", &l)).transpose()?,
        commissioners: List::new(commissioners).map_err(|_| anyhow!("at most 16 commissioners"))?,
        threshold,
        mode,
        time_lock,
        refund_deadline: w
            .clock()
            .await?
            .now
            .checked_add(after)
            .ok_or_else(|| anyhow!("--refund-after is too long"))?,
    })
}

/// `project show`: the escrow's terms, commissioners, balances, tickets
/// and invoices.
async fn show(ctx: &Ctx, w: &Wallet, id: ProjectId) -> Result<()> {
    let p = w
        .project(id)
        .await?
        .ok_or_else(|| anyhow!("there is no project {}", id.0))?;
    let now = w.clock().await?.now;
    let mut lines = vec![format!("project {}: {} ({})", id.0, p.title, p.status)];
    if let Some(l) = &p.link {
        lines.push(format!("  {l}"));
    }
    let mode = match p.mode {
        Mode::Public => format!(
            "public, {} of {} commissioners",
            p.threshold,
            p.commissioners.len()
        ),
        Mode::Private { patron } => format!(
            "private, patron {patron} plus commissioners ({} signers)",
            p.threshold
        ),
    };
    lines.push(format!(
        "  {mode}; time-lock {}; refunds after {}",
        format_duration(p.time_lock),
        when(p.refund_deadline)
    ));
    for c in p.commissioners.items() {
        lines.push(format!("  commissioner {c}"));
    }
    let balances = show_escrow(w, id, &p, &mut lines).await?;
    for n in 0..p.tickets {
        if let Some(t) = w.work_ticket(id, n).await? {
            lines.push(format!(
                "  ticket {n}: {} [{}]{}",
                t.title,
                if t.closed { "closed" } else { "open" },
                t.url.map(|u| format!(" {u}")).unwrap_or_default()
            ));
        }
    }
    let invoices = show_invoices(w, id, &p, now, &mut lines).await?;
    ctx.print(
        lines.join("\n"),
        json!({ "id": id.0, "title": p.title.as_str(), "status": p.status.to_string(), "balances": balances, "invoices": invoices, "tickets": p.tickets }),
    );
    Ok(())
}

/// A line per asset the project holds: its balance, what open invoices
/// reserve and what it has paid out; their JSON for `--json`.
async fn show_escrow(
    w: &Wallet,
    id: ProjectId,
    p: &Project,
    lines: &mut Vec<String>,
) -> Result<Vec<serde_json::Value>> {
    let mut balances = Vec::new();
    for asset in p.assets.items().iter().copied() {
        let info = w.asset_info(asset).await?;
        let held = w.balance(&Holder::Project(id), asset).await?;
        let escrow = w.escrow_asset(id, asset).await?;
        lines.push(format!(
            "  escrow: {} ({} reserved, {} paid out)",
            info.format(held),
            info.format(escrow.reserved / FINE_PER_UNIT),
            info.format(escrow.paid_out / FINE_PER_UNIT)
        ));
        balances.push(json!({ "asset": asset.0, "balance": held.to_string(), "reserved": (escrow.reserved / FINE_PER_UNIT).to_string() }));
    }
    Ok(balances)
}

/// A line per invoice, with the time left before an unvetoed one pays by
/// itself; their JSON for `--json`.
async fn show_invoices(
    w: &Wallet,
    id: ProjectId,
    p: &Project,
    now: u64,
    lines: &mut Vec<String>,
) -> Result<Vec<serde_json::Value>> {
    let mut invoices = Vec::new();
    for n in 0..p.invoices {
        if let Some(inv) = w.invoice(id, n).await? {
            let info = w.asset_info(inv.asset).await?;
            let countdown = if inv.unlocks_at > now && inv.vetoes.is_empty() {
                format!(
                    ", pays by itself in {}",
                    format_duration(inv.unlocks_at - now)
                )
            } else {
                String::new()
            };
            lines.push(format!(
                "  invoice {n}: {} to {} — {}, {} approvals, {} vetoes{countdown}",
                info.format(u128::from(inv.amount)),
                inv.beneficiary,
                inv.status,
                inv.approvals.len(),
                inv.vetoes.len()
            ));
            invoices.push(json!({ "id": n, "amount": inv.amount, "status": inv.status.to_string(), "approvals": inv.approvals.len(), "vetoes": inv.vetoes.len(), "unlocks_at": inv.unlocks_at }));
        }
    }
    Ok(invoices)
}
