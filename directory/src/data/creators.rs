//! Creators: the list and its search, the home page's lists, a creator's
//! page, and the membership check creators' sites ask.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    blank_is_none, check_account, check_address, check_limit, totals, Context, Totals,
    BALANCE_COLS, MOVEMENT_COLS, PLEDGE_COLS, SUMMARY_COLS,
};
use crate::store::{
    AssetSum, Balance, Creator, CreatorSummary, Day, HolderIncome, Membership, Movement, Param,
    Pledge, Store, Tier,
};
use crate::Error;

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
    let after = query.after.as_deref().map(parse_cursor).transpose()?;
    let pattern = like_pattern(q);
    let mut creators = match sort {
        Sort::Patrons => by_active_patrons(store, asset, pattern, after, limit + 1).await?,
        Sort::Income => by_income(store, asset, pattern, after, limit + 1).await?,
    };
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

/// Up to `rows` creators whose name matches `pattern`, most active patrons
/// first, after the cursor `after`.
async fn by_active_patrons(
    store: &Store,
    asset: i64,
    pattern: String,
    after: Option<(i64, String)>,
    rows: i64,
) -> Result<Vec<CreatorSummary>, Error> {
    let mut params = vec![Param::Int(asset), Param::Text(pattern)];
    let mut sql = format!("{SUMMARY_COLS} WHERE c.name_lower LIKE $2 ESCAPE '\\'");
    if let Some((value, address)) = after {
        sql.push_str(" AND (c.active_patrons < $3 OR (c.active_patrons = $3 AND c.address > $4))");
        params.push(Param::Int(value));
        params.push(Param::Text(address));
    }
    sql.push_str(&format!(
        " ORDER BY c.active_patrons DESC, c.address LIMIT ${}",
        params.len() + 1
    ));
    params.push(Param::Int(rows));
    store.all(&sql, &params).await
}

/// Creators earning in asset `$1` whose name matches `$2`, read from the
/// balances by the `balances_income` index (asset, income descending,
/// holder), so a page costs its own rows, not a sort of every creator.
const EARNING_CREATORS: &str = "SELECT c.address, c.name, c.description, c.paused, c.patrons, \
     c.active_patrons, c.created_level, CAST(b.monthly_in_units AS BIGINT) AS income \
     FROM balances b JOIN creators c ON c.address = b.holder \
     WHERE b.asset_id = $1 AND b.monthly_in_units > 0 AND c.name_lower LIKE $2 ESCAPE '\\'";

/// After the cursor (`$3` income, `$4` address) in the income order. The
/// first bound lets the index seek to the cursor instead of scanning
/// every earner before it.
const EARNING_AFTER: &str = " AND b.monthly_in_units <= $3 \
     AND (b.monthly_in_units < $3 OR b.holder > $4)";

/// Creators without income in asset `$1` whose name matches `$2`, by
/// address (the creators' primary key).
const IDLE_CREATORS: &str = "SELECT c.address, c.name, c.description, c.paused, c.patrons, \
     c.active_patrons, c.created_level, CAST(0 AS BIGINT) AS income FROM creators c \
     WHERE c.name_lower LIKE $2 ESCAPE '\\' AND NOT EXISTS (SELECT 1 FROM balances b \
     WHERE b.holder = c.address AND b.asset_id = $1 AND b.monthly_in_units > 0)";

/// Up to `rows` creators whose name matches `pattern`, highest monthly
/// income in `asset` first, then by address, after the cursor `after`:
/// those earning in the asset in the index's order, then those earning
/// nothing in it by address, so paging visits every creator once.
async fn by_income(
    store: &Store,
    asset: i64,
    pattern: String,
    after: Option<(i64, String)>,
    rows: i64,
) -> Result<Vec<CreatorSummary>, Error> {
    let base = [Param::Int(asset), Param::Text(pattern)];
    let (mut found, idle_after): (Vec<CreatorSummary>, Option<String>) = match after {
        // Income is never negative: nothing comes after such a cursor.
        Some((income, _)) if income < 0 => return Ok(Vec::new()),
        Some((0, address)) => (Vec::new(), Some(address)),
        Some((income, address)) => {
            let mut params = base.to_vec();
            params.extend([Param::Int(income), Param::Text(address), Param::Int(rows)]);
            let sql = format!(
                "{EARNING_CREATORS}{EARNING_AFTER} \
                 ORDER BY b.monthly_in_units DESC, b.holder LIMIT $5"
            );
            (store.all(&sql, &params).await?, None)
        }
        None => {
            let mut params = base.to_vec();
            params.push(Param::Int(rows));
            let sql =
                format!("{EARNING_CREATORS} ORDER BY b.monthly_in_units DESC, b.holder LIMIT $3");
            (store.all(&sql, &params).await?, None)
        }
    };
    let missing = rows - i64::try_from(found.len()).unwrap_or(rows);
    if missing <= 0 {
        return Ok(found);
    }
    let mut params = base.to_vec();
    let sql = match idle_after {
        Some(address) => {
            params.extend([Param::Text(address), Param::Int(missing)]);
            format!("{IDLE_CREATORS} AND c.address > $3 ORDER BY c.address LIMIT $4")
        }
        None => {
            params.push(Param::Int(missing));
            format!("{IDLE_CREATORS} ORDER BY c.address LIMIT $3")
        }
    };
    found.extend(store.all::<CreatorSummary>(&sql, &params).await?);
    Ok(found)
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
    check_account(address)?;
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
