//! Project escrows: the projects, their accounts per asset, their tickets
//! and invoices, and their funders.

use pledgeroll_contracts::escrow::{
    Budget, EscrowAsset, Invoice, InvoiceStatus, Mode, Project, ProjectStatus, RefundPool,
    WorkTicket,
};
use pledgeroll_contracts::{AssetId, ProjectId};

use super::{
    address, address_text, base, corrupt, json_ids, json_list, list, parse_ids, parse_list, text,
    uint, uint32,
};
use crate::error::{int, IndexError};
use crate::schema::table;

table! {
    /// A project escrow.
    ProjectRow in "projects" {
        key {
            /// The project.
            project_id: i64,
        }
        /// Who created it.
        creator: String,
        /// Title.
        title: String,
        /// The title in lower case, for search.
        title_lower: String,
        /// What the funds are for.
        description: String,
        /// Repository or issue tracker.
        link: Option<String>,
        /// Commissioners, a JSON array of addresses.
        commissioners: String,
        /// Approvals that pay an invoice at once.
        threshold: i64,
        /// `public` or `private`.
        mode: String,
        /// The funding patron of a private project.
        patron: Option<String>,
        /// Time-lock (public) or veto window (private), seconds.
        time_lock: i64,
        /// When funders may reclaim if nothing has paid.
        refund_deadline: i64,
        /// `active` or `refunding`.
        status: String,
        /// Whether any invoice has paid.
        paid_any: bool,
        /// Tickets opened so far.
        tickets: i64,
        /// Invoices raised so far.
        invoices: i64,
        /// Assets it has held, a JSON array of asset ids.
        assets: String,
        /// Signers who approved an early refund, a JSON array.
        refund_approvals: String,
        /// The level that created it.
        created_level: i64,
        /// The level of the last change.
        updated_level: i64,
    }
    index projects_title ("title_lower, project_id");
}

table! {
    /// A project's accounts in one asset (its balance is in `balances`
    /// under holder `project-{id}`).
    EscrowRow in "escrows" {
        key {
            /// The project.
            project_id: i64,
            /// The asset.
            asset_id: i64,
        }
        /// Fine units held for open invoices.
        reserved: u128,
        /// Fine units paid to beneficiaries.
        paid_out: u128,
        /// Fine units of one-off funding received.
        funded: u128,
        /// The balance when refunds opened.
        refund_pool: Option<u128>,
        /// All contributions when refunds opened.
        refund_contributions: Option<u128>,
        /// Contributions of funders who reclaimed.
        refund_claimed_contributions: Option<u128>,
        /// What they received.
        refund_claimed: Option<u128>,
        /// The level of the last change.
        updated_level: i64,
    }
}

table! {
    /// A unit of work on a project.
    TicketRow in "tickets" {
        key {
            /// The project.
            project_id: i64,
            /// The ticket's number in the project.
            ticket_no: i64,
        }
        /// Title.
        title: String,
        /// An external issue URL.
        url: Option<String>,
        /// The budget's asset.
        budget_asset_id: Option<i64>,
        /// The budget, base units.
        budget_amount: Option<u128>,
        /// The commissioner who opened it.
        opened_by: String,
        /// Whether the work is done.
        closed: bool,
        /// The level that opened it.
        created_level: i64,
        /// The level of the last change.
        updated_level: i64,
    }
}

table! {
    /// A request to pay for a closed ticket.
    InvoiceRow in "invoices" {
        key {
            /// The project.
            project_id: i64,
            /// The invoice's number in the project.
            invoice_no: i64,
        }
        /// The ticket it pays for.
        ticket_no: i64,
        /// The commissioner who raised it.
        raised_by: String,
        /// Who gets paid.
        beneficiary: String,
        /// The asset.
        asset_id: i64,
        /// Base units.
        amount: u128,
        /// Approving signers, a JSON array (the raiser first).
        approvals: String,
        /// Vetoing signers, a JSON array.
        vetoes: String,
        /// When it was raised.
        raised_at: i64,
        /// When its time-lock or veto window ends.
        unlocks_at: i64,
        /// `open`, `paid` or `withdrawn`.
        status: String,
        /// When it was paid or withdrawn.
        settled_at: Option<i64>,
        /// The level that raised it.
        created_level: i64,
        /// The level of the last change.
        updated_level: i64,
    }
    index invoices_beneficiary ("beneficiary, project_id, invoice_no");
    // Open invoices by the end of their time-lock, for the alerts before it.
    index invoices_unlocks ("unlocks_at");
}

table! {
    /// Someone who funded a project (one-off or by a pledge stream).
    FunderRow in "funders" {
        key {
            /// The project.
            project_id: i64,
            /// The funder.
            funder: String,
        }
        /// Whether the funder reclaimed their share of a refund.
        reclaimed: bool,
        /// The level of the first contribution.
        created_level: i64,
        /// The level of the last change.
        updated_level: i64,
    }
    index funders_funder ("funder, project_id");
}

