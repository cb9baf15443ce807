//! The JSON API under `/api/v1`: what the pages show, and the membership
//! check creators' own sites ask. Amounts are base units as decimal
//! strings or integers, with their `asset_id`; errors are
//! `{"error": "…"}`.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::data::{
    self, About, AlertsPage, AlertsQuery, Context, CreatorView, CreatorsPage, CreatorsQuery,
    LedgerPage, LedgerQuery, MembershipAnswer, MembershipQuery, OperationReceipt, PatronView,
    ProjectView, ProjectsPage, ProjectsQuery, Totals,
};
use super::{Error, Shared};

/// An [`Error`] answered as JSON.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_json()
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    pub error: String,
}

/// The OpenAPI document of the routes above, generated from their
/// annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "pledgeroll directory",
        description = "JSON over the pledgeroll mirror, and the builder and relay wallets sign through. Every amount states its unit: base units of its asset_id (the asset's smallest unit on layer 1), or fine units (1,324,512,000 per base unit), in which streams are exact."
    ),
    paths(
        totals,
        creators,
        creator,
        membership,
        patron,
        projects,
        project,
        ledger,
        about,
        operation,
        alerts,
        super::subscriptions::statement,
        super::subscriptions::subscriptions,
        super::relay::build,
        super::relay::submit
    ),
    components(schemas(data::Sort))
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// An API answer.
pub type ApiResult<T> = Result<Json<T>, ApiError>;

/// The API's routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/totals", get(totals))
        .route("/creators", get(creators))
        .route("/creators/{address}", get(creator))
        .route("/creators/{address}/patrons/{patron}", get(membership))
        .route("/patrons/{address}", get(patron))
        .route("/projects", get(projects))
        .route("/projects/{id}", get(project))
        .route("/ledger", get(ledger))
        .route("/about", get(about))
        .route("/operations/{hash}", get(operation))
        .route("/accounts/{address}/alerts", get(alerts))
        .route(
            "/alerts/statement",
            axum::routing::post(super::subscriptions::statement),
        )
        .route(
            "/alerts/subscriptions",
            axum::routing::post(super::subscriptions::subscriptions),
        )
        .route("/openapi.json", get(openapi))
        .merge(super::relay::routes())
        .fallback(not_found)
}

async fn not_found() -> Response {
    Error::NotFound("no such API route".to_owned()).into_json()
}

/// `GET /api/v1/totals`.
#[utoipa::path(get, path = "/api/v1/totals", tag = "directory",
    responses((status = 200, description = "Totals over the rollup", body = Totals)))]
pub async fn totals(State(s): State<Shared>) -> ApiResult<Totals> {
    let ctx = Context::load(&s.store).await?;
    Ok(Json(data::totals(&s.store, &ctx).await?))
}

/// `GET /api/v1/creators?q=&sort=patrons|income&asset=&after=&limit=`.
#[utoipa::path(get, path = "/api/v1/creators", tag = "directory", params(CreatorsQuery),
    responses((status = 200, description = "A page of creators", body = CreatorsPage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody)))]
pub async fn creators(
    State(s): State<Shared>,
    query: Result<Query<CreatorsQuery>, QueryRejection>,
) -> ApiResult<CreatorsPage> {
    let Query(query) = query?;
    Ok(Json(data::creators(&s.store, &query).await?))
}

/// `GET /api/v1/creators/{address}`.
#[utoipa::path(get, path = "/api/v1/creators/{address}", tag = "directory",
    params(("address" = String, Path, description = "The creator's address")),
    responses((status = 200, description = "The creator's page", body = CreatorView),
        (status = 400, description = "The address is not a tz1, tz2 or tz3 address", body = ErrorBody),
        (status = 404, description = "No such creator", body = ErrorBody)))]
pub async fn creator(
    State(s): State<Shared>,
    address: Result<Path<String>, PathRejection>,
) -> ApiResult<CreatorView> {
    let Path(address) = address?;
    match data::creator(&s.store, &address).await? {
        Some(v) => Ok(Json(v)),
        None => Err(Error::NotFound(format!("no creator at {address}")).into()),
    }
}

/// `GET /api/v1/creators/{address}/patrons/{patron}?min_tier=`: whether
/// `patron` streams to one of the creator's tiers now, the highest such
/// tier, and whether it is at least `min_tier`.
#[utoipa::path(get, path = "/api/v1/creators/{address}/patrons/{patron}", tag = "directory",
    params(("address" = String, Path, description = "The creator's address"),
        ("patron" = String, Path, description = "The patron's address"), MembershipQuery),
    responses((status = 200, description = "Whether the patron is active, and at which tier", body = MembershipAnswer),
        (status = 400, description = "An address is invalid", body = ErrorBody)))]
pub async fn membership(
    State(s): State<Shared>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<MembershipQuery>, QueryRejection>,
) -> ApiResult<MembershipAnswer> {
    let Path((creator, patron)) = path?;
    let Query(query) = query?;
    Ok(Json(
        data::membership(&s.store, &creator, &patron, &query).await?,
    ))
}

