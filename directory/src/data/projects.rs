//! Project escrows: the list and a project's page.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blank_is_none, check_limit, Context, BALANCE_COLS};
use crate::store::{AssetSum, Balance, Funder, Invoice, Param, Project, Store, Ticket};
use crate::Error;

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
