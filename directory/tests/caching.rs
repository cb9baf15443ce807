//! The directory's kept answers over the scenario's mirror, on SQLite and
//! on Postgres: ETags, Last-Modified and 304s; a new level dropping what was
//! kept; and the income sort's pages, read from its index, visiting every
//! creator once and in order as new levels add creators.

#![allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]

#[path = "../../indexer/tests/common/mod.rs"]
mod common;
#[macro_use]
mod site;

use pledgeroll_directory::store::Store;
use pledgeroll_indexer::Backend;
use site::{pledge, profile, tier, Site, ADA, BOB, GRACE, TEZ, TEZ_TICKETER};

/// A header's value as text, empty when absent.
fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn answers_carry_validators_and_an_etag_asked_again_is_not_modified(backend: Backend) {
    let site = Site::start(backend).await;
    let ada = site.addr(ADA);
    let bob = site.addr(BOB);
    for path in [
        format!("/creators/{ada}"),
        "/creators?sort=income".to_owned(),
        format!("/ledger.csv?account={bob}"),
        "/feed.atom".to_owned(),
        format!("/api/v1/creators/{ada}"),
        "/api/v1/creators?sort=income&limit=2".to_owned(),
    ] {
        let (status, first, body) = site.get_with(&path, &[]).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        let etag = header(&first, "etag").to_owned();
        assert!(
            etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'),
            "GET {path}: a strong ETag, got {etag:?}"
        );
        assert_eq!(
            header(&first, "cache-control"),
            "public, max-age=5",
            "GET {path}"
        );
        let modified = header(&first, "last-modified");
        assert!(
            chrono::DateTime::parse_from_rfc2822(modified).is_ok() && modified.ends_with(" GMT"),
            "GET {path}: Last-Modified is an HTTP date, got {modified:?}"
        );
        assert_eq!(header(&first, "x-content-type-options"), "nosniff");

        let (status, again, rest) = site.get_with(&path, &[("if-none-match", &etag)]).await;
        assert_eq!(status, 304, "GET {path} with its ETag: {rest}");
        assert!(rest.is_empty(), "a 304 has no body: {rest}");
        assert_eq!(header(&again, "etag"), etag);
        assert_eq!(header(&again, "cache-control"), "public, max-age=5");
        assert_eq!(header(&again, "last-modified"), modified);

        let (status, _, same) = site
            .get_with(&path, &[("if-none-match", "\"another\", W/\"tag\"")])
            .await;
        assert_eq!(status, 200, "GET {path} with other tags");
        assert_eq!(same, body, "the kept answer is the answer");
    }

    // The API's answers keep their CORS header, kept or not modified.
    for asked in [vec![], vec![("if-none-match", "*")]] {
        let mut headers = vec![("origin", "https://elsewhere.example")];
        headers.extend(asked);
        let (_, answer, _) = site
            .get_with(&format!("/api/v1/creators/{ada}"), &headers)
            .await;
        assert_eq!(header(&answer, "access-control-allow-origin"), "*");
    }

    // A HEAD carries the GET's validators and no body.
    let page = format!("/creators/{ada}");
    let (_, got, _) = site.get_with(&page, &[]).await;
    let head = site
        .client
        .head(format!("{}{page}", site.directory.url()))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(header(head.headers(), "etag"), header(&got, "etag"));
    assert!(head.text().await.expect("body").is_empty());

    // Pages keep their Content-Security-Policy when answered from the cache.
    let (_, kept, _) = site.get_with(&page, &[]).await;
    assert!(header(&kept, "content-security-policy").contains("script-src 'self'"));

    // Errors are neither kept nor validated.
    let (status, missing, _) = site
        .get_with("/creators/tz1Ke2h7sDdakHJQh8WX4Z372du1KChsksyU", &[])
        .await;
    assert_eq!(status, 404);
    assert!(missing.get("etag").is_none() && missing.get("last-modified").is_none());
    let (status, bad, _) = site.get_with("/api/v1/creators?limit=0", &[]).await;
    assert_eq!(status, 400);
    assert!(bad.get("etag").is_none());

    // The stylesheet and scripts: validators, and longer to keep.
    for path in ["/static/style.css", "/static/wallet.js"] {
        let (status, first, _) = site.get_with(path, &[]).await;
        assert_eq!(status, 200);
        assert_eq!(header(&first, "cache-control"), "public, max-age=3600");
        let etag = header(&first, "etag").to_owned();
        assert!(etag.starts_with('"'), "{path}: {etag:?}");
        let (status, _, body) = site.get_with(path, &[("if-none-match", &etag)]).await;
        assert_eq!((status, body.as_str()), (304, ""), "{path}");
    }
    site.stop().await;
}

