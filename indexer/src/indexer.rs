//! The indexer as a task: follows the node, catches up in large batches,
//! undoes reorganisations, retries when the node or the database is away,
//! and reports where it stands. [`start`] runs one in-process; the
//! `pledgeroll-indexer run` command is a thin layer over it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use pledgeroll_interface::Backoff;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;

use crate::db::{Db, DbConfig};
use crate::error::IndexError;
use crate::metrics::{self, Metrics};
use crate::mirror::{Cursor, LevelData, Mirror};
use crate::notifier::{Notifier, NotifierConfig};
use crate::source::{watch_blocks, Follow, Source};

/// How to run an indexer.
#[derive(Debug, Clone)]
pub struct IndexerConfig {
    /// The rollup node's RPC, e.g. `http://127.0.0.1:8932`.
    pub node: String,
    /// The mirror's database.
    pub database: DbConfig,
    /// The first level to index into an empty mirror (levels the node does
    /// not have are skipped); a mirror resumes from its cursor.
    pub from_level: u32,
    /// The block to follow.
    pub follow: Follow,
    /// Most levels applied in one transaction while catching up.
    pub batch_levels: usize,
    /// Most events applied in one transaction while catching up.
    pub batch_events: usize,
    /// Levels read from the node at once.
    pub fetch_concurrency: usize,
    /// Levels below the node's finalized level whose undo information is
    /// kept (newer levels always keep it).
    pub undo_window: u32,
    /// How often to look for new blocks when the node's block stream is
    /// silent.
    pub poll_interval: Duration,
    /// How often to read the node's kernel again and check it is still the
    /// one the mirror recorded (pledgeroll never replaces its kernel, so a
    /// change stops the indexer with [`IndexError::KernelChanged`]).
    pub kernel_check_interval: Duration,
    /// Where to serve `/metrics`, if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    /// Whether to draw a progress bar while catching up (only drawn on a
    /// terminal).
    pub progress: bool,
    /// How to send alerts to their subscriptions, if at all.
    pub notify: Option<NotifierConfig>,
}

impl IndexerConfig {
    /// Follows the head of the node at `node` into the database at
    /// `database_url`, with the defaults.
    pub fn new(node: impl Into<String>, database_url: impl Into<String>) -> Self {
        IndexerConfig {
            node: node.into(),
            database: DbConfig::new(database_url),
            from_level: 0,
            follow: Follow::Head,
            batch_levels: 2_000,
            batch_events: 100_000,
            fetch_concurrency: 16,
            undo_window: 100,
            poll_interval: Duration::from_millis(500),
            kernel_check_interval: Duration::from_secs(60),
            metrics_addr: None,
            progress: false,
            notify: Some(NotifierConfig::default()),
        }
    }
}

/// Where a running indexer stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// The last level applied.
    pub cursor: Option<Cursor>,
    /// The level of the block followed on the node, when last seen.
    pub target: Option<u32>,
    /// The failure being retried, if any.
    pub retrying: Option<String>,
    /// Why the indexer stopped for good, if it did.
    pub failed: Option<String>,
}

/// An indexer running in this process.
#[derive(Debug)]
pub struct RunningIndexer {
    mirror: Mirror,
    metrics: Arc<Metrics>,
    metrics_addr: Option<SocketAddr>,
    status: watch::Receiver<Status>,
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<(), IndexError>>,
    helpers: Vec<JoinHandle<()>>,
}

/// Opens the mirror (creating or migrating its schema) and starts
/// following the node.
pub async fn start(config: IndexerConfig) -> Result<RunningIndexer, IndexError> {
    let db = Db::connect(&config.database).await?;
    let mirror = Mirror::open(db).await?;
    let metrics = Metrics::new()
        .map_err(|e| IndexError::Config(format!("cannot set up the metrics: {e}")))?;
    let metrics = Arc::new(metrics);
    let (stop, stop_rx) = watch::channel(false);
    let initial = Status {
        cursor: mirror.cursor().await?,
        ..Status::default()
    };
    let (status_tx, status) = watch::channel(initial);
    let mut helpers = Vec::new();
    let metrics_addr = match config.metrics_addr {
        Some(addr) => {
            let (bound, task) = metrics::serve(addr, metrics.clone(), stop_rx.clone()).await?;
            helpers.push(task);
            Some(bound)
        }
        None => None,
    };
    if let Some(notify) = config.notify.clone() {
        let notifier = Notifier::new(mirror.clone(), notify)?;
        helpers.push(tokio::spawn(notify_loop(
            notifier,
            Source::new(&config.node),
            config.poll_interval,
            stop_rx.clone(),
        )));
    }
    let wake = Arc::new(Notify::new());
    helpers.push(tokio::spawn(watch_blocks(
        config.node.clone(),
        wake.clone(),
        stop_rx.clone(),
    )));
    let follower = Follower {
        source: Source::new(&config.node),
        mirror: mirror.clone(),
        metrics: metrics.clone(),
        status: status_tx,
        stop: stop_rx,
        wake,
        config,
        rollup_checked: false,
        kernel_checked: None,
    };
    let task = tokio::spawn(follower.run());
    Ok(RunningIndexer {
        mirror,
        metrics,
        metrics_addr,
        status,
        stop,
        task,
        helpers,
    })
}

