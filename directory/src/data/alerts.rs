//! An account's alerts, in words: what the mirror derived for it level by
//! level (pledges to it, tips, its pledges running dry, invoices waiting on
//! it…), newest first, for its Atom feed and the JSON API. The data is
//! public, so reading an account's alerts needs no subscription.

use pledgeroll_indexer::alerts::AlertKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{check_account, check_limit, Context};
use crate::format;
use crate::store::{Param, Store};
use crate::Error;

/// An alert as the mirror stores it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct StoredAlert {
    level: i64,
    idx: i64,
    happened_at: i64,
    kind: String,
    counterparty: Option<String>,
    pledge_id: Option<i64>,
    tier_id: Option<i64>,
    project_id: Option<i64>,
    invoice_no: Option<i64>,
    asset_id: Option<i64>,
    amount: Option<String>,
    period: Option<i64>,
    reason: Option<String>,
}

/// One alert for an account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Alert {
    /// Its stable id, `{level}.{idx}`: the same on every directory of the
    /// same rollup, for de-duplication.
    pub id: String,
    /// The level it comes from.
    pub level: i64,
    /// When (Unix seconds).
    pub happened_at: i64,
    /// When, ISO 8601 UTC.
    pub time_utc: String,
    /// What happened: `pledge_started`, `tip_received`, `pledge_ran_dry`…
    pub kind: String,
    /// What happened, in words.
    pub title: String,
    /// The details, in words.
    pub text: String,
    /// The other party, if any.
    pub counterparty: Option<String>,
    /// The pledge it is about.
    pub pledge_id: Option<i64>,
    /// The tier it is about.
    pub tier_id: Option<i64>,
    /// The project it is about.
    pub project_id: Option<i64>,
    /// The invoice it is about.
    pub invoice_no: Option<i64>,
    /// The asset of `amount`.
    pub asset_id: Option<i64>,
    /// The amount, base units, as decimal text.
    pub amount: Option<String>,
    /// The directory's page about it, as a path.
    pub link: String,
}

/// The alerts query string, as given.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertsQuery {
    /// The id of the previous page's last alert (`level.idx`).
    pub before: Option<String>,
    /// Alerts per page, 1 to 100.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A page of an account's alerts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertsPage {
    /// The account.
    pub account: String,
    /// Its alerts, newest first.
    pub alerts: Vec<Alert>,
    /// The id to ask `before` for the next page, if there is one.
    pub next: Option<String>,
}

fn parse_before(text: &str) -> Result<(i64, i64), Error> {
    let bad = || {
        Error::BadRequest(format!(
            "invalid cursor {:?}: use the `next` value of the previous page",
            text.chars().take(70).collect::<String>()
        ))
    };
    let (level, idx) = text.split_once('.').ok_or_else(bad)?;
    Ok((
        level.parse().map_err(|_| bad())?,
        idx.parse().map_err(|_| bad())?,
    ))
}

/// An account's alerts matching `query`, newest first.
pub async fn alerts(
    store: &Store,
    ctx: &Context,
    account: &str,
    query: &AlertsQuery,
) -> Result<AlertsPage, Error> {
    check_account(account)?;
    let limit = check_limit(query.limit)?;
    let mut params = vec![Param::Text(account.to_owned())];
    let mut sql = String::from(
        "SELECT level, idx, happened_at, kind, counterparty, pledge_id, tier_id, project_id, \
         invoice_no, asset_id, CAST(amount AS TEXT) AS amount, period, reason \
         FROM alerts WHERE account = $1",
    );
    if let Some(before) = &query.before {
        let (level, idx) = parse_before(before)?;
        sql.push_str(" AND (level < $2 OR (level = $2 AND idx < $3))");
        params.push(Param::Int(level));
        params.push(Param::Int(idx));
    }
    sql.push_str(&format!(
        " ORDER BY level DESC, idx DESC LIMIT ${}",
        params.len() + 1
    ));
    params.push(Param::Int(limit + 1));
    let mut rows: Vec<StoredAlert> = store.all(&sql, &params).await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let alerts: Vec<Alert> = rows.iter().map(|a| in_words(ctx, account, a)).collect();
    let next = more.then(|| alerts.last().map(|a| a.id.clone())).flatten();
    Ok(AlertsPage {
        account: account.to_owned(),
        alerts,
        next,
    })
}

/// A short address for a title: `tz1abcd…wxyz`.
fn short(address: &str) -> String {
    let n = address.chars().count();
    if n <= 14 {
        return address.to_owned();
    }
    let head: String = address.chars().take(8).collect();
    let tail: String = address.chars().skip(n - 4).collect();
    format!("{head}…{tail}")
}

