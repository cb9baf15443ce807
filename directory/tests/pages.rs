//! The directory's pages over the scenario's mirror, on SQLite and on
//! Postgres: every page on 127.0.0.1, checked for the names, amounts and
//! counts it shows; escaping of what creators write; search strings that
//! look like SQL; and headless Chromium rendering the pages.

#![allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]

#[path = "../../indexer/tests/common/mod.rs"]
mod common;
#[macro_use]
mod site;

use common::chain::ROLLUP;
use pledgeroll_indexer::Backend;
use site::{Site, ADA, BOB, CY, DRY, XSS, XSS_NAME};

async fn pages_show_the_mirror(backend: Backend) {
    let site = Site::start(backend).await;
    let (ada, bob, cy, dry) = (
        site.addr(ADA),
        site.addr(BOB),
        site.addr(CY),
        site.addr(DRY),
    );

    let home = site.page("/").await;
    for want in [
        "3</span> creators",
        "2</span> patrons",
        // 5 + 1 tez a month from bob and cy, 0.1 usd a day from cy.
        "6 tez",
        "3 usd",
        "Ada Lovelace",
        "Grace Hopper",
        "for the notes",
        "/static/style.css",
    ] {
        assert!(home.contains(want), "home lacks {want:?}");
    }
    assert!(!home.contains("<script"), "the home page runs no script");
    // Every page's footer names the rollup, its kernel and the level.
    let level = site.json("/api/v1/about").await["head"]["level"].clone();
    for path in ["/", "/creators", "/projects", "/ledger", "/about"] {
        let page = site.page(path).await;
        assert!(
            page.contains(&format!("Rollup <span class=\"addr\">{ROLLUP}</span>"))
                && page.contains("kernel <span class=\"addr\">not kept by the node</span>")
                && page.contains(&format!("indexed level {level}")),
            "{path}'s footer: {page}"
        );
    }

    let creators = site.page("/creators").await;
    let (a, g) = (
        creators.find("Ada Lovelace").expect("ada listed"),
        creators.find("Grace Hopper").expect("grace listed"),
    );
    assert!(a < g, "most patrons first");
    let found = site.page("/creators?q=grace").await;
    assert!(found.contains("Grace Hopper") && !found.contains("Ada Lovelace"));

    let page = site.page(&format!("/creators/{ada}")).await;
    for want in [
        "Ada Lovelace",
        "notes on the analytical engine",
        "href=\"https://example.org/ada\"",
        "Supporter",
        "5 tez per month",
        "Daily",
        "0.1 usd per day",
        "<svg",
        "Monthly income in tez",
        "for the notes",
        "out of funds",
    ] {
        assert!(page.contains(want), "creator page lacks {want:?}");
    }
    // The income chart runs to the indexed level's day, not to the last
    // change of income; no chart is drawn for an asset without income.
    let about = site.json("/api/v1/about").await;
    let head_time = about["head"]["level_time"].as_i64().expect("a head time");
    let today = pledgeroll_contracts::units::format_date(head_time.div_euclid(86_400));
    assert!(
        page.contains(&format!("text-anchor=\"end\">{today}</text>")),
        "the chart ends on {today}: {page}"
    );
    assert!(!page.contains(">0.000001 "), "no empty chart: {page}");
    // Tier 0 has bob active and the dry patron paused; tier 1 has cy.
    assert_eq!(page.matches("1 active patron<").count(), 1, "{page}");
    assert_eq!(
        page.matches("1 active patron · 1 of 10 places taken")
            .count(),
        1,
        "{page}"
    );
    assert!(page.contains("<span class=\"big\">2</span> active patrons"));

    let patron = site.page(&format!("/patrons/{dry}")).await;
    for want in [
        "<strong>0 tez</strong>",
        "paused",
        "out of funds",
        "5 tez / month",
    ] {
        assert!(
            patron.contains(want),
            "the dry patron's page lacks {want:?}"
        );
    }
    let patron = site.page(&format!("/patrons/{bob}")).await;
    for want in [
        "5 tez / month",
        "Runs out",
        "Pledging 5 tez a month",
        "for the notes",
        "fund",
    ] {
        assert!(patron.contains(want), "bob's page lacks {want:?}");
    }

    let projects = site.page("/projects").await;
    assert!(
        projects.contains("Engine repairs") && projects.contains("7 tez"),
        "{projects}"
    );
    let project = site.page("/projects/0").await;
    for want in [
        "Engine repairs",
        "7 tez",
        "2 of 2",
        "href=\"https://example.org/issues/7\"",
        "replace the gears",
        "unlocks in 1 hour",
        "1 tez",
        "3 tez",
        "paid",
        "10 tez",
        &cy[..8],
        &bob[..8],
    ] {
        assert!(project.contains(want), "project page lacks {want:?}");
    }

    let ledger = site.page(&format!("/ledger?account={bob}&kind=tip")).await;
    assert!(ledger.contains("for the notes"), "{ledger}");
    assert!(
        ledger.contains("<td>tip</td>") && !ledger.contains("<td>deposit</td>"),
        "the kind filter holds"
    );

    // The ledger's form sends its empty fields.
    let all = site.page("/ledger?account=&asset=&kind=").await;
    assert!(all.contains("<td>deposit</td>") && all.contains("<td>tip</td>"));

    let about = site.page("/about").await;
    for want in [
        ROLLUP.to_string().as_str(),
        "no admin key",
        "Indexed level",
        "6 (block",
    ] {
        assert!(about.contains(want), "about lacks {want:?}");
    }

    let (status, kind, css) = site.get("/static/style.css").await;
    assert_eq!((status, kind.as_str()), (200, "text/css; charset=utf-8"));
    assert!(css.contains("font"));

    let (status, kind, body) = site.get("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(
        kind.starts_with("text/html") && body.contains("/static/style.css"),
        "{body}"
    );
    let (status, _, body) = site.get("/projects/99").await;
    assert_eq!(status, 404, "{body}");
    let (status, _, _) = site.get(&format!("/creators/{bob}")).await;
    assert_eq!(status, 404, "bob has no profile");
    site.stop().await;
}