async fn a_new_level_drops_the_kept_answers(backend: Backend) {
    let mut site = Site::start(backend).await;
    let grace = site.addr(GRACE);
    let page = format!("/creators/{grace}");
    let before = site.page(&page).await;
    assert!(
        before.contains("indexed level 6") && !before.contains("Compilers club"),
        "{before}"
    );
    let (_, first, _) = site.get_with(&page, &[]).await;
    let etag = header(&first, "etag").to_owned();
    let api = format!("/api/v1/creators/{grace}");
    assert_eq!(
        site.json(&api).await["tiers"].as_array().map(Vec::len),
        Some(0)
    );
    let totals = site.json("/api/v1/totals").await;
    assert_eq!(totals["level"], 6);

    site.advance(
        60,
        &[],
        vec![(
            GRACE,
            tier("Compilers club", TEZ, 2_000_000, 2_592_000, None),
        )],
    )
    .await;
    site.advance(60, &[], vec![(BOB, pledge(3))]).await;

    let (status, now, after) = site.get_with(&page, &[("if-none-match", &etag)]).await;
    assert_eq!(status, 200, "the page changed with the level: {after}");
    assert_ne!(header(&now, "etag"), etag);
    assert!(
        after.contains("indexed level 8") && after.contains("Compilers club"),
        "{after}"
    );
    assert!(after.contains("1 active patron"), "{after}");
    let v = site.json(&api).await;
    assert_eq!(v["tiers"][0]["title"], "Compilers club");
    assert_eq!(v["creator"]["active_patrons"], 1);
    assert_eq!(site.json("/api/v1/totals").await["level"], 8);
    let by_income = site.json("/api/v1/creators?sort=income").await;
    let incomes: Vec<(String, i64)> = by_income["creators"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_owned(),
                c["income"].as_i64().expect("income"),
            )
        })
        .collect();
    assert_eq!(
        incomes[1],
        ("Grace Hopper".to_owned(), 2_000_000),
        "now second by income, after ada: {incomes:?}"
    );
    site.stop().await;
}

/// Every creator, as the income sort ordered them before it read the
/// index: the reference the paginated walk is checked against.
async fn income_order_by_scanning(site: &Site, asset: i64, pattern: &str) -> Vec<(i64, String)> {
    use pledgeroll_directory::store::{CreatorSummary, Param};
    let store = Store::open(&site.db.config.url, site.db.config.schema.as_deref())
        .await
        .expect("opens");
    let rows: Vec<CreatorSummary> = store
        .all(
            "SELECT c.address, c.name, c.description, c.paused, c.patrons, c.active_patrons, \
             c.created_level, CAST(COALESCE(b.monthly_in_units, 0) AS BIGINT) AS income \
             FROM creators c LEFT JOIN balances b ON b.holder = c.address AND b.asset_id = $1 \
             WHERE c.name_lower LIKE $2 ORDER BY COALESCE(b.monthly_in_units, 0) DESC, c.address",
            &[Param::Int(asset), Param::Text(pattern.to_owned())],
        )
        .await
        .expect("reads");
    store.close().await;
    rows.into_iter().map(|c| (c.income, c.address)).collect()
}

/// Follows `next` from the first page of `/api/v1/creators?{query}` to the
/// last: every creator listed, in order.
async fn walk_creators(site: &Site, query: &str) -> Vec<(i64, String)> {
    let mut seen = Vec::new();
    let mut path = format!("/api/v1/creators?{query}");
    for _ in 0..100 {
        let page = site.json(&path).await;
        for c in page["creators"].as_array().expect("list") {
            seen.push((
                c["income"].as_i64().expect("income"),
                c["address"].as_str().expect("address").to_owned(),
            ));
        }
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/creators?{query}&after={next}"),
            None => return seen,
        }
    }
    panic!("no last page after 100 pages of {query}");
}