table! {
    /// A funder's one-off contributions to a project in one asset, and the
    /// refund they received in it. Stream contributions are the funder's
    /// pledges to the project (`pledges.streamed`).
    FunderAssetRow in "funder_assets" {
        key {
            /// The project.
            project_id: i64,
            /// The funder.
            funder: String,
            /// The asset.
            asset_id: i64,
        }
        /// One-off contributions (funding and tips), fine units.
        one_off: u128,
        /// Refund received, fine units.
        refunded: u128,
        /// The level of the last change.
        updated_level: i64,
    }
}

impl ProjectRow {
    /// The row of a project record, keeping its creation level from `old`.
    pub fn from_project(
        id: ProjectId,
        p: &Project,
        old: Option<&ProjectRow>,
        level: u32,
    ) -> Result<Self, IndexError> {
        let (mode, patron) = match p.mode {
            Mode::Public => ("public", None),
            Mode::Private { patron } => ("private", Some(address_text(&patron))),
        };
        let assets: Vec<u64> = p.assets.items().iter().map(|a| u64::from(a.0)).collect();
        Ok(ProjectRow {
            project_id: int(id.0, "project id")?,
            creator: address_text(&p.creator),
            title: p.title.as_str().to_owned(),
            title_lower: p.title.as_str().to_lowercase(),
            description: p.description.as_str().to_owned(),
            link: p.link.as_ref().map(|l| l.as_str().to_owned()),
            commissioners: json_list(p.commissioners.items()),
            threshold: i64::from(p.threshold),
            mode: mode.to_owned(),
            patron,
            time_lock: int(p.time_lock, "time-lock")?,
            refund_deadline: int(p.refund_deadline, "refund deadline")?,
            status: match p.status {
                ProjectStatus::Active => "active",
                ProjectStatus::Refunding => "refunding",
            }
            .to_owned(),
            paid_any: p.paid_any,
            tickets: i64::from(p.tickets),
            invoices: i64::from(p.invoices),
            assets: json_ids(&assets),
            refund_approvals: json_list(p.refund_approvals.items()),
            created_level: old.map_or(i64::from(level), |o| o.created_level),
            updated_level: i64::from(level),
        })
    }

    /// The project record this row mirrors.
    pub fn project(&self) -> Result<Project, IndexError> {
        const T: &str = "projects";
        let mode = match (self.mode.as_str(), &self.patron) {
            ("public", None) => Mode::Public,
            ("private", Some(p)) => Mode::Private {
                patron: address(T, p)?,
            },
            (m, _) => return Err(corrupt(T, format!("mode {m}"))),
        };
        let assets = parse_ids(T, &self.assets)?
            .into_iter()
            .map(|a| u32::try_from(a).map(AssetId))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| corrupt(T, "asset id beyond 32 bits"))?;
        Ok(Project {
            creator: address(T, &self.creator)?,
            title: text(T, &self.title)?,
            description: text(T, &self.description)?,
            link: self.link.as_deref().map(|l| text(T, l)).transpose()?,
            commissioners: list(T, parse_list(T, &self.commissioners)?)?,
            threshold: u8::try_from(self.threshold)
                .map_err(|_| corrupt(T, format!("threshold {}", self.threshold)))?,
            mode,
            time_lock: uint(T, self.time_lock)?,
            refund_deadline: uint(T, self.refund_deadline)?,
            status: match self.status.as_str() {
                "active" => ProjectStatus::Active,
                "refunding" => ProjectStatus::Refunding,
                s => return Err(corrupt(T, format!("status {s}"))),
            },
            paid_any: self.paid_any,
            tickets: uint32(T, self.tickets)?,
            invoices: uint32(T, self.invoices)?,
            assets: list(T, assets)?,
            refund_approvals: list(T, parse_list(T, &self.refund_approvals)?)?,
        })
    }
}

impl EscrowRow {
    /// The row of a project's accounts in an asset.
    pub fn from_escrow(
        project: ProjectId,
        asset: AssetId,
        e: &EscrowAsset,
        level: u32,
    ) -> Result<Self, IndexError> {
        Ok(EscrowRow {
            project_id: int(project.0, "project id")?,
            asset_id: i64::from(asset.0),
            reserved: e.reserved,
            paid_out: e.paid_out,
            funded: e.funded,
            refund_pool: e.refund.map(|r| r.pool),
            refund_contributions: e.refund.map(|r| r.contributions),
            refund_claimed_contributions: e.refund.map(|r| r.claimed_contributions),
            refund_claimed: e.refund.map(|r| r.claimed),
            updated_level: i64::from(level),
        })
    }

