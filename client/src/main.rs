//! `pledgeroll`: the command-line wallet for creators, patrons and
//! commissioners.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use pledgeroll_client::assets::{
    format_period, format_units, parse_period, parse_units, split_symbol,
};
use pledgeroll_client::backup;
use pledgeroll_client::keystore::Keystore;
use pledgeroll_client::{AssetBook, AssetInfo, Wallet};
use pledgeroll_contracts::crypto::{Contract, Curve};
use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::escrow::{Budget, Mode, ProjectOperation};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::state::{PledgeStatus, Profile};
use pledgeroll_contracts::{
    Address, AssetId, Decode, Encode, Event, Holder, Operation, PledgeId, ProjectId, RollupAddress,
    SignedOperation, TierId, FINE_PER_UNIT,
};
use serde_json::json;

/// The sandbox's RPC address, the default node.
const DEFAULT_NODE: &str = "http://127.0.0.1:8932";

#[derive(Parser)]
#[command(
    name = "pledgeroll",
    version,
    about = "Wallet for pledgeroll: recurring pledges and project escrows on a Tezos smart rollup"
)]
struct Cli {
    /// The rollup node's RPC address.
    #[arg(long, global = true, env = "PLEDGEROLL_NODE", default_value = DEFAULT_NODE)]
    node: String,
    /// Where keys and settings live (default: ~/.pledgeroll).
    #[arg(long, global = true, env = "PLEDGEROLL_HOME")]
    home: Option<PathBuf>,
    /// Print results as JSON, for scripts.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Manage keys: generate, import, list, show, export, back up, recover.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Balances, pledges in and out, and runway of an account.
    Status {
        /// A key name or a tz address (default: every key).
        who: Option<String>,
        /// Warn when a balance lasts fewer days than this.
        #[arg(long, default_value_t = 14)]
        warn_days: u64,
    },
    /// Move funds to another account.
    Transfer {
        #[command(flatten)]
        send: Send,
        /// Amount with its asset, e.g. `5 tez`.
        amount: String,
        /// The receiver: key name or tz address.
        #[arg(long)]
        to: String,
    },
    /// A one-off tip with a memo, to an account or a project (`project:N`).
    Tip {
        #[command(flatten)]
        send: Send,
        /// Amount with its asset, e.g. `2 tez`.
        amount: String,
        /// The receiver: key name, tz address or `project:N`.
        #[arg(long)]
        to: String,
        /// A short message.
        #[arg(long, default_value = "")]
        memo: String,
    },
    /// Send funds back to layer 1 as tickets.
    Withdraw {
        #[command(flatten)]
        send: Send,
        /// Amount with its asset, e.g. `5 tez`.
        amount: String,
        /// The layer-1 contract (KT1…) that receives the ticket.
        #[arg(long)]
        to: String,
        /// Its entrypoint.
        #[arg(long, default_value = "default")]
        entrypoint: String,
    },
    /// Publish a creator profile and manage tiers.
    #[command(subcommand)]
    Creator(CreatorCommand),
    /// Pledge to a tier, and change, pause, resume or cancel pledges.
    #[command(subcommand)]
    Pledge(PledgeCommand),
    /// Project escrows: create, fund, tickets, invoices, approvals, refunds.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Sign an operation offline (from `--dry-run` output) without sending it.
    Sign {
        /// The signing key's name.
        #[arg(long = "as")]
        signer: String,
        /// The operation, hex (as printed by `--dry-run`).
        operation: String,
        /// The account's next nonce.
        #[arg(long)]
        nonce: u64,
        /// The rollup's address (sr1…).
        #[arg(long)]
        rollup: String,
        /// Carry the public key (the account's first operation).
        #[arg(long)]
        reveal: bool,
    },
    /// Send a signed operation (from `pledgeroll sign`).
    Submit {
        /// The signed operation, hex.
        signed: String,
        /// Do not wait for the receipt.
        #[arg(long)]
        no_wait: bool,
    },
    /// Sandbox helpers: deposit test funds, move time forward.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
}

#[derive(Args, Clone)]
struct Send {
    /// The signing key's name.
    #[arg(long = "as")]
    signer: String,
    /// Print the operation and the bytes to sign; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Do not wait for the receipt.
    #[arg(long)]
    no_wait: bool,
}

#[derive(Copy, Clone, ValueEnum)]
enum CurveArg {
    Ed25519,
    Secp256k1,
    P256,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Generate a new key.
    Gen {
        /// Its name.
        name: String,
        /// The curve (tz1, tz2 or tz3).
        #[arg(long, value_enum, default_value = "ed25519")]
        curve: CurveArg,
        /// Store it in clear (sandbox throwaway keys only).
        #[arg(long)]
        unencrypted: bool,
    },
    /// Import an Octez secret key (`edsk…`, `unencrypted:edsk…`, `spsk…`, `p2sk…`).
    Import {
        /// Its name.
        name: String,
        /// The secret key, or `-` to read it from standard input.
        secret: String,
        /// Store it in clear (sandbox throwaway keys only).
        #[arg(long)]
        unencrypted: bool,
    },
    /// List stored keys.
    List,
    /// Show a key's address and public key.
    Show {
        /// Its name.
        name: String,
    },
    /// Print a key's secret key.
    Export {
        /// Its name.
        name: String,
    },
    /// Split a key into shares for friends to keep.
    Backup {
        /// Its name.
        name: String,
        /// How many shares.
        #[arg(long, default_value_t = 5)]
        shares: usize,
        /// How many shares rebuild the key.
        #[arg(long, default_value_t = 3)]
        threshold: usize,
    },
    /// Rebuild a key from shares (one per line on standard input, or --share).
    Recover {
        /// The name to store it under.
        name: String,
        /// A share; repeat for each.
        #[arg(long = "share")]
        shares: Vec<String>,
        /// Store it in clear (sandbox throwaway keys only).
        #[arg(long)]
        unencrypted: bool,
    },
    /// Delete a stored key.
    Remove {
        /// Its name.
        name: String,
    },
}

