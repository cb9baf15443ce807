//! Atom feeds: the whole directory's latest movements and pledge events,
//! one creator's, and one account's alerts. A pledge's entry states the terms and status of the
//! event it reports (read from the event itself), not the pledge's terms
//! today. Entries are plain text, escaped by the XML writer and kept to the
//! characters XML can carry; their ids are `urn:pledgeroll:…` names, and
//! their links start from the directory's configured public URL, never from
//! a request's `Host`.

use atom_syndication::{Entry, Feed, FixedDateTime, Link, Person, Text};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use pledgeroll_contracts::event::PledgeChange;
use pledgeroll_contracts::{Decode, Event};
use pledgeroll_indexer::rows::holder_text;

use super::data::{self, Context, MOVEMENT_COLS};
use super::format::{self, Assets};
use super::store::{Movement, Param, StoredEvent};
use super::{Error, Shared};

/// Entries of each kind a feed holds at most.
const FEED_ENTRIES: i64 = 50;

fn stamp(unix: i64) -> FixedDateTime {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .fixed_offset()
}

/// Text as an Atom element holds it: characters XML 1.0 cannot carry
/// (control characters other than tab and line breaks, lone surrogates'
/// stand-ins, U+FFFE and U+FFFF) become U+FFFD, so a feed is well-formed
/// whatever anyone wrote.
fn plain(text: impl Into<String>) -> Text {
    let text: String = text.into();
    let xml = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    };
    Text::plain(
        text.chars()
            .map(|c| if xml(c) { c } else { '\u{FFFD}' })
            .collect::<String>(),
    )
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
        title: plain(format!(
            "{}: {}",
            m.kind,
            assets.amount_i64(m.asset_id, m.units)
        )),
        id: format!("urn:pledgeroll:ledger:{}.{}", m.level, m.idx),
        updated: stamp(m.happened_at),
        links: vec![link(format!("{base}/ledger?kind={}", m.kind), "alternate")],
        summary: Some(plain(summary)),
        ..Entry::default()
    }
}

/// The columns of a stored event.
const EVENT_COLS: &str = "SELECT level, idx, happened_at, data FROM events";

/// Pledge events a feed reports: every change of a pledge but the
/// settlements the protocol makes along the way.
const PLEDGE_EVENTS: &str = "kind = 'pledge_updated' AND change <> 'settled'";

