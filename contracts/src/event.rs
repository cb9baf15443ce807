//! What the protocol tells the world: an event for every state change, a
//! receipt for every operation, a withdrawal record for the outbox.
//!
//! Events carry whole records after the change, so an indexer can mirror the
//! state from events alone, without reading the state.

use crate::asset::{AssetId, Ticket};
use crate::crypto::{Address, Contract, PublicKey};
use crate::encoding::{codec_enum, codec_struct, Text};
use crate::escrow::{EscrowAsset, Invoice, InvoiceChange, Project, WorkTicket};
use crate::operation::{MAX_ENTRYPOINT, MAX_MEMO};
use crate::state::{Holder, PauseClock, Pledge, PledgeId, Profile, ProjectId, Tier, TierId};
use crate::stream::Flow;

/// How a pledge changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PledgeChange {
    /// It was made.
    Started,
    /// The patron moved it to another tier or amount.
    Changed,
    /// It stopped streaming (see its status for why).
    Paused,
    /// It streams again.
    Resumed,
    /// It is over (see its status for why).
    Ended,
    /// What it streamed was settled after its creator paused: the patron
    /// got back what its balance was charged for the paused seconds. Terms
    /// and status are unchanged.
    Settled,
}
codec_enum!(PledgeChange, "pledge change" {
    0 => Started,
    1 => Changed,
    2 => Paused,
    3 => Resumed,
    4 => Ended,
    5 => Settled,
});

/// One state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An account's public key became known.
    AccountRevealed {
        /// The account.
        account: Address,
        /// Its key.
        public_key: PublicKey,
        /// The number it was given, by which it signs from now on.
        index: u64,
    },
    /// A ticket kind was seen for the first time and numbered.
    AssetRegistered {
        /// Its number.
        asset: AssetId,
        /// The ticket kind.
        ticket: Ticket,
    },
    /// Tickets arrived from layer 1.
    Deposited {
        /// Who was credited.
        account: Address,
        /// The asset.
        asset: AssetId,
        /// Base units.
        amount: u64,
    },
    /// Tickets left for layer 1.
    Withdrawn {
        /// Who was debited.
        account: Address,
        /// The asset.
        asset: AssetId,
        /// Base units.
        amount: u64,
        /// The layer-1 receiver.
        destination: Contract,
        /// Its entrypoint.
        entrypoint: Text<MAX_ENTRYPOINT>,
    },
    /// Base units moved between accounts.
    Transferred {
        /// Sender.
        from: Address,
        /// Receiver.
        to: Address,
        /// The asset.
        asset: AssetId,
        /// Base units.
        amount: u64,
    },
    /// A tip.
    Tipped {
        /// Sender.
        from: Address,
        /// Receiver.
        to: Holder,
        /// The asset.
        asset: AssetId,
        /// Base units.
        amount: u64,
        /// The memo.
        memo: Text<MAX_MEMO>,
    },
    /// A holder's balance or rates in an asset changed; `flow` is the new
    /// state, so the balance at any later time follows from it.
    FlowChanged {
        /// The holder.
        holder: Holder,
        /// The asset.
        asset: AssetId,
        /// The flow after the change.
        flow: Flow,
    },
    /// A creator published or replaced a profile.
    ProfileSet {
        /// The creator.
        creator: Address,
        /// The profile.
        profile: Profile,
    },
    /// A tier was added, or its patron count or retirement changed.
    TierUpdated {
        /// The tier.
        tier: TierId,
        /// The tier after the change.
        record: Tier,
    },
    /// A creator paused or resumed the whole subscription.
    CreatorPaused {
        /// The creator.
        creator: Address,
        /// The creator's pause clock after the change: paused while it runs.
        pause: PauseClock,
    },
    /// A pledge changed.
    PledgeUpdated {
        /// The pledge.
        pledge: PledgeId,
        /// What happened.
        change: PledgeChange,
        /// The pledge after the change.
        record: Pledge,
    },
    /// A project was created or changed.
    ProjectUpdated {
        /// The project.
        project: ProjectId,
        /// The project after the change.
        record: Project,
    },
    /// A project's reservations, payouts or refund pool in an asset changed.
    EscrowUpdated {
        /// The project.
        project: ProjectId,
        /// The asset.
        asset: AssetId,
        /// The accounts after the change.
        record: EscrowAsset,
    },
    /// A ticket was opened or closed.
    TicketUpdated {
        /// The project.
        project: ProjectId,
        /// The ticket's number in the project.
        ticket: u32,
        /// The ticket after the change.
        record: WorkTicket,
    },
    /// An invoice changed.
    InvoiceUpdated {
        /// The project.
        project: ProjectId,
        /// The invoice's number in the project.
        invoice: u32,
        /// What happened.
        change: InvoiceChange,
        /// The invoice after the change.
        record: Invoice,
    },
    /// A one-off contribution to a project.
    ProjectFunded {
        /// The project.
        project: ProjectId,
        /// The funder.
        funder: Address,
        /// The asset.
        asset: AssetId,
        /// Base units.
        amount: u64,
    },
    /// A project started refunding its funders.
    RefundsOpened {
        /// The project.
        project: ProjectId,
    },
    /// A funder took their share of a refunding project.
    Reclaimed {
        /// The project.
        project: ProjectId,
        /// The funder.
        funder: Address,
        /// The asset.
        asset: AssetId,
        /// Fine units received.
        fine: u128,
    },
}