#[derive(Subcommand)]
enum CreatorCommand {
    /// Publish or replace your creator profile.
    Profile {
        #[command(flatten)]
        send: Send,
        /// Display name.
        #[arg(long)]
        name: String,
        /// What you make.
        #[arg(long, default_value = "")]
        description: String,
        /// A link to your work; repeat for more.
        #[arg(long = "link")]
        links: Vec<String>,
    },
    /// Add a tier.
    AddTier {
        #[command(flatten)]
        send: Send,
        /// Short title.
        #[arg(long)]
        title: String,
        /// What patrons get.
        #[arg(long, default_value = "")]
        perks: String,
        /// Price per period with its asset, e.g. `5 tez`.
        #[arg(long)]
        price: String,
        /// hour, day, week, month (30 days), year, or a duration like 90d.
        #[arg(long, default_value = "month")]
        period: String,
        /// Most patrons the tier takes.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Retire a tier: no new pledges, existing ones go on.
    RetireTier {
        #[command(flatten)]
        send: Send,
        /// The tier's number.
        tier: u64,
    },
    /// Pause every pledge to you.
    Pause {
        #[command(flatten)]
        send: Send,
    },
    /// Resume the pledges your pause stopped.
    Resume {
        #[command(flatten)]
        send: Send,
    },
    /// Show a creator: profile, tiers, patrons, income.
    Show {
        /// A key name or tz address.
        who: String,
    },
}

#[derive(Subcommand)]
enum PledgeCommand {
    /// Pledge to a tier.
    To {
        #[command(flatten)]
        send: Send,
        /// The tier's number.
        tier: u64,
        /// Pay more than the tier's price per period, e.g. `8 tez`.
        #[arg(long)]
        amount: Option<String>,
        /// End after this duration, e.g. `180d`.
        #[arg(long)]
        for_: Option<String>,
        /// Never pay more than this in all, e.g. `50 tez`.
        #[arg(long)]
        cap: Option<String>,
    },
    /// Move a pledge to another tier of the same creator.
    Change {
        #[command(flatten)]
        send: Send,
        /// The pledge's number.
        pledge: u64,
        /// The new tier.
        tier: u64,
        /// Pay more than the new tier's price per period.
        #[arg(long)]
        amount: Option<String>,
    },
    /// Pause a pledge.
    Pause {
        #[command(flatten)]
        send: Send,
        /// The pledge's number.
        pledge: u64,
    },
    /// Resume a paused pledge.
    Resume {
        #[command(flatten)]
        send: Send,
        /// The pledge's number.
        pledge: u64,
    },
    /// Cancel a pledge for good.
    Cancel {
        #[command(flatten)]
        send: Send,
        /// The pledge's number.
        pledge: u64,
    },
}

#[derive(Subcommand)]
enum ProjectCommand {
    /// Create a project escrow.
    Create {
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
    },
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

#[derive(Subcommand)]
enum SandboxCommand {
    /// Deposit sandbox funds to an account (as a layer-1 ticket transfer).
    Deposit {
        /// Amount with its asset, e.g. `100 tez`.
        amount: String,
        /// The receiver: key name or tz address.
        #[arg(long)]
        to: String,
    },
    /// Move the sandbox's layer-1 clock forward, e.g. `30d`.
    Advance {
        /// How far.
        by: String,
    },
}

struct Ctx {
    home: PathBuf,
    node: String,
    json: bool,
}

impl Ctx {
    fn keystore(&self) -> Keystore {
        Keystore::new(&self.home)
    }

    fn book(&self) -> Result<AssetBook> {
        AssetBook::load(&self.home, Vec::new()).map_err(|e| anyhow!(e))
    }

    async fn wallet(&self) -> Result<Wallet> {
        Ok(Wallet::connect(&self.node, self.book()?).await?)
    }

    fn key(&self, name: &str) -> Result<SecretKey> {
        Ok(self.keystore().open(name, || {
            passphrase(&format!("Passphrase for `{name}`: "), false).ok()
        })?)
    }

    /// A key name or a tz address.
    fn address(&self, who: &str) -> Result<Address> {
        if let Ok(a) = who.parse::<Address>() {
            return Ok(a);
        }
        Ok(self.keystore().entry(who)?.address()?)
    }

