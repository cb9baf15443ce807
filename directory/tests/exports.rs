//! What the directory exports over the scenario's mirror, on SQLite and on
//! Postgres: the ledger and a creator's income by day as CSV, the Atom
//! feeds of the activity, and an account's alerts as JSON and Atom.

#![allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]

#[path = "../../indexer/tests/common/mod.rs"]
mod common;
#[macro_use]
mod site;

use pledgeroll_contracts::{Operation, TierId};
use pledgeroll_indexer::Backend;
use site::{Site, ADA, BOB, CY, DRY, XSS, XSS_NAME};

async fn the_ledger_exports_as_csv(backend: Backend) {
    let site = Site::start(backend).await;
    let bob = site.addr(BOB);
    let (status, kind, csv) = site.get(&format!("/ledger.csv?account={bob}")).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/csv"), "{kind}");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("level,idx,time,time_utc,kind,from,to,asset_id,asset,units,amount,pledge_id,project_id,memo")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let tip = rows.iter().find(|r| r[4] == "tip").expect("the tip");
    assert_eq!(
        (tip[5], tip[8], tip[9], tip[10], tip[13]),
        (bob.as_str(), "tez", "1000000", "1", "for the notes")
    );
    assert!(
        tip[3].ends_with('Z') && tip[3].contains('T') && tip[3].len() == 20,
        "an ISO 8601 UTC time beside Unix seconds: {}",
        tip[3]
    );
    let fund = rows.iter().find(|r| r[4] == "fund").expect("the funding");
    assert_eq!((fund[6], fund[10], fund[12]), ("project-0", "10", "0"));
    assert!(
        rows.iter().all(|r| r[5] == bob || r[6] == bob),
        "only bob's movements"
    );
    let (_, _, deposits) = site.get("/ledger.csv?kind=deposit&asset=1").await;
    assert_eq!(
        deposits.lines().count(),
        3,
        "a header and two usd deposits: {deposits}"
    );
    site.stop().await;
}

