//! How the directory runs over the scenario's mirror: its connection to the
//! mirror is read-only, on SQLite and on Postgres, and the
//! `pledgeroll-directory` command serves the same directory.

#![allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]

#[path = "../../indexer/tests/common/mod.rs"]
mod common;
#[macro_use]
mod site;

use pledgeroll_directory::store::{Count, Store};
use pledgeroll_indexer::Backend;
use serde_json::Value;
use site::Site;

async fn the_directory_cannot_write(backend: Backend) {
    let site = Site::start(backend).await;
    let store = Store::open(&site.db.config.url, site.db.config.schema.as_deref())
        .await
        .expect("opens");
    let wrote = store
        .all::<Count>("DELETE FROM creators RETURNING CAST(1 AS BIGINT) AS n", &[])
        .await;
    let refused = wrote.expect_err("a read-only mirror refuses the write");
    let message = refused.to_string();
    assert!(
        message.contains("read-only") || message.contains("readonly"),
        "{message}"
    );
    let left: Option<Count> = store
        .one("SELECT COUNT(*) AS n FROM creators", &[])
        .await
        .expect("reads");
    assert_eq!(left.map(|c| c.n), Some(3));
    store.close().await;
    site.stop().await;
}

on_both!(the_directory_cannot_write: sqlite_the_directory_cannot_write, postgres_the_directory_cannot_write);

/// The `pledgeroll-directory` command serves the same directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_command_serves_the_mirror() {
    let site = Site::start(Backend::Sqlite).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pledgeroll-directory"))
        .args([
            "--database-url",
            &site.db.config.url,
            "--addr",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let url = format!("http://127.0.0.1:{port}/api/v1/totals");
    let mut answer = None;
    for _ in 0..300 {
        if let Ok(r) = reqwest::get(&url).await {
            answer = Some(r.json::<Value>().await.expect("JSON"));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let totals = answer.expect("the directory command answers within 30 s");
    assert_eq!(totals["creators"], 3);
    assert_eq!(totals["level"], 6);
    site.stop().await;
}
