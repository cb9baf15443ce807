//! A believable scenario for a fresh sandbox, so that the directory has
//! something to show: three creators with tiers, patrons pledging in tez and
//! usd, a tip, a patron who runs dry, a month of streaming, and a public
//! project with tickets, one invoice paid by its commissioners and one
//! waiting on its time-lock. `pledgeroll-sandbox up --demo` runs it.
//!
//! The demo accounts have fixed keys ([`DemoAccount::secret_key`]), funded
//! by layer-1 deposits, so the bootstrap accounts stay untouched for the
//! README's walk-through. Everything goes through the wallet library over
//! the node's RPC, as any wallet would.
//!
//! The demo is a list of [`STEPS`]. Each step reads the rollup first and
//! sends only what is not there yet, so a run stopped part-way is completed
//! by the next one, and a run over a complete demo sends nothing
//! ([`Demo::settle`], then [`Demo::fill`]).

mod cast;
mod steps;

use std::time::{Duration, Instant};

use pledgeroll_client::assets::AssetBook;
use pledgeroll_client::{Wallet, WalletError};
use pledgeroll_contracts::{Address, ProjectId};
use pledgeroll_interface::NodeError;

use cast::SECOND_INVOICE;
use steps::Work;

pub use cast::{DemoAccount, CREATORS, PATRONS};

/// Levels [`Demo::settle`] waits for. A level takes every message queued
/// before it began (up to 1,000, far more than the demo queues), and a
/// layer-1 time jump reaches the protocol one level after the block that
/// carries it: after three levels, nothing an earlier run sent is still
/// on its way.
const SETTLING_LEVELS: u32 = 3;
/// Longest [`Demo::settle`] waits for those levels.
const SETTLING_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the demo could not be filled in.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The node failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// A wallet step failed.
    #[error("{step}: {source}")]
    Step {
        /// What the demo was doing.
        step: &'static str,
        /// Why it failed.
        source: WalletError,
    },
    /// The demo's text does not fit the protocol's limits.
    #[error("demo text too long: {0}")]
    Text(String),
    /// A step needs what an earlier step makes, and it is not on the rollup.
    #[error("{step}: {missing} is not on the rollup; the demo's earlier steps make it")]
    Prerequisite {
        /// What the demo was doing.
        step: &'static str,
        /// What it did not find.
        missing: String,
    },
    /// The node made no new level while the demo waited for one.
    #[error("the node made no new level in {0:?}; is its block timer running?")]
    Stalled(Duration),
}

/// One step of the demo; [`STEPS`] lists them in the order they run, each
/// building on the ones before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Layer-1 deposits fund every demo account; Sam only a little.
    FundAccounts,
    /// Creators publish their pages and tiers.
    PublishCreators,
    /// Patrons pledge to tiers; Jun tips Ines.
    PledgeAndTip,
    /// Tarmac creates a public project with three commissioners.
    CreateProject,
    /// Funders fund the project, by deposit and by pledge; commissioners
    /// open three tickets.
    FundProject,
    /// The first ticket is done and invoiced.
    InvoiceFirstTicket,
    /// A second commissioner approves the first invoice, which pays it.
    PayFirstInvoice,
    /// The clock moves a month past the last pledge; Sam runs dry on the
    /// way.
    StreamAMonth,
    /// The second ticket is done; its invoice waits on the time-lock.
    InvoiceSecondTicket,
}

/// The demo's steps, in order.
pub const STEPS: [Step; 9] = [
    Step::FundAccounts,
    Step::PublishCreators,
    Step::PledgeAndTip,
    Step::CreateProject,
    Step::FundProject,
    Step::InvoiceFirstTicket,
    Step::PayFirstInvoice,
    Step::StreamAMonth,
    Step::InvoiceSecondTicket,
];

impl Step {
    /// What the step does, in words: `publishing the creators`.
    pub fn describe(self) -> &'static str {
        match self {
            Step::FundAccounts => "funding the demo accounts",
            Step::PublishCreators => "publishing the creators",
            Step::PledgeAndTip => "pledging",
            Step::CreateProject => "creating the project",
            Step::FundProject => "funding the project and opening tickets",
            Step::InvoiceFirstTicket => "raising the first invoice",
            Step::PayFirstInvoice => "paying the first ticket",
            Step::StreamAMonth => "streaming a month",
            Step::InvoiceSecondTicket => "invoicing the second ticket",
        }
    }
}

