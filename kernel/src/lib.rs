//! The pledgeroll smart-rollup kernel: a thin adapter between the rollup
//! host and the protocol in `pledgeroll-contracts`.
//!
//! Each level the kernel begins the protocol's level at the layer-1 time,
//! applies the batches of signed operations sent to this rollup and the
//! ticket deposits, records the level's events and receipts where the rollup
//! node's RPC can read them, and sends withdrawals back to layer 1 through
//! the outbox. A level too big for one kernel run is spread over several
//! runs within the same level, by reboot ([`budget`]). It has no
//! administrator and no upgrade path: it never writes `/kernel/boot.wasm`,
//! and only signed operations change accounts.
//!
//! Durable paths and the level record's codec are in
//! `pledgeroll-interface`, which readers of the rollup share;
//! `docs/state-layout.md` gives their encodings.

pub mod budget;
pub mod durable;
pub mod error;
pub mod inbox;
mod kernel;
pub mod level;
pub mod outbox;

pub use durable::DurableStore;
pub use error::Abort;
pub use kernel::run;

#[cfg(target_arch = "wasm32")]
tezos_smart_rollup_entrypoint::kernel_entry!(run);