async fn atom_feeds_carry_the_activity(backend: Backend) {
    let site = Site::start(backend).await;
    let (ada, xss) = (site.addr(ADA), site.addr(XSS));

    let (status, kind, body) = site.get("/feed.atom").await;
    assert_eq!(status, 200);
    assert_eq!(kind, "application/atom+xml; charset=utf-8");
    let feed: atom_syndication::Feed = body.parse().expect("valid Atom");
    let titles: Vec<&str> = feed.entries.iter().map(|e| e.title.as_str()).collect();
    assert!(titles.contains(&"tip: 1 tez"), "{titles:?}");
    assert!(titles.contains(&"payout: 3 tez"), "{titles:?}");
    assert!(
        titles.contains(&"New pledge #1: 0.1 usd per day"),
        "{titles:?}"
    );
    let times: Vec<_> = feed.entries.iter().map(|e| e.updated).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    // Links start from the directory's own URL, whatever `Host` says.
    let forged = site
        .client
        .get(format!("{}/feed.atom", site.directory.url()))
        .header("host", "evil.example")
        .send()
        .await
        .expect("GET feed")
        .text()
        .await
        .expect("feed");
    let forged: atom_syndication::Feed = forged.parse().expect("valid Atom");
    let hrefs: Vec<&str> = forged
        .links
        .iter()
        .chain(forged.entries.iter().flat_map(|e| e.links.iter()))
        .map(|l| l.href.as_str())
        .collect();
    assert!(!hrefs.is_empty());
    assert!(
        hrefs.iter().all(|h| h.starts_with(&site.directory.url())),
        "{hrefs:?}"
    );
    assert_eq!(Some(feed.updated), times.first().copied());

    let (status, _, body) = site.get(&format!("/creators/{ada}/feed.atom")).await;
    assert_eq!(status, 200);
    let feed: atom_syndication::Feed = body.parse().expect("valid Atom");
    assert_eq!(feed.title.as_str(), "Ada Lovelace on pledgeroll");
    let summaries: Vec<String> = feed
        .entries
        .iter()
        .filter_map(|e| e.summary.as_ref().map(|s| s.value.clone()))
        .collect();
    assert!(
        summaries.iter().any(|s| s.ends_with(": for the notes")),
        "{summaries:?}"
    );
    assert_eq!(
        feed.entries
            .iter()
            .filter(|e| e.title.starts_with("New pledge"))
            .count(),
        3,
        "ada's three pledges"
    );
    assert!(
        !feed.entries.iter().any(|e| e.title.starts_with("payout")),
        "not ada's"
    );

    let (status, _, body) = site.get(&format!("/creators/{xss}/feed.atom")).await;
    assert_eq!(status, 200);
    assert!(!body.contains("<script>"), "the name is escaped in XML");
    let feed: atom_syndication::Feed = body.parse().expect("valid Atom");
    assert_eq!(feed.title.as_str(), format!("{XSS_NAME} on pledgeroll"));

    let (status, _, _) = site.get("/creators/tz1nobody/feed.atom").await;
    assert_eq!(status, 400);

    // A pledge's entries keep the terms of their own event: cy's pledge #1
    // moves to 0.2 usd a day, and its first entry still says 0.1.
    let mut site = site;
    site.advance(
        60,
        &[],
        vec![(
            CY,
            Operation::ChangePledge {
                pledge: pledgeroll_contracts::PledgeId(1),
                tier: TierId(1),
                amount: Some(200_000),
            },
        )],
    )
    .await;
    let (_, _, body) = site.get(&format!("/creators/{ada}/feed.atom")).await;
    let feed: atom_syndication::Feed = body.parse().expect("valid Atom");
    let titles: Vec<&str> = feed.entries.iter().map(|e| e.title.as_str()).collect();
    assert!(
        titles.contains(&"New pledge #1: 0.1 usd per day"),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"Pledge #1 changed to 0.2 usd per day"),
        "{titles:?}"
    );
    site.stop().await;
}

