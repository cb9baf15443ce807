//! Every table of the mirror as a Rust row type, and the conversions between
//! the protocol's records and rows (both ways: the mirror writes rows from
//! events, and `verify` turns rows back into records to compare them with
//! the node's).
//!
//! Conventions: amounts and rates are exact (`u128` columns: fine units,
//! or base units where the protocol counts in base units), with an `_units`
//! integer beside them where the directory sorts; ids, times (Unix seconds)
//! and levels are integers; a holder is an address (`tz1…`) or
//! `project-{id}`, as in the protocol's storage paths; lists are JSON.

use std::cell::RefCell;
use std::collections::HashMap;

use pledgeroll_contracts::asset::{Supply, Ticket, FINE_PER_UNIT};
use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::escrow::{
    Budget, EscrowAsset, Invoice, InvoiceStatus, Mode, Project, ProjectStatus, RefundPool,
    WorkTicket,
};
use pledgeroll_contracts::state::{EndReason, PauseReason, Pledge, PledgeStatus, Profile, Tier};
use pledgeroll_contracts::stream::Flow;
use pledgeroll_contracts::{Address, AssetId, Contract, Holder, PledgeId, ProjectId, TierId};

use crate::error::{int, IndexError};
use crate::schema::table;

/// Seconds in the 30-day month that monthly figures use.
pub const MONTH: u128 = 2_592_000;

/// Seconds in a day; days are numbered from the Unix epoch, in UTC.
pub const DAY: u64 = 86_400;

table! {
    /// The indexer's position: the last level applied and its block. One
    /// row, written in the same transaction as that level's changes.
    CursorRow in "indexer_cursor" {
        key {
            /// Always 1.
            id: i64,
        }
        /// The last level applied.
        level: i64,
        /// Its block hash.
        block_hash: String,
    }
}

table! {
    /// Settings of the mirror: the rollup it mirrors, and from which level
    /// undo information is complete.
    MetaRow in "indexer_meta" {
        key {
            /// The setting's name.
            name: String,
        }
        /// Its value.
        value: String,
    }
}

table! {
    /// One indexed level: its block, time and the kernel's state hash.
    LevelRow in "levels" {
        key {
            /// The level.
            level: i64,
        }
        /// The block hash.
        block_hash: String,
        /// The previous block's hash.
        predecessor: String,
        /// The protocol's clock after the level (Unix seconds); null
        /// before the kernel first ran.
        level_time: Option<i64>,
        /// The kernel's state hash after the level (hex); null when the
        /// kernel wrote no record at this level.
        state_hash: Option<String>,
        /// Events in the level.
        events: i64,
        /// Operation receipts in the level.
        receipts: i64,
        /// Notices about inbox messages the kernel could not use.
        notices: i64,
        /// Why the level aborted, if it did.
        fault: Option<String>,
    }
}

table! {
    /// An account seen by the rollup: it signed an operation or held a
    /// balance.
    AccountRow in "accounts" {
        key {
            /// The address (`tz1…`, `tz2…`, `tz3…`).
            address: String,
        }
        /// Its public key once an operation revealed it.
        public_key: Option<String>,
        /// The level that revealed it.
        revealed_level: Option<i64>,
        /// The level it first appeared at.
        first_level: i64,
    }
}

table! {
    /// An asset (a layer-1 ticket kind) and its supply.
    AssetRow in "assets" {
        key {
            /// The rollup's number for it.
            asset_id: i64,
        }
        /// The ticketer contract.
        ticketer: String,
        /// The ticket's token id.
        token_id: u128,
        /// The ticket's metadata bytes, hex.
        metadata: Option<String>,
        /// Base units ever deposited.
        deposited: u128,
        /// Base units ever withdrawn.
        withdrawn: u128,
        /// Base units on the rollup (deposited − withdrawn).
        supply_units: i64,
        /// The level that registered it.
        registered_level: i64,
    }
}

