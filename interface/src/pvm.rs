//! What the rollup's PVM (`wasm_2_0_0`) fixes for every kernel, from the
//! Octez protocol: the sandbox enforces them and the kernel stays within
//! them.

/// Most outbox messages a rollup can write in one level.
pub const MAX_OUTBOX_PER_LEVEL: usize = 100;

/// The durable path of the kernel the rollup runs, as text
/// ([`crate::paths::KERNEL_BOOT`] as a path). The pledgeroll kernel never
/// writes it.
pub const KERNEL_BOOT: &str = "/kernel/boot.wasm";