    fn print(&self, text: impl std::fmt::Display, value: serde_json::Value) {
        if self.json {
            println!("{value}");
        } else {
            println!("{text}");
        }
    }
}

fn passphrase(prompt: &str, confirm: bool) -> Result<String> {
    if let Ok(p) = std::env::var("PLEDGEROLL_PASSPHRASE") {
        return Ok(p);
    }
    let first = rpassword::prompt_password(prompt)
        .context("cannot read a passphrase; set PLEDGEROLL_PASSPHRASE or use a terminal")?;
    if confirm {
        let again = rpassword::prompt_password("Again: ")?;
        if again != first {
            bail!("the passphrases differ");
        }
    }
    if first.is_empty() {
        bail!("an empty passphrase protects nothing; use --unencrypted for throwaway keys");
    }
    Ok(first)
}

fn curve(c: CurveArg) -> Curve {
    match c {
        CurveArg::Ed25519 => Curve::Ed25519,
        CurveArg::Secp256k1 => Curve::Secp256k1,
        CurveArg::P256 => Curve::P256,
    }
}

fn text<const N: usize>(what: &str, s: &str) -> Result<Text<N>> {
    Text::new(s).map_err(|_| anyhow!("the {what} is longer than {N} bytes"))
}

/// Reads `5 tez` into an asset and base units.
async fn amount(w: &Wallet, s: &str) -> Result<(AssetId, u64, AssetInfo)> {
    let (number, symbol) = split_symbol(s);
    let symbol = symbol.unwrap_or("tez");
    let (id, info) = w.asset_by_symbol(symbol).await?.ok_or_else(|| {
        anyhow!("the rollup has no asset named `{symbol}` yet; deposit some first")
    })?;
    Ok((id, parse_units(number, &info)?, info))
}

/// Reads an amount in a known asset.
fn units_in(s: &str, info: &AssetInfo) -> Result<u64> {
    let (number, symbol) = split_symbol(s);
    if let Some(sym) = symbol {
        if !sym.eq_ignore_ascii_case(&info.symbol) {
            bail!("this amount is in {}, not {sym}", info.symbol);
        }
    }
    Ok(parse_units(number, info)?)
}

fn holder(ctx: &Ctx, who: &str) -> Result<Holder> {
    match who.strip_prefix("project:") {
        Some(n) => Ok(Holder::Project(ProjectId(
            n.parse().context("`project:N` needs a project number")?,
        ))),
        None => Ok(Holder::Account(ctx.address(who)?)),
    }
}

fn when(t: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_secs(t)).to_string()
}

/// A duration in its two largest units, e.g. `2 months 3 days`.
fn how_long(secs: u64) -> String {
    const UNITS: [(u64, &str); 6] = [
        (31_536_000, "year"),
        (2_592_000, "month"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    let mut left = secs;
    let mut parts = Vec::new();
    for (size, name) in UNITS {
        let n = left / size;
        left %= size;
        if n > 0 || !parts.is_empty() {
            if n > 0 {
                parts.push(format!("{n} {name}{}", if n == 1 { "" } else { "s" }));
            }
            if parts.len() == 2 || (n == 0 && !parts.is_empty()) {
                break;
            }
        }
    }
    if parts.is_empty() {
        "0 seconds".into()
    } else {
        parts.join(" ")
    }
}

/// What an operation made, as its level's events tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Made {
    /// A tier.
    Tier(TierId),
    /// A pledge, to a tier or a project.
    Pledge(PledgeId),
    /// A project escrow.
    Project(ProjectId),
    /// A ticket in a project.
    Ticket(ProjectId, u32),
    /// An invoice in a project.
    Invoice(ProjectId, u32),
}

impl Made {
    /// What happened, e.g. `tier 7 added at level 12`.
    fn line(made: Option<Made>, level: u32) -> String {
        match made {
            None => format!("applied at level {level}"),
            Some(Made::Tier(t)) => format!("tier {} added at level {level}", t.0),
            Some(Made::Pledge(p)) => format!("pledge {} started at level {level}", p.0),
            Some(Made::Project(p)) => format!("project {} created at level {level}", p.0),
            Some(Made::Ticket(p, n)) => {
                format!("ticket {n} opened in project {} at level {level}", p.0)
            }
            Some(Made::Invoice(p, n)) => {
                format!("invoice {n} raised in project {} at level {level}", p.0)
            }
        }
    }

    /// Adds the made thing's ids to a JSON object.
    fn add_to(made: Option<Made>, value: &mut serde_json::Value) {
        let ids = match made {
            None => return,
            Some(Made::Tier(t)) => json!({ "tier": t.0 }),
            Some(Made::Pledge(p)) => json!({ "pledge": p.0 }),
            Some(Made::Project(p)) => json!({ "project": p.0 }),
            Some(Made::Ticket(p, n)) => json!({ "project": p.0, "ticket": n }),
            Some(Made::Invoice(p, n)) => json!({ "project": p.0, "invoice": n }),
        };
        if let (Some(into), serde_json::Value::Object(ids)) = (value.as_object_mut(), ids) {
            into.extend(ids);
        }
    }
}

/// Whether `op`, once applied, has made something with an id of its own.
fn makes_something(op: &Operation) -> bool {
    matches!(
        op,
        Operation::AddTier { .. }
            | Operation::Pledge { .. }
            | Operation::Project {
                op: ProjectOperation::Create { .. }
                    | ProjectOperation::Pledge { .. }
                    | ProjectOperation::OpenTicket { .. }
                    | ProjectOperation::RaiseInvoice { .. }
            }
    )
}

/// Finds what `op`, signed by `signer`, made among the events of the level
/// that applied it.
///
/// Events are not tied to the operation that caused them, so this picks the
/// creation events that match the operation's signer and content. Ids grow
/// with each creation, so when an older record that looks the same changed
/// in the same level, the newest id is the one this operation made; two
/// identical operations applied in one level made interchangeable records.
fn made_by(op: &Operation, signer: &Address, events: &[Event]) -> Option<Made> {
    use pledgeroll_contracts::escrow::InvoiceChange;
    use pledgeroll_contracts::event::PledgeChange;
    let found = events.iter().filter_map(|event| match (op, event) {
        (
            Operation::AddTier {
                title,
                perks,
                asset,
                amount_per_period,
                period,
                patron_limit,
            },
            Event::TierUpdated { tier, record },
        ) => (record.creator == *signer
            && record.title == *title
            && record.perks == *perks
            && record.asset == *asset
            && record.amount_per_period == *amount_per_period
            && record.period == *period
            && record.patron_limit == *patron_limit)
            .then_some(Made::Tier(*tier)),
        (
            Operation::Pledge {
                tier,
                amount,
                end,
                cap,
            },
            Event::PledgeUpdated {
                pledge,
                change: PledgeChange::Started,
                record,
            },
        ) => (record.patron == *signer
            && record.tier == Some(*tier)
            && amount.is_none_or(|a| record.amount_per_period == a)
            && record.end == *end
            && record.cap == *cap)
            .then_some(Made::Pledge(*pledge)),
        (
            Operation::Project {
                op: ProjectOperation::Pledge { project, .. },
            },
            Event::PledgeUpdated {
                pledge,
                change: PledgeChange::Started,
                record,
            },
        ) => (record.patron == *signer && record.payee == Holder::Project(*project))
            .then_some(Made::Pledge(*pledge)),
        (
            Operation::Project {
                op:
                    ProjectOperation::Create {
                        title,
                        commissioners,
                        refund_deadline,
                        ..
                    },
            },
            Event::ProjectUpdated { project, record },
        ) => (record.creator == *signer
            && record.title == *title
            && record.commissioners == *commissioners
            && record.refund_deadline == *refund_deadline)
            .then_some(Made::Project(*project)),
        (
            Operation::Project {
                op: ProjectOperation::OpenTicket { project, title, .. },
            },
            Event::TicketUpdated {
                project: p,
                ticket,
                record,
            },
        ) => (p == project
            && record.opened_by == *signer
            && record.title == *title
            && !record.closed)
            .then_some(Made::Ticket(*p, *ticket)),
        (
            Operation::Project {
                op:
                    ProjectOperation::RaiseInvoice {
                        project,
                        ticket,
                        beneficiary,
                        asset,
                        amount,
                    },
            },
            Event::InvoiceUpdated {
                project: p,
                invoice,
                change: InvoiceChange::Raised,
                record,
            },
        ) => (p == project
            && record.raised_by == *signer
            && record.ticket == *ticket
            && record.beneficiary == *beneficiary
            && record.asset == *asset
            && record.amount == *amount)
            .then_some(Made::Invoice(*p, *invoice)),
        _ => None,
    });
    found.max_by_key(|made| match *made {
        Made::Tier(t) => (0, t.0),
        Made::Pledge(p) => (0, p.0),
        Made::Project(p) => (0, p.0),
        Made::Ticket(p, n) | Made::Invoice(p, n) => (p.0, u64::from(n)),
    })
}

/// What `op`, applied at `level`, made; `None` when it makes nothing with
/// an id, or when the level's events cannot be read (the operation applied
/// all the same, so that is a warning, not a failure).
async fn made_at(w: &Wallet, op: &Operation, signer: &Address, level: u32) -> Option<Made> {
    if !makes_something(op) {
        return None;
    }
    match w.node.events(level).await {
        Ok(events) => made_by(op, signer, &events),
        Err(e) => {
            eprintln!("warning: applied, but the events of level {level} cannot be read: {e}");
            None
        }
    }
}

/// Sends `op` as `send.signer`, or prints it with `--dry-run`.
async fn run_op(ctx: &Ctx, w: &Wallet, send: &Send, op: Operation) -> Result<()> {
    let key = ctx.key(&send.signer)?;
    let address = key.public_key().address();
    if send.dry_run {
        let account = w.account(&address).await?;
        let bytes = w.bytes_to_sign(account.next_nonce, &op);
        ctx.print(
            format!(
                "{op:?}\noperation: {}\nnonce: {}\nrollup: {}\nbytes to sign: 0x{}",
                hex::encode(op.to_bytes()),
                account.next_nonce,
                w.rollup,
                hex::encode(&bytes)
            ),
            json!({
                "operation": hex::encode(op.to_bytes()),
                "nonce": account.next_nonce,
                "reveal": account.public_key.is_none(),
                "rollup": w.rollup.to_string(),
                "bytes_to_sign": hex::encode(bytes),
            }),
        );
        return Ok(());
    }
    let done = w.send(&key, op.clone(), !send.no_wait).await?;
    match done.level {
        Some(level) => {
            let made = made_at(w, &op, &address, level).await;
            let mut value = json!({ "status": "applied", "level": level, "hash": done.hash });
            Made::add_to(made, &mut value);
            ctx.print(
                format!("{} (operation {})", Made::line(made, level), done.hash),
                value,
            );
        }
        None => ctx.print(
            format!(
                "sent (operation {}); not waiting for the receipt",
                done.hash
            ),
            json!({ "status": "sent", "hash": done.hash }),
        ),
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    let home = match cli.home {
        Some(h) => h,
        None => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".pledgeroll"))
            .ok_or_else(|| anyhow!("no home directory: set PLEDGEROLL_HOME"))?,
    };
    let ctx = Ctx {
        home,
        node: cli.node,
        json: cli.json,
    };
    match cli.command {
        Command::Keys(k) => keys(&ctx, k),
        Command::Status { who, warn_days } => status(&ctx, who, warn_days).await,
        Command::Transfer {
            send,
            amount: a,
            to,
        } => {
            let w = ctx.wallet().await?;
            let (asset, units, _) = amount(&w, &a).await?;
            let to = ctx.address(&to)?;
            run_op(
                &ctx,
                &w,
                &send,
                Operation::Transfer {
                    to,
                    asset,
                    amount: units,
                },
            )
            .await
        }
        Command::Tip {
            send,
            amount: a,
            to,
            memo,
        } => {
            let w = ctx.wallet().await?;
            let (asset, units, _) = amount(&w, &a).await?;
            let to = holder(&ctx, &to)?;
            let memo = text("memo", &memo)?;
            run_op(
                &ctx,
                &w,
                &send,
                Operation::Tip {
                    to,
                    asset,
                    amount: units,
                    memo,
                },
            )
            .await
        }
        Command::Withdraw {
            send,
            amount: a,
            to,
            entrypoint,
        } => {
            let w = ctx.wallet().await?;
            let (asset, units, _) = amount(&w, &a).await?;
            let destination = to.parse::<Contract>().map_err(|e| anyhow!("{e}"))?;
            if let Contract::Implicit(_) = destination {
                bail!("withdrawals go to a layer-1 contract (KT1...) that accepts the ticket; a rollup's outbox cannot pay a tz address");
            }
            let entrypoint = text("entrypoint", &entrypoint)?;
            run_op(
                &ctx,
                &w,
                &send,
                Operation::Withdraw {
                    asset,
                    amount: units,
                    destination,
                    entrypoint,
                },
            )
            .await
        }
        Command::Creator(c) => creator(&ctx, c).await,
        Command::Pledge(p) => pledge(&ctx, p).await,
        Command::Project(p) => project(&ctx, p).await,
        Command::Sign {
            signer,
            operation,
            nonce,
            rollup,
            reveal,
        } => {
            let key = ctx.key(&signer)?;
            let bytes = hex::decode(operation.trim_start_matches("0x"))
                .context("the operation is not hex")?;
            let op = Operation::from_bytes(&bytes).map_err(|e| anyhow!("not an operation: {e}"))?;
            let rollup: RollupAddress = rollup.parse().map_err(|e| anyhow!("{e}"))?;
            let signed = key.sign_operation(&rollup, nonce, op, reveal);
            let hex_signed = hex::encode(signed.to_bytes());
            ctx.print(
                &hex_signed,
                json!({ "signed": hex_signed, "hash": hex::encode(signed.hash()) }),
            );
            Ok(())
        }
        Command::Submit { signed, no_wait } => {
            let w = ctx.wallet().await?;
            let bytes = hex::decode(signed.trim_start_matches("0x"))
                .context("the signed operation is not hex")?;
            let op = SignedOperation::from_bytes(&bytes)
                .map_err(|e| anyhow!("not a signed operation: {e}"))?;
            let signer = op.signer.address();
            let operation = op.operation.clone();
            let done = w.submit(vec![op], !no_wait).await?;
            for d in done {
                let mut value = json!({ "hash": d.hash, "level": d.level });
                let line = match d.level {
                    Some(level) => {
                        let made = made_at(&w, &operation, &signer, level).await;
                        Made::add_to(made, &mut value);
                        Made::line(made, level)
                    }
                    None => "sent".to_owned(),
                };
                ctx.print(format!("operation {}: {line}", d.hash), value);
            }
            Ok(())
        }
        Command::Sandbox(s) => sandbox(&ctx, s).await,
    }
}

fn keys(ctx: &Ctx, command: KeysCommand) -> Result<()> {
    let ks = ctx.keystore();
    let store = |name: &str, key: &SecretKey, unencrypted: bool| -> Result<()> {
        let pass = if unencrypted {
            None
        } else {
            Some(passphrase(&format!("New passphrase for `{name}`: "), true)?)
        };
        let entry = ks.add(name, key, pass.as_deref())?;
        if unencrypted {
            eprintln!("warning: `{name}` is stored unencrypted; use such keys only on a sandbox");
        }
        ctx.print(
            format!("{}  {}", entry.address, entry.public_key),
            json!({ "name": name, "address": entry.address, "public_key": entry.public_key }),
        );
        Ok(())
    };
    match command {
        KeysCommand::Gen {
            name,
            curve: c,
            unencrypted,
        } => {
            let key = loop {
                let mut secret = zeroize::Zeroizing::new([0u8; 32]);
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, secret.as_mut());
                if let Ok(k) = SecretKey::from_bytes(curve(c), *secret) {
                    break k;
                }
            };
            store(&name, &key, unencrypted)
        }
        KeysCommand::Import {
            name,
            secret,
            unencrypted,
        } => {
            let secret = zeroize::Zeroizing::new(if secret == "-" {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line
            } else {
                secret
            });
            let key: SecretKey = secret.trim().parse().map_err(|e| anyhow!("{e}"))?;
            store(&name, &key, unencrypted)
        }
        KeysCommand::List => {
            let entries = ks.list()?;
            let mut lines = Vec::new();
            for e in &entries {
                lines.push(format!(
                    "{:<16} {}  {}",
                    e.alias,
                    e.address,
                    if e.is_encrypted() {
                        "encrypted"
                    } else {
                        "UNENCRYPTED"
                    }
                ));
            }
            ctx.print(
                lines.join("\n"),
                json!(entries.iter().map(|e| json!({ "name": e.alias, "address": e.address, "encrypted": e.is_encrypted() })).collect::<Vec<_>>()),
            );
            Ok(())
        }
        KeysCommand::Show { name } => {
            let e = ks.entry(&name)?;
            ctx.print(
                format!("address:    {}\npublic key: {}\nencrypted:  {}", e.address, e.public_key, e.is_encrypted()),
                json!({ "name": e.alias, "address": e.address, "public_key": e.public_key, "encrypted": e.is_encrypted() }),
            );
            Ok(())
        }
        KeysCommand::Export { name } => {
            let key = ctx.key(&name)?;
            let secret = zeroize::Zeroizing::new(key.to_string());
            ctx.print(&*secret, json!({ "name": name, "secret_key": &*secret }));
            Ok(())
        }
        KeysCommand::Backup {
            name,
            shares,
            threshold,
        } => {
            let key = ctx.key(&name)?;
            let parts = backup::split(&key, shares, threshold)?;
            ctx.print(
                format!(
                    "Give one share to each person you trust. Any {threshold} of these {shares} rebuild `{name}`:\n{}",
                    parts.join("\n")
                ),
                json!({ "threshold": threshold, "shares": parts }),
            );
            Ok(())
        }
        KeysCommand::Recover {
            name,
            mut shares,
            unencrypted,
        } => {
            if shares.is_empty() {
                for line in std::io::stdin().lines() {
                    let line = line?;
                    if !line.trim().is_empty() {
                        shares.push(line.trim().to_owned());
                    }
                }
            }
            let key = backup::recover(&shares)?;
            store(&name, &key, unencrypted)
        }
        KeysCommand::Remove { name } => {
            ks.remove(&name)?;
            ctx.print(format!("removed `{name}`"), json!({ "removed": name }));
            Ok(())
        }
    }
}