table! {
    /// A holder's balance in one asset: the protocol's `Flow`, exact. The
    /// balance at time `t ≥ at` is `settled + (inflow − outflow)·(t − at)`
    /// fine units; `depletion_scheduled` is when a draining balance runs
    /// out (a patron's runway).
    BalanceRow in "balances" {
        key {
            /// The holder: an address or `project-{id}`.
            holder: String,
            /// The asset.
            asset_id: i64,
        }
        /// The project, when the holder is a project escrow.
        project_id: Option<i64>,
        /// Fine units at `at`.
        settled: u128,
        /// When `settled` was computed.
        at: i64,
        /// Fine units per second streaming in.
        inflow: u128,
        /// Fine units per second streaming out.
        outflow: u128,
        /// When the balance runs out, if it drains.
        depletion_scheduled: Option<i64>,
        /// `settled` in base units, rounded down.
        settled_units: i64,
        /// Incoming streams per 30 days, base units: monthly income.
        monthly_in_units: i64,
        /// Outgoing streams per 30 days, base units: monthly pledges.
        monthly_out_units: i64,
        /// The level of the last change.
        updated_level: i64,
    }
}

table! {
    /// A creator: profile, pause, and patron counts over its tiers.
    CreatorRow in "creators" {
        key {
            /// The creator's address.
            address: String,
        }
        /// Display name.
        name: String,
        /// The name in lower case, for search.
        name_lower: String,
        /// What the creator makes.
        description: String,
        /// Links, a JSON array of strings.
        links: String,
        /// Whether the whole subscription is paused.
        paused: bool,
        /// Tiers ever added.
        tiers: i64,
        /// Live (active or paused) pledges over all its tiers.
        patrons: i64,
        /// Pledges streaming now over all its tiers.
        active_patrons: i64,
        /// The level that published the profile first.
        created_level: i64,
        /// The level of the last change.
        updated_level: i64,
    }
}

table! {
    /// A tier: its fixed terms and its patron counts.
    TierRow in "tiers" {
        key {
            /// The tier.
            tier_id: i64,
        }
        /// The creator offering it.
        creator: String,
        /// Title.
        title: String,
        /// What patrons get.
        perks: String,
        /// The asset pledges pay in.
        asset_id: i64,
        /// Price per period, base units.
        amount_per_period: u128,
        /// Period, seconds.
        period: i64,
        /// Price per 30 days, base units (rounded down).
        monthly_units: i64,
        /// Most live pledges, if limited.
        patron_limit: Option<i64>,
        /// Live (active or paused) pledges, as the protocol counts them.
        patrons: i64,
        /// Pledges streaming now.
        active_patrons: i64,
        /// Retired tiers take no new pledges.
        retired: bool,
        /// The level that added it.
        created_level: i64,
        /// The level of the last change.
        updated_level: i64,
    }
}

table! {
    /// A pledge: a stream from a patron to a creator or a project.
    PledgeRow in "pledges" {
        key {
            /// The pledge.
            pledge_id: i64,
        }
        /// Who pays.
        patron: String,
        /// Who receives: an address or `project-{id}`.
        payee: String,
        /// The project, when the payee is a project escrow.
        project_id: Option<i64>,
        /// The tier, for pledges to a creator.
        tier_id: Option<i64>,
        /// The asset.
        asset_id: i64,
        /// Amount per period as signed, base units.
        amount_per_period: u128,
        /// Period, seconds.
        period: i64,
        /// Fine units per second while active.
        rate: u128,
        /// The rate per 30 days, base units.
        monthly_units: i64,
        /// Time after which it ends, if any.
        end_time: Option<i64>,
        /// Most base units it pays, if capped.
        cap: Option<u128>,
        /// `active`, `paused` or `ended`.
        status: String,
        /// Why paused (`by_patron`, `by_creator`, `out_of_funds`) or ended
        /// (`cancelled`, `end_date`, `cap_reached`).
        reason: Option<String>,
        /// When it was made.
        created_at: i64,
        /// Fine units streamed up to `since`.
        streamed: u128,
        /// When the stream last started or was settled.
        since: i64,
        /// When it ends by itself, if scheduled.
        end_scheduled: Option<i64>,
        /// The level that made it.
        created_level: i64,
        /// The level of the last change.
        updated_level: i64,
    }
}

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

