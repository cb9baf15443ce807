//! Operations, their signed envelope and batches of them.
//!
//! A signed operation carries its signer (public key the first time, the
//! account's number afterwards), the operation and a signature over its
//! statement in words ([`crate::statement`]), which names the rollup, the
//! signer and its next nonce. Batches of them travel in targeted external
//! inbox messages.

use crate::asset::AssetId;
use crate::crypto::{blake2b_256, Address, Contract, PublicKey, Signature};
use crate::encoding::{codec_enum, Decode, DecodeError, Encode, List, Reader, Text, Writer};
use crate::escrow::ProjectOperation;
use crate::state::{Holder, PledgeEnd, PledgeId, Profile, TierId, MAX_PERKS, MAX_TITLE};

/// Most payload bytes in one targeted external message (4,096 less framing).
pub const MAX_BATCH_BYTES: usize = 4_074;

/// Most operations in one batch.
pub const MAX_BATCH_OPERATIONS: usize = 64;

/// Longest tip memo, in bytes.
pub const MAX_MEMO: usize = 140;

/// Longest layer-1 entrypoint name (Michelson's limit).
pub const MAX_ENTRYPOINT: usize = 31;

/// Everything an account can ask of the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Pledges to a tier at its price or at `amount` per period if higher.
    Pledge {
        /// The tier.
        tier: TierId,
        /// A higher amount per period than the tier's price, if wanted.
        amount: Option<u64>,
        /// When the pledge ends by itself.
        end: Option<PledgeEnd>,
        /// Most base units the pledge pays in all.
        cap: Option<u64>,
    },
    /// Moves one of the signer's pledges to another tier of the same creator.
    ChangePledge {
        /// The pledge.
        pledge: PledgeId,
        /// The new tier.
        tier: TierId,
        /// A higher amount per period than the new tier's price, if wanted.
        amount: Option<u64>,
    },
    /// Stops a pledge's stream until resumed.
    PausePledge {
        /// The pledge.
        pledge: PledgeId,
    },
    /// Restarts a paused pledge at its signed terms.
    ResumePledge {
        /// The pledge.
        pledge: PledgeId,
    },
    /// Ends a pledge for good.
    CancelPledge {
        /// The pledge.
        pledge: PledgeId,
    },
    /// Moves base units to another account.
    Transfer {
        /// The receiver.
        to: Address,
        /// The asset.
        asset: AssetId,
        /// Base units.
        amount: u64,
    },
    /// A one-off gift with a memo, to an account or a project escrow.
    Tip {
        /// The receiver.
        to: Holder,
        /// The asset.
        asset: AssetId,
        /// Base units.
        amount: u64,
        /// A short message.
        memo: Text<MAX_MEMO>,
    },
    /// Sends base units back to layer 1: as tickets to a contract (`KT1`),
    /// or through the ticket's ticketer (its exchanger) to an account
    /// (`tz`), which receives what the exchanger pays for the tickets.
    Withdraw {
        /// The asset.
        asset: AssetId,
        /// Base units.
        amount: u64,
        /// The layer-1 contract that receives the ticket, or the account
        /// the ticketer pays.
        destination: Contract,
        /// The contract's entrypoint (taking the ticket), or the ticketer's
        /// (taking `pair address ticket`, usually `burn`).
        entrypoint: Text<MAX_ENTRYPOINT>,
    },
    /// Publishes or replaces the signer's creator profile.
    SetProfile {
        /// The profile.
        profile: Profile,
    },
    /// Adds a tier to the signer's creator page.
    AddTier {
        /// Short title.
        title: Text<MAX_TITLE>,
        /// What patrons get.
        perks: Text<MAX_PERKS>,
        /// The asset pledges pay in.
        asset: AssetId,
        /// Price per period, in base units.
        amount_per_period: u64,
        /// Period in seconds.
        period: u32,
        /// Most live pledges, if limited.
        patron_limit: Option<u32>,
    },
    /// Stops a tier from taking new pledges.
    RetireTier {
        /// The tier.
        tier: TierId,
    },
    /// Pauses every pledge to the signer.
    PauseCreator,
    /// Resumes the pledges the creator's pause stopped.
    ResumeCreator,
    /// An operation on a project escrow.
    Project {
        /// The project operation.
        op: ProjectOperation,
    },
}

