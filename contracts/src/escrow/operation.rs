//! The operations a signer sends to project escrows.

use crate::asset::AssetId;
use crate::crypto::Address;
use crate::encoding::{codec_enum, List, Text};
use crate::state::{PledgeEnd, ProjectId};

use super::{
    Budget, Mode, MAX_COMMISSIONERS, MAX_PROJECT_DESCRIPTION, MAX_PROJECT_TITLE, MAX_TICKET_TITLE,
    MAX_URL,
};

/// Operations on project escrows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectOperation {
    /// Creates a project; the signer need not be a commissioner.
    Create {
        /// Short title.
        title: Text<MAX_PROJECT_TITLE>,
        /// What the funds are for.
        description: Text<MAX_PROJECT_DESCRIPTION>,
        /// Repository or issue tracker.
        link: Option<Text<MAX_URL>>,
        /// Distinct commissioners.
        commissioners: List<Address, MAX_COMMISSIONERS>,
        /// M; in private mode it must be `(N + 1) / 3 + 1`.
        threshold: u8,
        /// Public or private.
        mode: Mode,
        /// Time-lock (public) or veto window (private), default 72 h or 7 days.
        time_lock: Option<u64>,
        /// When funders may reclaim if nothing has paid.
        refund_deadline: u64,
    },
    /// A one-off contribution.
    Fund {
        /// The project.
        project: ProjectId,
        /// The asset.
        asset: AssetId,
        /// Base units.
        amount: u64,
    },
    /// A pledge stream to the project (ends by the refund deadline).
    Pledge {
        /// The project.
        project: ProjectId,
        /// The asset.
        asset: AssetId,
        /// Base units per period.
        amount_per_period: u64,
        /// Period in seconds.
        period: u32,
        /// Time after which the pledge ends.
        end: Option<PledgeEnd>,
        /// Most base units in all.
        cap: Option<u64>,
    },
    /// Opens a ticket (commissioners only).
    OpenTicket {
        /// The project.
        project: ProjectId,
        /// Short title.
        title: Text<MAX_TICKET_TITLE>,
        /// External issue URL.
        url: Option<Text<MAX_URL>>,
        /// Budget.
        budget: Option<Budget>,
    },
    /// Closes a ticket (commissioners only).
    CloseTicket {
        /// The project.
        project: ProjectId,
        /// The ticket.
        ticket: u32,
    },
    /// Raises an invoice against a closed ticket (commissioners only).
    RaiseInvoice {
        /// The project.
        project: ProjectId,
        /// The ticket.
        ticket: u32,
        /// Who gets paid.
        beneficiary: Address,
        /// The asset.
        asset: AssetId,
        /// Base units.
        amount: u64,
    },
    /// Approves an invoice (commissioners, and the patron in private mode).
    Approve {
        /// The project.
        project: ProjectId,
        /// The invoice.
        invoice: u32,
    },
    /// Vetoes an invoice (other commissioners in public mode, the patron in
    /// private mode).
    Veto {
        /// The project.
        project: ProjectId,
        /// The invoice.
        invoice: u32,
    },
    /// Withdraws an open invoice (its raiser only).
    WithdrawInvoice {
        /// The project.
        project: ProjectId,
        /// The invoice.
        invoice: u32,
    },
    /// Approves refunding the funders now.
    ApproveRefund {
        /// The project.
        project: ProjectId,
    },
    /// Takes the signer's share of a refunding project.
    Reclaim {
        /// The project.
        project: ProjectId,
    },
}

codec_enum!(ProjectOperation, "project operation" {
    0 => Create { title, description, link, commissioners, threshold, mode, time_lock, refund_deadline },
    1 => Fund { project, asset, amount },
    2 => Pledge { project, asset, amount_per_period, period, end, cap },
    3 => OpenTicket { project, title, url, budget },
    4 => CloseTicket { project, ticket },
    5 => RaiseInvoice { project, ticket, beneficiary, asset, amount },
    6 => Approve { project, invoice },
    7 => Veto { project, invoice },
    8 => WithdrawInvoice { project, invoice },
    9 => ApproveRefund { project },
    10 => Reclaim { project },
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::{Decode, Encode};

    #[test]
    fn project_operations_round_trip() {
        let a = Address::new(crate::crypto::Curve::Ed25519, [1; 20]);
        let mut commissioners = List::default();
        commissioners.push(a);
        let op = ProjectOperation::Create {
            title: Text::new("docs").expect("short"),
            description: Text::new("").expect("short"),
            link: Some(Text::new("https://example.org/issues/1").expect("short")),
            commissioners,
            threshold: 1,
            mode: Mode::Private { patron: a },
            time_lock: None,
            refund_deadline: 9,
        };
        assert_eq!(ProjectOperation::from_bytes(&op.to_bytes()), Ok(op));
    }
}