async fn what_creators_write_is_escaped(backend: Backend) {
    let site = Site::start(backend).await;
    let xss = site.addr(XSS);
    let page = site.page(&format!("/creators/{xss}")).await;
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(page.contains("&lt;b&gt;bold&lt;/b&gt; &amp; &lt;img src=x onerror=alert(2)&gt;"));
    // Names are isolated from the text around them, descriptions take
    // their own direction: right-to-left text never reorders the page.
    assert!(
        page.contains("<h1><bdi>&lt;script&gt;alert(1)&lt;/script&gt;</bdi>"),
        "{page}"
    );
    assert!(
        page.contains("<p class=\"desc\" dir=\"auto\">&lt;b&gt;bold"),
        "{page}"
    );
    assert!(!page.contains("<script") && !page.contains("<img") && !page.contains("<b>"));
    assert!(
        page.contains("href=\"https://example.org/?q='onmouseover='alert(3)\"")
            || page.contains("href=\"https://example.org/?q=&#39;onmouseover=&#39;alert(3)\""),
        "the link stays inside its double-quoted attribute: {page}"
    );
    for path in ["/", "/creators", "/creators?q=script"] {
        let body = site.page(path).await;
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
        assert!(!body.contains("<script"), "{path}");
        assert!(
            body.contains("<bdi>&lt;script&gt;alert(1)&lt;/script&gt;</bdi>"),
            "{path}: names are isolated"
        );
    }
    let api = site.json(&format!("/api/v1/creators/{xss}")).await;
    assert_eq!(
        api["creator"]["name"], XSS_NAME,
        "JSON carries the text as written"
    );
    site.stop().await;
}

async fn sql_like_searches_are_only_text(backend: Backend) {
    let site = Site::start(backend).await;
    for (q, want) in [
        ("%27%20OR%201%3D1%20--", 0),
        ("%25", 0),
        ("_", 0),
        ("%5C", 0),
        ("ada", 1),
        ("", 3),
        ("%3Cscript", 1),
    ] {
        let page = site.json(&format!("/api/v1/creators?q={q}")).await;
        assert_eq!(
            page["creators"].as_array().expect("list").len(),
            want,
            "search {q:?}: {page}"
        );
        let (status, _, body) = site.get(&format!("/creators?q={q}")).await;
        assert_eq!(status, 200, "search page {q:?}: {body}");
    }
    site.stop().await;
}

on_both!(pages_show_the_mirror: sqlite_pages_show_the_mirror, postgres_pages_show_the_mirror);
on_both!(what_creators_write_is_escaped: sqlite_what_creators_write_is_escaped, postgres_what_creators_write_is_escaped);
on_both!(sql_like_searches_are_only_text: sqlite_sql_like_searches_are_only_text, postgres_sql_like_searches_are_only_text);

/// Runs headless Chromium on `args`; its standard output.
async fn chromium(profile: &std::path::Path, args: &[String]) -> String {
    let found = std::process::Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "chromium is not installed: the browser test needs it (`apt-get install -y chromium`)"
    );
    let run = tokio::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(90), run)
        .await
        .expect("chromium finishes within 90 s")
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Headless Chromium loads the home, a creator's and a project's pages at
/// a phone's width, renders their key content, and leaves screenshots in
/// `target/directory-screenshots/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_renders_the_pages() {
    let site = Site::start(Backend::Sqlite).await;
    let ada = site.addr(ADA);
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("directory-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    for (name, path, wants) in [
        (
            "home",
            "/".to_owned(),
            vec!["3</span> creators", "Ada Lovelace", "for the notes"],
        ),
        (
            "creator",
            format!("/creators/{ada}"),
            vec![
                "Ada Lovelace",
                "5 tez per month",
                "<svg",
                "Monthly income in tez",
            ],
        ),
        (
            "project",
            "/projects/0".to_owned(),
            vec![
                "Engine repairs",
                "7 tez",
                "unlocks in 1 hour",
                "replace the gears",
            ],
        ),
    ] {
        let url = format!("{}{path}", site.directory.url());
        let profile = tempfile::tempdir().expect("profile");
        let dom = chromium(profile.path(), &["--dump-dom".to_owned(), url.clone()]).await;
        for want in wants {
            assert!(
                dom.contains(want),
                "{name}: the rendered page lacks {want:?}"
            );
        }
        let shot = shots.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&shot);
        let profile = tempfile::tempdir().expect("profile");
        chromium(
            profile.path(),
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=390,2200".to_owned(),
                url,
            ],
        )
        .await;
        let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{name}: no screenshot: {e}"));
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 5_000,
            "{name}: screenshot is empty"
        );
    }
    site.stop().await;
}
