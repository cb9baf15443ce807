//! What the pages and the API show, read from the mirror: one function per
//! view, and the validated filters visitors give.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::format::Assets;
use super::store::{
    AssetRow, AssetSum, Balance, Count, Creator, CreatorPledge, CreatorSummary, Day, Funder, Head,
    HolderIncome, Identity, Invoice, Membership, Meta, Movement, Param, Pledge, Project,
    ReceiptRow, Store, StreamRow, Ticket, Tier,
};
use super::Error;

/// Most rows one page or API answer lists.
pub const MAX_LIMIT: u32 = 100;
/// Rows listed when the visitor does not say.
pub const DEFAULT_LIMIT: u32 = 25;
/// The ledger's movement kinds.
pub const KINDS: [&str; 8] = [
    "deposit",
    "withdrawal",
    "transfer",
    "tip",
    "stream",
    "payout",
    "fund",
    "refund",
];

/// What every view needs: the assets' units and the mirror's head.
#[derive(Debug, Clone)]
pub struct Context {
    /// Symbols and decimals.
    pub assets: Assets,
    /// The last level applied, if any.
    pub head: Option<Head>,
    /// The rollup and kernel followed, as every page's footer states them.
    pub identity: Identity,
}

impl Context {
    /// Reads the assets, the head, and the rollup and kernel followed.
    pub async fn load(store: &Store) -> Result<Context, Error> {
        let rows: Vec<AssetRow> = store
            .all(
                "SELECT asset_id, ticketer, CAST(token_id AS TEXT) AS token_id, metadata, \
                 supply_units FROM assets ORDER BY asset_id",
                &[],
            )
            .await?;
        let head: Option<Head> = store
            .one(
                "SELECT c.level, c.block_hash, l.level_time, l.state_hash FROM indexer_cursor c \
                 LEFT JOIN levels l ON l.level = c.level",
                &[],
            )
            .await?;
        let identity: Option<Identity> = store
            .one(
                "SELECT (SELECT value FROM indexer_meta WHERE name = 'rollup') AS rollup, \
                 (SELECT value FROM indexer_meta WHERE name = 'kernel_hash') AS kernel_hash",
                &[],
            )
            .await?;
        Ok(Context {
            assets: Assets::new(&rows),
            head,
            identity: identity.unwrap_or_default(),
        })
    }

    /// The rollup's clock at the head (0 before any level).
    pub fn now(&self) -> i64 {
        self.head.as_ref().and_then(|h| h.level_time).unwrap_or(0)
    }

    /// The day (since 1970-01-01, UTC) of the rollup's clock at the head.
    pub fn today(&self) -> i64 {
        self.now()
            .div_euclid(i64::try_from(pledgeroll_contracts::units::DAY).unwrap_or(i64::MAX))
    }
}

/// Checks an address given in a path or query: letters, digits and `-`,
/// at most 64 characters.
/// Refuses anything but a tz1, tz2 or tz3 address.
pub fn check_account(text: &str) -> Result<(), Error> {
    match text.parse::<pledgeroll_contracts::Address>() {
        Ok(_) => Ok(()),
        Err(_) => Err(Error::BadRequest(format!(
            "invalid address {:?}: expected a tz1, tz2 or tz3 address",
            text.chars().take(70).collect::<String>()
        ))),
    }
}

/// Refuses anything that cannot be an address or `project-N`.
pub fn check_address(text: &str) -> Result<(), Error> {
    if !text.is_empty()
        && text.len() <= 64
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "invalid address {:?}: expected tz1…, tz2…, tz3… or project-N",
            text.chars().take(70).collect::<String>()
        )))
    }
}

fn check_limit(limit: Option<u32>) -> Result<i64, Error> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(i64::from(n)),
        n => Err(Error::BadRequest(format!(
            "limit {n} is out of range: give 1 to {MAX_LIMIT}"
        ))),
    }
}

/// Reads an optional number from a query string, where a form's empty
/// field (`asset=`) means none given.
fn blank_is_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let text: Option<String> = Option::deserialize(d)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("{t:?} is not a number: {e}"))),
    }
}