async fn creator(ctx: &Ctx, command: CreatorCommand) -> Result<()> {
    let w = ctx.wallet().await?;
    match command {
        CreatorCommand::Profile {
            send,
            name,
            description,
            links,
        } => {
            let links = links
                .iter()
                .map(|l| text("link", l))
                .collect::<Result<Vec<_>>>()?;
            let profile = Profile {
                name: text("name", &name)?,
                description: text("description", &description)?,
                links: List::new(links).map_err(|_| anyhow!("at most 8 links"))?,
            };
            run_op(ctx, &w, &send, Operation::SetProfile { profile }).await
        }
        CreatorCommand::AddTier {
            send,
            title,
            perks,
            price,
            period,
            limit,
        } => {
            let (asset, units, _) = amount(&w, &price).await?;
            let op = Operation::AddTier {
                title: text("title", &title)?,
                perks: text("perks", &perks)?,
                asset,
                amount_per_period: units,
                period: parse_period(&period)?,
                patron_limit: limit,
            };
            run_op(ctx, &w, &send, op).await
        }
        CreatorCommand::RetireTier { send, tier } => {
            run_op(ctx, &w, &send, Operation::RetireTier { tier: TierId(tier) }).await
        }
        CreatorCommand::Pause { send } => run_op(ctx, &w, &send, Operation::PauseCreator).await,
        CreatorCommand::Resume { send } => run_op(ctx, &w, &send, Operation::ResumeCreator).await,
        CreatorCommand::Show { who } => {
            let a = ctx.address(&who)?;
            let c = w
                .creator(&a)
                .await?
                .ok_or_else(|| anyhow!("{a} has no creator profile"))?;
            let mut lines = vec![format!(
                "{} ({a}){}",
                c.profile.name,
                if c.paused { " — paused" } else { "" }
            )];
            if !c.profile.description.as_str().is_empty() {
                lines.push(c.profile.description.to_string());
            }
            for l in c.profile.links.items() {
                lines.push(format!("  {l}"));
            }
            let mut tiers = Vec::new();
            for id in c.tiers.items().iter().copied() {
                if let Some(t) = w.tier(id).await? {
                    let info = w.asset_info(t.asset).await?;
                    lines.push(format!(
                        "tier {}: {} — {}/{}, {} patrons{}",
                        id.0,
                        t.title,
                        format_units(u128::from(t.amount_per_period), &info),
                        format_period(t.period),
                        t.patrons,
                        if t.retired { " (retired)" } else { "" }
                    ));
                    tiers.push(json!({ "id": id.0, "title": t.title.as_str(), "price": t.amount_per_period, "period": t.period, "asset": t.asset.0, "patrons": t.patrons, "retired": t.retired }));
                }
            }
            ctx.print(
                lines.join("\n"),
                json!({ "address": a.to_string(), "name": c.profile.name.as_str(), "description": c.profile.description.as_str(), "paused": c.paused, "tiers": tiers }),
            );
            Ok(())
        }
    }
}

