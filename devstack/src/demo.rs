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

use pledgeroll_client::assets::AssetBook;
use pledgeroll_client::{Wallet, WalletError};
use pledgeroll_contracts::crypto::{blake2b_256, Curve};
use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::escrow::{Budget, Mode, ProjectOperation};
use pledgeroll_contracts::operation::{MAX_BATCH_BYTES, MAX_BATCH_OPERATIONS};
use pledgeroll_contracts::signing::{SecretKey, Signed};
use pledgeroll_contracts::state::Profile;
use pledgeroll_contracts::units;
use pledgeroll_contracts::{Address, AssetId, Batch, Encode, Holder, Operation, ProjectId, TierId};
use pledgeroll_interface::NodeError;
use serde_json::json;

use pledgeroll_sandbox::assets::{TEZ, USD};

const TEZ_ID: AssetId = AssetId(TEZ.asset_id);
const USD_ID: AssetId = AssetId(USD.asset_id);
/// One unit of either sandbox asset, in base units (6 decimals).
const UNIT: u64 = 1_000_000;
/// Periods as operations carry them, in `u32` seconds.
const WEEK: u32 = units::WEEK as u32;
const MONTH: u32 = units::MONTH as u32;

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
}

/// A demo account: a name and a key derived from it.
#[derive(Debug, Clone, Copy)]
pub struct DemoAccount {
    /// Who they are in the story.
    pub name: &'static str,
}

impl DemoAccount {
    /// The account's ed25519 key: blake2b-256 of `pledgeroll-demo:<name>`.
    pub fn secret_key(&self) -> SecretKey {
        let seed = blake2b_256(format!("pledgeroll-demo:{}", self.name).as_bytes());
        SecretKey::from_bytes(Curve::Ed25519, seed)
            .unwrap_or_else(|_| unreachable!("every 32-byte string is an ed25519 seed"))
    }

    /// Its address.
    pub fn address(&self) -> Address {
        self.secret_key().public_key().address()
    }
}

/// The demo's creators.
pub const CREATORS: [DemoAccount; 3] = [MIRA, TARMAC, INES];
/// The demo's patrons.
pub const PATRONS: [DemoAccount; 4] = [JUN, KOFI, LEA, SAM];

const MIRA: DemoAccount = DemoAccount {
    name: "Mira Okafor",
};
const TARMAC: DemoAccount = DemoAccount {
    name: "Tarmac Collective",
};
const INES: DemoAccount = DemoAccount {
    name: "Ines Duarte",
};
const JUN: DemoAccount = DemoAccount { name: "Jun" };
const KOFI: DemoAccount = DemoAccount { name: "Kofi" };
const LEA: DemoAccount = DemoAccount { name: "Lea" };
const SAM: DemoAccount = DemoAccount { name: "Sam" };

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

/// Whether the demo already ran on the rollup `wallet` is connected to.
pub async fn present(wallet: &Wallet) -> Result<bool, DemoError> {
    Ok(wallet
        .creator(&MIRA.address())
        .await
        .map_err(at("reading the demo creator"))?
        .is_some())
}

/// A wallet on the node at `node_url`, for [`present`] and [`fill`].
pub async fn connect(node_url: &str) -> Result<Wallet, DemoError> {
    Wallet::connect(node_url, AssetBook::default())
        .await
        .map_err(at("connecting to the node"))
}

/// Names the step a wallet error happened in.
fn at(step: &'static str) -> impl Fn(WalletError) -> DemoError {
    move |source| DemoError::Step { step, source }
}

fn text<const N: usize>(s: &str) -> Result<Text<N>, DemoError> {
    Text::new(s).map_err(|_| DemoError::Text(s.to_owned()))
}

fn profile(name: &str, description: &str, link: &str) -> Result<Operation, DemoError> {
    Ok(Operation::SetProfile {
        profile: Profile {
            name: text(name)?,
            description: text(description)?,
            links: List::new(vec![text(link)?]).map_err(|_| DemoError::Text(link.to_owned()))?,
        },
    })
}

fn tier(
    title: &str,
    perks: &str,
    asset: AssetId,
    units_per_period: u64,
    period: u32,
    patron_limit: Option<u32>,
) -> Result<Operation, DemoError> {
    Ok(Operation::AddTier {
        title: text(title)?,
        perks: text(perks)?,
        asset,
        amount_per_period: units_per_period,
        period,
        patron_limit,
    })
}

fn pledge(tier: TierId) -> Operation {
    Operation::Pledge {
        tier,
        amount: None,
        end: None,
        cap: None,
    }
}

fn project(op: ProjectOperation) -> Operation {
    Operation::Project { op }
}

/// Signs operations from several accounts with consecutive nonces and
/// sends them in as few batches as fit an inbox message, waiting for every
/// receipt.
struct Sender<'a> {
    wallet: &'a Wallet,
}

impl<'a> Sender<'a> {
    fn new(wallet: &'a Wallet) -> Self {
        Sender { wallet }
    }