table! {
    /// Per holder, asset and UTC day: what moved, for charts. Income from
    /// streams (`streamed_in`) is exact per day up to the holder's last
    /// flow change (`balances.at`); after it the holder receives
    /// `balances.inflow` per second and no row exists yet. Outgoing streams
    /// are not spread over days: their settlements are in the ledger.
    DailyRow in "daily_stats" {
        key {
            /// The holder: an address or `project-{id}`.
            holder: String,
            /// The asset.
            asset_id: i64,
            /// Days since 1970-01-01, UTC.
            day: i64,
        }
        /// Fine units streamed in during the day.
        streamed_in: u128,
        /// Tips received, fine units.
        tips_in: u128,
        /// Tips sent, fine units.
        tips_out: u128,
        /// Transfers received, fine units.
        transfers_in: u128,
        /// Transfers sent, fine units.
        transfers_out: u128,
        /// Deposits from layer 1, fine units.
        deposits: u128,
        /// Withdrawals to layer 1, fine units.
        withdrawals: u128,
        /// Invoice payouts received, fine units.
        payouts_in: u128,
        /// Invoice payouts made (project escrows), fine units.
        payouts_out: u128,
        /// One-off project funding received (project escrows), fine units.
        funding_in: u128,
        /// One-off project funding given, fine units.
        funding_out: u128,
        /// Refunds received, fine units.
        refunds_in: u128,
        /// Refunds paid (project escrows), fine units.
        refunds_out: u128,
        /// Income in base units: streams, tips, payouts and funding received.
        income_units: i64,
        /// Incoming stream rate at the end of the day, fine units per second.
        inflow: u128,
        /// `inflow` per 30 days in base units: monthly income that day.
        monthly_in_units: i64,
        /// Pledges to this holder started that day.
        pledges_started: i64,
    }
}

table! {
    /// Every event the kernel recorded, in order, with its canonical
    /// encoding (decode with `pledgeroll_contracts::Event::from_bytes`).
    EventRow in "events" {
        key {
            /// The level.
            level: i64,
            /// Its position in the level.
            idx: i64,
        }
        /// The level's time (scheduled changes happened at or before it).
        happened_at: i64,
        /// The variant, e.g. `pledge_updated`.
        kind: String,
        /// The account or holder it is mainly about.
        account: Option<String>,
        /// The other party, if any.
        counterparty: Option<String>,
        /// The pledge, if any.
        pledge_id: Option<i64>,
        /// The project, if any.
        project_id: Option<i64>,
        /// The tier, if any.
        tier_id: Option<i64>,
        /// The asset, if any.
        asset_id: Option<i64>,
        /// What changed (`started`, `paused`, `approved`, …), if told.
        change: Option<String>,
        /// The event's canonical encoding.
        data: Vec<u8>,
    }
}

table! {
    /// Every movement of value, append-only.
    LedgerRow in "ledger" {
        key {
            /// The level.
            level: i64,
            /// Its position among the level's movements.
            idx: i64,
        }
        /// The event it comes from (`events.idx`).
        event_idx: i64,
        /// When it happened (Unix seconds).
        happened_at: i64,
        /// `deposit`, `withdrawal`, `transfer`, `tip`, `stream`, `payout`,
        /// `fund` or `refund`.
        kind: String,
        /// The payer, if any (none for deposits).
        from_holder: Option<String>,
        /// The receiver, if any (none for withdrawals).
        to_holder: Option<String>,
        /// The asset.
        asset_id: i64,
        /// The amount, fine units.
        fine: u128,
        /// The amount in base units, rounded down.
        units: i64,
        /// The pledge, for stream settlements.
        pledge_id: Option<i64>,
        /// The project, if one is involved.
        project_id: Option<i64>,
        /// The invoice, for payouts.
        invoice_no: Option<i64>,
        /// A tip's memo, or a withdrawal's destination (`KT1…%entrypoint`).
        memo: Option<String>,
    }
}

table! {
    /// Every operation receipt.
    ReceiptRow in "receipts" {
        key {
            /// The level.
            level: i64,
            /// Its position in the level.
            idx: i64,
        }
        /// The operation's hash, hex.
        hash: String,
        /// The signer.
        signer: String,
        /// The nonce it carried.
        nonce: i64,
        /// Whether it applied.
        applied: bool,
        /// Why it failed.
        reason: Option<String>,
    }
}

