//! What each step checks on the rollup and what it sends for whatever is
//! missing: the reads of the rollup's state, the deposits and the batches.

use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::escrow::{
    Budget, Funder, Invoice, InvoiceStatus, Mode, Project, ProjectOperation, WorkTicket,
};
use pledgeroll_contracts::keys;
use pledgeroll_contracts::operation::{MAX_BATCH_BYTES, MAX_BATCH_OPERATIONS};
use pledgeroll_contracts::signing::{SecretKey, Signed};
use pledgeroll_contracts::state::{Pledge, Profile};
use pledgeroll_contracts::stream::Flow;
use pledgeroll_contracts::units;
use pledgeroll_contracts::{
    Address, AssetId, Batch, Encode, Holder, Operation, PledgeId, ProjectId, TierId,
};
use pledgeroll_sandbox::assets::{SandboxAsset, TEZ, USD};
use serde_json::json;

use super::cast::{
    DemoAccount, InvoiceTerms, APPROVER, COMMISSIONERS, CREATORS, FIRST_INVOICE, FUNDINGS,
    INVOICER, MONTH, PAGES, PATRONS, PROJECT_CREATOR, PROJECT_DESCRIPTION, PROJECT_LINK,
    PROJECT_PATRON, PROJECT_PLEDGE_CAP, PROJECT_PLEDGE_UNITS, PROJECT_TITLE, SAM, SECOND_INVOICE,
    TEZ_ID, TICKETS, TIERS, TIER_PLEDGES, TIPPER, TIP_MEMO, TIP_RECEIVER, TIP_UNITS, UNIT, USD_ID,
};
use super::{at, Demo, DemoError, Step};

fn text<const N: usize>(s: &str) -> Result<Text<N>, DemoError> {
    Text::new(s).map_err(|_| DemoError::Text(s.to_owned()))
}

fn project(op: ProjectOperation) -> Operation {
    Operation::Project { op }
}

