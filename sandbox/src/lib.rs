//! A local rollup node for pledgeroll developers.
//!
//! The sandbox runs the real kernel — `kernel.wasm` in wasmtime with the
//! `smart_rollup_core` host functions, or the kernel linked in natively —
//! over a simulated layer 1 (levels on a timer or on demand, a clock that
//! can jump, ticket deposits from simulated ticketers, outbox execution),
//! keeps durable storage for every level on disk, and serves the RPC of
//! `octez-smart-rollup-node`, so that the wallet and the indexer work
//! against either unchanged.
//!
//! - [`start`] runs a sandbox in-process on a free port; [`SandboxConfig`]
//!   says how.
//! - [`accounts::BOOTSTRAP_ACCOUNTS`] are Octez's `bootstrap1`…`5`, funded
//!   on the rollup at the first level with the [`assets::ASSETS`].
//! - The `pledgeroll-sandbox` binary, and `up` with the indexer and the
//!   directory beside the node, are the `pledgeroll-devstack` crate.
//! - [`host::HostState`] holds the host semantics once; [`wasm`] and
//!   [`native`] put the kernel on top of it.

pub mod accounts;
pub mod assets;
pub mod b58;
pub mod durable;
pub mod host;
pub mod inbox;
pub mod micheline;
pub mod native;
pub mod node;
pub mod outbox;
pub mod pvm;
pub mod rollup;
pub mod rpc;
pub mod store;
pub mod wasm;

/// Where `scripts/build-kernel` writes `kernel.wasm`, from the workspace
/// root.
pub const KERNEL_WASM: &str = "target/kernel/kernel.wasm";

/// `kernel.wasm` of the workspace at `workspace`, built first with its
/// `scripts/build-kernel` if it is missing (for tests and benchmarks).
pub fn kernel_wasm_or_build(workspace: &std::path::Path) -> Result<Vec<u8>, String> {
    let path = workspace.join(KERNEL_WASM);
    if !path.exists() {
        let script = workspace.join("scripts/build-kernel");
        let status = std::process::Command::new(&script)
            .current_dir(workspace)
            .status()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !status.success() {
            return Err(format!(
                "{} failed ({status}); kernel.wasm is needed at {}",
                script.display(),
                path.display()
            ));
        }
    }
    std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

pub use node::{start, web_origin, RunningSandbox, Sandbox, SandboxConfig, SandboxError};
pub use rollup::{KernelSource, Rollup, RollupConfig, RollupError};
