//! Answers kept per indexed level, and the HTTP validators that let
//! browsers and proxies keep them too.
//!
//! Every page, feed, CSV export and API read is a function of its route
//! (path and query string) and of the mirror at one indexed level. The
//! [`PageCache`] keeps the successful `GET` answers of those routes, keyed
//! by route, for as long as the mirror stays at the same level and block:
//! once the indexer applies another level, or a reorganisation replaces
//! one, every answer kept is dropped. Where the mirror is comes from the
//! indexer's one-row cursor, read at most every [`LEVEL_CHECK_INTERVAL`] by
//! one request while the others go on with what it last said, so an answer
//! kept is at most that interval and one read of the cursor older than the
//! mirror.
//!
//! Answers of those routes carry an `ETag` (a hash of the body),
//! `Last-Modified` (the indexed level's rollup time) and `Cache-Control`;
//! a request naming the ETag in `If-None-Match` is answered
//! `304 Not Modified`. The static files get the same validators from
//! [`static_file`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::store::{Head, Store};
use crate::Error;

/// How often, at most, a request reads the indexer's cursor: about the
/// longest an answer is served after the mirror moved to another level.
pub const LEVEL_CHECK_INTERVAL: Duration = Duration::from_millis(250);
/// Most answers kept at once.
pub const MAX_ANSWERS: usize = 4_096;
/// Most bytes kept at once, bodies, headers and routes together.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;
/// Largest answer kept; a larger one (a long CSV export) is rendered for
/// every request.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;
/// How long browsers and proxies may reuse a page or API answer without
/// asking again: less than a layer-1 block, after which the `ETag` makes
/// asking cheap.
pub const ANSWER_CACHE_CONTROL: &str = "public, max-age=5";
/// How long browsers may reuse the stylesheet and scripts without asking.
pub const STATIC_CACHE_CONTROL: &str = "public, max-age=3600";

/// Routes whose answers are not kept: the about page and its API answer
/// state the lag behind the wall clock, which moves between levels.
const UNCACHED_ROUTES: [&str; 2] = ["/about", "/api/v1/about"];

/// What the cache accounts for each answer beyond its bytes: the map's
/// slot, the entry and its header map.
const ANSWER_OVERHEAD: usize = 256;

/// The mirror's position as answers are kept under it.
#[derive(Debug)]
struct Indexed {
    /// The last level applied.
    level: i64,
    /// Its block hash: a reorganisation replaces a level by another block.
    block_hash: String,
    /// `Last-Modified` for every answer at this level: its rollup time.
    last_modified: Option<HeaderValue>,
}

impl Indexed {
    fn of(head: Head) -> Indexed {
        let last_modified = head.level_time.and_then(http_date);
        Indexed {
            level: head.level,
            block_hash: head.block_hash,
            last_modified,
        }
    }

    fn same_block(&self, other: &Indexed) -> bool {
        self.level == other.level && self.block_hash == other.block_hash
    }
}

/// The cursor as last read.
#[derive(Debug)]
struct Seen {
    at: Instant,
    indexed: Option<Arc<Indexed>>,
}

/// One answer kept.
#[derive(Debug)]
struct Kept {
    /// The answer's headers, validators and `Cache-Control` included.
    headers: HeaderMap,
    body: Bytes,
    etag: HeaderValue,
    /// The cache's clock when it was last served, for eviction.
    last_used: AtomicU64,
}