/// What a step still has to do.
pub(super) enum Work {
    /// Layer-1 deposits: receiver, sandbox asset, base units.
    Deposits(Vec<(Address, &'static SandboxAsset, u64)>),
    /// Operations, in order, with their signers.
    Operations(Vec<(DemoAccount, Operation)>),
    /// Seconds the sandbox's clock moves forward.
    Time(u64),
}

/// `ops` as work, unless there are none.
fn operations(ops: Vec<(DemoAccount, Operation)>) -> Option<Work> {
    (!ops.is_empty()).then_some(Work::Operations(ops))
}

impl Demo<'_> {
    /// What of `step` is not on the rollup; `None` when it is complete.
    pub(super) async fn missing(&self, step: Step) -> Result<Option<Work>, DemoError> {
        match step {
            Step::FundAccounts => self.missing_deposits().await,
            Step::PublishCreators => self.missing_pages().await,
            Step::PledgeAndTip => self.missing_pledges_and_tip().await,
            Step::CreateProject => self.missing_project().await,
            Step::FundProject => self.missing_funding_and_tickets().await,
            Step::InvoiceFirstTicket => self.missing_invoice(step, &FIRST_INVOICE).await,
            Step::PayFirstInvoice => self.missing_approval().await,
            Step::StreamAMonth => self.missing_month().await,
            Step::InvoiceSecondTicket => self.missing_invoice(step, &SECOND_INVOICE).await,
        }
    }

    /// An account's deposit has landed once it holds a balance record in
    /// the asset: only the deposit makes one before the demo's pledges.
    async fn missing_deposits(&self) -> Result<Option<Work>, DemoError> {
        let mut deposits = Vec::new();
        for who in CREATORS.iter().chain(&PATRONS) {
            let tez = if *who == SAM { 3 * UNIT } else { 500 * UNIT };
            for (asset, amount) in [(&TEZ, tez), (&USD, 2_000 * UNIT)] {
                let holder = Holder::Account(who.address());
                let balance: Option<Flow> = self
                    .wallet
                    .node
                    .state("head", &keys::flow(&holder, AssetId(asset.asset_id)))
                    .await?;
                if balance.is_none() {
                    deposits.push((who.address(), asset, amount));
                }
            }
        }
        Ok((!deposits.is_empty()).then_some(Work::Deposits(deposits)))
    }

    async fn missing_pages(&self) -> Result<Option<Work>, DemoError> {
        let step = Step::PublishCreators.describe();
        let mut ops = Vec::new();
        for page in &PAGES {
            let wanted = Profile {
                name: text(page.creator.name)?,
                description: text(page.description)?,
                links: List::new(vec![text(page.link)?])
                    .map_err(|_| DemoError::Text(page.link.to_owned()))?,
            };
            let creator = self
                .wallet
                .creator(&page.creator.address())
                .await
                .map_err(at(step))?;
            if creator.map(|c| c.profile).as_ref() != Some(&wanted) {
                ops.push((page.creator, Operation::SetProfile { profile: wanted }));
            }
            for tier in TIERS.iter().filter(|t| t.creator == page.creator) {
                if self
                    .tier_id(step, tier.creator, tier.title)
                    .await?
                    .is_none()
                {
                    ops.push((
                        tier.creator,
                        Operation::AddTier {
                            title: text(tier.title)?,
                            perks: text(tier.perks)?,
                            asset: tier.asset,
                            amount_per_period: tier.units_per_period,
                            period: tier.period,
                            patron_limit: tier.patron_limit,
                        },
                    ));
                }
            }
        }
        Ok(operations(ops))
    }

    async fn missing_pledges_and_tip(&self) -> Result<Option<Work>, DemoError> {
        let step = Step::PledgeAndTip.describe();
        let mut ops = Vec::new();
        for pledge in &TIER_PLEDGES {
            let tier = self
                .tier_id(step, pledge.creator, pledge.tier)
                .await?
                .ok_or_else(|| DemoError::Prerequisite {
                    step,
                    missing: format!("{}'s tier {:?}", pledge.creator.name, pledge.tier),
                })?;
            if !self.pledged_to_tier(step, pledge.patron, tier).await? {
                ops.push((
                    pledge.patron,
                    Operation::Pledge {
                        tier,
                        amount: None,
                        end: None,
                        cap: None,
                    },
                ));
            }
        }
        if !self.tipped().await? {
            ops.push((
                TIPPER,
                Operation::Tip {
                    to: Holder::Account(TIP_RECEIVER.address()),
                    asset: TEZ_ID,
                    amount: TIP_UNITS,
                    memo: text(TIP_MEMO)?,
                },
            ));
        }
        Ok(operations(ops))
    }

    /// A tip leaves no record of its own; but the tipper's nonce counts
    /// every operation of theirs the rollup applied, and each of their
    /// other demo operations leaves one.
    async fn tipped(&self) -> Result<bool, DemoError> {
        let step = Step::PledgeAndTip.describe();
        let mut others: u64 = 0;
        for pledge in TIER_PLEDGES.iter().filter(|p| p.patron == TIPPER) {
            if let Some(tier) = self.tier_id(step, pledge.creator, pledge.tier).await? {
                others += u64::from(self.pledged_to_tier(step, TIPPER, tier).await?);
            }
        }
        if let Some((project_id, _)) = self.find_project(step).await? {
            for (funder, _) in FUNDINGS.iter().filter(|(f, _)| *f == TIPPER) {
                others += u64::from(self.funded(project_id, *funder).await?);
            }
            if PROJECT_PATRON == TIPPER {
                others += u64::from(self.pledged_to_project(step, TIPPER, project_id).await?);
            }
        }
        let account = self
            .wallet
            .account(&TIPPER.address())
            .await
            .map_err(at(step))?;
        Ok(account.next_nonce > others)
    }

    async fn missing_project(&self) -> Result<Option<Work>, DemoError> {
        let step = Step::CreateProject.describe();
        if self.find_project(step).await?.is_some() {
            return Ok(None);
        }
        let now = self.wallet.clock().await.map_err(at(step))?.now;
        let commissioners = List::new(COMMISSIONERS.iter().map(DemoAccount::address).collect())
            .map_err(|_| DemoError::Text("commissioners".to_owned()))?;
        Ok(operations(vec![(
            PROJECT_CREATOR,
            project(ProjectOperation::Create {
                title: text(PROJECT_TITLE)?,
                description: text(PROJECT_DESCRIPTION)?,
                link: Some(text(PROJECT_LINK)?),
                commissioners,
                threshold: 2,
                mode: Mode::Public,
                time_lock: None,
                refund_deadline: now.saturating_add(180 * units::DAY),
            }),
        )]))
    }

    async fn missing_funding_and_tickets(&self) -> Result<Option<Work>, DemoError> {
        let step = Step::FundProject.describe();
        let (project_id, record) = self.project(step).await?;
        let mut ops = Vec::new();
        for (funder, amount) in FUNDINGS {
            if !self.funded(project_id, funder).await? {
                ops.push((
                    funder,
                    project(ProjectOperation::Fund {
                        project: project_id,
                        asset: USD_ID,
                        amount,
                    }),
                ));
            }
        }
        if !self
            .pledged_to_project(step, PROJECT_PATRON, project_id)
            .await?
        {
            ops.push((
                PROJECT_PATRON,
                project(ProjectOperation::Pledge {
                    project: project_id,
                    asset: USD_ID,
                    amount_per_period: PROJECT_PLEDGE_UNITS,
                    period: MONTH,
                    end: None,
                    cap: Some(PROJECT_PLEDGE_CAP),
                }),
            ));
        }
        for ticket in &TICKETS {
            if self
                .ticket(project_id, &record, ticket.title)
                .await?
                .is_none()
            {
                ops.push((
                    ticket.opener,
                    project(ProjectOperation::OpenTicket {
                        project: project_id,
                        title: text(ticket.title)?,
                        url: Some(text(ticket.url)?),
                        budget: Some(Budget {
                            asset: USD_ID,
                            amount: ticket.budget_units,
                        }),
                    }),
                ));
            }
        }
        Ok(operations(ops))
    }

    /// The ticket `terms` names closed and invoiced.
    async fn missing_invoice(
        &self,
        step: Step,
        terms: &InvoiceTerms,
    ) -> Result<Option<Work>, DemoError> {
        let step = step.describe();
        let (project_id, record) = self.project(step).await?;
        let (number, ticket) = self
            .existing_ticket(step, project_id, &record, terms)
            .await?;
        let mut ops = Vec::new();
        if !ticket.closed {
            ops.push((
                INVOICER,
                project(ProjectOperation::CloseTicket {
                    project: project_id,
                    ticket: number,
                }),
            ));
        }
        if self
            .invoice_for(project_id, &record, number)
            .await?
            .is_none()
        {
            ops.push((
                INVOICER,
                project(ProjectOperation::RaiseInvoice {
                    project: project_id,
                    ticket: number,
                    beneficiary: INVOICER.address(),
                    asset: USD_ID,
                    amount: terms.units,
                }),
            ));
        }
        Ok(operations(ops))
    }

    /// An approval states the invoice's amount and beneficiary, so it is
    /// signed once the invoice is there, in a step of its own.
    async fn missing_approval(&self) -> Result<Option<Work>, DemoError> {
        let step = Step::PayFirstInvoice.describe();
        let (project_id, record) = self.project(step).await?;
        let (ticket, _) = self
            .existing_ticket(step, project_id, &record, &FIRST_INVOICE)
            .await?;
        let (number, invoice) = self
            .invoice_for(project_id, &record, ticket)
            .await?
            .ok_or_else(|| DemoError::Prerequisite {
                step,
                missing: format!("the invoice for {:?}", FIRST_INVOICE.ticket),
            })?;
        let approved = invoice.status == InvoiceStatus::Paid
            || invoice.approvals.items().contains(&APPROVER.address());
        Ok(operations(if approved {
            Vec::new()
        } else {
            vec![(
                APPROVER,
                project(ProjectOperation::Approve {
                    project: project_id,
                    invoice: number,
                }),
            )]
        }))
    }

    /// A month past the last of the patrons' pledges.
    async fn missing_month(&self) -> Result<Option<Work>, DemoError> {
        let step = Step::StreamAMonth.describe();
        let mut last_pledge = None;
        for patron in PATRONS {
            for (_, pledge) in self.pledges(step, patron).await? {
                last_pledge = last_pledge.max(Some(pledge.created_at));
            }
        }
        let last_pledge = last_pledge.ok_or_else(|| DemoError::Prerequisite {
            step,
            missing: "a patron's pledge".to_owned(),
        })?;
        let until = last_pledge.saturating_add(u64::from(MONTH));
        let now = self.wallet.clock().await.map_err(at(step))?.now;
        Ok((now < until).then(|| Work::Time(until - now)))
    }

    /// The id of `creator`'s tier titled `title`, if they added it.
    async fn tier_id(
        &self,
        step: &'static str,
        creator: DemoAccount,
        title: &str,
    ) -> Result<Option<TierId>, DemoError> {
        let Some(record) = self
            .wallet
            .creator(&creator.address())
            .await
            .map_err(at(step))?
        else {
            return Ok(None);
        };
        for id in record.tiers.items().iter().copied() {
            let tier = self.wallet.tier(id).await.map_err(at(step))?;
            if tier.is_some_and(|t| t.title.as_str() == title) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// The pledges `patron` pays, active or paused.
    async fn pledges(
        &self,
        step: &'static str,
        patron: DemoAccount,
    ) -> Result<Vec<(PledgeId, Pledge)>, DemoError> {
        self.wallet
            .patron_pledges(&patron.address())
            .await
            .map_err(at(step))
    }

    async fn pledged_to_tier(
        &self,
        step: &'static str,
        patron: DemoAccount,
        tier: TierId,
    ) -> Result<bool, DemoError> {
        Ok(self
            .pledges(step, patron)
            .await?
            .iter()
            .any(|(_, p)| p.tier == Some(tier)))
    }

    async fn pledged_to_project(
        &self,
        step: &'static str,
        patron: DemoAccount,
        project_id: ProjectId,
    ) -> Result<bool, DemoError> {
        Ok(self
            .pledges(step, patron)
            .await?
            .iter()
            .any(|(_, p)| p.payee == Holder::Project(project_id)))
    }

    /// The demo's project, if it was created.
    async fn find_project(
        &self,
        step: &'static str,
    ) -> Result<Option<(ProjectId, Project)>, DemoError> {
        let next = self.wallet.counters().await.map_err(at(step))?.project;
        for id in (0..next).map(ProjectId) {
            let record = self.wallet.project(id).await.map_err(at(step))?;
            if let Some(record) = record.filter(|p| {
                p.creator == PROJECT_CREATOR.address() && p.title.as_str() == PROJECT_TITLE
            }) {
                return Ok(Some((id, record)));
            }
        }
        Ok(None)
    }

    /// The demo's project, which an earlier step created.
    pub(super) async fn project(
        &self,
        step: &'static str,
    ) -> Result<(ProjectId, Project), DemoError> {
        self.find_project(step)
            .await?
            .ok_or_else(|| DemoError::Prerequisite {
                step,
                missing: format!("the project {PROJECT_TITLE:?}"),
            })
    }

    /// Whether `funder` paid into the project in usd.
    async fn funded(&self, project_id: ProjectId, funder: DemoAccount) -> Result<bool, DemoError> {
        let record: Option<Funder> = self
            .wallet
            .node
            .state("head", &keys::project_funder(project_id, &funder.address()))
            .await?;
        Ok(record.is_some_and(|f| {
            f.one_off
                .items()
                .iter()
                .any(|(asset, amount)| *asset == USD_ID && *amount > 0)
        }))
    }

    /// The project's ticket titled `title`, with its number.
    pub(super) async fn ticket(
        &self,
        project_id: ProjectId,
        record: &Project,
        title: &str,
    ) -> Result<Option<(u32, WorkTicket)>, DemoError> {
        for number in 0..record.tickets {
            let ticket = self
                .wallet
                .work_ticket(project_id, number)
                .await
                .map_err(at("reading the project's tickets"))?;
            if let Some(ticket) = ticket.filter(|t| t.title.as_str() == title) {
                return Ok(Some((number, ticket)));
            }
        }
        Ok(None)
    }

    /// The ticket an invoice is for, which an earlier step opened.
    async fn existing_ticket(
        &self,
        step: &'static str,
        project_id: ProjectId,
        record: &Project,
        terms: &InvoiceTerms,
    ) -> Result<(u32, WorkTicket), DemoError> {
        self.ticket(project_id, record, terms.ticket)
            .await?
            .ok_or_else(|| DemoError::Prerequisite {
                step,
                missing: format!("the ticket {:?}", terms.ticket),
            })
    }

    /// The invoice raised for ticket `ticket` and not withdrawn, with its
    /// number.
    pub(super) async fn invoice_for(
        &self,
        project_id: ProjectId,
        record: &Project,
        ticket: u32,
    ) -> Result<Option<(u32, Invoice)>, DemoError> {
        for number in 0..record.invoices {
            let invoice = self
                .wallet
                .invoice(project_id, number)
                .await
                .map_err(at("reading the project's invoices"))?;
            if let Some(invoice) =
                invoice.filter(|i| i.ticket == ticket && i.status != InvoiceStatus::Withdrawn)
            {
                return Ok(Some((number, invoice)));
            }
        }
        Ok(None)
    }

    /// Queues every deposit and waits for the level that credits them: a
    /// level takes the queue in order, so the last one's level has them all.
    pub(super) async fn deposit(
        &self,
        mut deposits: Vec<(Address, &'static SandboxAsset, u64)>,
    ) -> Result<(), DemoError> {
        let node = &self.wallet.node;
        let last = deposits.pop();
        for (to, asset, amount) in deposits {
            let _: serde_json::Value = node
                .post_json(
                    "/sandbox/deposit",
                    &json!({ "receiver": to.to_string(), "asset": asset.name, "amount": amount.to_string() }),
                )
                .await?;
        }
        if let Some((to, asset, amount)) = last {
            pledgeroll_client::sandbox::deposit(node, &to, asset.name, amount).await?;
        }
        Ok(())
    }

    /// Signs operations from several accounts with consecutive nonces taken
    /// from the rollup's head, and sends them in as few batches as fit an
    /// inbox message, waiting for every receipt.
    pub(super) async fn send(
        &self,
        step: &'static str,
        ops: Vec<(DemoAccount, Operation)>,
    ) -> Result<(), DemoError> {
        let fail = at(step);
        let keys: Vec<SecretKey> = ops.iter().map(|(who, _)| who.secret_key()).collect();
        let signed = self
            .wallet
            .sign_batch(
                keys.iter()
                    .zip(ops)
                    .map(|(key, (_, op))| (key, op))
                    .collect(),
            )
            .await
            .map_err(&fail)?;
        let mut batch: Vec<Signed> = Vec::new();
        for one in signed {
            batch.push(one);
            if !fits(&batch) {
                let last = batch.pop();
                let full = std::mem::take(&mut batch);
                self.wallet.submit(full, true).await.map_err(&fail)?;
                batch.extend(last);
            }
        }
        if !batch.is_empty() {
            self.wallet.submit(batch, true).await.map_err(&fail)?;
        }
        Ok(())
    }
}

fn fits(ops: &[Signed]) -> bool {
    let operations = ops.iter().map(|s| s.operation.clone()).collect();
    let Ok(operations) = List::new(operations) else {
        return false;
    };
    ops.len() <= MAX_BATCH_OPERATIONS && Batch { operations }.to_bytes().len() <= MAX_BATCH_BYTES
}