table! {
    /// How to undo a level: each row the level changed, as it was before.
    /// Kept only for levels a reorganisation may still replace.
    UndoRow in "indexer_undo" {
        key {
            /// The level.
            level: i64,
            /// Order within the level.
            seq: i64,
        }
        /// The table.
        tbl: String,
        /// The row's key values, JSON.
        row_key: String,
        /// The row's values before the level, JSON; null if it was absent.
        image: Option<String>,
    }
}

/// An address as text. Base58check costs two SHA-256 rounds and the same
/// addresses recur through a batch, so each thread keeps their text.
pub fn address_text(a: &Address) -> String {
    thread_local! {
        static TEXT: RefCell<HashMap<Address, String>> = RefCell::new(HashMap::new());
    }
    TEXT.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(text) = cache.get(a) {
            return text.clone();
        }
        if cache.len() >= 100_000 {
            cache.clear();
        }
        let text = a.to_string();
        cache.insert(*a, text.clone());
        text
    })
}

/// A holder as stored: its address, or `project-{id}`.
pub fn holder_text(holder: &Holder) -> String {
    match holder {
        Holder::Account(a) => address_text(a),
        Holder::Project(p) => format!("project-{}", p.0),
    }
}

/// A stored holder.
pub fn parse_holder(text: &str) -> Option<Holder> {
    match text.strip_prefix("project-") {
        Some(id) => id.parse().ok().map(|id| Holder::Project(ProjectId(id))),
        None => text.parse().ok().map(Holder::Account),
    }
}

/// The project of a holder, if it is one.
pub fn holder_project(holder: &Holder) -> Option<i64> {
    match holder {
        Holder::Account(_) => None,
        Holder::Project(p) => i64::try_from(p.0).ok(),
    }
}

/// Fine units in whole base units, rounded down (saturating).
pub fn units(fine: u128) -> i64 {
    i64::try_from(fine / FINE_PER_UNIT).unwrap_or(i64::MAX)
}

/// A rate (fine units per second) per 30 days, in base units.
pub fn monthly_units(rate: u128) -> i64 {
    units(rate.saturating_mul(MONTH))
}

/// Base units as fine units.
pub fn fine(units: u64) -> u128 {
    u128::from(units) * FINE_PER_UNIT
}

fn json_list<T: ToString>(items: &[T]) -> String {
    serde_json::Value::Array(
        items
            .iter()
            .map(|i| serde_json::Value::String(i.to_string()))
            .collect(),
    )
    .to_string()
}

fn json_ids(items: &[u64]) -> String {
    serde_json::Value::Array(items.iter().map(|i| (*i).into()).collect()).to_string()
}

fn corrupt(table: &str, reason: impl Into<String>) -> IndexError {
    IndexError::Corrupt {
        table: table.to_owned(),
        reason: reason.into(),
    }
}

fn parse_list<T: std::str::FromStr>(table: &str, json: &str) -> Result<Vec<T>, IndexError> {
    let items: Vec<String> =
        serde_json::from_str(json).map_err(|e| corrupt(table, format!("list {json}: {e}")))?;
    items
        .iter()
        .map(|i| {
            i.parse()
                .map_err(|_| corrupt(table, format!("list item {i}")))
        })
        .collect()
}

fn parse_ids(table: &str, json: &str) -> Result<Vec<u64>, IndexError> {
    serde_json::from_str(json).map_err(|e| corrupt(table, format!("ids {json}: {e}")))
}

fn uint(table: &str, v: i64) -> Result<u64, IndexError> {
    u64::try_from(v).map_err(|_| corrupt(table, format!("negative value {v}")))
}

fn uint32(table: &str, v: i64) -> Result<u32, IndexError> {
    u32::try_from(v).map_err(|_| corrupt(table, format!("value {v} beyond 32 bits")))
}

fn base(table: &str, v: u128) -> Result<u64, IndexError> {
    u64::try_from(v).map_err(|_| corrupt(table, format!("amount {v} beyond 64 bits")))
}

fn text<const N: usize>(table: &str, s: &str) -> Result<Text<N>, IndexError> {
    Text::new(s).map_err(|e| corrupt(table, format!("text {s:?}: {e}")))
}

