//! The two ways a step can fail: the operation was refused (a receipt says
//! why and the level goes on), or the state or storage is broken (the level
//! aborts).

use thiserror::Error;

use crate::asset::AssetId;
use crate::crypto::Address;
use crate::encoding::DecodeError;
use crate::state::{PledgeId, ProjectId, TierId};
use crate::store::StoreError;
use crate::text::TextRefusal;

/// A failure that aborts the level: storage failed, or stored data broke an
/// invariant. Never caused by an operation's content.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Fault {
    /// The storage backend failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored value does not decode.
    #[error("stored value at {key} is corrupt: {error}")]
    Corrupt {
        /// Its path.
        key: String,
        /// The decoding error.
        error: DecodeError,
    },
    /// Stored values contradict each other.
    #[error("inconsistent state: {0}")]
    Inconsistent(&'static str),
}

/// Why an operation was refused. Shown to the signer in its receipt.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Rejection {
    /// The signature is not over the operation's statement for this rollup
    /// at the signer's next nonce.
    #[error(
        "the signature is not over this operation's statement on this rollup at the signer's next nonce, {nonce}"
    )]
    BadSignature {
        /// The signer's next nonce, which the statement names.
        nonce: u64,
    },
    /// The operation names a record that does not exist, so it has no
    /// statement to sign.
    #[error("the operation names {0}, which does not exist")]
    Unknown(String),
    /// No asset has this id.
    #[error("unknown asset {0}")]
    UnknownAsset(AssetId),
    /// No tier has this id.
    #[error("unknown tier {0}")]
    UnknownTier(TierId),
    /// No pledge has this id.
    #[error("unknown pledge {0}")]
    UnknownPledge(PledgeId),
    /// No project has this id.
    #[error("unknown project {0}")]
    UnknownProject(ProjectId),
    /// The tier takes no new pledges.
    #[error("tier {0} is retired")]
    TierRetired(TierId),
    /// The tier has as many patrons as its limit.
    #[error("tier {0} is full")]
    TierFull(TierId),
    /// The signer is not the tier's creator.
    #[error("tier {0} belongs to another creator")]
    NotYourTier(TierId),
    /// The signer is not the pledge's patron.
    #[error("pledge {0} belongs to another patron")]
    NotYourPledge(PledgeId),
    /// The pledge is over.
    #[error("pledge {0} has ended")]
    PledgeEnded(PledgeId),
    /// The pledge is not paused.
    #[error("pledge {0} is not paused")]
    PledgeNotPaused(PledgeId),
    /// The pledge is not streaming.
    #[error("pledge {0} is not active")]
    PledgeNotActive(PledgeId),
    /// The creator paused their subscription.
    #[error("creator {0} has paused their subscription")]
    CreatorPaused(Address),
    /// The signer has no creator profile yet.
    #[error("{0} has no creator profile; publish one first")]
    NotACreator(Address),
    /// A creator tried to pledge to their own tier.
    #[error("a creator cannot pledge to themselves")]
    SelfPledge,
    /// A pledge can only move between tiers of the same creator.
    #[error("tier {0} belongs to another creator than the pledge's")]
    OtherCreatorsTier(TierId),
    /// Too many tiers.
    #[error("a creator has at most {0} tiers")]
    TooManyTiers(usize),
    /// Too many live pledges.
    #[error("a patron pays at most {0} pledges at once")]
    TooManyPledges(usize),
    /// Not enough balance.
    #[error("insufficient balance in asset {asset}: {available} available, {needed} needed")]
    InsufficientBalance {
        /// The asset.
        asset: AssetId,
        /// Whole base units available.
        available: u128,
        /// Whole base units needed.
        needed: u128,
    },
    /// The balance would not last a single second at the new rates.
    #[error("balance in asset {0} cannot fund the stream; deposit first")]
    CannotFundStream(AssetId),
    /// A pledge amount below the tier's price.
    #[error("amount {amount} is below the tier's price of {price}")]
    BelowPrice {
        /// The amount offered.
        amount: u64,
        /// The tier's price.
        price: u64,
    },
    /// An amount of zero.
    #[error("the amount must be positive")]
    ZeroAmount,
    /// A period outside the accepted range.
    #[error("the period must be between {min} and {max} seconds")]
    InvalidPeriod {
        /// Shortest.
        min: u32,
        /// Longest.
        max: u32,
    },
    /// An end date not after now.
    #[error("the end date is not in the future")]
    EndInPast,
    /// Rates or balances above the protocol's bounds.
    #[error("amount or rate too large")]
    TooLarge,
    /// A text field breaks the text rules ([`crate::text`]).
    #[error(transparent)]
    Text(#[from] TextRefusal),
    /// An operation-specific rule, in words.
    #[error("{0}")]
    Refused(&'static str),
}

/// Either kind of failure, so handlers can use `?` on both.
#[derive(Debug)]
pub(crate) enum Failure {
    Rejected(Rejection),
    Fault(Fault),
}

impl From<Rejection> for Failure {
    fn from(r: Rejection) -> Self {
        Failure::Rejected(r)
    }
}

impl From<Fault> for Failure {
    fn from(f: Fault) -> Self {
        Failure::Fault(f)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Fault(Fault::Store(e))
    }
}