impl RunningIndexer {
    /// The mirror it writes.
    pub fn mirror(&self) -> &Mirror {
        &self.mirror
    }

    /// Its metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Where `/metrics` is served, if it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Where it stands now.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// Its status as it changes.
    pub fn subscribe(&self) -> watch::Receiver<Status> {
        self.status.clone()
    }

    /// Waits until `done` holds of the status; fails if the indexer stops
    /// for good first or `timeout` passes.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&Status) -> bool,
    ) -> Result<Status, IndexError> {
        let mut rx = self.status.clone();
        let waited =
            tokio::time::timeout(timeout, rx.wait_for(|s| done(s) || s.failed.is_some())).await;
        match waited {
            Ok(Ok(s)) if s.failed.is_none() => Ok(s.clone()),
            Ok(Ok(s)) => Err(IndexError::Stopped(s.failed.clone().unwrap_or_default())),
            Ok(Err(_)) => Err(IndexError::Stopped("the indexer task ended".into())),
            Err(_) => Err(IndexError::Timeout {
                what: what.to_owned(),
                seconds: timeout.as_secs(),
            }),
        }
    }

    /// Waits until level `level` is applied.
    pub async fn wait_for_level(
        &self,
        level: u32,
        timeout: Duration,
    ) -> Result<Cursor, IndexError> {
        let status = self
            .wait_until(&format!("level {level}"), timeout, |s| {
                s.cursor.as_ref().is_some_and(|c| c.level >= level)
            })
            .await?;
        status
            .cursor
            .ok_or_else(|| IndexError::Stopped("no cursor".into()))
    }

    /// Waits until the mirror's cursor is block `hash`.
    pub async fn wait_for_block(
        &self,
        hash: &str,
        timeout: Duration,
    ) -> Result<Cursor, IndexError> {
        let status = self
            .wait_until(&format!("block {hash}"), timeout, |s| {
                s.cursor.as_ref().is_some_and(|c| c.hash == hash)
            })
            .await?;
        status
            .cursor
            .ok_or_else(|| IndexError::Stopped("no cursor".into()))
    }

    /// Stops following and waits for the indexer to finish the batch in
    /// hand; returns the error it stopped on, if it failed.
    pub async fn stop(self) -> Result<(), IndexError> {
        let _ = self.stop.send(true);
        let result = self
            .task
            .await
            .map_err(|e| IndexError::Stopped(e.to_string()))?;
        for h in self.helpers {
            let _ = h.await;
        }
        self.mirror.db().close().await;
        result
    }
}

