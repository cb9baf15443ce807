//! Read-only queries over the mirror, written once for Postgres and SQLite
//! and run through the indexer's database handle ([`Db`]), opened
//! read-only.
//!
//! Exact amounts are read as text (`CAST(… AS TEXT)`) and sums are cast to
//! `BIGINT`, so one row type decodes on both databases. Every value a
//! visitor gives is bound as a parameter, never spliced into SQL.

use pledgeroll_contracts::state::PauseClock;
use pledgeroll_contracts::stream::{streamed_by, Flow, PausedStream};
use pledgeroll_indexer::{Db, DbConfig, IndexError};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::FromRow;
use utoipa::ToSchema;

use super::Error;

/// A parameter bound to a query (`Param::Int`, `Param::Text`): a value as
/// the indexer stores it.
pub use pledgeroll_indexer::schema::Value as Param;

/// A read-only connection pool to the mirror.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
}

impl Store {
    /// Opens the mirror at `url` for reading only: SQLite in read-only
    /// mode, Postgres with every transaction read-only (and the `schema`
    /// as search path, if given).
    pub async fn open(url: &str, schema: Option<&str>) -> Result<Store, Error> {
        let config = DbConfig::read_only(url, schema.map(str::to_owned));
        let db = Db::connect(&config).await.map_err(|e| match e {
            IndexError::Config(message) => Error::Config(message),
            e => Error::Config(format!(
                "cannot open the mirror ({e}); is the database at the URL given running, \
                 and has `pledgeroll-indexer run` made the mirror?"
            )),
        })?;
        Ok(Store { db })
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.db.close().await
    }

    /// Every row `sql` returns with `params` bound as `$1`, `$2`, ….
    pub async fn all<T>(&self, sql: &str, params: &[Param]) -> Result<Vec<T>, Error>
    where
        T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
    {
        self.db.fetch_as(sql, params).await.map_err(|e| match e {
            IndexError::Database(e) => Error::Database(e),
            e => Error::Internal(e.to_string()),
        })
    }

    /// The first row `sql` returns, if any.
    pub async fn one<T>(&self, sql: &str, params: &[Param]) -> Result<Option<T>, Error>
    where
        T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
    {
        Ok(self.all(sql, params).await?.into_iter().next())
    }
}

/// An asset the rollup knows.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct AssetRow {
    /// The rollup's number for it.
    pub asset_id: i64,
    /// The layer-1 ticketer.
    pub ticketer: String,
    /// The ticket's token id.
    pub token_id: String,
    /// The ticket's metadata, hex, if any.
    pub metadata: Option<String>,
    /// Base units on the rollup.
    pub supply_units: i64,
}

/// The mirror's position and identity.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Head {
    /// The last level applied.
    pub level: i64,
    /// Its block hash.
    pub block_hash: String,
    /// The protocol's clock after it.
    pub level_time: Option<i64>,
    /// The kernel's state hash after it.
    pub state_hash: Option<String>,
}

/// Which rollup, and which kernel, the mirror follows.
#[derive(Debug, Clone, Default, FromRow)]
pub struct Identity {
    /// The rollup's address.
    pub rollup: Option<String>,
    /// The blake2b-256 hash of its kernel, when the node keeps it.
    pub kernel_hash: Option<String>,
}

/// A per-asset figure.
#[derive(Debug, Clone, Default, Serialize, FromRow, ToSchema)]
pub struct AssetSum {
    /// The asset.
    pub asset_id: i64,
    /// Base units.
    pub units: i64,
}

/// A count.
#[derive(Debug, Clone, FromRow)]
pub struct Count {
    /// How many.
    pub n: i64,
}

/// A list the mirror keeps as JSON text, answered as a JSON list.
fn list<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    super::format::json_list(text).serialize(s)
}

/// A creator as lists show it.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct CreatorSummary {
    /// The creator's address.
    pub address: String,
    /// Display name, as the creator wrote it.
    pub name: String,
    /// Description, as the creator wrote it.
    pub description: String,
    /// Whether the subscription is paused.
    pub paused: bool,
    /// Live pledges over its tiers.
    pub patrons: i64,
    /// Pledges streaming now.
    pub active_patrons: i64,
    /// The level that published the profile.
    pub created_level: i64,
    /// Monthly income in the list's asset, base units.
    pub income: i64,
    /// Monthly income in every asset the creator is paid in, base units.
    #[sqlx(skip)]
    pub monthly_income: Vec<AssetSum>,
}