async fn pledge(ctx: &Ctx, command: PledgeCommand) -> Result<()> {
    let w = ctx.wallet().await?;
    let (send, op) = match command {
        PledgeCommand::To {
            send,
            tier,
            amount: a,
            for_,
            cap,
        } => {
            let t = w
                .tier(TierId(tier))
                .await?
                .ok_or_else(|| anyhow!("there is no tier {tier}"))?;
            let info = w.asset_info(t.asset).await?;
            let amount = a.map(|a| units_in(&a, &info)).transpose()?;
            let cap = cap.map(|c| units_in(&c, &info)).transpose()?;
            let end = match for_ {
                None => None,
                Some(d) => {
                    let secs = humantime::parse_duration(&d)
                        .context("--for takes a duration like 180d")?
                        .as_secs();
                    Some(w.clock().await?.now + secs)
                }
            };
            (
                send,
                Operation::Pledge {
                    tier: TierId(tier),
                    amount,
                    end,
                    cap,
                },
            )
        }
        PledgeCommand::Change {
            send,
            pledge,
            tier,
            amount: a,
        } => {
            let t = w
                .tier(TierId(tier))
                .await?
                .ok_or_else(|| anyhow!("there is no tier {tier}"))?;
            let info = w.asset_info(t.asset).await?;
            let amount = a.map(|a| units_in(&a, &info)).transpose()?;
            let op = Operation::ChangePledge {
                pledge: PledgeId(pledge),
                tier: TierId(tier),
                amount,
            };
            (send, op)
        }
        PledgeCommand::Pause { send, pledge } => (
            send,
            Operation::PausePledge {
                pledge: PledgeId(pledge),
            },
        ),
        PledgeCommand::Resume { send, pledge } => (
            send,
            Operation::ResumePledge {
                pledge: PledgeId(pledge),
            },
        ),
        PledgeCommand::Cancel { send, pledge } => (
            send,
            Operation::CancelPledge {
                pledge: PledgeId(pledge),
            },
        ),
    };
    run_op(ctx, &w, &send, op).await
}