/// Sends alerts until told to stop: a round whenever the last one did
/// something, otherwise every `poll`; a failure is logged and retried.
async fn notify_loop(
    notifier: Notifier,
    source: Source,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
    loop {
        if *stop.borrow() {
            return;
        }
        let pause = match source.level(Follow::Finalized).await {
            Ok(level) => match notifier.round(level).await {
                Ok(r) if r.queued + r.delivered + r.failed_attempts > 0 => {
                    backoff.reset();
                    Duration::ZERO
                }
                Ok(_) => {
                    backoff.reset();
                    poll
                }
                Err(e) => {
                    tracing::warn!(error = %e, "sending alerts paused; retrying");
                    backoff.pause()
                }
            },
            Err(e) => {
                tracing::debug!(error = %e, "no finalized level to send alerts up to");
                backoff.pause()
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// What a round of following achieved.
enum Round {
    /// The mirror moved (levels applied or reverted): go on at once.
    Moved,
    /// The mirror is at the followed block: wait for a new one.
    CaughtUp,
}

/// Aborts a task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Follower {
    source: Source,
    mirror: Mirror,
    metrics: Arc<Metrics>,
    status: watch::Sender<Status>,
    stop: watch::Receiver<bool>,
    wake: Arc<Notify>,
    config: IndexerConfig,
    rollup_checked: bool,
    /// When the node's kernel was last read and checked.
    kernel_checked: Option<Instant>,
}

impl Follower {
    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    async fn run(mut self) -> Result<(), IndexError> {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
        loop {
            if self.stopping() {
                return Ok(());
            }
            // A round stopped midway leaves its transaction uncommitted,
            // which rolls it back: the mirror stays at a whole level.
            let mut stop = self.stop.clone();
            let outcome = tokio::select! {
                outcome = self.round() => outcome,
                _ = stop.wait_for(|s| *s) => return Ok(()),
            };
            match outcome {
                Ok(Round::Moved) => {
                    backoff.reset();
                    self.status.send_modify(|s| s.retrying = None);
                }
                Ok(Round::CaughtUp) => {
                    backoff.reset();
                    self.status.send_modify(|s| s.retrying = None);
                    let mut stop = self.stop.clone();
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(self.config.poll_interval) => {}
                        _ = stop.wait_for(|s| *s) => {}
                    }
                }
                Err(e) if e.is_retryable() => {
                    let pause = backoff.pause();
                    self.metrics.error();
                    tracing::warn!(error = %e, retry_in = ?pause, "indexing paused; retrying");
                    let message = e.to_string();
                    self.status.send_modify(|s| s.retrying = Some(message));
                    let mut stop = self.stop.clone();
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        _ = stop.wait_for(|s| *s) => {}
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "indexing stopped");
                    let message = e.to_string();
                    self.status.send_modify(|s| s.failed = Some(message));
                    return Err(e);
                }
            }
        }
    }

    async fn round(&mut self) -> Result<Round, IndexError> {
        if !self.rollup_checked {
            let rollup = self.source.rollup().await?;
            self.mirror.check_rollup(&rollup).await?;
            self.rollup_checked = true;
        }
        let kernel_due = self
            .kernel_checked
            .is_none_or(|at| at.elapsed() >= self.config.kernel_check_interval);
        if kernel_due {
            if let Some(kernel) = self.source.kernel_hash("head").await? {
                self.mirror.check_kernel(&kernel).await?;
            }
            self.kernel_checked = Some(Instant::now());
        }
        let target = self.source.level(self.config.follow).await?;
        let finalized = match self.config.follow {
            Follow::Finalized => target,
            Follow::Head => self.source.level(Follow::Finalized).await?,
        };
        self.metrics.node_level(target);
        self.status.send_modify(|s| s.target = Some(target));

        let cursor = self.mirror.cursor().await?;
        let start = match &cursor {
            Some(c) => {
                let probe = c.level.min(target);
                let ours = if probe == c.level {
                    Some(c.hash.clone())
                } else {
                    self.mirror.level_hash(probe).await?
                };
                let theirs = self.source.block_hash(probe).await?;
                match (ours, theirs) {
                    (Some(ours), Some(theirs)) if ours != theirs => {
                        self.revert(probe).await?;
                        return Ok(Round::Moved);
                    }
                    // The node's chain moved between two requests.
                    (Some(hash), None) => {
                        return Err(IndexError::Discontinuity { level: probe, hash })
                    }
                    _ => {}
                }
                if c.level >= target {
                    // Caught up, or the node is behind the mirror.
                    return Ok(Round::CaughtUp);
                }
                c.level + 1
            }
            None => {
                if self.config.from_level > target {
                    return Ok(Round::CaughtUp);
                }
                self.source
                    .first_level(self.config.from_level, target)
                    .await?
            }
        };
        let undo_from = finalized.saturating_sub(self.config.undo_window);
        self.catch_up(start, target, undo_from).await?;
        Ok(Round::Moved)
    }

    /// Finds the highest level at or below `from` where the mirror and the
    /// node agree, and reverts the mirror to it.
    async fn revert(&mut self, from: u32) -> Result<(), IndexError> {
        let floor = self.mirror.undo_floor().await?.unwrap_or(0);
        let mut level = from;
        let common = loop {
            let Some(below) = level.checked_sub(1) else {
                break 0;
            };
            level = below;
            let Some(ours) = self.mirror.level_hash(level).await? else {
                // Below the first level indexed: undo everything.
                break level;
            };
            if self.source.block_hash(level).await?.as_deref() == Some(ours.as_str()) {
                break level;
            }
            if level < floor {
                return Err(IndexError::ReorgTooDeep { level, floor });
            }
        };
        tracing::info!(
            level = common,
            "the node reorganised; undoing the levels after the common block"
        );
        self.mirror.revert_to(common).await?;
        let cursor = self.mirror.cursor().await?;
        self.metrics
            .reverted(cursor.as_ref().map_or(0, |c| c.level));
        self.status.send_modify(|s| s.cursor = cursor);
        Ok(())
    }

    /// Reads levels `start..=target` from the node, many at once, and
    /// applies them in batches.
    async fn catch_up(
        &mut self,
        start: u32,
        target: u32,
        undo_from: u32,
    ) -> Result<(), IndexError> {
        let total = u64::from(target - start) + 1;
        let (mut levels, _fetcher) = self.fetch(start, target);
        let bar = (self.config.progress && total >= 1_000).then(|| progress_bar(total));
        let mut failure = None;
        loop {
            let next = next_batch(
                &mut levels,
                target,
                self.config.batch_levels,
                self.config.batch_events,
            )
            .await;
            if !next.levels.is_empty() {
                self.apply(&next.levels, next.events, undo_from).await?;
                if let (Some(bar), Some(last)) = (&bar, next.levels.last()) {
                    bar.inc(next.levels.len() as u64);
                    bar.set_message(format!(
                        "{} ({:.0} events/s)",
                        last.level,
                        self.metrics.events_per_second()
                    ));
                }
            }
            failure = failure.or(next.failure);
            if next.last || self.stopping() {
                break;
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Starts reading levels `start..=target` from the node in order, many
    /// at once; they arrive on the channel until the first failure, and
    /// stop being read when the returned guard is dropped.
    fn fetch(
        &self,
        start: u32,
        target: u32,
    ) -> (mpsc::Receiver<Result<LevelData, IndexError>>, AbortOnDrop) {
        let capacity = self.config.batch_levels.clamp(1, 4_096);
        let (tx, rx) = mpsc::channel::<Result<LevelData, IndexError>>(capacity);
        let source = self.source.clone();
        let concurrency = self.config.fetch_concurrency.max(1);
        let fetcher = AbortOnDrop(tokio::spawn(async move {
            let mut levels = futures_util::stream::iter(start..=target)
                .map(|l| {
                    let source = source.clone();
                    async move { source.fetch(l).await }
                })
                .buffered(concurrency);
            while let Some(result) = levels.next().await {
                let failed = result.is_err();
                if tx.send(result).await.is_err() || failed {
                    break;
                }
            }
        }));
        (rx, fetcher)
    }

    async fn apply(
        &mut self,
        batch: &[LevelData],
        events: usize,
        undo_from: u32,
    ) -> Result<(), IndexError> {
        let started = Instant::now();
        self.mirror.apply(batch, undo_from).await?;
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return Ok(());
        };
        self.metrics
            .applied(last.level, batch.len() as u64, events as u64);
        tracing::info!(
            from = first.level,
            to = last.level,
            events,
            took_ms = started.elapsed().as_millis() as u64,
            "levels applied"
        );
        let cursor = Cursor {
            level: last.level,
            hash: last.hash.clone(),
        };
        self.status.send_modify(|s| s.cursor = Some(cursor));
        Ok(())
    }
}

/// The catch-up's progress on a terminal.
fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] level {msg} ({pos}/{len} levels, {per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// One batch of levels as they arrived, and what ended it.
struct NextBatch {
    levels: Vec<LevelData>,
    events: usize,
    /// No level comes after these: the target was reached, reading failed
    /// or stopped.
    last: bool,
    failure: Option<IndexError>,
}

/// Takes levels as they arrive until the batch holds `max_levels` levels
/// or `max_events` events, or two seconds pass with some in hand (so a
/// slow node still shows progress).
async fn next_batch(
    levels: &mut mpsc::Receiver<Result<LevelData, IndexError>>,
    target: u32,
    max_levels: usize,
    max_events: usize,
) -> NextBatch {
    let mut next = NextBatch {
        levels: Vec::new(),
        events: 0,
        last: false,
        failure: None,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let level = tokio::select! {
            level = levels.recv() => level,
            () = tokio::time::sleep_until(deadline), if !next.levels.is_empty() => return next,
        };
        match level {
            Some(Ok(level)) => {
                next.events += level.event_count();
                next.last = level.level == target;
                next.levels.push(level);
                if next.last || next.levels.len() >= max_levels || next.events >= max_events {
                    return next;
                }
            }
            Some(Err(e)) => {
                next.failure = Some(e);
                next.last = true;
                return next;
            }
            None => {
                next.last = true;
                return next;
            }
        }
    }
}
