//! The `pledgeroll-sandbox` binary: one-line errors a person can act on, and
//! no level reported done lost to `kill -9`.

#![allow(clippy::indexing_slicing, clippy::panic)]

#[path = "../../sandbox/tests/common/mod.rs"]
mod common;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use pledgeroll_sandbox::{start, KernelSource};

fn sandbox_command(data_dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pledgeroll-sandbox"));
    c.arg("run")
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Runs the binary to its end; returns its stderr, which must be one line.
fn fails_with(mut command: Command) -> String {
    let out = command.output().expect("the binary runs");
    assert!(!out.status.success(), "it should fail");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).expect("UTF-8");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("pledgeroll-sandbox: "), "{stderr}");
    stderr
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn a_missing_or_invalid_kernel_is_explained_in_one_line() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut c = sandbox_command(&dir.path().join("data"));
    c.arg("--rpc-addr").arg("127.0.0.1:0");
    c.arg("--kernel").arg(dir.path().join("missing.wasm"));
    let e = fails_with(c);
    assert!(
        e.contains("missing.wasm") && e.contains("scripts/build-kernel"),
        "{e}"
    );

    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"not a kernel").expect("write");
    let mut c = sandbox_command(&dir.path().join("data"));
    c.arg("--rpc-addr").arg("127.0.0.1:0");
    c.arg("--kernel").arg(&junk);
    let e = fails_with(c);
    assert!(
        e.contains("junk.wasm is not a kernel this sandbox can run"),
        "{e}"
    );
}

#[test]
fn a_busy_port_is_explained_in_one_line() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let busy = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("address");
    let mut c = sandbox_command(dir.path());
    c.arg("--native").arg("--rpc-addr").arg(addr.to_string());
    let e = fails_with(c);
    assert!(
        e.contains(&format!("cannot listen on {addr}")) && e.contains("--rpc-addr"),
        "{e}"
    );
}

#[test]
fn a_corrupt_data_directory_is_explained_in_one_line() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("sandbox.redb"), vec![0x5a; 8192]).expect("write");
    let mut c = sandbox_command(dir.path());
    c.arg("--native")
        .arg("--rpc-addr")
        .arg(format!("127.0.0.1:{}", free_port()));
    let e = fails_with(c);
    assert!(e.contains("data directory") && e.contains("remove"), "{e}");
}

#[tokio::test]
async fn kill_9_loses_no_level_reported_done() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let port = free_port();
    let mut c = sandbox_command(dir.path());
    c.arg("--native")
        .arg("--block-time")
        .arg("0.05")
        .arg("--rpc-addr")
        .arg(format!("127.0.0.1:{port}"));
    let mut child = c.spawn().expect("the sandbox starts");
    let api = Api::new(&format!("http://127.0.0.1:{port}"));
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut reported = Vec::new();
    while reported.len() < 3 {
        assert!(Instant::now() < deadline, "the sandbox made no levels");
        let url = format!("{}/global/block/head", api.base());
        if let Ok(res) = client.get(&url).send().await {
            if let Ok(block) = res.json::<serde_json::Value>().await {
                let level = block["level"].as_u64().expect("a level");
                let hash = block["state_hash"].as_str().expect("a hash").to_owned();
                if reported.last().is_none_or(|(l, _)| *l != level) {
                    reported.push((level, hash));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    let running = start(config(dir.path(), KernelSource::Native))
        .await
        .expect("restarts");
    let api = Api::new(&running.url());
    let head = u64::from(api.head().await);
    for (level, hash) in &reported {
        assert!(
            *level <= head,
            "level {level} was reported and is gone (head {head})"
        );
        assert_eq!(&api.state_hash(&level.to_string()).await, hash);
    }
    running.stop().await.expect("stops");
}
