//! The records a project escrow keeps: the project, its tickets, invoices,
//! per-asset accounts and funders, with their canonical encodings.

use crate::asset::AssetId;
use crate::crypto::Address;
use crate::encoding::{codec_enum, codec_struct, List, Text};
use crate::error::Fault;
use crate::ledger::fine;
use crate::state::PledgeId;

use super::{
    MAX_COMMISSIONERS, MAX_FUNDER_PLEDGES, MAX_PROJECT_ASSETS, MAX_PROJECT_DESCRIPTION,
    MAX_PROJECT_TITLE, MAX_TICKET_TITLE, MAX_URL,
};

/// How a project releases funds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// M-of-N commissioners, or the time-lock with no veto.
    Public,
    /// The funding patron plus commissioners, or the veto window with no
    /// veto from the patron.
    Private {
        /// The funding patron.
        patron: Address,
    },
}
codec_enum!(Mode, "project mode" {
    0 => Public,
    1 => Private { patron },
});

/// The signatures private mode needs, counting the patron, for `n`
/// commissioners: a third of all signers, plus one.
pub fn private_threshold(n: usize) -> usize {
    (n + 1) / 3 + 1
}

/// A project's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectStatus {
    /// Taking funds and paying invoices.
    Active,
    /// Funders are reclaiming what is left.
    Refunding,
}
codec_enum!(ProjectStatus, "project status" {
    0 => Active,
    1 => Refunding,
});

/// In words: `active`, `refunding`.
impl core::fmt::Display for ProjectStatus {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ProjectStatus::Active => "active",
            ProjectStatus::Refunding => "refunding",
        })
    }
}

/// A project escrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Who created it.
    pub creator: Address,
    /// Short title.
    pub title: Text<MAX_PROJECT_TITLE>,
    /// What the funds are for.
    pub description: Text<MAX_PROJECT_DESCRIPTION>,
    /// Repository or issue tracker.
    pub link: Option<Text<MAX_URL>>,
    /// The commissioners, distinct.
    pub commissioners: List<Address, MAX_COMMISSIONERS>,
    /// Approvals that pay an invoice at once (counting the patron in private mode).
    pub threshold: u8,
    /// Public or private.
    pub mode: Mode,
    /// Seconds an invoice waits for a veto before it pays by itself.
    pub time_lock: u64,
    /// Time after which funders may reclaim if no invoice has paid; pledge
    /// streams to the project end by then.
    pub refund_deadline: u64,
    /// Where it stands.
    pub status: ProjectStatus,
    /// Whether any invoice has paid.
    pub paid_any: bool,
    /// Tickets opened so far.
    pub tickets: u32,
    /// Invoices raised so far.
    pub invoices: u32,
    /// The assets it has held.
    pub assets: List<AssetId, MAX_PROJECT_ASSETS>,
    /// Signers who approved an early refund.
    pub refund_approvals: List<Address, { MAX_COMMISSIONERS + 1 }>,
}
codec_struct!(Project {
    creator,
    title,
    description,
    link,
    commissioners,
    threshold,
    mode,
    time_lock,
    refund_deadline,
    status,
    paid_any,
    tickets,
    invoices,
    assets,
    refund_approvals,
});

impl Project {
    pub(super) fn is_commissioner(&self, a: &Address) -> bool {
        self.commissioners.items().contains(a)
    }

    fn patron(&self) -> Option<Address> {
        match self.mode {
            Mode::Public => None,
            Mode::Private { patron } => Some(patron),
        }
    }

    pub(super) fn is_signer(&self, a: &Address) -> bool {
        self.is_commissioner(a) || self.patron() == Some(*a)
    }

    /// Whether these approvals release funds at once.
    pub(super) fn approved(&self, approvals: &[Address]) -> bool {
        let commissioners = approvals.iter().filter(|a| self.is_commissioner(a)).count();
        match self.mode {
            Mode::Public => commissioners >= usize::from(self.threshold),
            Mode::Private { patron } => {
                approvals.contains(&patron) && commissioners + 1 >= usize::from(self.threshold)
            }
        }
    }
}

/// A budget attached to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The asset.
    pub asset: AssetId,
    /// Base units.
    pub amount: u64,
}
codec_struct!(Budget { asset, amount });

/// A unit of work on a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkTicket {
    /// Short title.
    pub title: Text<MAX_TICKET_TITLE>,
    /// An external issue, e.g. on GitHub or GitLab.
    pub url: Option<Text<MAX_URL>>,
    /// The budget, if set.
    pub budget: Option<Budget>,
    /// The commissioner who opened it.
    pub opened_by: Address,
    /// Whether the work is done.
    pub closed: bool,
}
codec_struct!(WorkTicket {
    title,
    url,
    budget,
    opened_by,
    closed
});

