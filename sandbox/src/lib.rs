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
//! - [`stack`] runs the sandbox with the indexer and the directory over
//!   its mirror (`pledgeroll-sandbox up`); [`demo`] fills a fresh rollup
//!   with a believable scenario.
//! - [`host::HostState`] holds the host semantics once; [`wasm`] and
//!   [`native`] put the kernel on top of it.

pub mod accounts;
pub mod assets;
pub mod b58;
pub mod demo;
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
pub mod stack;
pub mod store;
pub mod wasm;

/// Where `scripts/build-kernel` writes `kernel.wasm`, from the workspace
/// root.
pub const KERNEL_WASM: &str = "target/kernel/kernel.wasm";

pub use node::{start, RunningSandbox, Sandbox, SandboxConfig, SandboxError};
pub use rollup::{KernelSource, Rollup, RollupConfig, RollupError};