    async fn send(
        &mut self,
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

/// Fills the rollup `wallet` is connected to with the demo scenario. It
/// moves the sandbox's clock 30 days forward, so that pledges have streamed
/// a month.
pub async fn fill(wallet: &Wallet) -> Result<DemoSummary, DemoError> {
    let node = &wallet.node;
    let mut sender = Sender::new(wallet);
    fund_accounts(wallet).await?;
    // The creators' tiers are numbered from the rollup's next tier id.
    let first_tier = wallet
        .counters()
        .await
        .map_err(at("reading counters"))?
        .tier;
    let t = |n: u64| TierId(first_tier + n);
    publish_creators(&mut sender).await?;
    pledge_and_tip(&mut sender, t).await?;
    let project_id = create_project(wallet, &mut sender).await?;
    fund_and_open_tickets(&mut sender, project_id).await?;
    pay_first_ticket(&mut sender, project_id).await?;

    // A month of streaming; Sam runs dry on the way.
    pledgeroll_client::sandbox::advance(node, u64::from(MONTH)).await?;

    // The second ticket is done; its invoice waits on the time-lock.
    sender
        .send(
            "invoicing the second ticket",
            vec![
                (
                    TARMAC,
                    project(ProjectOperation::CloseTicket {
                        project: project_id,
                        ticket: 1,
                    }),
                ),
                (
                    TARMAC,
                    project(ProjectOperation::RaiseInvoice {
                        project: project_id,
                        ticket: 1,
                        beneficiary: TARMAC.address(),
                        asset: USD_ID,
                        amount: 150 * UNIT,
                    }),
                ),
            ],
        )
        .await?;
    let invoice = wallet
        .invoice(project_id, 1)
        .await
        .map_err(at("reading the waiting invoice"))?;
    Ok(DemoSummary {
        creators: CREATORS.iter().map(|c| (c.name, c.address())).collect(),
        project: project_id,
        invoice_unlocks_at: invoice.map_or(0, |i| i.unlocks_at),
    })
}

/// Layer-1 deposits fund every demo account; Sam only a little.
async fn fund_accounts(wallet: &Wallet) -> Result<(), DemoError> {
    let node = &wallet.node;
    let mut deposits = Vec::new();
    for who in CREATORS.iter().chain(&PATRONS) {
        let tez = if who.name == SAM.name {
            3 * UNIT
        } else {
            500 * UNIT
        };
        deposits.push((who.address(), TEZ.name, tez));
        deposits.push((who.address(), USD.name, 2_000 * UNIT));
    }
    let last = deposits.pop();
    for (to, asset, amount) in deposits {
        let _: serde_json::Value = node
            .post_json(
                "/sandbox/deposit",
                &json!({ "receiver": to.to_string(), "asset": asset, "amount": amount.to_string() }),
            )
            .await?;
    }
    if let Some((to, asset, amount)) = last {
        pledgeroll_client::sandbox::deposit(node, &to, asset, amount).await?;
    }

    Ok(())
}

/// Creators publish their pages and tiers.
async fn publish_creators(sender: &mut Sender<'_>) -> Result<(), DemoError> {
    sender
        .send(
            "publishing the creators",
            vec![
                (MIRA, profile(
                    "Mira Okafor",
                    "Field recordings from the creeks and markets of the Niger delta, mixed and released every month under CC BY.",
                    "https://example.org/mira-okafor",
                )?),
                (MIRA, tier("Listener", "The monthly recording, a week early.", TEZ_ID, 2 * UNIT, MONTH, None)?),
                (MIRA, tier("Supporter", "Early recordings and the raw stems.", TEZ_ID, 5 * UNIT, MONTH, None)?),
                (MIRA, tier("Archive patron", "Your name in the liner notes and a say in where we record next.", TEZ_ID, 20 * UNIT, MONTH, Some(25))?),
                (TARMAC, profile(
                    "Tarmac Collective",
                    "Four maintainers of open-source tooling for Tezos smart rollups: debuggers, indexers and test harnesses.",
                    "https://example.org/tarmac",
                )?),
                (TARMAC, tier("Backer", "Our thanks in every release note.", USD_ID, 10 * UNIT, MONTH, None)?),
                (TARMAC, tier("Sponsor", "Your logo on the README and a monthly call with the team.", USD_ID, 100 * UNIT, MONTH, Some(10))?),
                (INES, profile(
                    "Ines Duarte",
                    "Lanternfish, a serialized graphic novel about a lighthouse keeper's daughter; a new chapter every two weeks.",
                    "https://example.org/lanternfish",
                )?),
                (INES, tier("Reader", "Each chapter the day it is inked.", TEZ_ID, UNIT, WEEK, None)?),
                (INES, tier("Collector", "A signed print of every cover.", TEZ_ID, 15 * UNIT, MONTH, Some(50))?),
            ],
        )
        .await
}

/// Patrons pledge to the tiers `t` numbers; Sam's 3 tez last him 18 days
/// at 5 tez a month.
async fn pledge_and_tip(
    sender: &mut Sender<'_>,
    t: impl Fn(u64) -> TierId,
) -> Result<(), DemoError> {
    sender
        .send(
            "pledging",
            vec![
                (JUN, pledge(t(1))),
                (JUN, pledge(t(3))),
                (KOFI, pledge(t(2))),
                (KOFI, pledge(t(4))),
                (KOFI, pledge(t(5))),
                (LEA, pledge(t(0))),
                (LEA, pledge(t(6))),
                (SAM, pledge(t(1))),
                (
                    JUN,
                    Operation::Tip {
                        to: Holder::Account(INES.address()),
                        asset: TEZ_ID,
                        amount: 2 * UNIT,
                        memo: text("Chapter four made me cry. More lighthouse, please!")?,
                    },
                ),
            ],
        )
        .await
}

/// A public project: three commissioners, two must agree.
async fn create_project(wallet: &Wallet, sender: &mut Sender<'_>) -> Result<ProjectId, DemoError> {
    let project_id = ProjectId(
        wallet
            .counters()
            .await
            .map_err(at("reading counters"))?
            .project,
    );
    let now = wallet.clock().await.map_err(at("reading the clock"))?.now;
    let commissioners = List::new(vec![TARMAC.address(), MIRA.address(), INES.address()])
        .map_err(|_| DemoError::Text("commissioners".to_owned()))?;
    sender
        .send(
            "creating the project",
            vec![(
                TARMAC,
                project(ProjectOperation::Create {
                    title: text("Rollup indexer grants")?,
                    description: text("A shared fund for the open-source indexer every creator's directory runs on: bounties for features the community asks for, paid when two of three commissioners agree or when the time-lock passes without a veto.")?,
                    link: Some(text("https://example.org/tarmac/indexer-grants")?),
                    commissioners,
                    threshold: 2,
                    mode: Mode::Public,
                    time_lock: None,
                    refund_deadline: now.saturating_add(180 * units::DAY),
                }),
            )],
        )
        .await?;
    Ok(project_id)
}

/// Funders fund the project, by deposit and by pledge; commissioners open
/// three tickets.
async fn fund_and_open_tickets(
    sender: &mut Sender<'_>,
    project_id: ProjectId,
) -> Result<(), DemoError> {
    let open_ticket = |title: &str, url: &str, budget: u64| -> Result<Operation, DemoError> {
        Ok(project(ProjectOperation::OpenTicket {
            project: project_id,
            title: text(title)?,
            url: Some(text(url)?),
            budget: Some(Budget {
                asset: USD_ID,
                amount: budget,
            }),
        }))
    };
    sender
        .send(
            "funding the project and opening tickets",
            vec![
                (
                    JUN,
                    project(ProjectOperation::Fund {
                        project: project_id,
                        asset: USD_ID,
                        amount: 400 * UNIT,
                    }),
                ),
                (
                    KOFI,
                    project(ProjectOperation::Fund {
                        project: project_id,
                        asset: USD_ID,
                        amount: 600 * UNIT,
                    }),
                ),
                (
                    LEA,
                    project(ProjectOperation::Pledge {
                        project: project_id,
                        asset: USD_ID,
                        amount_per_period: 50 * UNIT,
                        period: MONTH,
                        end: None,
                        cap: Some(300 * UNIT),
                    }),
                ),
                (
                    TARMAC,
                    open_ticket(
                        "Bulk import with COPY on Postgres",
                        "https://example.org/tarmac/indexer/issues/12",
                        250 * UNIT,
                    )?,
                ),
                (
                    TARMAC,
                    open_ticket(
                        "Atom feed for every project",
                        "https://example.org/tarmac/indexer/issues/19",
                        150 * UNIT,
                    )?,
                ),
                (
                    MIRA,
                    open_ticket(
                        "Audio embeds on creator pages",
                        "https://example.org/tarmac/indexer/issues/23",
                        200 * UNIT,
                    )?,
                ),
            ],
        )
        .await
}

/// The first ticket is done and paid by two commissioners.
async fn pay_first_ticket(sender: &mut Sender<'_>, project_id: ProjectId) -> Result<(), DemoError> {
    sender
        .send(
            "raising the first invoice",
            vec![
                (
                    TARMAC,
                    project(ProjectOperation::CloseTicket {
                        project: project_id,
                        ticket: 0,
                    }),
                ),
                (
                    TARMAC,
                    project(ProjectOperation::RaiseInvoice {
                        project: project_id,
                        ticket: 0,
                        beneficiary: TARMAC.address(),
                        asset: USD_ID,
                        amount: 250 * UNIT,
                    }),
                ),
            ],
        )
        .await?;
    // An approval states the invoice's amount and beneficiary, so it is
    // signed once the invoice is there.
    sender
        .send(
            "paying the first ticket",
            vec![(
                INES,
                project(ProjectOperation::Approve {
                    project: project_id,
                    invoice: 0,
                }),
            )],
        )
        .await
}
