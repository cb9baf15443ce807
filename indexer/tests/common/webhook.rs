//! A webhook receiver on 127.0.0.1 for notifier tests: it records every
//! request's alert id and whether its signature verified, and can fail the
//! first requests.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use pledgeroll_indexer::notifier::{verify_webhook, ALERT_ID_HEADER, SIGNATURE_HEADER};

/// The secret the test subscriptions sign webhooks with.
pub const SECRET: &str = "a webhook secret";

/// What the receiver saw: every request's alert id, whether its signature
/// verified, and the status it answered.
#[derive(Default)]
pub struct Seen {
    pub requests: Vec<(String, bool, u16)>,
    failures_left: usize,
    /// Requests that arrived, answered or not.
    pub arrived: usize,
    hang_first: Option<std::time::Duration>,
}

/// A webhook receiver that answers 500 to its first `failures` requests.
pub async fn receiver(failures: usize) -> (String, Arc<Mutex<Seen>>) {
    receiver_with(failures, None).await
}

/// A webhook receiver that keeps its first request waiting `hang` before
/// answering (long enough to kill the sender mid-delivery).
pub async fn receiver_hanging_first(hang: std::time::Duration) -> (String, Arc<Mutex<Seen>>) {
    receiver_with(0, Some(hang)).await
}

async fn receiver_with(
    failures: usize,
    hang_first: Option<std::time::Duration>,
) -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen {
        failures_left: failures,
        hang_first,
        ..Seen::default()
    }));
    let state = seen.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                let hang = {
                    let mut seen = state.lock().expect("lock");
                    seen.arrived += 1;
                    seen.hang_first.take()
                };
                if let Some(hang) = hang {
                    tokio::time::sleep(hang).await;
                }
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let now = i64::try_from(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .expect("after 1970")
                        .as_secs(),
                )
                .expect("fits");
                let signed = verify_webhook(SECRET, &header(SIGNATURE_HEADER), &body, now, 300);
                let id = header(ALERT_ID_HEADER);
                let body_id = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["id"].as_str().map(str::to_owned));
                let mut seen = state.lock().expect("lock");
                let status = if seen.failures_left > 0 {
                    seen.failures_left -= 1;
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                };
                let same_id = body_id.as_deref() == Some(id.as_str());
                seen.requests.push((id, signed && same_id, status.as_u16()));
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), seen)
}