/// A creator's income by day runs to the indexed level's day, streams
/// included on days nothing settled them.
async fn income_exports_by_day(backend: Backend) {
    let site = Site::start(backend).await;
    let ada = site.addr(ADA);
    let (status, kind, body) = site.get(&format!("/creators/{ada}/income.csv")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(kind, "text/csv; charset=utf-8");
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some(
            "date,asset_id,asset,streamed_in,tips_in,transfers_in,payouts_in,funding_in,\
             refunds_in,income,monthly_income"
        )
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let about = site.json("/api/v1/about").await;
    let head_time = about["head"]["level_time"].as_i64().expect("a head time");
    let day = |d: i64| pledgeroll_contracts::units::format_date(d);
    let today = head_time.div_euclid(86_400);
    let tez: Vec<&Vec<&str>> = rows.iter().filter(|r| r[1] == "0").collect();
    assert_eq!(
        tez.last().map(|r| r[0].to_owned()),
        Some(day(today)),
        "{body}"
    );
    // Yesterday only bob streamed (5 tez a month): nothing settled it.
    let yesterday = tez
        .iter()
        .find(|r| r[0] == day(today - 1))
        .unwrap_or_else(|| panic!("no row for yesterday: {body}"));
    assert_eq!(yesterday[3], "0.166666", "{body}");
    assert_eq!(yesterday[9], "0.166666", "{body}");
    // The tip is income on its day.
    assert!(tez.iter().any(|r| r[4] == "1"), "{body}");
    let (status, _, _) = site.get("/creators/tz1nobody/income.csv").await;
    assert_eq!(status, 400);
    let (status, _, _) = site
        .get("/creators/tz1Ke2h7sDdakHJQh8WX4Z372du1KChsksyU/income.csv")
        .await;
    assert_eq!(status, 404);
    site.stop().await;
}

/// An account's alerts, in words, from the API and its Atom feed.
async fn accounts_read_their_alerts(backend: Backend) {
    let site = Site::start(backend).await;
    let (ada, bob, cy, dry) = (
        site.addr(ADA),
        site.addr(BOB),
        site.addr(CY),
        site.addr(DRY),
    );
    let page = site.json(&format!("/api/v1/accounts/{ada}/alerts")).await;
    let kinds: Vec<&str> = page["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|a| a["kind"].as_str().expect("kind"))
        .collect();
    // Newest first: the second invoice, the dry patron, the first invoice
    // approved (by ada) and raised (by cy), then the tip and the pledges.
    assert_eq!(
        kinds,
        vec![
            "invoice_raised",
            "patron_ran_dry",
            "invoice_approved",
            "invoice_raised",
            "tip_received",
            "pledge_started",
            "pledge_started",
            "pledge_started",
        ],
        "{page}"
    );
    let alerts = page["alerts"].as_array().expect("alerts");
    let tip = &alerts[4];
    assert_eq!(tip["counterparty"], bob.as_str());
    assert_eq!(tip["amount"], "1000000");
    assert_eq!(
        tip["title"].as_str().expect("title"),
        format!("Tip from {}…{}: 1 tez", &bob[..8], &bob[bob.len() - 4..])
    );
    let dry_alert = &alerts[1];
    assert_eq!(dry_alert["counterparty"], dry.as_str());
    assert!(
        dry_alert["text"]
            .as_str()
            .expect("text")
            .contains("(5 tez per month) stopped streaming"),
        "{dry_alert}"
    );
    assert_eq!(alerts[0]["link"], "/projects/0");
    // The dry patron hears that their pledge stopped; the beneficiary that
    // the invoice paid.
    let theirs = site.json(&format!("/api/v1/accounts/{dry}/alerts")).await;
    assert_eq!(theirs["alerts"][0]["kind"], "pledge_ran_dry", "{theirs}");
    let cys = site.json(&format!("/api/v1/accounts/{cy}/alerts")).await;
    assert!(
        cys["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .any(|a| a["kind"] == "invoice_paid" && a["amount"] == "3000000"),
        "{cys}"
    );
    // Pages of two walk the same alerts.
    let mut walked = Vec::new();
    let mut path = format!("/api/v1/accounts/{ada}/alerts?limit=2");
    loop {
        let page = site.json(&path).await;
        walked.extend(
            page["alerts"]
                .as_array()
                .expect("alerts")
                .iter()
                .map(|a| a["id"].as_str().expect("id").to_owned()),
        );
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/accounts/{ada}/alerts?limit=2&before={next}"),
            None => break,
        }
    }
    let all: Vec<String> = alerts
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(walked, all);
    // The Atom feed says the same.
    let (status, kind, body) = site.get(&format!("/accounts/{ada}/feed.atom")).await;
    assert_eq!(status, 200);
    assert_eq!(kind, "application/atom+xml; charset=utf-8");
    let feed: atom_syndication::Feed = body.parse().expect("valid Atom");
    assert_eq!(feed.entries.len(), all.len());
    assert!(feed
        .entries
        .iter()
        .all(|e| e.id.starts_with("urn:pledgeroll:alert:")));
    assert!(feed
        .entries
        .iter()
        .any(|e| e.title.as_str().starts_with("Tip from ")));
    let (status, _, _) = site.get("/accounts/ada/feed.atom").await;
    assert_eq!(status, 400);
    site.stop().await;
}

on_both!(the_ledger_exports_as_csv: sqlite_the_ledger_exports_as_csv, postgres_the_ledger_exports_as_csv);
on_both!(atom_feeds_carry_the_activity: sqlite_atom_feeds_carry_the_activity, postgres_atom_feeds_carry_the_activity);
on_both!(income_exports_by_day: sqlite_income_exports_by_day, postgres_income_exports_by_day);
on_both!(accounts_read_their_alerts: sqlite_accounts_read_their_alerts, postgres_accounts_read_their_alerts);
