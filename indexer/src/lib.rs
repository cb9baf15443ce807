//! The pledgeroll indexer: follows any rollup node over the Octez
//! rollup-node RPC (the sandbox, or a real `octez-smart-rollup-node`) and
//! mirrors the kernel's state and events into PostgreSQL or SQLite, level
//! by level and exactly.
//!
//! - [`start`] runs an indexer in-process ([`IndexerConfig`] says how);
//!   [`RunningIndexer`] waits for levels and stops it.
//! - [`Mirror`] is the mirror in a database: [`Mirror::apply`] applies a
//!   batch of levels in one transaction, with the cursor;
//!   [`Mirror::revert_to`] undoes levels after a reorganisation.
//! - [`verify()`] compares a mirror with the node's durable state.
//! - [`cli`] is what the command lines over a mirror share; the
//!   directory (crate `pledgeroll-directory`) serves the mirror read-only.
//! - [`rows`] describes every table once; [`schema`] renders that
//!   description as each database's DDL.

pub mod alerts;
pub mod cli;
pub mod db;
pub mod error;
mod indexer;
pub mod metrics;
pub mod mirror;
pub mod notifier;
pub mod rows;
pub mod schema;
pub mod source;
pub mod verify;

pub use db::{Backend, Db, DbConfig};
pub use error::IndexError;
pub use indexer::{start, IndexerConfig, RunningIndexer, Status};
pub use mirror::{Cursor, LevelData, Mirror};
pub use source::{Follow, Source};
pub use verify::{verify, Report};