/// The whole rollup at a glance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Totals {
    /// Creators with a profile.
    pub creators: i64,
    /// Accounts with at least one active pledge.
    pub patrons: i64,
    /// Active pledges per 30 days, per asset, base units.
    pub monthly_flow: Vec<AssetSum>,
    /// Funds held in project escrows now, per asset, base units.
    pub escrowed: Vec<AssetSum>,
    /// The level these figures are at.
    pub level: Option<i64>,
}

/// Reads the totals.
pub async fn totals(store: &Store, ctx: &Context) -> Result<Totals, Error> {
    let creators: Option<Count> = store.one("SELECT COUNT(*) AS n FROM creators", &[]).await?;
    let patrons: Option<Count> = store
        .one(
            "SELECT COUNT(DISTINCT patron) AS n FROM pledges WHERE status = 'active'",
            &[],
        )
        .await?;
    let monthly_flow: Vec<AssetSum> = store
        .all(
            "SELECT asset_id, CAST(COALESCE(SUM(monthly_units), 0) AS BIGINT) AS units \
             FROM pledges WHERE status = 'active' GROUP BY asset_id ORDER BY asset_id",
            &[],
        )
        .await?;
    let escrows: Vec<Balance> = store
        .all(
            &format!("{BALANCE_COLS} WHERE project_id IS NOT NULL ORDER BY asset_id"),
            &[],
        )
        .await?;
    let mut escrowed: BTreeMap<i64, u128> = BTreeMap::new();
    for b in &escrows {
        *escrowed.entry(b.asset_id).or_default() += b.fine_at(ctx.now());
    }
    Ok(Totals {
        creators: creators.map_or(0, |c| c.n),
        patrons: patrons.map_or(0, |c| c.n),
        monthly_flow,
        escrowed: escrowed
            .into_iter()
            .map(|(asset_id, fine)| AssetSum {
                asset_id,
                units: i64::try_from(fine / pledgeroll_contracts::FINE_PER_UNIT)
                    .unwrap_or(i64::MAX),
            })
            .collect(),
        level: ctx.head.as_ref().map(|h| h.level),
    })
}

const BALANCE_COLS: &str = "SELECT holder, asset_id, CAST(settled AS TEXT) AS settled, at, \
     CAST(inflow AS TEXT) AS inflow, CAST(outflow AS TEXT) AS outflow, inflow_paused, \
     depletion_scheduled, monthly_in_units, monthly_out_units FROM balances";

const SUMMARY_COLS: &str = "SELECT c.address, c.name, c.description, c.paused, c.patrons, \
     c.active_patrons, c.created_level, CAST(COALESCE(b.monthly_in_units, 0) AS BIGINT) AS income \
     FROM creators c LEFT JOIN balances b ON b.holder = c.address AND b.asset_id = $1";

pub(crate) const MOVEMENT_COLS: &str =
    "SELECT level, idx, happened_at, kind, from_holder, to_holder, \
     asset_id, units, pledge_id, project_id, memo FROM ledger";

pub(crate) const PLEDGE_COLS: &str = "SELECT pledge_id, patron, payee, tier_id, asset_id, \
     CAST(amount_per_period AS TEXT) AS amount_per_period, period, monthly_units, status, \
     reason, created_at FROM pledges";

/// How the creators list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Most active patrons first.
    Patrons,
    /// Highest monthly income in the chosen asset first.
    Income,
}

/// The creators list's query string, as given.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CreatorsQuery {
    /// Text the name contains (case-insensitive).
    pub q: Option<String>,
    /// `patrons` (default) or `income`.
    pub sort: Option<Sort>,
    /// The asset income is shown and sorted in (default 0).
    #[serde(default, deserialize_with = "blank_is_none")]
    pub asset: Option<i64>,
    /// The cursor of the previous page's last creator.
    pub after: Option<String>,
    /// Creators per page, 1 to 100.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A page of creators.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatorsPage {
    /// The creators.
    pub creators: Vec<CreatorSummary>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

