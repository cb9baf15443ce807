//! The indexer's metrics, served in the Prometheus text format on
//! `/metrics` (encoded by the `prometheus` crate).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus::core::Collector;
use prometheus::{Encoder, Gauge, IntCounter, IntGauge, TextEncoder};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::IndexError;

/// How far back the events-per-second rate looks.
const RATE_WINDOW: Duration = Duration::from_secs(10);

/// Counters and gauges of a running indexer.
#[derive(Debug)]
pub struct Metrics {
    indexed_level: IntGauge,
    node_level: IntGauge,
    lag: IntGauge,
    rate: Gauge,
    events: IntCounter,
    levels: IntCounter,
    reorgs: IntCounter,
    errors: IntCounter,
    /// Events applied so far, when: the rate is read from these.
    samples: Mutex<VecDeque<(Instant, u64)>>,
}

impl Metrics {
    /// Every metric at zero.
    pub fn new() -> Result<Self, prometheus::Error> {
        Ok(Metrics {
            indexed_level: IntGauge::new(
                "pledgeroll_indexer_level",
                "The last level applied to the mirror.",
            )?,
            node_level: IntGauge::new(
                "pledgeroll_indexer_node_level",
                "The level of the block the indexer follows on the node.",
            )?,
            lag: IntGauge::new(
                "pledgeroll_indexer_lag_levels",
                "Levels the mirror is behind the block it follows.",
            )?,
            rate: Gauge::new(
                "pledgeroll_indexer_events_per_second",
                "Events applied per second over the last ten seconds.",
            )?,
            events: IntCounter::new(
                "pledgeroll_indexer_events_total",
                "Events applied since the indexer started.",
            )?,
            levels: IntCounter::new(
                "pledgeroll_indexer_levels_total",
                "Levels applied since the indexer started.",
            )?,
            reorgs: IntCounter::new(
                "pledgeroll_indexer_reorgs_total",
                "Reorganisations undone since the indexer started.",
            )?,
            errors: IntCounter::new(
                "pledgeroll_indexer_errors_total",
                "Failures retried since the indexer started (node or database away).",
            )?,
            samples: Mutex::new(VecDeque::new()),
        })
    }

    /// Notes that levels up to `level` with `events` events were applied.
    pub fn applied(&self, level: u32, levels: u64, events: u64) {
        self.indexed_level.set(i64::from(level));
        self.levels.inc_by(levels);
        self.events.inc_by(events);
        let total = self.events.get();
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
        self.indexed_level.set(i64::from(level));
        self.reorgs.inc();
    }

    /// Notes the level of the block the indexer follows.
    pub fn node_level(&self, level: u32) {
        self.node_level.set(i64::from(level));
    }

    /// Notes a failure that is being retried.
    pub fn error(&self) {
        self.errors.inc();
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
        // The lag and the rate are read from the others when asked for.
        let lag = self
            .node_level
            .get()
            .saturating_sub(self.indexed_level.get());
        self.lag.set(lag.max(0));
        self.rate.set(self.events_per_second());
        let collectors: [&dyn Collector; 8] = [
            &self.indexed_level,
            &self.node_level,
            &self.lag,
            &self.rate,
            &self.events,
            &self.levels,
            &self.reorgs,
            &self.errors,
        ];
        let families: Vec<_> = collectors.iter().flat_map(|c| c.collect()).collect();
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&families, &mut out) {
            tracing::error!("cannot encode the metrics: {e}");
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

async fn serve_metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
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
        let m = Metrics::new().expect("valid metric names");
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
        assert!(text.contains("# TYPE pledgeroll_indexer_errors_total counter\n"));
        let values: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(values.len(), 8, "{text}");
        for line in values {
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

    #[test]
    fn a_node_behind_the_mirror_is_no_lag() {
        let m = Metrics::new().expect("valid metric names");
        m.applied(50, 50, 0);
        m.node_level(40);
        assert!(m.render().contains("pledgeroll_indexer_lag_levels 0\n"));
    }
}