async fn project(ctx: &Ctx, command: ProjectCommand) -> Result<()> {
    let w = ctx.wallet().await?;
    let id = ProjectId;
    let (send, op) = match command {
        ProjectCommand::Show { project } => return show_project(ctx, &w, ProjectId(project)).await,
        ProjectCommand::Create {
            send,
            title,
            description,
            link,
            commissioners,
            threshold,
            private_patron,
            time_lock,
            refund_after,
        } => {
            let commissioners = commissioners
                .iter()
                .map(|c| ctx.address(c))
                .collect::<Result<Vec<_>>>()?;
            let n = commissioners.len();
            let mode = match private_patron {
                Some(pp) => Mode::Private {
                    patron: ctx.address(&pp)?,
                },
                None => Mode::Public,
            };
            let threshold = match (threshold, mode) {
                (Some(t), _) => t,
                (None, Mode::Private { .. }) => {
                    u8::try_from(pledgeroll_contracts::escrow::private_threshold(n))?
                }
                (None, Mode::Public) => bail!("a public project needs --threshold"),
            };
            let time_lock = time_lock
                .map(|t| humantime::parse_duration(&t).map(|d| d.as_secs()))
                .transpose()
                .context("--time-lock takes a duration like 72h")?;
            let after = humantime::parse_duration(&refund_after)
                .context("--refund-after takes a duration like 90d")?;
            let op = ProjectOperation::Create {
                title: text("title", &title)?,
                description: text("description", &description)?,
                link: link.map(|l| text("link", &l)).transpose()?,
                commissioners: List::new(commissioners)
                    .map_err(|_| anyhow!("at most 16 commissioners"))?,
                threshold,
                mode,
                time_lock,
                refund_deadline: w.clock().await?.now + after.as_secs(),
            };
            (send, op)
        }
        ProjectCommand::Fund {
            send,
            project,
            amount: a,
        } => {
            let (asset, units, _) = amount(&w, &a).await?;
            (
                send,
                ProjectOperation::Fund {
                    project: id(project),
                    asset,
                    amount: units,
                },
            )
        }
        ProjectCommand::Pledge {
            send,
            project,
            amount: a,
            period,
            cap,
        } => {
            let (asset, units, info) = amount(&w, &a).await?;
            let cap = cap.map(|c| units_in(&c, &info)).transpose()?;
            let op = ProjectOperation::Pledge {
                project: id(project),
                asset,
                amount_per_period: units,
                period: parse_period(&period)?,
                end: None,
                cap,
            };
            (send, op)
        }
        ProjectCommand::OpenTicket {
            send,
            project,
            title,
            url,
            budget,
        } => {
            let budget = match budget {
                Some(b) => {
                    let (asset, amount, _) = amount(&w, &b).await?;
                    Some(Budget { asset, amount })
                }
                None => None,
            };
            let op = ProjectOperation::OpenTicket {
                project: id(project),
                title: text("title", &title)?,
                url: url.map(|u| text("url", &u)).transpose()?,
                budget,
            };
            (send, op)
        }
        ProjectCommand::CloseTicket {
            send,
            project,
            ticket,
        } => (
            send,
            ProjectOperation::CloseTicket {
                project: id(project),
                ticket,
            },
        ),
        ProjectCommand::Invoice {
            send,
            project,
            ticket,
            amount: a,
            to,
        } => {
            let (asset, units, _) = amount(&w, &a).await?;
            let op = ProjectOperation::RaiseInvoice {
                project: id(project),
                ticket,
                beneficiary: ctx.address(&to)?,
                asset,
                amount: units,
            };
            (send, op)
        }
        ProjectCommand::Approve {
            send,
            project,
            invoice,
        } => (
            send,
            ProjectOperation::Approve {
                project: id(project),
                invoice,
            },
        ),
        ProjectCommand::Veto {
            send,
            project,
            invoice,
        } => (
            send,
            ProjectOperation::Veto {
                project: id(project),
                invoice,
            },
        ),
        ProjectCommand::WithdrawInvoice {
            send,
            project,
            invoice,
        } => (
            send,
            ProjectOperation::WithdrawInvoice {
                project: id(project),
                invoice,
            },
        ),
        ProjectCommand::Refund { send, project } => (
            send,
            ProjectOperation::ApproveRefund {
                project: id(project),
            },
        ),
        ProjectCommand::Reclaim { send, project } => (
            send,
            ProjectOperation::Reclaim {
                project: id(project),
            },
        ),
    };
    run_op(ctx, &w, &send, Operation::Project { op }).await
}