codec_enum!(Operation, "operation" {
    0 => Pledge { tier, amount, end, cap },
    1 => ChangePledge { pledge, tier, amount },
    2 => PausePledge { pledge },
    3 => ResumePledge { pledge },
    4 => CancelPledge { pledge },
    5 => Transfer { to, asset, amount },
    6 => Tip { to, asset, amount, memo },
    7 => Withdraw { asset, amount, destination, entrypoint },
    8 => SetProfile { profile },
    9 => AddTier { title, perks, asset, amount_per_period, period, patron_limit },
    10 => RetireTier { tier },
    11 => PauseCreator,
    12 => ResumeCreator,
    13 => Project { op },
});

/// Who signed: the public key on an account's first operation, the
/// account's number once the rollup knows the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// The signer's public key (reveals it to the rollup, which numbers the
    /// account).
    Key(PublicKey),
    /// The number the rollup gave the account when its key was revealed.
    Index(u64),
}

impl Encode for Signer {
    // Tags 0..=2 carry a key by curve, 3 an account number.
    fn encode(&self, w: &mut Writer) {
        match self {
            Signer::Key(k) => k.encode(w),
            Signer::Index(n) => {
                w.u8(3);
                w.u64(*n);
            }
        }
    }
}

impl Decode for Signer {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8("signer")? {
            0 => Ok(Signer::Key(PublicKey::Ed25519(r.array("signer")?))),
            1 => Ok(Signer::Key(PublicKey::Secp256k1(r.array("signer")?))),
            2 => Ok(Signer::Key(PublicKey::P256(r.array("signer")?))),
            3 => Ok(Signer::Index(r.u64("signer")?)),
            tag => Err(DecodeError::UnknownTag {
                what: "signer",
                tag,
            }),
        }
    }
}

/// An operation with its signer and signature, as sent. The nonce is not
/// sent: it is the signer's next one, and it is in the signed statement
/// ([`crate::statement::Statement`]), so a signature made for one nonce is
/// worthless at any other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedOperation {
    /// Who signed.
    pub signer: Signer,
    /// What is asked.
    pub operation: Operation,
    /// Signature over the statement of the operation.
    pub signature: Signature,
}

impl SignedOperation {
    /// The operation's id, as receipts carry it: blake2b-256 of the
    /// signer's address, the nonce it was signed at and the operation as
    /// sent, so no two operations ever share one, replays included.
    pub fn hash(&self, signer: &Address, nonce: u64) -> [u8; 32] {
        let mut w = Writer::with_capacity(128);
        signer.encode(&mut w);
        w.u64(nonce);
        self.encode(&mut w);
        blake2b_256(&w.into_bytes())
    }
}

impl Encode for SignedOperation {
    fn encode(&self, w: &mut Writer) {
        self.signer.encode(w);
        self.operation.encode(w);
        self.signature.encode(w);
    }
}

impl Decode for SignedOperation {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SignedOperation {
            signer: r.get()?,
            operation: r.get()?,
            signature: r.get()?,
        })
    }
}

/// Signed operations sent together in one inbox message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// The operations, applied in order.
    pub operations: List<SignedOperation, MAX_BATCH_OPERATIONS>,
}

impl Batch {
    /// Reads a batch from an external message's payload, refusing payloads
    /// above [`MAX_BATCH_BYTES`].
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_BATCH_BYTES {
            return Err(DecodeError::TooLong {
                what: "batch",
                len: bytes.len(),
                max: MAX_BATCH_BYTES,
            });
        }
        Self::from_bytes(bytes)
    }
}

impl Encode for Batch {
    fn encode(&self, w: &mut Writer) {
        self.operations.encode(w);
    }
}

impl Decode for Batch {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Batch {
            operations: r.get()?,
        })
    }
}