impl Kept {
    fn new(mut headers: HeaderMap, body: Bytes, indexed: &Indexed) -> Kept {
        let etag = etag_of(&body);
        headers.insert(header::ETAG, etag.clone());
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(ANSWER_CACHE_CONTROL),
        );
        match &indexed.last_modified {
            Some(time) => headers.insert(header::LAST_MODIFIED, time.clone()),
            None => headers.remove(header::LAST_MODIFIED),
        };
        Kept {
            headers,
            body,
            etag,
            last_used: AtomicU64::new(0),
        }
    }

    /// Bytes it holds, as the cache accounts them.
    fn size(&self, route: &str) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        self.body.len() + headers + route.len() + ANSWER_OVERHEAD
    }

    /// The answer to a request that sent `if_none_match`: 304 when it
    /// names this answer's tag, the whole answer otherwise.
    fn answer(&self, if_none_match: Option<&HeaderValue>) -> Response {
        if if_none_match.is_some_and(|tags| names_tag(tags, &self.etag)) {
            return not_modified(&self.headers);
        }
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// The answers kept, all of one indexed block.
#[derive(Debug, Default)]
struct Shelf {
    /// The block they were rendered at; none before the cursor was read.
    indexed: Option<Arc<Indexed>>,
    answers: HashMap<String, Arc<Kept>>,
    bytes: usize,
}

impl Shelf {
    fn holds(&self, indexed: &Indexed) -> bool {
        self.indexed.as_ref().is_some_and(|i| i.same_block(indexed))
    }

    /// Drops every answer and keeps those of `indexed` from now on.
    fn restock(&mut self, indexed: Option<Arc<Indexed>>) {
        self.indexed = indexed;
        self.answers.clear();
        self.bytes = 0;
    }

    /// Keeps `kept` for `route`, evicting the least recently served
    /// answers as the bounds require.
    fn keep(&mut self, route: String, kept: Arc<Kept>, limits: &Limits) {
        let size = kept.size(&route);
        if size > limits.answer_bytes.min(limits.bytes) {
            return;
        }
        if let Some(old) = self.answers.remove(&route) {
            self.bytes = self.bytes.saturating_sub(old.size(&route));
        }
        if self.answers.len() + 1 > limits.answers || self.bytes + size > limits.bytes {
            // Down to seven eighths of each bound, so eviction's sort is
            // paid once per many insertions, not on each.
            self.evict(
                (limits.answers - limits.answers / 8).saturating_sub(1),
                (limits.bytes - limits.bytes / 8).saturating_sub(size),
            );
        }
        self.bytes += size;
        self.answers.insert(route, kept);
    }

    /// Drops the least recently served answers until at most `answers`
    /// answers and `bytes` bytes are left.
    fn evict(&mut self, answers: usize, bytes: usize) {
        let mut by_use: Vec<(u64, String)> = self
            .answers
            .iter()
            .map(|(route, kept)| (kept.last_used.load(Ordering::Relaxed), route.clone()))
            .collect();
        by_use.sort_unstable();
        for (_, route) in by_use {
            if self.answers.len() <= answers && self.bytes <= bytes {
                break;
            }
            if let Some(kept) = self.answers.remove(&route) {
                self.bytes = self.bytes.saturating_sub(kept.size(&route));
            }
        }
    }
}

/// The cache's bounds.
#[derive(Debug, Clone, Copy)]
struct Limits {
    answers: usize,
    bytes: usize,
    answer_bytes: usize,
}

const LIMITS: Limits = Limits {
    answers: MAX_ANSWERS,
    bytes: MAX_BYTES,
    answer_bytes: MAX_ANSWER_BYTES,
};

/// Rendered answers of the read-only routes, shared by every request and
/// dropped when the mirror's indexed level moves.
#[derive(Debug)]
pub struct PageCache {
    store: Store,
    seen: Mutex<Option<Seen>>,
    /// Held while the cursor is read, so one request reads it for all.
    reading: tokio::sync::Mutex<()>,
    shelf: RwLock<Shelf>,
    /// Counts answers served, ordering them for eviction.
    clock: AtomicU64,
}

impl PageCache {
    /// An empty cache over the mirror `store`.
    pub fn new(store: Store) -> PageCache {
        PageCache {
            store,
            seen: Mutex::new(None),
            reading: tokio::sync::Mutex::new(()),
            shelf: RwLock::new(Shelf::default()),
            clock: AtomicU64::new(0),
        }
    }

    /// Where the mirror is, as read at most [`LEVEL_CHECK_INTERVAL`] ago
    /// (or as last read, while another request reads it again); `None`
    /// before it indexed a level.
    async fn indexed(&self) -> Result<Option<Arc<Indexed>>, Error> {
        if let Some(indexed) = self.seen_within(LEVEL_CHECK_INTERVAL) {
            return Ok(indexed);
        }
        let _reading = match self.reading.try_lock() {
            Ok(reading) => reading,
            // Requests do not queue behind the one reading the cursor.
            Err(_) => match self.seen_within(Duration::MAX) {
                Some(indexed) => return Ok(indexed),
                None => self.reading.lock().await,
            },
        };
        if let Some(indexed) = self.seen_within(LEVEL_CHECK_INTERVAL) {
            return Ok(indexed);
        }
        let at = Instant::now();
        let head: Option<Head> = self
            .store
            .one(
                "SELECT c.level, c.block_hash, l.level_time, l.state_hash FROM indexer_cursor c \
                 LEFT JOIN levels l ON l.level = c.level",
                &[],
            )
            .await?;
        let indexed = head.map(|h| Arc::new(Indexed::of(h)));
        {
            let mut shelf = self.shelf.write().unwrap_or_else(PoisonError::into_inner);
            let moved = match (&shelf.indexed, &indexed) {
                (Some(kept), Some(now)) => !kept.same_block(now),
                (None, None) => false,
                _ => true,
            };
            if moved {
                shelf.restock(indexed.clone());
            }
        }
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(Seen {
            at,
            indexed: indexed.clone(),
        });
        Ok(indexed)
    }

    /// What the cursor said, if it was read less than `within` ago.
    fn seen_within(&self, within: Duration) -> Option<Option<Arc<Indexed>>> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.as_ref()
            .filter(|s| s.at.elapsed() < within)
            .map(|s| s.indexed.clone())
    }

    /// The answer kept for `route` at `indexed`, marked as just served.
    fn kept(&self, indexed: &Indexed, route: &str) -> Option<Arc<Kept>> {
        let shelf = self.shelf.read().unwrap_or_else(PoisonError::into_inner);
        if !shelf.holds(indexed) {
            return None;
        }
        let kept = shelf.answers.get(route)?.clone();
        kept.last_used.store(
            self.clock.fetch_add(1, Ordering::Relaxed),
            Ordering::Relaxed,
        );
        Some(kept)
    }

    /// Keeps `kept` for `route` if the mirror is still at `indexed`; an
    /// answer rendered while it moved on is served once and forgotten.
    fn keep(&self, indexed: &Indexed, route: String, kept: Arc<Kept>) {
        kept.last_used.store(
            self.clock.fetch_add(1, Ordering::Relaxed),
            Ordering::Relaxed,
        );
        let mut shelf = self.shelf.write().unwrap_or_else(PoisonError::into_inner);
        if shelf.holds(indexed) {
            shelf.keep(route, kept, &LIMITS);
        }
    }
}