    /// The accounts this row mirrors.
    pub fn escrow(&self) -> Result<EscrowAsset, IndexError> {
        let refund = match (
            self.refund_pool,
            self.refund_contributions,
            self.refund_claimed_contributions,
            self.refund_claimed,
        ) {
            (None, None, None, None) => None,
            (Some(pool), Some(contributions), Some(claimed_contributions), Some(claimed)) => {
                Some(RefundPool {
                    pool,
                    contributions,
                    claimed_contributions,
                    claimed,
                })
            }
            _ => return Err(corrupt("escrows", "a partial refund pool")),
        };
        Ok(EscrowAsset {
            reserved: self.reserved,
            paid_out: self.paid_out,
            funded: self.funded,
            refund,
        })
    }
}

impl TicketRow {
    /// The row of a work ticket, keeping its creation level from `old`.
    pub fn from_ticket(
        project: ProjectId,
        n: u32,
        t: &WorkTicket,
        old: Option<&TicketRow>,
        level: u32,
    ) -> Result<Self, IndexError> {
        Ok(TicketRow {
            project_id: int(project.0, "project id")?,
            ticket_no: i64::from(n),
            title: t.title.as_str().to_owned(),
            url: t.url.as_ref().map(|u| u.as_str().to_owned()),
            budget_asset_id: t.budget.map(|b| i64::from(b.asset.0)),
            budget_amount: t.budget.map(|b| u128::from(b.amount)),
            opened_by: address_text(&t.opened_by),
            closed: t.closed,
            created_level: old.map_or(i64::from(level), |o| o.created_level),
            updated_level: i64::from(level),
        })
    }

    /// The ticket this row mirrors.
    pub fn ticket(&self) -> Result<WorkTicket, IndexError> {
        const T: &str = "tickets";
        let budget = match (self.budget_asset_id, self.budget_amount) {
            (None, None) => None,
            (Some(a), Some(amount)) => Some(Budget {
                asset: AssetId(uint32(T, a)?),
                amount: base(T, amount)?,
            }),
            _ => return Err(corrupt(T, "a partial budget")),
        };
        Ok(WorkTicket {
            title: text(T, &self.title)?,
            url: self.url.as_deref().map(|u| text(T, u)).transpose()?,
            budget,
            opened_by: address(T, &self.opened_by)?,
            closed: self.closed,
        })
    }
}

impl InvoiceRow {
    /// The row of an invoice, keeping its creation level from `old`.
    pub fn from_invoice(
        project: ProjectId,
        n: u32,
        i: &Invoice,
        old: Option<&InvoiceRow>,
        level: u32,
    ) -> Result<Self, IndexError> {
        Ok(InvoiceRow {
            project_id: int(project.0, "project id")?,
            invoice_no: i64::from(n),
            ticket_no: i64::from(i.ticket),
            raised_by: address_text(&i.raised_by),
            beneficiary: address_text(&i.beneficiary),
            asset_id: i64::from(i.asset.0),
            amount: u128::from(i.amount),
            approvals: json_list(i.approvals.items()),
            vetoes: json_list(i.vetoes.items()),
            raised_at: int(i.raised_at, "invoice time")?,
            unlocks_at: int(i.unlocks_at, "invoice time")?,
            status: match i.status {
                InvoiceStatus::Open => "open",
                InvoiceStatus::Paid => "paid",
                InvoiceStatus::Withdrawn => "withdrawn",
            }
            .to_owned(),
            settled_at: i.settled_at.map(|t| int(t, "invoice time")).transpose()?,
            created_level: old.map_or(i64::from(level), |o| o.created_level),
            updated_level: i64::from(level),
        })
    }

    /// The invoice this row mirrors.
    pub fn invoice(&self) -> Result<Invoice, IndexError> {
        const T: &str = "invoices";
        Ok(Invoice {
            ticket: uint32(T, self.ticket_no)?,
            raised_by: address(T, &self.raised_by)?,
            beneficiary: address(T, &self.beneficiary)?,
            asset: AssetId(uint32(T, self.asset_id)?),
            amount: base(T, self.amount)?,
            approvals: list(T, parse_list(T, &self.approvals)?)?,
            vetoes: list(T, parse_list(T, &self.vetoes)?)?,
            raised_at: uint(T, self.raised_at)?,
            unlocks_at: uint(T, self.unlocks_at)?,
            status: match self.status.as_str() {
                "open" => InvoiceStatus::Open,
                "paid" => InvoiceStatus::Paid,
                "withdrawn" => InvoiceStatus::Withdrawn,
                s => return Err(corrupt(T, format!("status {s}"))),
            },
            settled_at: self.settled_at.map(|t| uint(T, t)).transpose()?,
        })
    }
}