/// The entry of a pledge event, with the terms and status the pledge had
/// then; `None` for any other event.
fn pledge_entry(base: &str, assets: &Assets, stored: &StoredEvent) -> Option<Entry> {
    let Ok(Event::PledgeUpdated {
        pledge,
        change,
        record,
    }) = Event::from_bytes(&stored.data)
    else {
        return None;
    };
    let terms = format!(
        "{} per {}",
        assets.amount(
            i64::from(record.asset.0),
            u128::from(record.amount_per_period)
        ),
        format::period(i64::from(record.period))
    );
    let what = match change {
        PledgeChange::Started => format!("New pledge #{}: {terms}", pledge.0),
        PledgeChange::Changed => format!("Pledge #{} changed to {terms}", pledge.0),
        PledgeChange::Paused => format!("Pledge #{} paused", pledge.0),
        PledgeChange::Resumed => format!("Pledge #{} resumed: {terms}", pledge.0),
        PledgeChange::Ended => format!("Pledge #{} ended", pledge.0),
        PledgeChange::Settled => return None,
    };
    let patron = record.patron.to_string();
    Some(Entry {
        title: plain(what),
        id: format!("urn:pledgeroll:event:{}.{}", stored.level, stored.idx),
        updated: stamp(stored.happened_at),
        links: vec![link(format!("{base}/patrons/{patron}"), "alternate")],
        summary: Some(plain(format!(
            "{patron} to {}: {terms}, {} at level {}",
            holder_text(&record.payee),
            record.status,
            stored.level
        ))),
        ..Entry::default()
    })
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

/// The entries for `movements` and pledge `events`.
fn entries(
    base: &str,
    assets: &Assets,
    movements: &[Movement],
    events: &[StoredEvent],
) -> Vec<Entry> {
    movements
        .iter()
        .map(|m| movement_entry(base, assets, m))
        .chain(events.iter().filter_map(|e| pledge_entry(base, assets, e)))
        .collect()
}

/// `/feed.atom`: the directory's latest movements and pledges.
pub async fn directory(State(s): State<Shared>) -> Result<Response, Error> {
    let ctx = Context::load(&s.store).await?;
    let base = s.public_url.as_str();
    let limit = [Param::Int(FEED_ENTRIES)];
    let movements: Vec<Movement> = s
        .store
        .all(
            &format!("{MOVEMENT_COLS} ORDER BY level DESC, idx DESC LIMIT $1"),
            &limit,
        )
        .await?;
    let pledges: Vec<StoredEvent> = s
        .store
        .all(
            &format!("{EVENT_COLS} WHERE {PLEDGE_EVENTS} ORDER BY level DESC, idx DESC LIMIT $1"),
            &limit,
        )
        .await?;
    let entries = entries(base, &ctx.assets, &movements, &pledges);
    let feed = Feed {
        title: plain("pledgeroll directory: activity"),
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
    address: Result<Path<String>, PathRejection>,
) -> Result<Response, Error> {
    let Path(address) = address?;
    let ctx = Context::load(&s.store).await?;
    let Some(creator) = data::creator_profile(&s.store, &address).await? else {
        return Err(Error::NotFound(format!(
            "No creator has published a profile at {address}."
        )));
    };
    let base = s.public_url.as_str();
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
    let pledges: Vec<StoredEvent> = s
        .store
        .all(
            &format!(
                "{EVENT_COLS} WHERE counterparty = $1 AND {PLEDGE_EVENTS} \
                 ORDER BY level DESC, idx DESC LIMIT $2"
            ),
            &params,
        )
        .await?;
    let entries = entries(base, &ctx.assets, &movements, &pledges);
    let page = format!("{base}/creators/{address}");
    let feed = Feed {
        title: plain(format!("{} on pledgeroll", creator.name)),
        id: format!("urn:pledgeroll:creator:{address}"),
        updated: stamp(ctx.now()),
        authors: vec![Person {
            name: creator.name.clone(),
            uri: Some(page.clone()),
            ..Person::default()
        }],
        subtitle: Some(plain(creator.description.clone())),
        links: vec![
            link(format!("{page}/feed.atom"), "self"),
            link(page, "alternate"),
        ],
        ..Feed::default()
    };
    Ok(respond(feed, entries))
}

/// `/accounts/{address}/feed.atom`: an account's alerts, newest first.
pub async fn account(
    State(s): State<Shared>,
    address: Result<Path<String>, PathRejection>,
) -> Result<Response, Error> {
    let Path(address) = address?;
    let ctx = Context::load(&s.store).await?;
    let query = data::AlertsQuery {
        before: None,
        limit: Some(data::MAX_LIMIT),
    };
    let page = data::alerts(&s.store, &ctx, &address, &query).await?;
    let base = s.public_url.as_str();
    let entries = page
        .alerts
        .iter()
        .map(|a| Entry {
            title: plain(a.title.clone()),
            id: format!("urn:pledgeroll:alert:{}", a.id),
            updated: stamp(a.happened_at),
            links: vec![link(format!("{base}{}", a.link), "alternate")],
            summary: Some(plain(a.text.clone())),
            ..Entry::default()
        })
        .collect();
    let feed = Feed {
        title: plain(format!("Alerts for {address} on pledgeroll")),
        id: format!("urn:pledgeroll:account:{address}"),
        updated: stamp(ctx.now()),
        authors: vec![Person {
            name: "pledgeroll directory".to_owned(),
            ..Person::default()
        }],
        links: vec![
            link(format!("{base}/accounts/{address}/feed.atom"), "self"),
            link(format!("{base}/patrons/{address}"), "alternate"),
        ],
        ..Feed::default()
    };
    Ok(respond(feed, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_text_makes_well_formed_xml() {
        let feed = Feed {
            title: plain("a \u{b} vertical tab, a \u{0} NUL, \u{fffe} and \u{1b}[31m"),
            id: "urn:pledgeroll:test".to_owned(),
            ..Feed::default()
        };
        let xml = feed.to_string();
        let read: Feed = xml.parse().expect("a strict parser reads it back");
        assert_eq!(
            read.title.as_str(),
            "a \u{fffd} vertical tab, a \u{fffd} NUL, \u{fffd} and \u{fffd}[31m"
        );
    }
}