/// A holder's monthly income in one asset.
#[derive(Debug, Clone, FromRow)]
pub struct HolderIncome {
    /// The holder.
    pub holder: String,
    /// The asset.
    pub asset_id: i64,
    /// Base units per 30 days.
    pub units: i64,
}

/// A creator's profile.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Creator {
    /// The creator's address.
    pub address: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Links (kept as JSON text, answered as a list).
    #[serde(serialize_with = "list")]
    #[schema(value_type = Vec<String>)]
    pub links: String,
    /// Whether the subscription is paused.
    pub paused: bool,
    /// Live pledges.
    pub patrons: i64,
    /// Pledges streaming now.
    pub active_patrons: i64,
    /// The level that published the profile.
    pub created_level: i64,
}

/// A tier.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Tier {
    /// The tier.
    pub tier_id: i64,
    /// The creator offering it.
    pub creator: String,
    /// Title.
    pub title: String,
    /// Perks.
    pub perks: String,
    /// The asset.
    pub asset_id: i64,
    /// Price per period, base units.
    pub amount_per_period: String,
    /// Period, seconds.
    pub period: i64,
    /// Price per 30 days, base units.
    pub monthly_units: i64,
    /// Most live pledges, if limited.
    pub patron_limit: Option<i64>,
    /// Live pledges.
    pub patrons: i64,
    /// Pledges streaming now.
    pub active_patrons: i64,
    /// Whether it takes no new pledges.
    pub retired: bool,
}

/// A pledge.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Pledge {
    /// The pledge.
    pub pledge_id: i64,
    /// Who pays.
    pub patron: String,
    /// Who receives: an address or `project-{id}`.
    pub payee: String,
    /// The tier, for pledges to a creator.
    pub tier_id: Option<i64>,
    /// The asset.
    pub asset_id: i64,
    /// Amount per period, base units.
    pub amount_per_period: String,
    /// Period, seconds.
    pub period: i64,
    /// Per 30 days, base units.
    pub monthly_units: i64,
    /// `active`, `paused` or `ended`.
    pub status: String,
    /// Why paused or ended.
    pub reason: Option<String>,
    /// When it was made (Unix seconds).
    pub created_at: i64,
}

/// A balance as the protocol keeps it.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Balance {
    /// The holder.
    pub holder: String,
    /// The asset.
    pub asset_id: i64,
    /// Fine units at `at`.
    pub settled: String,
    /// When `settled` was computed.
    pub at: i64,
    /// Fine units per second in.
    pub inflow: String,
    /// Fine units per second out (a patron's counts its pledges to paused
    /// creators too).
    pub outflow: String,
    /// Whether the inflow is held: a creator who paused.
    pub inflow_paused: bool,
    /// When a draining balance runs out.
    pub depletion_scheduled: Option<i64>,
    /// Incoming streams per 30 days, base units.
    pub monthly_in_units: i64,
    /// Outgoing streams per 30 days, base units.
    pub monthly_out_units: i64,
}

impl Balance {
    /// The protocol's flow this row mirrors.
    pub fn flow(&self) -> Flow {
        Flow {
            settled: self.settled.parse().unwrap_or(0),
            at: u64::try_from(self.at).unwrap_or(0),
            inflow: self.inflow.parse().unwrap_or(0),
            outflow: self.outflow.parse().unwrap_or(0),
            inflow_paused: self.inflow_paused,
            depletion_scheduled: self.depletion_scheduled.and_then(|t| u64::try_from(t).ok()),
        }
    }

    /// The flow as it stands at `now`, given the holder's pledges to paused
    /// creators ([`Flow::current`]); a row out of range reads as stored.
    pub fn current(&self, now: i64, paused: &[PausedStream]) -> Flow {
        let flow = self.flow();
        let now = u64::try_from(now).unwrap_or(0).max(flow.at);
        flow.current(now, paused).unwrap_or(flow)
    }