fn like_pattern(q: &str) -> String {
    let mut out = String::from("%");
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn parse_cursor(text: &str) -> Result<(i64, String), Error> {
    let bad = || {
        Error::BadRequest(format!(
            "invalid cursor {:?}: use the `next` value of the previous page",
            text.chars().take(70).collect::<String>()
        ))
    };
    let (value, address) = text.split_once('.').ok_or_else(bad)?;
    let value: i64 = value.parse().map_err(|_| bad())?;
    check_address(address).map_err(|_| bad())?;
    Ok((value, address.to_owned()))
}

/// A page of creators matching `query`, cursor-paginated.
pub async fn creators(store: &Store, query: &CreatorsQuery) -> Result<CreatorsPage, Error> {
    let limit = check_limit(query.limit)?;
    let q = query.q.as_deref().unwrap_or("").trim();
    if q.chars().count() > 64 {
        return Err(Error::BadRequest(
            "search text is too long: give at most 64 characters".to_owned(),
        ));
    }
    let asset = query.asset.unwrap_or(0);
    if asset < 0 {
        return Err(Error::BadRequest(format!(
            "invalid asset {asset}: asset numbers start at 0"
        )));
    }
    let sort = query.sort.unwrap_or(Sort::Patrons);
    let key = match sort {
        Sort::Patrons => "c.active_patrons",
        Sort::Income => "COALESCE(b.monthly_in_units, 0)",
    };
    let mut params = vec![Param::Int(asset), Param::Text(like_pattern(q))];
    let mut sql = format!("{SUMMARY_COLS} WHERE c.name_lower LIKE $2 ESCAPE '\\'");
    if let Some(after) = &query.after {
        let (value, address) = parse_cursor(after)?;
        sql.push_str(&format!(
            " AND ({key} < $3 OR ({key} = $3 AND c.address > $4))"
        ));
        params.push(Param::Int(value));
        params.push(Param::Text(address));
    }
    sql.push_str(&format!(
        " ORDER BY {key} DESC, c.address LIMIT ${}",
        params.len() + 1
    ));
    params.push(Param::Int(limit + 1));
    let mut creators: Vec<CreatorSummary> = store.all(&sql, &params).await?;
    add_incomes(store, &mut creators).await?;
    let next = if creators.len() > usize::try_from(limit).unwrap_or(usize::MAX) {
        creators.truncate(usize::try_from(limit).unwrap_or(0));
        creators.last().map(|c| {
            let value = match sort {
                Sort::Patrons => c.active_patrons,
                Sort::Income => c.income,
            };
            format!("{value}.{}", c.address)
        })
    } else {
        None
    };
    Ok(CreatorsPage { creators, next })
}

/// Fills in each creator's monthly income in every asset, in one query.
async fn add_incomes(store: &Store, creators: &mut [CreatorSummary]) -> Result<(), Error> {
    if creators.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (1..=creators.len()).map(|i| format!("${i}")).collect();
    let params: Vec<Param> = creators
        .iter()
        .map(|c| Param::Text(c.address.clone()))
        .collect();
    let incomes: Vec<HolderIncome> = store
        .all(
            &format!(
                "SELECT holder, asset_id, CAST(monthly_in_units AS BIGINT) AS units FROM balances \
                 WHERE monthly_in_units > 0 AND holder IN ({}) ORDER BY asset_id",
                placeholders.join(", ")
            ),
            &params,
        )
        .await?;
    for c in creators.iter_mut() {
        c.monthly_income = incomes
            .iter()
            .filter(|i| i.holder == c.address)
            .map(|i| AssetSum {
                asset_id: i.asset_id,
                units: i.units,
            })
            .collect();
    }
    Ok(())
}

/// The home page's lists.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Home {
    /// The totals.
    pub totals: Totals,
    /// The newest creators.
    pub newest: Vec<CreatorSummary>,
    /// The creators with the most active patrons.
    pub most_supported: Vec<CreatorSummary>,
    /// The latest movements.
    pub recent: Vec<Movement>,
}

/// Reads the home page.
pub async fn home(store: &Store, ctx: &Context) -> Result<Home, Error> {
    let totals = totals(store, ctx).await?;
    let mut newest = store
        .all(
            &format!("{SUMMARY_COLS} ORDER BY c.created_level DESC, c.address LIMIT 5"),
            &[Param::Int(0)],
        )
        .await?;
    let mut most_supported = store
        .all(
            &format!("{SUMMARY_COLS} ORDER BY c.active_patrons DESC, c.address LIMIT 5"),
            &[Param::Int(0)],
        )
        .await?;
    add_incomes(store, &mut newest).await?;
    add_incomes(store, &mut most_supported).await?;
    let recent = store
        .all(
            &format!("{MOVEMENT_COLS} ORDER BY level DESC, idx DESC LIMIT 10"),
            &[],
        )
        .await?;
    Ok(Home {
        totals,
        newest,
        most_supported,
        recent,
    })
}