/// `GET /api/v1/patrons/{address}`.
#[utoipa::path(get, path = "/api/v1/patrons/{address}", tag = "directory",
    params(("address" = String, Path, description = "Any address")),
    responses((status = 200, description = "The patron's pledges, runway and history", body = PatronView),
        (status = 400, description = "The address is invalid", body = ErrorBody)))]
pub async fn patron(
    State(s): State<Shared>,
    address: Result<Path<String>, PathRejection>,
) -> ApiResult<PatronView> {
    let Path(address) = address?;
    let ctx = Context::load(&s.store).await?;
    Ok(Json(data::patron(&s.store, &ctx, &address).await?))
}

/// `GET /api/v1/projects?before=&limit=`.
#[utoipa::path(get, path = "/api/v1/projects", tag = "directory", params(ProjectsQuery),
    responses((status = 200, description = "A page of projects, newest first", body = ProjectsPage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody)))]
pub async fn projects(
    State(s): State<Shared>,
    query: Result<Query<ProjectsQuery>, QueryRejection>,
) -> ApiResult<ProjectsPage> {
    let Query(query) = query?;
    let ctx = Context::load(&s.store).await?;
    Ok(Json(data::projects(&s.store, &ctx, &query).await?))
}

/// `GET /api/v1/projects/{id}`.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "directory",
    params(("id" = i64, Path, description = "The project")),
    responses((status = 200, description = "The project's page", body = ProjectView),
        (status = 400, description = "The id is not a project number", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody)))]
pub async fn project(
    State(s): State<Shared>,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult<ProjectView> {
    let Path(id) = id?;
    let ctx = Context::load(&s.store).await?;
    match data::project(&s.store, &ctx, id).await? {
        Some(v) => Ok(Json(v)),
        None => Err(Error::NotFound(format!("no project {id}")).into()),
    }
}

/// `GET /api/v1/ledger?account=&asset=&kind=&before=&limit=`.
#[utoipa::path(get, path = "/api/v1/ledger", tag = "directory", params(LedgerQuery),
    responses((status = 200, description = "Movements, newest first", body = LedgerPage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody)))]
pub async fn ledger(
    State(s): State<Shared>,
    query: Result<Query<LedgerQuery>, QueryRejection>,
) -> ApiResult<LedgerPage> {
    let Query(query) = query?;
    Ok(Json(data::ledger(&s.store, &query, None).await?))
}

/// `GET /api/v1/accounts/{address}/alerts`: an account's alerts, newest
/// first.
#[utoipa::path(get, path = "/api/v1/accounts/{address}/alerts", tag = "directory",
    params(("address" = String, Path, description = "The account (tz1, tz2 or tz3)"), AlertsQuery),
    responses((status = 200, description = "The account's alerts, newest first", body = AlertsPage),
        (status = 400, description = "The address or a parameter is invalid", body = ErrorBody)))]
pub async fn alerts(
    State(s): State<Shared>,
    address: Result<Path<String>, PathRejection>,
    query: Result<Query<AlertsQuery>, QueryRejection>,
) -> ApiResult<AlertsPage> {
    let Path(address) = address?;
    let Query(query) = query?;
    let ctx = Context::load(&s.store).await?;
    Ok(Json(data::alerts(&s.store, &ctx, &address, &query).await?))
}

/// `GET /api/v1/about`.
#[utoipa::path(get, path = "/api/v1/about", tag = "directory",
    responses((status = 200, description = "The rollup, kernel and indexed level", body = About)))]
pub async fn about(State(s): State<Shared>) -> ApiResult<About> {
    let ctx = Context::load(&s.store).await?;
    Ok(Json(data::about(&ctx)))
}

/// `GET /api/v1/operations/{hash}`: an operation's receipt, once its level
/// is mirrored: what a page that submitted it follows.
#[utoipa::path(get, path = "/api/v1/operations/{hash}", tag = "directory",
    params(("hash" = String, Path, description = "The operation's hash (receipt id), 64 hex digits")),
    responses((status = 200, description = "Applied or failed, why, and what it created", body = OperationReceipt),
        (status = 400, description = "Not an operation hash", body = ErrorBody),
        (status = 404, description = "No receipt yet: not in a mirrored level", body = ErrorBody)))]
pub async fn operation(
    State(s): State<Shared>,
    hash: Result<Path<String>, PathRejection>,
) -> ApiResult<OperationReceipt> {
    let Path(hash) = hash?;
    match data::operation(&s.store, &hash).await? {
        Some(r) => Ok(Json(r)),
        None => {
            let ctx = Context::load(&s.store).await?;
            let level = ctx.head.as_ref().map_or(0, |h| h.level);
            Err(Error::NotFound(format!(
                "no receipt for {hash} in the levels mirrored so far (up to {level})"
            ))
            .into())
        }
    }
}