/// What the demo made.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// The creators, by name and address.
    pub creators: Vec<(&'static str, Address)>,
    /// The project.
    pub project: ProjectId,
    /// When its waiting invoice unlocks, seconds since the epoch.
    pub invoice_unlocks_at: u64,
}

/// A wallet on the node at `node_url`, for [`Demo::settle`].
pub async fn connect(node_url: &str) -> Result<Wallet, DemoError> {
    Wallet::connect(node_url, AssetBook::default())
        .await
        .map_err(at("connecting to the node"))
}

/// Names the step a wallet error happened in.
fn at(step: &'static str) -> impl Fn(WalletError) -> DemoError {
    move |source| DemoError::Step { step, source }
}

/// The demo on one rollup, read from its state: every step checks what of
/// it is already there and does only the rest.
#[derive(Debug, Clone, Copy)]
pub struct Demo<'a> {
    wallet: &'a Wallet,
}

impl<'a> Demo<'a> {
    /// The demo on the rollup `wallet` is connected to, once whatever an
    /// earlier run sent has landed: a run stopped part-way may have left
    /// deposits, operations or a clock jump queued on the node, and reading
    /// the state before they apply would send them twice.
    pub async fn settle(wallet: &'a Wallet) -> Result<Demo<'a>, DemoError> {
        let node = &wallet.node;
        let target = node.level("head").await?.saturating_add(SETTLING_LEVELS);
        let started = Instant::now();
        while node.level("head").await? < target {
            if started.elapsed() > SETTLING_TIMEOUT {
                return Err(DemoError::Stalled(SETTLING_TIMEOUT));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Demo { wallet })
    }

    /// How many of [`STEPS`], from the first, are wholly on the rollup;
    /// `STEPS.len()` when the demo is complete.
    pub async fn steps_done(&self) -> Result<usize, DemoError> {
        let mut done = 0;
        for step in STEPS {
            if self.missing(step).await?.is_some() {
                break;
            }
            done += 1;
        }
        Ok(done)
    }

    /// Does what of `step` is not on the rollup yet, waiting until it is;
    /// says whether there was anything to do. The steps before it must be
    /// complete.
    pub async fn complete(&self, step: Step) -> Result<bool, DemoError> {
        let Some(work) = self.missing(step).await? else {
            return Ok(false);
        };
        match work {
            Work::Deposits(deposits) => self.deposit(deposits).await?,
            Work::Operations(ops) => self.send(step.describe(), ops).await?,
            // A day at a time, so that what the clock brings happens on
            // its own day: Sam warned a week and a day before he runs dry,
            // then his pledge stopping.
            Work::Time(seconds) => {
                let mut left = seconds;
                while left > 0 {
                    let day = left.min(pledgeroll_contracts::units::DAY);
                    pledgeroll_client::sandbox::advance(&self.wallet.node, day).await?;
                    left -= day;
                }
            }
        }
        Ok(true)
    }

    /// Completes every step in order, so that the rollup holds the whole
    /// demo, and says what it holds. On a complete demo it sends nothing.
    /// The clock ends a month past the last pledge, so that pledges have
    /// streamed a month.
    pub async fn fill(&self) -> Result<DemoSummary, DemoError> {
        for step in STEPS {
            self.complete(step).await?;
        }
        self.summary().await
    }

    /// What the demo on the rollup holds.
    pub async fn summary(&self) -> Result<DemoSummary, DemoError> {
        let step = "reading the demo";
        let (project_id, project) = self.project(step).await?;
        let waiting = match self
            .ticket(project_id, &project, SECOND_INVOICE.ticket)
            .await?
        {
            Some((ticket, _)) => self.invoice_for(project_id, &project, ticket).await?,
            None => None,
        };
        Ok(DemoSummary {
            creators: CREATORS.iter().map(|c| (c.name, c.address())).collect(),
            project: project_id,
            invoice_unlocks_at: waiting.map_or(0, |(_, i)| i.unlocks_at),
        })
    }
}