/// A creator's page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatorView {
    /// The profile.
    pub creator: Creator,
    /// Its tiers, oldest first.
    pub tiers: Vec<Tier>,
    /// Its balances (monthly income per asset).
    pub balances: Vec<Balance>,
    /// Monthly income day by day, per asset, over the last year of
    /// activity.
    pub days: Vec<Day>,
    /// The latest pledges to it.
    pub pledges: Vec<Pledge>,
    /// The latest tips to it.
    pub tips: Vec<Movement>,
}

/// A creator's profile and counts alone, if `address` is a creator.
pub async fn creator_profile(store: &Store, address: &str) -> Result<Option<Creator>, Error> {
    check_address(address)?;
    store
        .one::<Creator>(
            "SELECT address, name, description, links, paused, patrons, active_patrons, \
             created_level FROM creators WHERE address = $1",
            &[Param::Text(address.to_owned())],
        )
        .await
}

/// Reads a creator's page; `None` if `address` has no profile.
pub async fn creator(store: &Store, address: &str) -> Result<Option<CreatorView>, Error> {
    let Some(creator) = creator_profile(store, address).await? else {
        return Ok(None);
    };
    let who = [Param::Text(address.to_owned())];
    let tiers = store
        .all(
            "SELECT tier_id, creator, title, perks, asset_id, \
             CAST(amount_per_period AS TEXT) AS amount_per_period, period, monthly_units, \
             patron_limit, patrons, active_patrons, retired FROM tiers WHERE creator = $1 \
             ORDER BY tier_id",
            &who,
        )
        .await?;
    let balances = store
        .all(
            &format!("{BALANCE_COLS} WHERE holder = $1 ORDER BY asset_id"),
            &who,
        )
        .await?;
    let days = store
        .all(
            "SELECT day, asset_id, monthly_in_units, income_units FROM daily_stats \
             WHERE holder = $1 \
             AND day >= (SELECT MAX(day) FROM daily_stats WHERE holder = $1) - 365 \
             ORDER BY asset_id, day",
            &who,
        )
        .await?;
    let pledges = store
        .all(
            &format!("{PLEDGE_COLS} WHERE payee = $1 ORDER BY pledge_id DESC LIMIT 20"),
            &who,
        )
        .await?;
    let tips = store
        .all(
            &format!(
                "{MOVEMENT_COLS} WHERE to_holder = $1 AND kind = 'tip' \
                 ORDER BY level DESC, idx DESC LIMIT 20"
            ),
            &who,
        )
        .await?;
    Ok(Some(CreatorView {
        creator,
        tiers,
        balances,
        days,
        pledges,
        tips,
    }))
}

/// How long a patron's balance in one asset lasts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Runway {
    /// The asset.
    pub asset_id: i64,
    /// The balance now, base units.
    pub balance_units: u128,
    /// Pledged per 30 days, base units.
    pub monthly_out_units: i64,
    /// When it runs out, if it drains.
    pub runs_out_at: Option<i64>,
}

/// A patron's page: any address.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatronView {
    /// The address.
    pub address: String,
    /// Its pledges, newest first.
    pub pledges: Vec<Pledge>,
    /// Its runway per asset.
    pub runway: Vec<Runway>,
    /// What each of its pledges has paid so far.
    pub paid: Vec<PledgePaid>,
    /// Its latest movements, either side.
    pub history: Vec<Movement>,
}

/// What a pledge has paid its payee so far.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PledgePaid {
    /// The pledge.
    pub pledge_id: i64,
    /// The asset.
    pub asset_id: i64,
    /// Base units paid up to the rollup's current time.
    pub paid_units: String,
}