/// Middleware over the read-only routes: answers a `GET` or `HEAD` from
/// the cache when it holds the route at the mirror's level, and keeps
/// what the route answers otherwise; adds the validators, and answers 304
/// when the request already has the answer.
pub async fn answer(
    State(cache): State<Arc<PageCache>>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        return next.run(request).await;
    }
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map_or(request.uri(), |original| &original.0);
    let route = match uri.path_and_query() {
        Some(route) if !UNCACHED_ROUTES.contains(&uri.path()) => route.as_str().to_owned(),
        _ => return next.run(request).await,
    };
    let indexed = match cache.indexed().await {
        Ok(Some(indexed)) => indexed,
        Ok(None) => return next.run(request).await,
        Err(e) => {
            // The route's own reads will fail too and log it; a mirror
            // that answers them is served uncached meanwhile.
            tracing::debug!(error = %e, "cannot read the indexed level; answering uncached");
            return next.run(request).await;
        }
    };
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    if let Some(kept) = cache.kept(&indexed, &route) {
        return kept.answer(if_none_match.as_ref());
    }
    // A HEAD is rendered as the GET it describes, so what is kept is
    // whole; the router leaves the body out of the HEAD's answer.
    *request.method_mut() = Method::GET;
    let response = next.run(request).await;
    if response.status() != StatusCode::OK
        || response.headers().contains_key(header::SET_COOKIE)
        || response
            .headers()
            .get(header::CACHE_CONTROL)
            .is_some_and(|c| c.as_bytes().windows(8).any(|w| w == b"no-store"))
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => return Error::Internal(format!("reading an answer: {e}")).into_response(),
    };
    let kept = Arc::new(Kept::new(parts.headers, body, &indexed));
    let answer = kept.answer(if_none_match.as_ref());
    cache.keep(&indexed, route, kept);
    answer
}

/// A static file's answer: `body` as `content_type` with its `etag`
/// ([`etag_of`]) and [`STATIC_CACHE_CONTROL`], or 304 when the request
/// names the tag in `If-None-Match`.
pub fn static_file(
    request: &HeaderMap,
    content_type: &'static str,
    body: &'static str,
    etag: &HeaderValue,
) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(STATIC_CACHE_CONTROL),
    );
    headers.insert(header::ETAG, etag.clone());
    if request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tags| names_tag(tags, etag))
    {
        return not_modified(&headers);
    }
    (headers, body).into_response()
}

/// A strong entity tag for `body`: the first 128 bits of its blake2b-256
/// hash, in hex and quotes.
pub fn etag_of(body: &[u8]) -> HeaderValue {
    let hash = pledgeroll_contracts::crypto::blake2b_256(body);
    let tag = format!("\"{}\"", hex::encode(hash.get(..16).unwrap_or(&hash)));
    HeaderValue::try_from(tag).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// Whether an `If-None-Match` value names `etag` (or is `*`), compared
/// weakly as RFC 9110 asks for this header.
fn names_tag(if_none_match: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(tags) = if_none_match.to_str() else {
        return false;
    };
    let ours = etag.as_bytes();
    tags.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == ours)
}

