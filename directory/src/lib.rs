//! The pledgeroll directory: a read-only website and JSON API over the
//! mirror `pledgeroll-indexer` keeps.
//!
//! Every figure comes from the mirror, opened read-only ([`store::Store`]).
//! Pages are rendered on the server with maud, which escapes everything a
//! creator wrote; they need no JavaScript. The JSON API lives under
//! `/api/v1` with its OpenAPI document; Atom feeds and a CSV export of the
//! ledger sit beside the pages. Their answers are kept per indexed level
//! and carry HTTP validators ([`cache`]). [`serve`] runs it in-process;
//! `pledgeroll-directory` runs it from the command line.

pub mod actions;
pub mod api;
pub mod cache;
pub mod data;
pub mod feeds;
pub mod format;
pub mod pages;
pub mod relay;
pub mod store;
pub mod subscriptions;

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use cache::PageCache;
pub use relay::Relay;
use store::Store;
use subscriptions::Subscriptions;

/// Largest request body accepted: the builder's and relay's JSON are the
/// only bodies, well under this.
const BODY_LIMIT: usize = 16 * 1024;
/// What pages may load: scripts from the directory itself only (Beacon's
/// bundle is served from here, built without `eval` by
/// `scripts/vendor-beacon`); styles from here plus the two stylesheets
/// Beacon's pairing dialog and notices inject, by hash; connections to
/// Beacon's and WalletConnect's relays, which pair a phone wallet.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'sha256-ksaMfMdhMsTvi2ZgOOEmztdTa89absYctzYaWjMsUK4=' \
     'sha256-2DDDoTOVbedPEdBMDdiPP5mUMJocuugr0N+2wt28KRQ='; img-src 'self' data:; \
     connect-src 'self' https://*.papers.tech https://*.octez.io https://*.walletconnect.org \
     https://*.walletconnect.com wss://*.walletconnect.org wss://*.walletconnect.com; \
     frame-src https://verify.walletconnect.org https://verify.walletconnect.com; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Longest a request may take before it is answered with 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What can go wrong answering a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The visitor asked for something malformed; the message says what.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing is at this address.
    #[error("{0}")]
    NotFound(String),
    /// The directory cannot start: bad database URL or unreachable mirror.
    #[error("{0}")]
    Config(String),
    /// This directory cannot do what was asked (it relays no operations).
    #[error("{0}")]
    Unavailable(String),
    /// The rollup node failed or refused; the message says which node.
    #[error("{0}")]
    Upstream(String),
    /// The database failed; logged, never shown.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Something else failed; logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<QueryRejection> for Error {
    fn from(e: QueryRejection) -> Self {
        Error::BadRequest(e.body_text())
    }
}

impl From<PathRejection> for Error {
    fn from(e: PathRejection) -> Self {
        Error::BadRequest(e.body_text())
    }
}

impl Error {
    /// The status and the message a visitor may see.
    fn public(&self) -> (StatusCode, String) {
        match self {
            Error::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            Error::NotFound(m) => (StatusCode::NOT_FOUND, m.clone()),
            Error::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m.clone()),
            Error::Upstream(m) => {
                tracing::warn!(error = %m, "the rollup node failed");
                (StatusCode::BAD_GATEWAY, m.clone())
            }
            Error::Config(_) | Error::Database(_) | Error::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; it has been logged".to_owned(),
                )
            }
        }
    }

    /// The error as a JSON answer `{"error": "…"}`, for the API.
    pub fn into_json(self) -> Response {
        let (status, message) = self.public();
        (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
    }
}

/// Errors answer as a styled HTML page; the API wraps them in [`api::ApiError`].
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, message) = self.public();
        (status, pages::error_page(status, &message)).into_response()
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The mirror, read-only.
    pub store: Store,
    /// The rollup node operations are built against and relayed to, when
    /// the directory was given one: the pages then offer their actions.
    pub relay: Option<Relay>,
    /// Where the directory is reached (`https://directory.example`, no
    /// trailing slash): feeds link from it, and signed alert requests name
    /// it.
    pub public_url: String,
    /// The alert subscriptions' tables, when the directory takes them.
    pub subscriptions: Option<Subscriptions>,
}

impl AppState {
    /// The Tezos network wallets connect for, when the pages offer their
    /// actions (the directory relays operations).
    pub fn wallet_network(&self) -> Option<&str> {
        self.relay.as_ref().map(Relay::network)
    }
}

/// The shared state handlers receive.
pub type Shared = Arc<AppState>;