/// Reads a patron's page.
pub async fn patron(store: &Store, ctx: &Context, address: &str) -> Result<PatronView, Error> {
    check_address(address)?;
    let who = [Param::Text(address.to_owned())];
    let pledges = store
        .all(
            &format!("{PLEDGE_COLS} WHERE patron = $1 ORDER BY pledge_id DESC LIMIT 200"),
            &who,
        )
        .await?;
    let balances: Vec<Balance> = store
        .all(
            &format!("{BALANCE_COLS} WHERE holder = $1 ORDER BY asset_id"),
            &who,
        )
        .await?;
    // Pledges to paused creators stream nothing while paused: the balance
    // and runway shown are the protocol's current ones, not the stored
    // flow's, which still counts them.
    let to_creators: Vec<CreatorPledge> = store
        .all(
            "SELECT p.asset_id, CAST(p.rate AS TEXT) AS rate, p.pause_clock, c.paused_seconds, \
             c.paused_since FROM pledges p JOIN creators c ON c.address = p.payee \
             WHERE p.patron = $1 AND p.status = 'active' AND (c.paused OR c.paused_seconds > 0)",
            &who,
        )
        .await?;
    let runway = balances
        .iter()
        .map(|b| {
            let paused: Vec<_> = to_creators
                .iter()
                .filter(|p| p.asset_id == b.asset_id)
                .filter_map(|p| p.paused_stream(ctx.now()))
                .collect();
            let flow = b.current(ctx.now(), &paused);
            Runway {
                asset_id: b.asset_id,
                balance_units: flow.settled / pledgeroll_contracts::FINE_PER_UNIT,
                monthly_out_units: i64::try_from(pledgeroll_contracts::stream::per_month(
                    flow.outflow,
                ))
                .unwrap_or(i64::MAX),
                runs_out_at: flow.depletion_time().and_then(|t| i64::try_from(t).ok()),
            }
        })
        .collect();
    let streams: Vec<StreamRow> = store
        .all(
            "SELECT p.pledge_id, p.asset_id, p.status, CAST(p.streamed AS TEXT) AS streamed, \
             p.since, CAST(p.rate AS TEXT) AS rate, p.pause_clock, c.paused_seconds, \
             c.paused_since FROM pledges p LEFT JOIN creators c ON c.address = p.payee \
             WHERE p.patron = $1 ORDER BY p.pledge_id DESC LIMIT 200",
            &who,
        )
        .await?;
    let paid = streams
        .iter()
        .filter_map(|r| {
            Some(PledgePaid {
                pledge_id: r.pledge_id,
                asset_id: r.asset_id,
                paid_units: (r.paid(ctx.now())? / pledgeroll_contracts::FINE_PER_UNIT).to_string(),
            })
        })
        .collect();
    let history = store
        .all(
            &format!(
                "{MOVEMENT_COLS} WHERE from_holder = $1 OR to_holder = $1 \
                 ORDER BY level DESC, idx DESC LIMIT 50"
            ),
            &who,
        )
        .await?;
    Ok(PatronView {
        address: address.to_owned(),
        pledges,
        runway,
        paid,
        history,
    })
}

/// A project with its escrow balances.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectSummary {
    /// The project.
    pub project: Project,
    /// Funds held now per asset, base units.
    pub escrow: Vec<AssetSum>,
}

const PROJECT_COLS: &str = "SELECT project_id, creator, title, description, link, commissioners, \
     threshold, mode, patron, paid_any, time_lock, refund_deadline, status, tickets, invoices \
     FROM projects";

async fn escrow(store: &Store, ctx: &Context, id: i64) -> Result<Vec<AssetSum>, Error> {
    let balances: Vec<Balance> = store
        .all(
            &format!("{BALANCE_COLS} WHERE project_id = $1 ORDER BY asset_id"),
            &[Param::Int(id)],
        )
        .await?;
    Ok(balances
        .iter()
        .map(|b| AssetSum {
            asset_id: b.asset_id,
            units: i64::try_from(b.fine_at(ctx.now()) / pledgeroll_contracts::FINE_PER_UNIT)
                .unwrap_or(i64::MAX),
        })
        .collect())
}

/// The projects list's query string, as given.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProjectsQuery {
    /// The previous page's `next`: list projects older than this one.
    #[serde(default, deserialize_with = "blank_is_none")]
    pub before: Option<i64>,
    /// Projects per page, 1 to 100.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A page of projects, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectsPage {
    /// The projects.
    pub projects: Vec<ProjectSummary>,
    /// The cursor of the next (older) page, if there is one.
    pub next: Option<i64>,
}