/// A 304 with the validators and caching rules of the answer it stands for.
fn not_modified(headers: &HeaderMap) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    for name in [header::ETAG, header::CACHE_CONTROL, header::LAST_MODIFIED] {
        if let Some(value) = headers.get(&name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

/// Unix seconds as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(seconds: i64) -> Option<HeaderValue> {
    let time = chrono::DateTime::from_timestamp(seconds, 0)?;
    HeaderValue::try_from(time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn indexed(level: i64) -> Arc<Indexed> {
        Arc::new(Indexed::of(Head {
            level,
            block_hash: format!("B{level}"),
            level_time: Some(784_111_777),
            state_hash: None,
        }))
    }

    fn kept(body: &str, at: &Indexed, used: u64) -> Arc<Kept> {
        let kept = Kept::new(HeaderMap::new(), Bytes::from(body.to_owned()), at);
        kept.last_used.store(used, Ordering::Relaxed);
        Arc::new(kept)
    }

    #[test]
    fn the_shelf_keeps_at_most_its_count_evicting_the_least_recently_served() {
        let at = indexed(1);
        let limits = Limits {
            answers: 16,
            bytes: usize::MAX,
            answer_bytes: usize::MAX,
        };
        let mut shelf = Shelf::default();
        shelf.restock(Some(at.clone()));
        for i in 0..40u64 {
            shelf.keep(format!("/r{i}"), kept("x", &at, i), &limits);
            assert!(shelf.answers.len() <= 16, "{} answers", shelf.answers.len());
        }
        assert!(shelf.answers.contains_key("/r39"), "the newest stays");
        assert!(!shelf.answers.contains_key("/r0"), "the oldest went");
        let sizes: usize = shelf.answers.iter().map(|(r, k)| k.size(r)).sum();
        assert_eq!(shelf.bytes, sizes, "bytes are accounted exactly");
    }

    #[test]
    fn the_shelf_keeps_at_most_its_bytes_and_refuses_an_oversized_answer() {
        let at = indexed(1);
        let body = "y".repeat(1_000);
        let one = kept(&body, &at, 0).size("/r00");
        let limits = Limits {
            answers: usize::MAX,
            bytes: one * 5,
            answer_bytes: one * 2,
        };
        let mut shelf = Shelf::default();
        shelf.restock(Some(at.clone()));
        for i in 0..20u64 {
            shelf.keep(format!("/r{i:02}"), kept(&body, &at, i), &limits);
            assert!(shelf.bytes <= limits.bytes, "{} bytes", shelf.bytes);
        }
        assert!(shelf.answers.contains_key("/r19"));
        shelf.keep(
            "/big".to_owned(),
            kept(&"z".repeat(5_000), &at, 99),
            &limits,
        );
        assert!(!shelf.answers.contains_key("/big"), "over the answer bound");
    }

    #[test]
    fn a_new_block_empties_the_shelf() {
        let mut shelf = Shelf::default();
        let one = indexed(1);
        shelf.restock(Some(one.clone()));
        shelf.keep("/".to_owned(), kept("a", &one, 0), &LIMITS);
        assert!(shelf.holds(&one));
        let two = indexed(2);
        assert!(!shelf.holds(&two));
        shelf.restock(Some(two.clone()));
        assert!(shelf.answers.is_empty() && shelf.bytes == 0);
        let replaced = Arc::new(Indexed::of(Head {
            level: 2,
            block_hash: "another block".to_owned(),
            level_time: None,
            state_hash: None,
        }));
        assert!(
            !shelf.holds(&replaced),
            "a reorganised level is another block"
        );
    }

    #[test]
    fn if_none_match_names_the_tag_in_a_list_weakly_or_as_a_star() {
        let etag = etag_of(b"body");
        let tag = etag.to_str().unwrap().to_owned();
        for matching in [
            tag.clone(),
            format!("W/{tag}"),
            format!("\"other\", {tag}"),
            "*".to_owned(),
        ] {
            assert!(
                names_tag(&HeaderValue::try_from(matching.clone()).unwrap(), &etag),
                "{matching}"
            );
        }
        for other in ["\"other\"", "", "W/\"\"", &tag[1..]] {
            assert!(
                !names_tag(&HeaderValue::try_from(other).unwrap(), &etag),
                "{other}"
            );
        }
        assert_ne!(etag_of(b"body"), etag_of(b"bodY"));
    }

    #[test]
    fn last_modified_is_an_http_date() {
        assert_eq!(
            http_date(784_111_777).unwrap(),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(indexed(3).last_modified, http_date(784_111_777));
    }
}