/// Where an invoice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceStatus {
    /// Waiting for approvals or its time-out.
    Open,
    /// Paid to its beneficiary.
    Paid,
    /// Withdrawn by its raiser, or cancelled by a refund.
    Withdrawn,
}
codec_enum!(InvoiceStatus, "invoice status" {
    0 => Open,
    1 => Paid,
    2 => Withdrawn,
});

/// In words: `open`, `paid`, `withdrawn`.
impl core::fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Withdrawn => "withdrawn",
        })
    }
}

/// A request to pay for a closed ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// The ticket it pays for.
    pub ticket: u32,
    /// The commissioner who raised it.
    pub raised_by: Address,
    /// Who gets paid.
    pub beneficiary: Address,
    /// The asset.
    pub asset: AssetId,
    /// Base units.
    pub amount: u64,
    /// Signers who approved (the raiser first).
    pub approvals: List<Address, { MAX_COMMISSIONERS + 1 }>,
    /// Signers who vetoed.
    pub vetoes: List<Address, { MAX_COMMISSIONERS + 1 }>,
    /// When it was raised.
    pub raised_at: u64,
    /// When its time-lock or veto window ends.
    pub unlocks_at: u64,
    /// Where it stands.
    pub status: InvoiceStatus,
    /// When it was paid or withdrawn.
    pub settled_at: Option<u64>,
}
codec_struct!(Invoice {
    ticket,
    raised_by,
    beneficiary,
    asset,
    amount,
    approvals,
    vetoes,
    raised_at,
    unlocks_at,
    status,
    settled_at,
});

/// A project's accounts in one asset, in fine units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EscrowAsset {
    /// Held for open invoices.
    pub reserved: u128,
    /// Paid out to beneficiaries.
    pub paid_out: u128,
    /// One-off funding received.
    pub funded: u128,
    /// The refund, once open.
    pub refund: Option<RefundPool>,
}
codec_struct!(EscrowAsset {
    reserved,
    paid_out,
    funded,
    refund
});
impl EscrowAsset {
    /// Releases what an open invoice held, whether it is paid or withdrawn.
    pub(super) fn unreserve(&mut self, amount: u64) -> Result<(), Fault> {
        self.reserved = self
            .reserved
            .checked_sub(fine(amount))
            .ok_or(Fault::Inconsistent(
                "escrow reservation below an open invoice",
            ))?;
        Ok(())
    }
}

/// What funders share when refunds open, and what they took so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefundPool {
    /// The balance when refunds opened.
    pub pool: u128,
    /// All contributions ever (pool plus paid out).
    pub contributions: u128,
    /// Contributions of funders who reclaimed.
    pub claimed_contributions: u128,
    /// What they received.
    pub claimed: u128,
}
codec_struct!(RefundPool {
    pool,
    contributions,
    claimed_contributions,
    claimed,
});

/// One funder's contributions to a project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Funder {
    /// One-off amounts per asset, in fine units.
    pub one_off: List<(AssetId, u128), MAX_PROJECT_ASSETS>,
    /// Pledges streaming to the project.
    pub pledges: List<PledgeId, MAX_FUNDER_PLEDGES>,
    /// Whether the funder reclaimed their share.
    pub reclaimed: bool,
}
codec_struct!(Funder {
    one_off,
    pledges,
    reclaimed
});

/// How an invoice changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceChange {
    /// Raised.
    Raised,
    /// A signer approved.
    Approved,
    /// A signer vetoed.
    Vetoed,
    /// Paid.
    Paid,
    /// Withdrawn or cancelled.
    Withdrawn,
}
codec_enum!(InvoiceChange, "invoice change" {
    0 => Raised,
    1 => Approved,
    2 => Vetoed,
    3 => Paid,
    4 => Withdrawn,
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::{Decode, Encode};

    #[test]
    fn private_threshold_counts_the_patron() {
        assert_eq!(private_threshold(2), 2);
        assert_eq!(private_threshold(1), 1);
        assert_eq!(private_threshold(5), 3);
    }

    #[test]
    fn escrow_records_round_trip() {
        let pool = EscrowAsset {
            refund: Some(RefundPool {
                pool: 5,
                ..RefundPool::default()
            }),
            ..EscrowAsset::default()
        };
        assert_eq!(EscrowAsset::from_bytes(&pool.to_bytes()), Ok(pool));
    }

    #[test]
    fn unreserve_refuses_to_release_more_than_is_held() {
        let mut escrow = EscrowAsset {
            reserved: fine(3),
            ..EscrowAsset::default()
        };
        assert!(escrow.unreserve(4).is_err());
        assert_eq!(escrow.reserved, fine(3));
        assert_eq!(escrow.unreserve(3), Ok(()));
        assert_eq!(escrow.reserved, 0);
    }
}