fn list<T, const N: usize>(table: &str, items: Vec<T>) -> Result<List<T, N>, IndexError> {
    List::new(items).map_err(|e| corrupt(table, format!("list: {e}")))
}

fn address(table: &str, s: &str) -> Result<Address, IndexError> {
    s.parse()
        .map_err(|_| corrupt(table, format!("address {s}")))
}

impl BalanceRow {
    /// The row of a holder's flow in an asset, changed at `level`.
    pub fn from_flow(
        holder: &Holder,
        asset: AssetId,
        flow: &Flow,
        level: u32,
    ) -> Result<Self, IndexError> {
        Ok(BalanceRow {
            holder: holder_text(holder),
            asset_id: i64::from(asset.0),
            project_id: holder_project(holder),
            settled: flow.settled,
            at: int(flow.at, "flow time")?,
            inflow: flow.inflow,
            outflow: flow.outflow,
            depletion_scheduled: flow
                .depletion_scheduled
                .map(|t| int(t, "depletion time"))
                .transpose()?,
            settled_units: units(flow.settled),
            monthly_in_units: monthly_units(flow.inflow),
            monthly_out_units: monthly_units(flow.outflow),
            updated_level: i64::from(level),
        })
    }

    /// The protocol's flow this row mirrors.
    pub fn flow(&self) -> Result<Flow, IndexError> {
        Ok(Flow {
            settled: self.settled,
            at: uint("balances", self.at)?,
            inflow: self.inflow,
            outflow: self.outflow,
            depletion_scheduled: self
                .depletion_scheduled
                .map(|t| uint("balances", t))
                .transpose()?,
        })
    }
}

impl AssetRow {
    /// The ticket this asset is.
    pub fn ticket(&self) -> Result<Ticket, IndexError> {
        Ok(Ticket {
            ticketer: self
                .ticketer
                .parse::<Contract>()
                .map_err(|_| corrupt("assets", format!("ticketer {}", self.ticketer)))?,
            token_id: base("assets", self.token_id)?,
            metadata: self
                .metadata
                .as_deref()
                .map(hex::decode)
                .transpose()
                .map_err(|e| corrupt("assets", format!("metadata: {e}")))?,
        })
    }

    /// Its supply.
    pub fn supply(&self) -> Supply {
        Supply {
            deposited: self.deposited,
            withdrawn: self.withdrawn,
        }
    }

    /// Recomputes the sorting column after a change of supply.
    pub fn refresh(&mut self) {
        self.supply_units =
            i64::try_from(self.deposited.saturating_sub(self.withdrawn)).unwrap_or(i64::MAX);
    }
}

impl CreatorRow {
    /// Takes a profile in.
    pub fn set_profile(&mut self, profile: &Profile) {
        self.name = profile.name.as_str().to_owned();
        self.name_lower = self.name.to_lowercase();
        self.description = profile.description.as_str().to_owned();
        self.links = json_list(profile.links.items());
    }

    /// The profile this row mirrors.
    pub fn profile(&self) -> Result<Profile, IndexError> {
        let links: Vec<String> = parse_list("creators", &self.links)?;
        Ok(Profile {
            name: text("creators", &self.name)?,
            description: text("creators", &self.description)?,
            links: list(
                "creators",
                links
                    .iter()
                    .map(|l| text("creators", l))
                    .collect::<Result<_, _>>()?,
            )?,
        })
    }
}

impl TierRow {
    /// The row of a tier record, keeping the mirror's own counts from `old`.
    pub fn from_tier(
        id: TierId,
        tier: &Tier,
        old: Option<&TierRow>,
        level: u32,
    ) -> Result<Self, IndexError> {
        let rate = pledgeroll_contracts::stream::rate_for(tier.amount_per_period, tier.period)
            .unwrap_or(0);
        Ok(TierRow {
            tier_id: int(id.0, "tier id")?,
            creator: address_text(&tier.creator),
            title: tier.title.as_str().to_owned(),
            perks: tier.perks.as_str().to_owned(),
            asset_id: i64::from(tier.asset.0),
            amount_per_period: u128::from(tier.amount_per_period),
            period: i64::from(tier.period),
            monthly_units: monthly_units(rate),
            patron_limit: tier.patron_limit.map(i64::from),
            patrons: i64::from(tier.patrons),
            active_patrons: old.map_or(0, |o| o.active_patrons),
            retired: tier.retired,
            created_level: old.map_or(i64::from(level), |o| o.created_level),
            updated_level: i64::from(level),
        })
    }