/// The directory's routes over `store`, with its limits, reached at
/// `public_url`; with a relay to a rollup node, the pages' actions and the
/// operation builder and relay too. Pages, feeds, the CSV export and the
/// API's reads are answered from a [`PageCache`] of the indexed level; the
/// relay's posts and the static files are not kept there.
pub fn router(
    store: Store,
    relay: Option<Relay>,
    public_url: &str,
    subscriptions: Option<Subscriptions>,
) -> Router {
    let kept =
        middleware::from_fn_with_state(Arc::new(PageCache::new(store.clone())), cache::answer);
    let state = Arc::new(AppState {
        store,
        relay,
        public_url: public_url.trim_end_matches('/').to_owned(),
        subscriptions,
    });
    Router::new()
        .route("/", get(pages::home))
        .route("/creators", get(pages::creators))
        .route("/creators/{address}", get(pages::creator))
        .route("/patrons/{address}", get(pages::patron))
        .route("/studio/{address}", get(pages::studio))
        .route("/projects", get(pages::projects))
        .route("/projects/{id}", get(pages::project))
        .route("/ledger", get(pages::ledger))
        .route("/ledger.csv", get(pages::ledger_csv))
        .route("/about", get(pages::about))
        .route("/feed.atom", get(feeds::directory))
        .route("/creators/{address}/feed.atom", get(feeds::creator))
        .route("/creators/{address}/income.csv", get(pages::income_csv))
        .route("/accounts/{address}/feed.atom", get(feeds::account))
        // The routes above answer from the mirror alone, so their answers
        // are kept per indexed level; the ones below are not.
        .layer(kept.clone())
        .route("/static/style.css", get(stylesheet))
        .route("/static/wallet.js", get(wallet_script))
        .route("/static/vendor/beacon-dapp.min.js", get(beacon_script))
        .nest("/api/v1", api::routes().layer(kept).layer(api_cors()))
        .fallback(pages::not_found)
        .with_state(state)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
}

/// The API's cross-origin rule: any site's scripts may read it and use the
/// builder and relay. It is public, takes no credentials and sets no
/// cookies, so a page elsewhere learns nothing it could not fetch itself.
fn api_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(Duration::from_secs(3600))
}

/// The stylesheet, the same for every page.
pub const STYLESHEET: &str = include_str!("style.css");

static STYLESHEET_ETAG: LazyLock<HeaderValue> =
    LazyLock::new(|| cache::etag_of(STYLESHEET.as_bytes()));
static WALLET_SCRIPT_ETAG: LazyLock<HeaderValue> =
    LazyLock::new(|| cache::etag_of(WALLET_SCRIPT.as_bytes()));
static BEACON_SCRIPT_ETAG: LazyLock<HeaderValue> =
    LazyLock::new(|| cache::etag_of(BEACON_SCRIPT.as_bytes()));

async fn stylesheet(request: HeaderMap) -> Response {
    cache::static_file(
        &request,
        "text/css; charset=utf-8",
        STYLESHEET,
        &STYLESHEET_ETAG,
    )
}

/// The script that runs the pages' actions.
pub const WALLET_SCRIPT: &str = include_str!("../assets/wallet.js");

/// The Beacon SDK's dApp client, vendored by `scripts/vendor-beacon`.
pub const BEACON_SCRIPT: &str = include_str!("../assets/vendor/beacon-dapp.min.js");

async fn wallet_script(request: HeaderMap) -> Response {
    script(&request, WALLET_SCRIPT, &WALLET_SCRIPT_ETAG)
}

async fn beacon_script(request: HeaderMap) -> Response {
    script(&request, BEACON_SCRIPT, &BEACON_SCRIPT_ETAG)
}

fn script(request: &HeaderMap, body: &'static str, etag: &HeaderValue) -> Response {
    cache::static_file(request, "text/javascript; charset=utf-8", body, etag)
}

/// A directory serving in this process.
#[derive(Debug)]
pub struct RunningDirectory {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    store: Store,
    subscriptions: Option<Subscriptions>,
}

impl RunningDirectory {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving, finishing requests under way, and closes the mirror.
    pub async fn stop(mut self) -> Result<(), Error> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = (&mut self.task)
            .await
            .map_err(|e| Error::Internal(format!("server task: {e}")))?;
        self.store.close().await;
        if let Some(s) = &self.subscriptions {
            s.close().await;
        }
        served.map_err(|e| Error::Internal(format!("server: {e}")))
    }
}

/// Opens the mirror at `database_url` read-only (`schema`: its Postgres
/// schema, if any) and serves the directory on `addr` (port 0: any free
/// port) until [`RunningDirectory::stop`]; with a [`Relay`] to a rollup
/// node, the pages offer their actions and the directory builds and relays
/// operations ([`relay`]). Feeds link from `public_url`, by default
/// `http://` and the address it listens on.
pub async fn serve(
    database_url: &str,
    schema: Option<&str>,
    addr: SocketAddr,
    relay: Option<Relay>,
    public_url: Option<&str>,
) -> Result<RunningDirectory, Error> {
    let store = Store::open(database_url, schema).await?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Config(format!("cannot listen on {addr}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Config(format!("cannot listen on {addr}: {e}")))?;
    let (stop, stopped) = oneshot::channel::<()>();
    let public_url = public_url.map_or_else(|| format!("http://{addr}"), str::to_owned);
    let subscriptions = match Subscriptions::open(database_url, schema).await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "alert subscriptions are not taken");
            None
        }
    };
    let app = router(store.clone(), relay, &public_url, subscriptions.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    Ok(RunningDirectory {
        addr,
        stop: Some(stop),
        task,
        store,
        subscriptions,
    })
}
