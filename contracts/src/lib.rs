//! The pledgeroll protocol as a pure, deterministic state machine.
//!
//! Accounts are Tezos implicit addresses; operations are signed over packed
//! Michelson bytes that name the rollup; value arrives as layer-1 tickets and
//! leaves as withdrawals; creators publish tiers; pledges stream from patrons
//! to payees as exact functions of time, stopped by the protocol itself the
//! moment a patron's balance runs out.
//!
//! No clock, I/O or randomness: the level's time and the operations come in
//! as arguments ([`Protocol::begin_level`], [`Protocol::apply`],
//! [`Protocol::deposit`]) and storage goes through the [`Store`] trait.

pub mod asset;
mod context;
pub mod crypto;
pub mod encoding;
pub mod error;
pub mod escrow;
pub mod event;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod keys;
mod ledger;
pub mod off_rollup;
pub mod operation;
mod patronage;
pub mod protocol;
pub mod schedule;
#[cfg(feature = "signing")]
pub mod signing;
pub mod state;
pub mod statement;
pub mod store;
pub mod stream;
pub mod text;
pub mod units;

pub use asset::{AssetId, Ticket, FINE_PER_UNIT};
pub use crypto::{Address, Contract, PublicKey, RollupAddress, Signature};
pub use encoding::{Decode, DecodeError, Encode};
pub use error::{Fault, Rejection};
pub use event::{Created, Event, Outcome, Receipt, Withdrawal};
pub use operation::{Batch, Operation, SignedOperation, Signer};
pub use protocol::{Applied, Protocol};
pub use state::{Holder, PledgeId, ProjectId, TierId};
pub use store::{MemoryStore, Store, StoreError};
