//! Atom feeds: the whole directory's latest movements and pledges, and one
//! creator's. Entries are plain text, escaped by the XML writer; their ids
//! are `urn:pledgeroll:…` names that do not depend on the host serving them.

use atom_syndication::{Entry, Feed, FixedDateTime, Link, Person, Text};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

use super::data::{self, Context, MOVEMENT_COLS, PLEDGE_COLS};
use super::format::{self, Assets};
use super::store::{Movement, Param, Pledge};
use super::{Error, Shared};

/// Entries of each kind a feed holds at most.
const FEED_ENTRIES: i64 = 50;

fn stamp(unix: i64) -> FixedDateTime {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .fixed_offset()
}

/// The site's base URL from the request's `Host`, if it is a plain
/// host[:port]; `http://localhost` otherwise.
fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

fn link(href: String, rel: &str) -> Link {
    Link {
        href,
        rel: rel.to_owned(),
        ..Link::default()
    }
}

fn holder_name(holder: Option<&str>) -> String {
    holder.map_or_else(|| "layer 1".to_owned(), str::to_owned)
}

fn movement_entry(base: &str, assets: &Assets, m: &Movement) -> Entry {
    let mut summary = format!(
        "{} of {} from {} to {} at level {}",
        m.kind,
        assets.amount_i64(m.asset_id, m.units),
        holder_name(m.from_holder.as_deref()),
        holder_name(m.to_holder.as_deref()),
        m.level
    );
    if let Some(memo) = &m.memo {
        summary.push_str(&format!(": {memo}"));
    }
    Entry {
        title: Text::plain(format!(
            "{}: {}",
            m.kind,
            assets.amount_i64(m.asset_id, m.units)
        )),
        id: format!("urn:pledgeroll:ledger:{}.{}", m.level, m.idx),
        updated: stamp(m.happened_at),
        links: vec![link(format!("{base}/ledger?kind={}", m.kind), "alternate")],
        summary: Some(Text::plain(summary)),
        ..Entry::default()
    }
}

fn pledge_entry(base: &str, assets: &Assets, p: &Pledge) -> Entry {
    Entry {
        title: Text::plain(format!(
            "New pledge #{}: {} per {}",
            p.pledge_id,
            assets.amount_text(p.asset_id, &p.amount_per_period),
            format::period(p.period)
        )),
        id: format!("urn:pledgeroll:pledge:{}", p.pledge_id),
        updated: stamp(p.created_at),
        links: vec![link(format!("{base}/patrons/{}", p.patron), "alternate")],
        summary: Some(Text::plain(format!(
            "{} pledged to {}; now {}",
            p.patron, p.payee, p.status
        ))),
        ..Entry::default()
    }
}

fn respond(mut feed: Feed, mut entries: Vec<Entry>) -> Response {
    entries.sort_by(|a, b| b.updated.cmp(&a.updated).then_with(|| b.id.cmp(&a.id)));
    if let Some(first) = entries.first() {
        feed.updated = first.updated;
    }
    feed.entries = entries;
    (
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        feed.to_string(),
    )
        .into_response()
}

/// The entries for `movements` and `pledges`, newest movements first.
fn entries(base: &str, assets: &Assets, movements: &[Movement], pledges: &[Pledge]) -> Vec<Entry> {
    movements
        .iter()
        .map(|m| movement_entry(base, assets, m))
        .chain(pledges.iter().map(|p| pledge_entry(base, assets, p)))
        .collect()
}

/// `/feed.atom`: the directory's latest movements and pledges.
pub async fn directory(State(s): State<Shared>, headers: HeaderMap) -> Result<Response, Error> {
    let ctx = Context::load(&s.store).await?;
    let base = base(&headers);
    let limit = [Param::Int(FEED_ENTRIES)];
    let movements: Vec<Movement> = s
        .store
        .all(
            &format!("{MOVEMENT_COLS} ORDER BY level DESC, idx DESC LIMIT $1"),
            &limit,
        )
        .await?;
    let pledges: Vec<Pledge> = s
        .store
        .all(
            &format!("{PLEDGE_COLS} ORDER BY pledge_id DESC LIMIT $1"),
            &limit,
        )
        .await?;
    let entries = entries(&base, &ctx.assets, &movements, &pledges);
    let feed = Feed {
        title: Text::plain("pledgeroll directory: activity"),
        id: "urn:pledgeroll:directory".to_owned(),
        updated: stamp(ctx.now()),
        authors: vec![Person {
            name: "pledgeroll directory".to_owned(),
            ..Person::default()
        }],
        links: vec![
            link(format!("{base}/feed.atom"), "self"),
            link(format!("{base}/"), "alternate"),
        ],
        ..Feed::default()
    };
    Ok(respond(feed, entries))
}

/// `/creators/{address}/feed.atom`: a creator's pledges, tips and other
/// movements.
pub async fn creator(
    State(s): State<Shared>,
    headers: HeaderMap,
    address: Result<Path<String>, PathRejection>,
) -> Result<Response, Error> {
    let Path(address) = address?;
    let ctx = Context::load(&s.store).await?;
    let Some(creator) = data::creator_profile(&s.store, &address).await? else {
        return Err(Error::NotFound(format!(
            "No creator has published a profile at {address}."
        )));
    };
    let base = base(&headers);
    let params = [Param::Text(address.clone()), Param::Int(FEED_ENTRIES)];
    let movements: Vec<Movement> = s
        .store
        .all(
            &format!(
                "{MOVEMENT_COLS} WHERE from_holder = $1 OR to_holder = $1 \
                 ORDER BY level DESC, idx DESC LIMIT $2"
            ),
            &params,
        )
        .await?;
    let pledges: Vec<Pledge> = s
        .store
        .all(
            &format!("{PLEDGE_COLS} WHERE payee = $1 ORDER BY pledge_id DESC LIMIT $2"),
            &params,
        )
        .await?;
    let entries = entries(&base, &ctx.assets, &movements, &pledges);
    let page = format!("{base}/creators/{address}");
    let feed = Feed {
        title: Text::plain(format!("{} on pledgeroll", creator.name)),
        id: format!("urn:pledgeroll:creator:{address}"),
        updated: stamp(ctx.now()),
        authors: vec![Person {
            name: creator.name.clone(),
            uri: Some(page.clone()),
            ..Person::default()
        }],
        subtitle: Some(Text::plain(creator.description.clone())),
        links: vec![
            link(format!("{page}/feed.atom"), "self"),
            link(page, "alternate"),
        ],
        ..Feed::default()
    };
    Ok(respond(feed, entries))
}
