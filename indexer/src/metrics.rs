//! The indexer's metrics, served as Prometheus text on `/metrics`.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::IndexError;

/// How far back the events-per-second rate looks.
const RATE_WINDOW: Duration = Duration::from_secs(10);

/// Counters and gauges of a running indexer.
#[derive(Debug)]
pub struct Metrics {
    indexed_level: AtomicU64,
    node_level: AtomicU64,
    events: AtomicU64,
    levels: AtomicU64,
    reorgs: AtomicU64,
    errors: AtomicU64,
    samples: Mutex<VecDeque<(Instant, u64)>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            indexed_level: AtomicU64::new(0),
            node_level: AtomicU64::new(0),
            events: AtomicU64::new(0),
            levels: AtomicU64::new(0),
            reorgs: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            samples: Mutex::new(VecDeque::new()),
        }
    }
}

impl Metrics {
    /// Notes that levels up to `level` with `events` events were applied.
    pub fn applied(&self, level: u32, levels: u64, events: u64) {
        self.indexed_level
            .store(u64::from(level), Ordering::Relaxed);
        self.levels.fetch_add(levels, Ordering::Relaxed);
        let total = self.events.fetch_add(events, Ordering::Relaxed) + events;
        let now = Instant::now();
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        samples.push_back((now, total));
        while samples
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW)
            && samples.len() > 1
        {
            samples.pop_front();
        }
    }

    /// Notes the mirror's level after a revert.
    pub fn reverted(&self, level: u32) {
        self.indexed_level
            .store(u64::from(level), Ordering::Relaxed);
        self.reorgs.fetch_add(1, Ordering::Relaxed);
    }

    /// Notes the level of the block the indexer follows.
    pub fn node_level(&self, level: u32) {
        self.node_level.store(u64::from(level), Ordering::Relaxed);
    }

    /// Notes a failure that is being retried.
    pub fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Events applied per second over the last few seconds.
    pub fn events_per_second(&self) -> f64 {
        let samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        let (Some((t0, e0)), Some((_, e1))) = (samples.front(), samples.back()) else {
            return 0.0;
        };
        let span = t0.elapsed().as_secs_f64().max(1.0);
        (e1.saturating_sub(*e0)) as f64 / span
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        let indexed = self.indexed_level.load(Ordering::Relaxed);
        let node = self.node_level.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        };
        metric(
            "pledgeroll_indexer_level",
            "gauge",
            "The last level applied to the mirror.",
            indexed.to_string(),
        );
        metric(
            "pledgeroll_indexer_node_level",
            "gauge",
            "The level of the block the indexer follows on the node.",
            node.to_string(),
        );
        metric(
            "pledgeroll_indexer_lag_levels",
            "gauge",
            "Levels the mirror is behind the block it follows.",
            node.saturating_sub(indexed).to_string(),
        );
        metric(
            "pledgeroll_indexer_events_per_second",
            "gauge",
            "Events applied per second over the last ten seconds.",
            format!("{:.1}", self.events_per_second()),
        );
        metric(
            "pledgeroll_indexer_events_total",
            "counter",
            "Events applied since the indexer started.",
            self.events.load(Ordering::Relaxed).to_string(),
        );
        metric(
            "pledgeroll_indexer_levels_total",
            "counter",
            "Levels applied since the indexer started.",
            self.levels.load(Ordering::Relaxed).to_string(),
        );
        metric(
            "pledgeroll_indexer_reorgs_total",
            "counter",
            "Reorganisations undone since the indexer started.",
            self.reorgs.load(Ordering::Relaxed).to_string(),
        );
        metric(
            "pledgeroll_indexer_errors_total",
            "counter",
            "Failures retried since the indexer started (node or database away).",
            self.errors.load(Ordering::Relaxed).to_string(),
        );
        out
    }
}

async fn serve_metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
}

/// Serves `/metrics` on `addr` until `stop`; returns the bound address.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) -> Result<(SocketAddr, JoinHandle<()>), IndexError> {
    let failed = |e: std::io::Error| IndexError::Metrics {
        addr: addr.to_string(),
        reason: e.to_string(),
    };
    let listener = TcpListener::bind(addr).await.map_err(failed)?;
    let bound = listener.local_addr().map_err(failed)?;
    let app = Router::new()
        .route("/metrics", get(serve_metrics))
        .with_state(metrics);
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!("the metrics server stopped: {e}");
        }
    });
    Ok((bound, task))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_in_prometheus_text_format() {
        let m = Metrics::default();
        m.node_level(120);
        m.applied(100, 100, 2_000);
        m.reverted(98);
        let text = m.render();
        assert!(text.contains("pledgeroll_indexer_level 98\n"), "{text}");
        assert!(
            text.contains("pledgeroll_indexer_lag_levels 22\n"),
            "{text}"
        );
        assert!(
            text.contains("pledgeroll_indexer_events_total 2000\n"),
            "{text}"
        );
        assert!(
            text.contains("pledgeroll_indexer_reorgs_total 1\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE pledgeroll_indexer_events_per_second gauge\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let mut parts = line.split(' ');
            assert!(parts
                .next()
                .is_some_and(|n| n.starts_with("pledgeroll_indexer_")));
            assert!(
                parts.next().is_some_and(|v| v.parse::<f64>().is_ok()),
                "{line}"
            );
        }
    }
}