/// A page of projects, newest first, cursor-paginated.
pub async fn projects(
    store: &Store,
    ctx: &Context,
    query: &ProjectsQuery,
) -> Result<ProjectsPage, Error> {
    let limit = check_limit(query.limit)?;
    let (sql, params) = match query.before {
        Some(before) => (
            format!("{PROJECT_COLS} WHERE project_id < $1 ORDER BY project_id DESC LIMIT $2"),
            vec![Param::Int(before), Param::Int(limit + 1)],
        ),
        None => (
            format!("{PROJECT_COLS} ORDER BY project_id DESC LIMIT $1"),
            vec![Param::Int(limit + 1)],
        ),
    };
    let mut projects: Vec<Project> = store.all(&sql, &params).await?;
    let next = if projects.len() > usize::try_from(limit).unwrap_or(usize::MAX) {
        projects.truncate(usize::try_from(limit).unwrap_or(0));
        projects.last().map(|p| p.project_id)
    } else {
        None
    };
    let mut out = Vec::with_capacity(projects.len());
    for project in projects {
        let escrow = escrow(store, ctx, project.project_id).await?;
        out.push(ProjectSummary { project, escrow });
    }
    Ok(ProjectsPage {
        projects: out,
        next,
    })
}

/// A project's page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectView {
    /// The project.
    pub project: Project,
    /// Funds held now per asset, base units.
    pub escrow: Vec<AssetSum>,
    /// Its tickets.
    pub tickets: Vec<Ticket>,
    /// Its invoices, newest first.
    pub invoices: Vec<Invoice>,
    /// Its funders and their one-off contributions.
    pub funders: Vec<Funder>,
}

/// Reads a project's page; `None` if there is no such project.
pub async fn project(store: &Store, ctx: &Context, id: i64) -> Result<Option<ProjectView>, Error> {
    let key = [Param::Int(id)];
    let Some(project) = store
        .one::<Project>(&format!("{PROJECT_COLS} WHERE project_id = $1"), &key)
        .await?
    else {
        return Ok(None);
    };
    let tickets = store
        .all(
            "SELECT ticket_no, title, url, budget_asset_id, \
             CAST(budget_amount AS TEXT) AS budget_amount, opened_by, closed FROM tickets \
             WHERE project_id = $1 ORDER BY ticket_no",
            &key,
        )
        .await?;
    let invoices = store
        .all(
            "SELECT invoice_no, ticket_no, raised_by, beneficiary, asset_id, \
             CAST(amount AS TEXT) AS amount, approvals, vetoes, raised_at, unlocks_at, status, \
             settled_at FROM invoices WHERE project_id = $1 ORDER BY invoice_no DESC",
            &key,
        )
        .await?;
    let funders = store
        .all(
            "SELECT f.funder, f.reclaimed, a.asset_id, CAST(a.one_off AS TEXT) AS one_off \
             FROM funders f LEFT JOIN funder_assets a \
             ON a.project_id = f.project_id AND a.funder = f.funder \
             WHERE f.project_id = $1 ORDER BY f.funder, a.asset_id",
            &key,
        )
        .await?;
    Ok(Some(ProjectView {
        escrow: escrow(store, ctx, id).await?,
        project,
        tickets,
        invoices,
        funders,
    }))
}

/// The ledger's query string, as given.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// Movements from or to this holder.
    pub account: Option<String>,
    /// Movements in this asset.
    #[serde(default, deserialize_with = "blank_is_none")]
    pub asset: Option<i64>,
    /// Movements of this kind.
    pub kind: Option<String>,
    /// The cursor of the previous page's last movement (`level.idx`).
    pub before: Option<String>,
    /// Movements per page, 1 to 100.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A page of the ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerPage {
    /// The movements, newest first.
    pub movements: Vec<Movement>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