    /// The balance at time `now` of a holder paying no paused creator (a
    /// project escrow), fine units.
    pub fn fine_at(&self, now: i64) -> u128 {
        self.current(now, &[]).settled
    }
}

/// A patron's active pledge to a creator, with the creator's pause clock.
#[derive(Debug, Clone, FromRow)]
pub struct CreatorPledge {
    /// The asset.
    pub asset_id: i64,
    /// Fine units per second.
    pub rate: String,
    /// The creator's pause clock when the pledge last settled.
    pub pause_clock: i64,
    /// The creator's seconds paused before the current pause.
    pub paused_seconds: i64,
    /// When the creator's current pause began, while paused.
    pub paused_since: Option<i64>,
}

impl CreatorPledge {
    /// What the creator's pauses mean for the patron's balance at `now`.
    pub fn paused_stream(&self, now: i64) -> Option<PausedStream> {
        let clock = PauseClock {
            paused_seconds: u64::try_from(self.paused_seconds).ok()?,
            paused_since: self.paused_since.and_then(|t| u64::try_from(t).ok()),
        };
        PausedStream::of(
            self.rate.parse().ok()?,
            u64::try_from(self.pause_clock).ok()?,
            &clock,
            u64::try_from(now).ok()?,
        )
        .ok()
        .flatten()
    }
}

/// What a pledge has streamed, as the mirror keeps it with its payee's
/// pause clock.
#[derive(Debug, Clone, FromRow)]
pub struct StreamRow {
    /// The pledge.
    pub pledge_id: i64,
    /// The asset.
    pub asset_id: i64,
    /// `active`, `paused` or `ended`.
    pub status: String,
    /// Fine units streamed up to `since`.
    pub streamed: String,
    /// When the stream last started or was settled.
    pub since: i64,
    /// Fine units per second while active.
    pub rate: String,
    /// The payee's pause clock at `since`.
    pub pause_clock: i64,
    /// The payee creator's seconds paused before its current pause (none
    /// for a project).
    pub paused_seconds: Option<i64>,
    /// When the payee creator's current pause began, while paused.
    pub paused_since: Option<i64>,
}

impl StreamRow {
    /// Fine units paid by `now` ([`streamed_by`]).
    pub fn paid(&self, now: i64) -> Option<u128> {
        let streamed: u128 = self.streamed.parse().ok()?;
        if self.status != "active" {
            return Some(streamed);
        }
        let clock = PauseClock {
            paused_seconds: u64::try_from(self.paused_seconds.unwrap_or(0)).ok()?,
            paused_since: self.paused_since.and_then(|t| u64::try_from(t).ok()),
        };
        let now = u64::try_from(now).ok()?;
        let paused = clock
            .at(now)
            .saturating_sub(u64::try_from(self.pause_clock).ok()?);
        streamed_by(
            streamed,
            self.rate.parse().ok()?,
            u64::try_from(self.since).ok()?,
            paused,
            now,
        )
    }
}

/// One day of a holder's income.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Day {
    /// Days since 1970-01-01.
    pub day: i64,
    /// The asset.
    pub asset_id: i64,
    /// Monthly income at the end of the day, base units.
    pub monthly_in_units: i64,
    /// Income received that day, base units.
    pub income_units: i64,
}

/// A kernel event as the mirror stores it, in its canonical encoding.
#[derive(Debug, Clone, FromRow)]
pub struct StoredEvent {
    /// The level.
    pub level: i64,
    /// Its position among the level's events.
    pub idx: i64,
    /// When (Unix seconds).
    pub happened_at: i64,
    /// The event's canonical encoding (`Event::from_bytes`).
    pub data: Vec<u8>,
}

/// A movement of value.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Movement {
    /// The level.
    pub level: i64,
    /// Its position among the level's movements.
    pub idx: i64,
    /// When (Unix seconds).
    pub happened_at: i64,
    /// `deposit`, `withdrawal`, `transfer`, `tip`, `stream`, `payout`,
    /// `fund` or `refund`.
    pub kind: String,
    /// The payer.
    pub from_holder: Option<String>,
    /// The receiver.
    pub to_holder: Option<String>,
    /// The asset.
    pub asset_id: i64,
    /// Base units, rounded down.
    pub units: i64,
    /// The pledge, for streams.
    pub pledge_id: Option<i64>,
    /// The project, if any.
    pub project_id: Option<i64>,
    /// A tip's memo or a withdrawal's destination.
    pub memo: Option<String>,
}

