//! The pledgeroll wallet as a library: keys and an encrypted keystore,
//! social backup of keys, amounts in people's units, and every step of
//! sending an operation (build, sign, frame, inject, wait for the receipt)
//! and reading the rollup's state over a rollup node's RPC.
//!
//! The `pledgeroll` command-line wallet is a thin layer over this crate.

pub mod assets;
pub mod backup;
pub mod deposit;
pub mod facts;
pub mod keystore;
pub mod request;
pub mod sandbox;
pub mod wallet;

pub use assets::{AssetBook, AssetInfo};
pub use keystore::{Keystore, KeystoreError};
pub use pledgeroll_interface::{node, Node, NodeError};
pub use request::{Request, RequestError};
pub use wallet::{assemble, PublicKeyOrAddress, Submitted, Unsigned, Wallet, WalletError};