/// Reads the movements matching `query`, newest first; `limit` overrides
/// the query's (for exports).
pub async fn ledger(
    store: &Store,
    query: &LedgerQuery,
    limit: Option<i64>,
) -> Result<LedgerPage, Error> {
    let limit = match limit {
        Some(n) => n,
        None => check_limit(query.limit)?,
    };
    let mut params = Vec::new();
    let mut clauses = Vec::new();
    if let Some(account) = query.account.as_deref().filter(|a| !a.is_empty()) {
        check_address(account)?;
        params.push(Param::Text(account.to_owned()));
        let n = params.len();
        clauses.push(format!("(from_holder = ${n} OR to_holder = ${n})"));
    }
    if let Some(asset) = query.asset {
        if asset < 0 {
            return Err(Error::BadRequest(format!(
                "invalid asset {asset}: asset numbers start at 0"
            )));
        }
        params.push(Param::Int(asset));
        clauses.push(format!("asset_id = ${}", params.len()));
    }
    if let Some(kind) = query.kind.as_deref().filter(|k| !k.is_empty()) {
        if !KINDS.contains(&kind) {
            return Err(Error::BadRequest(format!(
                "unknown kind {:?}: use one of {}",
                kind.chars().take(30).collect::<String>(),
                KINDS.join(", ")
            )));
        }
        params.push(Param::Text(kind.to_owned()));
        clauses.push(format!("kind = ${}", params.len()));
    }
    if let Some(before) = query.before.as_deref().filter(|b| !b.is_empty()) {
        let bad = || {
            Error::BadRequest(format!(
                "invalid cursor {:?}: use the `next` value of the previous page",
                before.chars().take(40).collect::<String>()
            ))
        };
        let (level, idx) = before.split_once('.').ok_or_else(bad)?;
        let level: i64 = level.parse().map_err(|_| bad())?;
        let idx: i64 = idx.parse().map_err(|_| bad())?;
        params.push(Param::Int(level));
        let l = params.len();
        params.push(Param::Int(idx));
        let i = params.len();
        clauses.push(format!("(level < ${l} OR (level = ${l} AND idx < ${i}))"));
    }
    let mut sql = MOVEMENT_COLS.to_owned();
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    params.push(Param::Int(limit + 1));
    sql.push_str(&format!(
        " ORDER BY level DESC, idx DESC LIMIT ${}",
        params.len()
    ));
    let mut movements: Vec<Movement> = store.all(&sql, &params).await?;
    let limit = usize::try_from(limit).unwrap_or(0);
    let next = if movements.len() > limit {
        movements.truncate(limit);
        movements.last().map(|m| format!("{}.{}", m.level, m.idx))
    } else {
        None
    };
    Ok(LedgerPage { movements, next })
}

/// Whether a patron supports a creator now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipAnswer {
    /// The creator.
    pub creator: String,
    /// The patron.
    pub patron: String,
    /// Whether a pledge from the patron to one of the creator's tiers is
    /// streaming now.
    pub active: bool,
    /// The highest-priced tier streaming, if any.
    pub tier: Option<Membership>,
    /// Given `min_tier`: whether a tier streaming now is in its asset and
    /// priced at least as high.
    pub at_least: Option<bool>,
}

/// The membership check's query string.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembershipQuery {
    /// One of the creator's tiers: also answer whether the patron streams
    /// to a tier in its asset priced at least as high.
    pub min_tier: Option<i64>,
}

/// Answers whether `patron` actively supports `creator`, at which tier,
/// and, given `min_tier`, whether at that tier or a pricier one in the
/// same asset.
pub async fn membership(
    store: &Store,
    creator: &str,
    patron: &str,
    query: &MembershipQuery,
) -> Result<MembershipAnswer, Error> {
    check_account(creator)?;
    check_account(patron)?;
    let who = [
        Param::Text(patron.to_owned()),
        Param::Text(creator.to_owned()),
    ];
    let tier: Option<Membership> = store
        .one(
            &format!("{MEMBERSHIP_COLS} ORDER BY t.monthly_units DESC, t.tier_id LIMIT 1"),
            &who,
        )
        .await?;
    let at_least = match query.min_tier {
        None => None,
        Some(min) => {
            let floor: Option<Membership> = store
                .one(
                    "SELECT CAST(0 AS BIGINT) AS pledge_id, tier_id, title, asset_id, monthly_units \
                     FROM tiers \
                     WHERE tier_id = $1 AND creator = $2",
                    &[Param::Int(min), Param::Text(creator.to_owned())],
                )
                .await?;
            let Some(floor) = floor else {
                return Err(Error::BadRequest(format!(
                    "min_tier {min} is not one of this creator's tiers"
                )));
            };
            let meets: Option<Membership> = store
                .one(
                    &format!(
                        "{MEMBERSHIP_COLS} AND t.asset_id = $3 AND t.monthly_units >= $4 LIMIT 1"
                    ),
                    &[
                        Param::Text(patron.to_owned()),
                        Param::Text(creator.to_owned()),
                        Param::Int(floor.asset_id),
                        Param::Int(floor.monthly_units),
                    ],
                )
                .await?;
            Some(meets.is_some())
        }
    };
    Ok(MembershipAnswer {
        creator: creator.to_owned(),
        patron: patron.to_owned(),
        active: tier.is_some(),
        tier,
        at_least,
    })
}

