//! Atom feeds: the whole directory's latest movements and pledges, and one
//! creator's. Entries are plain text, escaped by the XML writer and kept to
//! the characters XML can carry; their ids are `urn:pledgeroll:…` names, and
//! their links start from the directory's configured public URL, never from
//! a request's `Host`.

use atom_syndication::{Entry, Feed, FixedDateTime, Link, Person, Text};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
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

fn pledge_entry(base: &str, assets: &Assets, p: &Pledge) -> Entry {
    Entry {
        title: plain(format!(
            "New pledge #{}: {} per {}",
            p.pledge_id,
            assets.amount_text(p.asset_id, &p.amount_per_period),
            format::period(p.period)
        )),
        id: format!("urn:pledgeroll:pledge:{}", p.pledge_id),
        updated: stamp(p.created_at),
        links: vec![link(format!("{base}/patrons/{}", p.patron), "alternate")],
        summary: Some(plain(format!(
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
    let pledges: Vec<Pledge> = s
        .store
        .all(
            &format!("{PLEDGE_COLS} ORDER BY pledge_id DESC LIMIT $1"),
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
    let pledges: Vec<Pledge> = s
        .store
        .all(
            &format!("{PLEDGE_COLS} WHERE payee = $1 ORDER BY pledge_id DESC LIMIT $2"),
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
