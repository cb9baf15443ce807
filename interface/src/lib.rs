//! The rollup's interface to the outside world, shared by the kernel that
//! writes it and by everything that reads it (the wallet, the indexer, the
//! sandbox and the directory's stack):
//!
//! - [`paths`]: every durable-storage path the kernel reads or writes;
//! - [`record`]: the codec of each level's record (events, receipts,
//!   notices, state hash);
//! - [`frame`]: the targeted external-message frame operations travel in;
//! - [`pvm`]: what the rollup's PVM fixes (message sizes, outbox limit);
//! - [`rpc`]: the rollup node's RPC paths;
//! - [`retry`]: the pause between attempts at a failing remote call;
//! - `node` (feature `http`): the rollup node's RPC client.
//!
//! Nothing here depends on the kernel: the kernel depends on this crate, so
//! a reader of the rollup never links the kernel.

pub mod frame;
#[cfg(feature = "http")]
pub mod node;
pub mod paths;
pub mod pvm;
pub mod record;
pub mod retry;
pub mod rpc;

#[cfg(feature = "http")]
pub use node::{Node, NodeError};
pub use record::{LevelRecord, Notice, NoticeKind, Progress, RecordError};
pub use retry::Backoff;
