//! `kernel.wasm` as the rollup loads it: it imports nothing but the rollup
//! host's `smart_rollup_core` functions and exports `kernel_run`.
//!
//! The module is read from `target/kernel/kernel.wasm`; when it is missing,
//! `scripts/build-kernel` builds it once, under a lock shared by every test
//! process of the workspace.

// A test stops at the first surprise.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the kernel crate sits in the workspace")
        .to_path_buf()
}

/// How long another process may hold the build lock before it is taken as
/// abandoned: a clean build, std included, takes a few minutes.
const STALE_LOCK: Duration = Duration::from_secs(30 * 60);

/// Builds `kernel.wasm` unless it exists, holding `target/kernel/build.lock`
/// (a directory: creating one is atomic) so concurrent test processes wait
/// for one build instead of starting their own.
fn build_once(wasm: &Path) -> Result<(), String> {
    let root = workspace();
    let lock = root.join("target/kernel/build.lock");
    std::fs::create_dir_all(root.join("target/kernel")).map_err(|e| e.to_string())?;
    let started = Instant::now();
    loop {
        match std::fs::create_dir(&lock) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if wasm.exists() {
                    return Ok(());
                }
                let age = std::fs::metadata(&lock)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok());
                if age.is_some_and(|a| a > STALE_LOCK) {
                    let _ = std::fs::remove_dir(&lock);
                } else if started.elapsed() > STALE_LOCK {
                    return Err(format!("timed out waiting for {}", lock.display()));
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => return Err(format!("cannot create {}: {e}", lock.display())),
        }
    }
    let result = if wasm.exists() {
        Ok(())
    } else {
        Command::new("bash")
            .arg(root.join("scripts/build-kernel"))
            .current_dir(&root)
            .status()
            .map_err(|e| format!("cannot run scripts/build-kernel: {e}"))
            .and_then(|status| {
                if status.success() {
                    Ok(())
                } else {
                    Err(format!("scripts/build-kernel failed ({status})"))
                }
            })
    };
    let _ = std::fs::remove_dir(&lock);
    result
}

fn kernel_wasm() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let wasm = workspace().join("target/kernel/kernel.wasm");
        if !wasm.exists() {
            if let Err(e) = build_once(&wasm) {
                panic!(
                    "{} is missing and building it failed: {e}. Install the wasm32 \
                     toolchain (see shared/reference/wasm-toolchain.md) and run \
                     scripts/build-kernel.",
                    wasm.display()
                );
            }
        }
        std::fs::read(&wasm).unwrap_or_else(|e| panic!("cannot read {}: {e}", wasm.display()))
    })
}

#[test]
fn kernel_wasm_imports_only_the_rollup_host() {
    let mut imports = Vec::new();
    for payload in Parser::new(0).parse_all(kernel_wasm()) {
        if let Payload::ImportSection(section) = payload.unwrap() {
            for import in section.into_imports() {
                let import = import.unwrap();
                imports.push((import.module.to_owned(), import.name.to_owned(), import.ty));
            }
        }
    }
    assert!(
        !imports.is_empty(),
        "a kernel talks to its host through imports"
    );
    for (module, name, ty) in &imports {
        assert_eq!(module, "smart_rollup_core", "import {module}.{name}");
        assert!(matches!(ty, TypeRef::Func(_)), "{name} is not a function");
    }
    let names: Vec<_> = imports.iter().map(|(_, n, _)| n.as_str()).collect();
    for needed in ["read_input", "write_output", "store_read", "store_write"] {
        assert!(names.contains(&needed), "{needed} is not imported");
    }
}

#[test]
fn kernel_wasm_exports_kernel_run() {
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(kernel_wasm()) {
        if let Payload::ExportSection(section) = payload.unwrap() {
            for export in section {
                let export = export.unwrap();
                exports.push((export.name.to_owned(), export.kind));
            }
        }
    }
    assert!(
        exports.contains(&("kernel_run".to_owned(), ExternalKind::Func)),
        "exports: {exports:?}"
    );
}