async fn show_project(ctx: &Ctx, w: &Wallet, id: ProjectId) -> Result<()> {
    let p = w
        .project(id)
        .await?
        .ok_or_else(|| anyhow!("there is no project {}", id.0))?;
    let now = w.clock().await?.now;
    let mut lines = vec![format!("project {}: {} ({:?})", id.0, p.title, p.status)];
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
        how_long(p.time_lock),
        when(p.refund_deadline)
    ));
    for c in p.commissioners.items() {
        lines.push(format!("  commissioner {c}"));
    }
    let mut balances = Vec::new();
    for asset in p.assets.items().iter().copied() {
        let info = w.asset_info(asset).await?;
        let held = w.balance(&Holder::Project(id), asset).await?;
        let escrow = w.escrow_asset(id, asset).await?;
        lines.push(format!(
            "  escrow: {} ({} reserved, {} paid out)",
            format_units(held, &info),
            format_units(escrow.reserved / FINE_PER_UNIT, &info),
            format_units(escrow.paid_out / FINE_PER_UNIT, &info)
        ));
        balances.push(json!({ "asset": asset.0, "balance": held.to_string(), "reserved": (escrow.reserved / FINE_PER_UNIT).to_string() }));
    }
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
    let mut invoices = Vec::new();
    for n in 0..p.invoices {
        if let Some(inv) = w.invoice(id, n).await? {
            let info = w.asset_info(inv.asset).await?;
            let countdown = if inv.unlocks_at > now && inv.vetoes.is_empty() {
                format!(", pays by itself in {}", how_long(inv.unlocks_at - now))
            } else {
                String::new()
            };
            lines.push(format!(
                "  invoice {n}: {} to {} — {:?}, {} approvals, {} vetoes{countdown}",
                format_units(u128::from(inv.amount), &info),
                inv.beneficiary,
                inv.status,
                inv.approvals.len(),
                inv.vetoes.len()
            ));
            invoices.push(json!({ "id": n, "amount": inv.amount, "status": format!("{:?}", inv.status), "approvals": inv.approvals.len(), "vetoes": inv.vetoes.len(), "unlocks_at": inv.unlocks_at }));
        }
    }
    ctx.print(
        lines.join("\n"),
        json!({ "id": id.0, "title": p.title.as_str(), "status": format!("{:?}", p.status), "balances": balances, "invoices": invoices, "tickets": p.tickets }),
    );
    Ok(())
}

async fn status(ctx: &Ctx, who: Option<String>, warn_days: u64) -> Result<()> {
    let w = ctx.wallet().await?;
    let addresses = match who {
        Some(who) => vec![(who.clone(), ctx.address(&who)?)],
        None => ctx
            .keystore()
            .list()?
            .into_iter()
            .map(|e| Ok((e.alias.clone(), e.address()?)))
            .collect::<Result<Vec<_>>>()?,
    };
    let clock = w.clock().await?;
    let assets = w.assets().await?;
    let mut out = Vec::new();
    let mut lines = vec![format!(
        "rollup {} at level {}, {}",
        w.rollup,
        clock.level,
        when(clock.now)
    )];
    for (name, a) in addresses {
        lines.push(format!("\n{name} ({a})"));
        let mut balances = Vec::new();
        for (id, _, info) in &assets {
            let flow = w.flow(&Holder::Account(a), *id).await?;
            if flow == Default::default() {
                continue;
            }
            let units = w.balance(&Holder::Account(a), *id).await?;
            let runway = flow.depletion_time().map(|t| t.saturating_sub(clock.now));
            let per_month = |rate: u128| format_units(rate * 2_592_000 / FINE_PER_UNIT, info);
            let mut line = format!("  {}", format_units(units, info));
            if flow.outflow > 0 || flow.inflow > 0 {
                line.push_str(&format!(
                    " (in {}/month, out {}/month)",
                    per_month(flow.inflow),
                    per_month(flow.outflow)
                ));
            }
            if let Some(r) = runway {
                line.push_str(&format!(", runs out in {}", how_long(r)));
                if r < warn_days * 86_400 {
                    line.push_str(&format!("  WARNING: under {warn_days} days left; deposit to keep your pledges going"));
                }
            }
            lines.push(line);
            balances.push(json!({ "asset": info.symbol, "balance": units.to_string(), "runway_seconds": runway, "inflow_per_month": (flow.inflow * 2_592_000 / FINE_PER_UNIT).to_string(), "outflow_per_month": (flow.outflow * 2_592_000 / FINE_PER_UNIT).to_string() }));
        }
        let mut outgoing = Vec::new();
        for (id, p) in w.patron_pledges(&a).await? {
            let info = w.asset_info(p.asset).await?;
            let status = match p.status {
                PledgeStatus::Active => "active".to_owned(),
                PledgeStatus::Paused { reason } => format!("paused ({reason:?})"),
                PledgeStatus::Ended { reason } => format!("ended ({reason:?})"),
            };
            lines.push(format!(
                "  pledge {} to {}: {}/{} — {status}",
                id.0,
                p.payee,
                format_units(u128::from(p.amount_per_period), &info),
                format_period(p.period)
            ));
            outgoing.push(json!({ "id": id.0, "payee": p.payee.to_string(), "amount_per_period": p.amount_per_period, "period": p.period, "status": status }));
        }
        let incoming = w.pledges_to(&Holder::Account(a)).await?;
        if !incoming.is_empty() {
            let active = incoming.iter().filter(|(_, p)| p.is_active()).count();
            let n = incoming.len();
            let plural = if n == 1 { "" } else { "s" };
            lines.push(format!("  {n} pledge{plural} in ({active} active)"));
        }
        out.push(json!({ "name": name, "address": a.to_string(), "balances": balances, "pledges_out": outgoing, "pledges_in": incoming.len() }));
    }
    ctx.print(
        lines.join("\n"),
        json!({ "level": clock.level, "time": clock.now, "accounts": out }),
    );
    Ok(())
}

