//! Why a level aborts. A user's bad operation or message never does: it gets
//! a failed receipt or a notice and the level goes on.

use pledgeroll_contracts::Fault;
use thiserror::Error;

/// A failure that stops the level and reverts everything the current kernel
/// run changed; the runs of the level before it stand.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Abort {
    /// The protocol found its storage broken or inconsistent.
    #[error(transparent)]
    Protocol(#[from] Fault),
    /// The host refused a durable-storage call on one of the kernel's paths.
    #[error("durable storage failed at {path}: {reason}")]
    Storage {
        /// The path involved.
        path: String,
        /// What the host reported.
        reason: String,
    },
    /// A withdrawal the protocol produced has no layer-1 form (a ticket of
    /// no units, a bad entrypoint, an implicit destination).
    #[error("cannot build an outbox message: {0}")]
    Outbox(String),
}