/// An alert in words.
fn in_words(ctx: &Context, account: &str, a: &StoredAlert) -> Alert {
    let other = a.counterparty.as_deref().unwrap_or("someone");
    let who = short(other);
    let amount = match (a.asset_id, a.amount.as_deref()) {
        (Some(asset), Some(units)) => ctx.assets.amount_text(asset, units),
        _ => String::new(),
    };
    let terms = match a.period {
        Some(p) => format!("{amount} per {}", format::period(p)),
        None => amount.clone(),
    };
    let pledge = a.pledge_id.map(|p| format!("#{p}")).unwrap_or_default();
    let project = a.project_id.map(|p| format!("#{p}")).unwrap_or_default();
    let invoice = a.invoice_no.map(|i| format!("#{i}")).unwrap_or_default();
    let reason = a
        .reason
        .as_deref()
        .map(|r| r.replace('_', " "))
        .unwrap_or_default();
    let (title, text) = match AlertKind::parse(&a.kind) {
        Some(AlertKind::PledgeStarted) => (
            format!("New pledge from {who}: {terms}"),
            format!("{other} pledged {terms} (pledge {pledge})."),
        ),
        Some(AlertKind::PledgeChanged) => (
            format!("{who} changed their pledge: now {terms}"),
            format!("{other} moved pledge {pledge} to {terms}."),
        ),
        Some(AlertKind::PledgePaused) => (
            format!("{who} paused their pledge"),
            format!("{other} paused pledge {pledge} ({terms}); it streams nothing until resumed."),
        ),
        Some(AlertKind::PledgeResumed) => (
            format!("{who} resumed their pledge"),
            format!("Pledge {pledge} from {other} streams {terms} again."),
        ),
        Some(AlertKind::PledgeEnded) => (
            format!("{who}'s pledge ended"),
            format!("Pledge {pledge} from {other} ({terms}) ended: {reason}."),
        ),
        Some(AlertKind::PatronRanDry) => (
            format!("{who}'s pledge stopped: out of funds"),
            format!(
                "Pledge {pledge} from {other} ({terms}) stopped streaming: their balance ran out."
            ),
        ),
        Some(AlertKind::PledgeRanDry) => (
            format!("Your pledge {pledge} stopped: out of funds"),
            format!(
                "Your pledge {pledge} to {other} ({terms}) stopped streaming because your balance \
                 ran out; deposit and resume it to go on."
            ),
        ),
        Some(AlertKind::PledgeCompleted) => (
            format!("Your pledge {pledge} ended"),
            format!("Your pledge {pledge} to {other} ({terms}) ended by its terms: {reason}."),
        ),
        Some(AlertKind::CreatorPaused) => (
            format!("{who} paused their subscription"),
            format!("{other} paused: your pledges to them stream nothing until they resume."),
        ),
        Some(AlertKind::CreatorResumed) => (
            format!("{who} resumed their subscription"),
            format!("{other} resumed: your pledges to them stream again."),
        ),
        Some(AlertKind::TierRetired) => (
            format!("{who} retired a tier you pay"),
            format!(
                "{other} retired tier #{}: your pledge goes on, and the tier takes no new patrons.",
                a.tier_id.unwrap_or_default()
            ),
        ),
        Some(AlertKind::TipReceived) => (
            format!("Tip from {who}: {amount}"),
            format!("{other} tipped {amount}."),
        ),
        Some(AlertKind::WithdrawalSent) => (
            format!("Withdrawal sent: {amount}"),
            format!("{amount} left for layer 1, to {other}."),
        ),
        Some(AlertKind::InvoiceRaised) => (
            format!("Invoice {invoice} raised on project {project}: {amount}"),
            format!("{other} raised invoice {invoice} of {amount} on project {project}; it needs approvals."),
        ),
        Some(AlertKind::InvoiceApproved) => (
            format!("Invoice {invoice} approved on project {project}"),
            format!("Invoice {invoice} of {amount} on project {project} gained an approval."),
        ),
        Some(AlertKind::InvoiceVetoed) => (
            format!("Invoice {invoice} vetoed on project {project}"),
            format!("Invoice {invoice} of {amount} on project {project} was vetoed: it will not pay by itself."),
        ),
        Some(AlertKind::InvoicePaid) => (
            format!("Invoice {invoice} paid: {amount}"),
            format!("Project {project} paid invoice {invoice}: {amount} to you."),
        ),
        Some(AlertKind::InvoicePaysSoon) => {
            let left = format::span(a.period.unwrap_or(0));
            (
                format!("Invoice {invoice} on project {project} pays in {left}"),
                format!(
                    "Invoice {invoice} of {amount} on project {project} pays by itself in {left} \
                     unless a commissioner vetoes it."
                ),
            )
        }
        Some(AlertKind::RefundsOpened) => (
            format!("Project {project} opened refunds"),
            format!("Project {project} opened refunds: funders may reclaim what was not paid out."),
        ),
        Some(AlertKind::RunwayLow) => {
            let asset = a.asset_id.map(|id| ctx.assets.symbol(id)).unwrap_or_default();
            let left = format::span(a.period.unwrap_or(0));
            (
                format!("Your {asset} balance runs out in {left}"),
                format!(
                    "At the rates you pledge, your {asset} balance runs out in {left}; your \
                     pledges stop streaming then unless you deposit."
                ),
            )
        }
        None => (a.kind.replace('_', " "), String::new()),
    };
    let to_creator = matches!(
        AlertKind::parse(&a.kind),
        Some(
            AlertKind::PledgeStarted
                | AlertKind::PledgeChanged
                | AlertKind::PledgePaused
                | AlertKind::PledgeResumed
                | AlertKind::PledgeEnded
                | AlertKind::PatronRanDry
                | AlertKind::TipReceived
        )
    );
    let link = match a.project_id {
        Some(p) => format!("/projects/{p}"),
        None if to_creator => format!("/creators/{account}"),
        None if a.pledge_id.is_some()
            || a.tier_id.is_some()
            || a.kind == AlertKind::RunwayLow.as_str() =>
        {
            format!("/patrons/{account}")
        }
        None => format!("/ledger?account={account}"),
    };
    Alert {
        id: format!("{}.{}", a.level, a.idx),
        level: a.level,
        happened_at: a.happened_at,
        time_utc: format::instant(a.happened_at),
        kind: a.kind.clone(),
        title,
        text,
        counterparty: a.counterparty.clone(),
        pledge_id: a.pledge_id,
        tier_id: a.tier_id,
        project_id: a.project_id,
        invoice_no: a.invoice_no,
        asset_id: a.asset_id,
        amount: a.amount.clone(),
        link,
    }
}