async fn sandbox(ctx: &Ctx, command: SandboxCommand) -> Result<()> {
    let w = ctx.wallet().await?;
    match command {
        SandboxCommand::Deposit { amount: a, to } => {
            let (number, symbol) = split_symbol(&a);
            let symbol = symbol.unwrap_or("tez");
            let entry = pledgeroll_client::sandbox::assets(&w.node)
                .await
                .into_iter()
                .find(|e| e.info.symbol.eq_ignore_ascii_case(symbol))
                .ok_or_else(|| {
                    anyhow!("this node is not a pledgeroll sandbox, or has no asset `{symbol}`")
                })?;
            let units = parse_units(number, &entry.info)?;
            let to = ctx.address(&to)?;
            let level =
                pledgeroll_client::sandbox::deposit(&w.node, &to, &entry.info.symbol, units)
                    .await?;
            ctx.print(
                format!(
                    "deposited {} to {to} (level {level})",
                    format_units(u128::from(units), &entry.info)
                ),
                json!({ "level": level }),
            );
            Ok(())
        }
        SandboxCommand::Advance { by } => {
            let secs = humantime::parse_duration(&by)
                .context("give a duration like 30d")?
                .as_secs();
            let level = pledgeroll_client::sandbox::advance(&w.node, secs).await?;
            ctx.print(
                format!("moved the clock {} forward (level {level})", how_long(secs)),
                json!({ "level": level }),
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{how_long, made_by, makes_something, Made};
    use pledgeroll_contracts::encoding::{List, Text};
    use pledgeroll_contracts::escrow::{Invoice, InvoiceChange, InvoiceStatus, ProjectOperation};
    use pledgeroll_contracts::event::PledgeChange;
    use pledgeroll_contracts::state::{Pledge, PledgeStatus, Tier};
    use pledgeroll_contracts::{
        Address, AssetId, Event, Holder, Operation, PledgeId, ProjectId, TierId,
    };

    fn alice() -> Address {
        "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx"
            .parse()
            .expect("valid")
    }

    fn bob() -> Address {
        "tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN"
            .parse()
            .expect("valid")
    }

    fn add_tier(title: &str) -> Operation {
        Operation::AddTier {
            title: Text::new(title).expect("short"),
            perks: Text::default(),
            asset: AssetId(0),
            amount_per_period: 5_000_000,
            period: 2_592_000,
            patron_limit: None,
        }
    }

    fn tier_event(id: u64, creator: Address, title: &str, patrons: u32) -> Event {
        Event::TierUpdated {
            tier: TierId(id),
            record: Tier {
                creator,
                title: Text::new(title).expect("short"),
                perks: Text::default(),
                asset: AssetId(0),
                amount_per_period: 5_000_000,
                period: 2_592_000,
                patron_limit: None,
                patrons,
                retired: false,
            },
        }
    }

    fn pledge_event(id: u64, patron: Address, tier: u64, change: PledgeChange) -> Event {
        Event::PledgeUpdated {
            pledge: PledgeId(id),
            change,
            record: Pledge {
                patron,
                payee: Holder::Account(alice()),
                tier: Some(TierId(tier)),
                asset: AssetId(0),
                amount_per_period: 5_000_000,
                period: 2_592_000,
                rate: 1,
                end: None,
                cap: None,
                status: PledgeStatus::Active,
                created_at: 0,
                streamed: 0,
                since: 0,
                end_scheduled: None,
            },
        }
    }

    fn invoice_event(invoice: u32, raised_by: Address, change: InvoiceChange) -> Event {
        Event::InvoiceUpdated {
            project: ProjectId(0),
            invoice,
            change,
            record: Invoice {
                ticket: 1,
                raised_by,
                beneficiary: bob(),
                asset: AssetId(0),
                amount: 3_000_000,
                approvals: List::default(),
                vetoes: List::default(),
                raised_at: 0,
                unlocks_at: 0,
                status: InvoiceStatus::Open,
                settled_at: None,
            },
        }
    }

    #[test]
    fn a_new_tier_is_the_newest_matching_one_of_its_creator() {
        let events = [
            // An older tier that looks the same lost a patron this level.
            tier_event(2, alice(), "Supporter", 0),
            tier_event(7, alice(), "Supporter", 0),
            // Someone else's tier with the same terms.
            tier_event(8, bob(), "Supporter", 0),
            tier_event(9, alice(), "Sponsor", 0),
        ];
        assert_eq!(
            made_by(&add_tier("Supporter"), &alice(), &events),
            Some(Made::Tier(TierId(7)))
        );
    }

    #[test]
    fn no_matching_event_means_no_id() {
        let events = [tier_event(8, bob(), "Supporter", 0)];
        assert_eq!(made_by(&add_tier("Supporter"), &alice(), &events), None);
        let pause = Operation::PauseCreator;
        assert!(!makes_something(&pause));
        assert_eq!(made_by(&pause, &alice(), &events), None);
    }

    #[test]
    fn a_pledge_is_the_one_its_patron_started_on_that_tier() {
        let op = Operation::Pledge {
            tier: TierId(7),
            amount: None,
            end: None,
            cap: None,
        };
        let events = [
            pledge_event(3, bob(), 7, PledgeChange::Paused),
            pledge_event(4, alice(), 7, PledgeChange::Started),
            pledge_event(5, bob(), 6, PledgeChange::Started),
            pledge_event(6, bob(), 7, PledgeChange::Started),
        ];
        assert!(makes_something(&op));
        assert_eq!(
            made_by(&op, &bob(), &events),
            Some(Made::Pledge(PledgeId(6)))
        );
        assert_eq!(made_by(&op, &bob(), &events[..3]), None);
    }

    #[test]
    fn an_invoice_is_the_one_raised_not_one_approved() {
        let op = Operation::Project {
            op: ProjectOperation::RaiseInvoice {
                project: ProjectId(0),
                ticket: 1,
                beneficiary: bob(),
                asset: AssetId(0),
                amount: 3_000_000,
            },
        };
        let events = [
            invoice_event(4, alice(), InvoiceChange::Approved),
            invoice_event(2, alice(), InvoiceChange::Raised),
        ];
        assert_eq!(
            made_by(&op, &alice(), &events),
            Some(Made::Invoice(ProjectId(0), 2))
        );
        assert_eq!(made_by(&op, &alice(), &events[..1]), None);
    }

    #[test]
    fn ids_join_the_json_and_the_line() {
        let mut value = serde_json::json!({ "status": "applied", "level": 12 });
        Made::add_to(Some(Made::Ticket(ProjectId(0), 3)), &mut value);
        assert_eq!(value["project"], 0);
        assert_eq!(value["ticket"], 3);
        assert_eq!(value["level"], 12);
        assert_eq!(
            Made::line(Some(Made::Tier(TierId(7))), 12),
            "tier 7 added at level 12"
        );
        assert_eq!(Made::line(None, 12), "applied at level 12");
    }

    #[test]
    fn durations_read_in_their_two_largest_units() {
        assert_eq!(how_long(0), "0 seconds");
        assert_eq!(how_long(59), "59 seconds");
        assert_eq!(how_long(3_600), "1 hour");
        assert_eq!(how_long(2_592_000 + 3 * 86_400 + 5), "1 month 3 days");
        assert_eq!(how_long(30 * 86_400), "1 month");
        assert_eq!(how_long(5_184_000_000), "164 years 4 months");
    }
}