/// A project.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Project {
    /// The project.
    pub project_id: i64,
    /// Who created it.
    pub creator: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Repository or issue tracker.
    pub link: Option<String>,
    /// Commissioners' addresses (kept as JSON text, answered as a list).
    #[serde(serialize_with = "list")]
    #[schema(value_type = Vec<String>)]
    pub commissioners: String,
    /// Approvals that pay an invoice at once.
    pub threshold: i64,
    /// `public` or `private`.
    pub mode: String,
    /// A private project's funding patron, who may veto invoices.
    pub patron: Option<String>,
    /// Whether an invoice has paid (refunds then open only by the
    /// commissioners' approval).
    pub paid_any: bool,
    /// Time-lock or veto window, seconds.
    pub time_lock: i64,
    /// When funders may reclaim if nothing has paid.
    pub refund_deadline: i64,
    /// `active` or `refunding`.
    pub status: String,
    /// Tickets opened.
    pub tickets: i64,
    /// Invoices raised.
    pub invoices: i64,
}

/// A ticket.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Ticket {
    /// Its number in the project.
    pub ticket_no: i64,
    /// Title.
    pub title: String,
    /// An external issue URL.
    pub url: Option<String>,
    /// The budget's asset.
    pub budget_asset_id: Option<i64>,
    /// The budget, base units.
    pub budget_amount: Option<String>,
    /// Who opened it.
    pub opened_by: String,
    /// Whether the work is done.
    pub closed: bool,
}

/// An invoice.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Invoice {
    /// Its number in the project.
    pub invoice_no: i64,
    /// The ticket it pays for.
    pub ticket_no: i64,
    /// Who raised it.
    pub raised_by: String,
    /// Who gets paid.
    pub beneficiary: String,
    /// The asset.
    pub asset_id: i64,
    /// Base units.
    pub amount: String,
    /// Approving signers (kept as JSON text, answered as a list).
    #[serde(serialize_with = "list")]
    #[schema(value_type = Vec<String>)]
    pub approvals: String,
    /// Vetoing signers (kept as JSON text, answered as a list).
    #[serde(serialize_with = "list")]
    #[schema(value_type = Vec<String>)]
    pub vetoes: String,
    /// When it was raised.
    pub raised_at: i64,
    /// When its time-lock ends.
    pub unlocks_at: i64,
    /// `open`, `paid` or `withdrawn`.
    pub status: String,
    /// When it was paid or withdrawn.
    pub settled_at: Option<i64>,
}

/// A funder's contribution in one asset.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Funder {
    /// The funder.
    pub funder: String,
    /// Whether they reclaimed a refund.
    pub reclaimed: bool,
    /// The asset, if they gave one-off funds.
    pub asset_id: Option<i64>,
    /// One-off contributions, fine units.
    pub one_off: Option<String>,
}

/// A tier a patron streams to.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Membership {
    /// The pledge.
    pub pledge_id: i64,
    /// The tier.
    pub tier_id: i64,
    /// Its title.
    pub title: String,
    /// The asset.
    pub asset_id: i64,
    /// Price per 30 days, base units.
    pub monthly_units: i64,
}

/// An operation's receipt as the mirror keeps it.
#[derive(Debug, Clone, FromRow)]
pub struct ReceiptRow {
    /// The level that applied or refused it.
    pub level: i64,
    /// Its position among the level's receipts.
    pub idx: i64,
    /// The operation's hash, hex.
    pub hash: String,
    /// The signer's address.
    pub signer: String,
    /// The nonce it was signed at.
    pub nonce: i64,
    /// Whether it applied.
    pub applied: bool,
    /// Why it failed, in words.
    pub reason: Option<String>,
    /// The ids of what it created, a JSON object.
    pub created: Option<String>,
}