async fn income_sort_pages_visit_every_creator_once_in_order(backend: Backend) {
    let mut site = Site::start(backend).await;
    // Five more creators: two earning more than ada, one earning as much
    // as the hostile name's creator, one with a tier nobody took and one
    // with a profile alone; grace has a balance but no income.
    let extra: Vec<usize> = (31..36).map(|seed| site.newcomer(seed)).collect();
    let patrons: Vec<usize> = (41..44).map(|seed| site.newcomer(seed)).collect();
    let mut ops = Vec::new();
    for (n, who) in extra.iter().enumerate() {
        ops.push((*who, profile(&format!("Extra {n}"), "more", &[])));
    }
    ops.push((extra[0], tier("Three", TEZ, 3_000_000, 2_592_000, None)));
    ops.push((extra[1], tier("One", TEZ, 1_000_000, 2_592_000, None)));
    ops.push((extra[2], tier("Three too", TEZ, 3_000_000, 2_592_000, None)));
    ops.push((extra[3], tier("Untaken", TEZ, 9_000_000, 2_592_000, None)));
    let deposits: Vec<_> = patrons
        .iter()
        .map(|p| (*p, TEZ_TICKETER, 100_000_000))
        .collect();
    site.advance(60, &deposits, ops).await;
    site.advance(
        60,
        &[],
        vec![
            (patrons[0], pledge(3)),
            (patrons[2], pledge(3)),
            (patrons[1], pledge(4)),
            (patrons[1], pledge(5)),
        ],
    )
    .await;

    let everyone = income_order_by_scanning(&site, 0, "%").await;
    assert_eq!(everyone.len(), 8, "{everyone:?}");
    let incomes: Vec<i64> = everyone.iter().map(|(income, _)| *income).collect();
    assert_eq!(
        incomes,
        vec![6_000_000, 5_000_000, 3_000_000, 1_000_000, 1_000_000, 0, 0, 0],
        "two tied at 1 tez and three earning nothing: {everyone:?}"
    );
    for limit in [1, 2, 3, 7, 100] {
        let walked = walk_creators(&site, &format!("sort=income&asset=0&limit={limit}")).await;
        assert_eq!(walked, everyone, "pages of {limit}");
    }
    // In the other asset only ada earns; everyone else follows by address.
    let usd = income_order_by_scanning(&site, 1, "%").await;
    assert_eq!(usd[0].1, site.addr(ADA));
    assert!(usd[1..].iter().all(|(income, _)| *income == 0));
    assert_eq!(
        walk_creators(&site, "sort=income&asset=1&limit=2").await,
        usd
    );
    // A search walks the same order over the creators it matches.
    let matching = income_order_by_scanning(&site, 0, "%r%").await;
    assert_eq!(matching.len(), 7, "all but Ada Lovelace: {matching:?}");
    assert_eq!(
        walk_creators(&site, "sort=income&asset=0&limit=2&q=R").await,
        matching
    );
    // The pages follow the same cursors.
    let first = site.page("/creators?sort=income&limit=2").await;
    assert!(
        first.contains(&format!("after={}.{}", everyone[1].0, everyone[1].1)),
        "{first}"
    );
    site.stop().await;
}

on_both!(answers_carry_validators_and_an_etag_asked_again_is_not_modified: sqlite_answers_carry_validators_and_an_etag_asked_again_is_not_modified, postgres_answers_carry_validators_and_an_etag_asked_again_is_not_modified);
on_both!(a_new_level_drops_the_kept_answers: sqlite_a_new_level_drops_the_kept_answers, postgres_a_new_level_drops_the_kept_answers);
on_both!(income_sort_pages_visit_every_creator_once_in_order: sqlite_income_sort_pages_visit_every_creator_once_in_order, postgres_income_sort_pages_visit_every_creator_once_in_order);