    /// The tier record this row mirrors.
    pub fn tier(&self) -> Result<Tier, IndexError> {
        const T: &str = "tiers";
        Ok(Tier {
            creator: address(T, &self.creator)?,
            title: text(T, &self.title)?,
            perks: text(T, &self.perks)?,
            asset: AssetId(uint32(T, self.asset_id)?),
            amount_per_period: base(T, self.amount_per_period)?,
            period: uint32(T, self.period)?,
            patron_limit: self.patron_limit.map(|l| uint32(T, l)).transpose()?,
            patrons: uint32(T, self.patrons)?,
            retired: self.retired,
        })
    }
}

/// A pledge status as stored: `(status, reason)`.
pub fn status_text(status: &PledgeStatus) -> (&'static str, Option<&'static str>) {
    match status {
        PledgeStatus::Active => ("active", None),
        PledgeStatus::Paused { reason } => (
            "paused",
            Some(match reason {
                PauseReason::ByPatron => "by_patron",
                PauseReason::ByCreator => "by_creator",
                PauseReason::OutOfFunds => "out_of_funds",
            }),
        ),
        PledgeStatus::Ended { reason } => (
            "ended",
            Some(match reason {
                EndReason::Cancelled => "cancelled",
                EndReason::EndDate => "end_date",
                EndReason::CapReached => "cap_reached",
            }),
        ),
    }
}

fn parse_status(status: &str, reason: Option<&str>) -> Option<PledgeStatus> {
    Some(match (status, reason) {
        ("active", None) => PledgeStatus::Active,
        ("paused", Some(r)) => PledgeStatus::Paused {
            reason: match r {
                "by_patron" => PauseReason::ByPatron,
                "by_creator" => PauseReason::ByCreator,
                "out_of_funds" => PauseReason::OutOfFunds,
                _ => return None,
            },
        },
        ("ended", Some(r)) => PledgeStatus::Ended {
            reason: match r {
                "cancelled" => EndReason::Cancelled,
                "end_date" => EndReason::EndDate,
                "cap_reached" => EndReason::CapReached,
                _ => return None,
            },
        },
        _ => return None,
    })
}

impl PledgeRow {
    /// The row of a pledge record, keeping its creation level from `old`.
    pub fn from_pledge(
        id: PledgeId,
        p: &Pledge,
        old: Option<&PledgeRow>,
        level: u32,
    ) -> Result<Self, IndexError> {
        let (status, reason) = status_text(&p.status);
        Ok(PledgeRow {
            pledge_id: int(id.0, "pledge id")?,
            patron: address_text(&p.patron),
            payee: holder_text(&p.payee),
            project_id: holder_project(&p.payee),
            tier_id: p.tier.map(|t| int(t.0, "tier id")).transpose()?,
            asset_id: i64::from(p.asset.0),
            amount_per_period: u128::from(p.amount_per_period),
            period: i64::from(p.period),
            rate: p.rate,
            monthly_units: monthly_units(p.rate),
            end_time: p.end.map(|t| int(t, "pledge end")).transpose()?,
            cap: p.cap.map(u128::from),
            status: status.to_owned(),
            reason: reason.map(str::to_owned),
            created_at: int(p.created_at, "pledge time")?,
            streamed: p.streamed,
            since: int(p.since, "pledge time")?,
            end_scheduled: p.end_scheduled.map(|t| int(t, "pledge end")).transpose()?,
            created_level: old.map_or(i64::from(level), |o| o.created_level),
            updated_level: i64::from(level),
        })
    }