codec_enum!(Event, "event" {
    0 => AccountRevealed { account, public_key, index },
    1 => AssetRegistered { asset, ticket },
    2 => Deposited { account, asset, amount },
    3 => Withdrawn { account, asset, amount, destination, entrypoint },
    4 => Transferred { from, to, asset, amount },
    5 => Tipped { from, to, asset, amount, memo },
    6 => FlowChanged { holder, asset, flow },
    7 => ProfileSet { creator, profile },
    8 => TierUpdated { tier, record },
    9 => CreatorPaused { creator, pause },
    10 => PledgeUpdated { pledge, change, record },
    11 => ProjectUpdated { project, record },
    12 => EscrowUpdated { project, asset, record },
    13 => TicketUpdated { project, ticket, record },
    14 => InvoiceUpdated { project, invoice, change, record },
    15 => ProjectFunded { project, funder, asset, amount },
    16 => RefundsOpened { project },
    17 => Reclaimed { project, funder, asset, fine },
});

/// Longest failure reason kept in a receipt, in bytes.
pub const MAX_REASON: usize = 200;

/// A record an applied operation created, by its id: what a wallet tells
/// its user to use next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// A tier.
    Tier {
        /// Its id.
        tier: TierId,
    },
    /// A pledge, to a tier or a project.
    Pledge {
        /// Its id.
        pledge: PledgeId,
    },
    /// A project escrow.
    Project {
        /// Its id.
        project: ProjectId,
    },
    /// A work ticket, by its number in its project.
    Ticket {
        /// The project.
        project: ProjectId,
        /// The ticket's number there.
        ticket: u32,
    },
    /// An invoice, by its number in its project.
    Invoice {
        /// The project.
        project: ProjectId,
        /// The invoice's number there.
        invoice: u32,
    },
}
codec_enum!(Created, "created record" {
    0 => Tier { tier },
    1 => Pledge { pledge },
    2 => Project { project },
    3 => Ticket { project, ticket },
    4 => Invoice { project, invoice },
});

impl Created {
    /// The record's ids by name, outermost first: `[("project", 2),
    /// ("ticket", 4)]` for ticket 4 of project 2.
    pub fn ids(&self) -> Vec<(&'static str, u64)> {
        match *self {
            Created::Tier { tier } => vec![("tier", tier.0)],
            Created::Pledge { pledge } => vec![("pledge", pledge.0)],
            Created::Project { project } => vec![("project", project.0)],
            Created::Ticket { project, ticket } => {
                vec![("project", project.0), ("ticket", u64::from(ticket))]
            }
            Created::Invoice { project, invoice } => {
                vec![("project", project.0), ("invoice", u64::from(invoice))]
            }
        }
    }
}

/// In words: `tier 7`, `ticket 4 of project 2`.
impl core::fmt::Display for Created {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Created::Tier { tier } => write!(f, "tier {}", tier.0),
            Created::Pledge { pledge } => write!(f, "pledge {}", pledge.0),
            Created::Project { project } => write!(f, "project {}", project.0),
            Created::Ticket { project, ticket } => {
                write!(f, "ticket {ticket} of project {}", project.0)
            }
            Created::Invoice { project, invoice } => {
                write!(f, "invoice {invoice} of project {}", project.0)
            }
        }
    }
}

/// What came of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It applied whole.
    Applied {
        /// The record it created, for operations that create one.
        created: Option<Created>,
    },
    /// It changed nothing (but its nonce, when the signature was valid).
    Failed {
        /// Why, in words.
        reason: Text<MAX_REASON>,
    },
}
impl Outcome {
    /// Whether the operation applied.
    pub fn is_applied(&self) -> bool {
        matches!(self, Outcome::Applied { .. })
    }

    /// The record the operation created, if it applied and created one.
    pub fn created(&self) -> Option<Created> {
        match self {
            Outcome::Applied { created } => *created,
            Outcome::Failed { .. } => None,
        }
    }
}

codec_enum!(Outcome, "outcome" {
    0 => Applied { created },
    1 => Failed { reason },
});

/// The record of one operation, by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// blake2b-256 of the signed operation's encoding.
    pub hash: [u8; 32],
    /// The signer's account.
    pub signer: Address,
    /// The nonce the operation carried.
    pub nonce: u64,
    /// What came of it.
    pub outcome: Outcome,
}
codec_struct!(Receipt {
    hash,
    signer,
    nonce,
    outcome
});

/// A ticket to send back to layer 1: the kernel turns it into an outbox message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    /// The layer-1 receiver.
    pub destination: Contract,
    /// Its entrypoint.
    pub entrypoint: Text<MAX_ENTRYPOINT>,
    /// The ticket kind.
    pub ticket: Ticket,
    /// Base units.
    pub amount: u64,
}
codec_struct!(Withdrawal {
    destination,
    entrypoint,
    ticket,
    amount
});