const MEMBERSHIP_COLS: &str = "SELECT p.pledge_id, t.tier_id, t.title, t.asset_id, \
     t.monthly_units FROM pledges p JOIN tiers t ON t.tier_id = p.tier_id \
     WHERE p.patron = $1 AND p.payee = $2 AND t.creator = $2 AND p.status = 'active'";

/// What the directory knows about the rollup it mirrors.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct About {
    /// The rollup's address, once the indexer recorded it.
    pub rollup: Option<String>,
    /// The kernel's hash, if the mirror records it.
    pub kernel_hash: Option<String>,
    /// The last level indexed and its state hash.
    pub head: Option<Head>,
    /// Seconds between the head's rollup time and now.
    pub lag_seconds: Option<i64>,
}

async fn meta(store: &Store, name: &str) -> Result<Option<String>, Error> {
    let row: Option<Meta> = store
        .one(
            "SELECT value FROM indexer_meta WHERE name = $1",
            &[Param::Text(name.to_owned())],
        )
        .await?;
    Ok(row.map(|m| m.value))
}

/// Reads what is known about the rollup.
pub async fn about(store: &Store, ctx: &Context) -> Result<About, Error> {
    let rollup = meta(store, "rollup").await?;
    let kernel_hash = meta(store, "kernel_hash").await?;
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let lag_seconds = ctx
        .head
        .as_ref()
        .and_then(|h| h.level_time)
        .map(|t| wall.saturating_sub(t).max(0));
    Ok(About {
        rollup,
        kernel_hash,
        head: ctx.head.clone(),
        lag_seconds,
    })
}

/// An operation's receipt: whether the rollup applied it, why not, and
/// what it created.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperationReceipt {
    /// The operation's hash (its receipt id), hex.
    pub hash: String,
    /// The level that applied or refused it.
    pub level: i64,
    /// Its position among the level's receipts.
    pub index: i64,
    /// The signer's address.
    pub signer: String,
    /// The nonce it was signed at.
    pub nonce: i64,
    /// `applied` or `failed`.
    pub outcome: String,
    /// Why it failed, in words.
    pub reason: Option<String>,
    /// The ids of what it created (`{"tier": 7}`, `{"project": 2, "ticket": 4}`).
    #[schema(value_type = Option<Object>)]
    pub created: Option<serde_json::Value>,
}

/// The receipt of the operation whose hash is `hash` (64 hex digits), once
/// the mirror holds its level; `None` before.
pub async fn operation(store: &Store, hash: &str) -> Result<Option<OperationReceipt>, Error> {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::BadRequest(format!(
            "invalid operation hash {:?}: expected 64 hex digits",
            hash.chars().take(70).collect::<String>()
        )));
    }
    let row: Option<ReceiptRow> = store
        .one(
            "SELECT level, idx, hash, signer, nonce, applied, reason, created FROM receipts \
             WHERE hash = $1 ORDER BY level DESC, idx DESC LIMIT 1",
            &[Param::Text(hash.to_ascii_lowercase())],
        )
        .await?;
    Ok(row.map(|r| OperationReceipt {
        hash: r.hash,
        level: r.level,
        index: r.idx,
        signer: r.signer,
        nonce: r.nonce,
        outcome: if r.applied { "applied" } else { "failed" }.to_owned(),
        reason: r.reason,
        created: r.created.and_then(|c| serde_json::from_str(&c).ok()),
    }))
}