    /// Whether the pledge streams now.
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }

    /// The pledge record this row mirrors.
    pub fn pledge(&self) -> Result<Pledge, IndexError> {
        const T: &str = "pledges";
        let opt = |v: Option<i64>| v.map(|t| uint(T, t)).transpose();
        Ok(Pledge {
            patron: address(T, &self.patron)?,
            payee: parse_holder(&self.payee)
                .ok_or_else(|| corrupt(T, format!("payee {}", self.payee)))?,
            tier: opt(self.tier_id)?.map(TierId),
            asset: AssetId(uint32(T, self.asset_id)?),
            amount_per_period: base(T, self.amount_per_period)?,
            period: uint32(T, self.period)?,
            rate: self.rate,
            end: opt(self.end_time)?,
            cap: self.cap.map(|c| base(T, c)).transpose()?,
            status: parse_status(&self.status, self.reason.as_deref())
                .ok_or_else(|| corrupt(T, format!("status {} {:?}", self.status, self.reason)))?,
            created_at: uint(T, self.created_at)?,
            streamed: self.streamed,
            since: uint(T, self.since)?,
            end_scheduled: opt(self.end_scheduled)?,
        })
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

impl DailyRow {
    /// An empty day for a holder and asset.
    pub fn empty(holder: &str, asset_id: i64, day: i64) -> Self {
        DailyRow {
            holder: holder.to_owned(),
            asset_id,
            day,
            streamed_in: 0,
            tips_in: 0,
            tips_out: 0,
            transfers_in: 0,
            transfers_out: 0,
            deposits: 0,
            withdrawals: 0,
            payouts_in: 0,
            payouts_out: 0,
            funding_in: 0,
            funding_out: 0,
            refunds_in: 0,
            refunds_out: 0,
            income_units: 0,
            inflow: 0,
            monthly_in_units: 0,
            pledges_started: 0,
        }
    }

    /// Recomputes the base-unit columns from the exact ones.
    pub fn refresh(&mut self) {
        self.income_units = units(
            self.streamed_in
                .saturating_add(self.tips_in)
                .saturating_add(self.payouts_in)
                .saturating_add(self.funding_in),
        );
        self.monthly_in_units = monthly_units(self.inflow);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Row;

    fn alice() -> Address {
        "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx"
            .parse()
            .expect("valid")
    }

    #[test]
    fn holders_round_trip_as_text() {
        for h in [Holder::Account(alice()), Holder::Project(ProjectId(42))] {
            assert_eq!(parse_holder(&holder_text(&h)), Some(h));
        }
        assert_eq!(parse_holder("project-x"), None);
        assert_eq!(parse_holder("tz1nothing"), None);
    }

    #[test]
    fn pledges_round_trip_through_rows() {
        let p = Pledge {
            patron: alice(),
            payee: Holder::Project(ProjectId(3)),
            tier: None,
            asset: AssetId(1),
            amount_per_period: u64::MAX,
            period: 2_592_000,
            rate: 123,
            end: Some(99),
            cap: Some(7),
            status: PledgeStatus::Paused {
                reason: PauseReason::OutOfFunds,
            },
            created_at: 5,
            streamed: u128::MAX / 3,
            since: 9,
            end_scheduled: None,
        };
        let row = PledgeRow::from_pledge(PledgeId(8), &p, None, 4).expect("fits");
        assert_eq!(row.project_id, Some(3));
        assert_eq!(row.status, "paused");
        assert_eq!(row.reason.as_deref(), Some("out_of_funds"));
        assert_eq!(row.pledge().expect("decodes"), p);
        let again = PledgeRow::from_values(row.values()).expect("decodes");
        assert_eq!(again, row);
        let broken = PledgeRow {
            reason: Some("by_accident".into()),
            ..row
        };
        assert!(broken.pledge().is_err());
    }

    #[test]
    fn flows_round_trip_and_carry_monthly_figures() {
        let flow = Flow {
            settled: 10 * FINE_PER_UNIT + 5,
            at: 1_000,
            inflow: FINE_PER_UNIT / 2_592_000 * 5_000_000,
            outflow: 0,
            depletion_scheduled: None,
        };
        let row =
            BalanceRow::from_flow(&Holder::Account(alice()), AssetId(0), &flow, 2).expect("fits");
        assert_eq!(row.settled_units, 10);
        assert_eq!(row.monthly_in_units, 5_000_000);
        assert_eq!(row.flow().expect("decodes"), flow);
    }
}
