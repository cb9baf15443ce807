//! Every durable-storage path the kernel reads or writes, in one module.
//!
//! `docs/state-layout.md` describes the same paths, with their encodings,
//! for indexers and auditors; keep the two in step.

use tezos_smart_rollup_host::path::{OwnedPath, PathError, RefPath};

/// Everything the kernel keeps lives under this path.
pub const ROOT: RefPath<'static> = RefPath::assert_from(b"/pledgeroll");

/// The layout version of everything under [`ROOT`] (`u32`, little-endian).
pub const LAYOUT: RefPath<'static> = RefPath::assert_from(b"/pledgeroll/layout");

/// The layout version this kernel writes and reads.
pub const LAYOUT_VERSION: u32 = 1;

/// The prefix of the protocol's own keys (`pledgeroll_contracts::keys`).
pub const STATE: &str = "/pledgeroll/state";

/// The head and tail of the outbox queue (two `u64`, little-endian).
pub const OUTBOX_QUEUE: RefPath<'static> = RefPath::assert_from(b"/pledgeroll/outbox/queue");

/// The current level's record, replaced at every level. A level that takes
/// several kernel runs adds to it at the end of each run.
pub const LEVEL: RefPath<'static> = RefPath::assert_from(b"/pledgeroll/level");

/// The level the record describes (`u32`, little-endian).
pub const LEVEL_NUMBER: RefPath<'static> = RefPath::assert_from(b"/pledgeroll/level/number");

/// The level's events (`u32` count, then canonical events).
pub const LEVEL_EVENTS: RefPath<'static> = RefPath::assert_from(b"/pledgeroll/level/events");

/// The level's operation receipts (`u32` count, then canonical receipts).
pub const LEVEL_RECEIPTS: RefPath<'static> = RefPath::assert_from(b"/pledgeroll/level/receipts");

/// The level's notices about inbox messages the kernel could not use
/// (`u32` count, then notices).
pub const LEVEL_NOTICES: RefPath<'static> = RefPath::assert_from(b"/pledgeroll/level/notices");

/// The protocol's state hash after the level, or after the level's latest
/// run while it is unfinished (32 bytes).
pub const LEVEL_STATE_HASH: RefPath<'static> =
    RefPath::assert_from(b"/pledgeroll/level/state_hash");

/// Present only when the level aborted: why, as UTF-8 text.
pub const LEVEL_FAULT: RefPath<'static> = RefPath::assert_from(b"/pledgeroll/level/fault");

/// Present only between two runs of an unfinished level: where the level
/// stands ([`crate::record::Progress`]). The level's last run removes it.
pub const LEVEL_PROGRESS: RefPath<'static> = RefPath::assert_from(b"/pledgeroll/level/progress");

/// The kernel the rollup runs. The kernel never writes it: there is no
/// upgrade path.
pub const KERNEL_BOOT: RefPath<'static> = RefPath::assert_from(crate::pvm::KERNEL_BOOT.as_bytes());

/// The durable path of a protocol key such as `/accounts/tz1…`.
pub fn state(key: &str) -> Result<OwnedPath, PathError> {
    if !key.starts_with('/') {
        return Err(PathError::InvalidStart);
    }
    OwnedPath::try_from(format!("{STATE}{key}"))
}

/// The `n`th message of the outbox queue.
pub fn outbox_entry(n: u64) -> Result<OwnedPath, PathError> {
    OwnedPath::try_from(format!("/pledgeroll/outbox/{n}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tezos_smart_rollup_host::path::Path;

    #[test]
    fn protocol_keys_land_under_the_state_prefix() {
        let path = state("/accounts/tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx/pledges").unwrap();
        assert_eq!(
            path.as_bytes(),
            b"/pledgeroll/state/accounts/tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx/pledges"
        );
        assert_eq!(
            outbox_entry(7).unwrap().as_bytes(),
            b"/pledgeroll/outbox/7".as_slice()
        );
    }

    #[test]
    fn keys_outside_the_durable_alphabet_are_refused() {
        assert!(state("/accounts/a b").is_err());
        assert!(state("accounts").is_err());
        assert!(state(&format!("/{}", "x".repeat(250))).is_err());
    }
}
