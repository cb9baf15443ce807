//! Which record an operation created: the tier, pledge, project, ticket or
//! invoice that has an id of its own, read back from the events of the
//! level that applied the operation, so a wallet can tell its user the id
//! to use next.

use pledgeroll_contracts::escrow::{InvoiceChange, ProjectOperation};
use pledgeroll_contracts::event::PledgeChange;
use pledgeroll_contracts::{Address, Event, Holder, Operation, PledgeId, ProjectId, TierId};

use crate::node::{Node, NodeError};

/// A record an operation created, by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// A tier.
    Tier(TierId),
    /// A pledge, to a tier or a project.
    Pledge(PledgeId),
    /// A project escrow.
    Project(ProjectId),
    /// A ticket in a project, by its number there.
    Ticket(ProjectId, u32),
    /// An invoice in a project, by its number there.
    Invoice(ProjectId, u32),
}

/// Whether `op`, once applied, has created a record with an id of its own;
/// when it has not, there is no need to read its level's events.
pub fn creates_record(op: &Operation) -> bool {
    matches!(
        op,
        Operation::AddTier { .. }
            | Operation::Pledge { .. }
            | Operation::Project {
                op: ProjectOperation::Create { .. }
                    | ProjectOperation::Pledge { .. }
                    | ProjectOperation::OpenTicket { .. }
                    | ProjectOperation::RaiseInvoice { .. }
            }
    )
}

/// Finds what `op`, signed by `signer`, created among the events of the
/// level that applied it.
///
/// Events are not tied to the operation that caused them, so this picks the
/// creation events that match the operation's signer and content. Ids grow
/// with each creation, so when an older record that looks the same changed
/// in the same level, the newest id is the one this operation created; two
/// identical operations applied in one level created interchangeable
/// records.
pub fn created_by(op: &Operation, signer: &Address, events: &[Event]) -> Option<Created> {
    events
        .iter()
        .filter_map(|event| match op {
            Operation::AddTier { .. } | Operation::Pledge { .. } => {
                created_by_account(op, signer, event)
            }
            Operation::Project { op } => created_in_project(op, signer, event),
            _ => None,
        })
        .max_by_key(|created| match *created {
            Created::Tier(t) => (0, t.0),
            Created::Pledge(p) => (0, p.0),
            Created::Project(p) => (0, p.0),
            Created::Ticket(p, n) | Created::Invoice(p, n) => (p.0, u64::from(n)),
        })
}

/// The tier or pledge `event` shows `op` created, if it does.
fn created_by_account(op: &Operation, signer: &Address, event: &Event) -> Option<Created> {
    match (op, event) {
        (
            Operation::AddTier {
                title,
                perks,
                asset,
                amount_per_period,
                period,
                patron_limit,
            },
            Event::TierUpdated { tier, record },
        ) => (record.creator == *signer
            && record.title == *title
            && record.perks == *perks
            && record.asset == *asset
            && record.amount_per_period == *amount_per_period
            && record.period == *period
            && record.patron_limit == *patron_limit)
            .then_some(Created::Tier(*tier)),
        (
            Operation::Pledge {
                tier,
                amount,
                end,
                cap,
            },
            Event::PledgeUpdated {
                pledge,
                change: PledgeChange::Started,
                record,
            },
        ) => (record.patron == *signer
            && record.tier == Some(*tier)
            && amount.is_none_or(|a| record.amount_per_period == a)
            && record.end == *end
            && record.cap == *cap)
            .then_some(Created::Pledge(*pledge)),
        _ => None,
    }
}

/// The pledge, project, ticket or invoice `event` shows the project
/// operation `op` created, if it does.
fn created_in_project(op: &ProjectOperation, signer: &Address, event: &Event) -> Option<Created> {
    match (op, event) {
        (
            ProjectOperation::Pledge { project, .. },
            Event::PledgeUpdated {
                pledge,
                change: PledgeChange::Started,
                record,
            },
        ) => (record.patron == *signer && record.payee == Holder::Project(*project))
            .then_some(Created::Pledge(*pledge)),
        (
            ProjectOperation::Create {
                title,
                commissioners,
                refund_deadline,
                ..
            },
            Event::ProjectUpdated { project, record },
        ) => (record.creator == *signer
            && record.title == *title
            && record.commissioners == *commissioners
            && record.refund_deadline == *refund_deadline)
            .then_some(Created::Project(*project)),
        (
            ProjectOperation::OpenTicket { project, title, .. },
            Event::TicketUpdated {
                project: p,
                ticket,
                record,
            },
        ) => (p == project
            && record.opened_by == *signer
            && record.title == *title
            && !record.closed)
            .then_some(Created::Ticket(*p, *ticket)),
        (
            ProjectOperation::RaiseInvoice {
                project,
                ticket,
                beneficiary,
                asset,
                amount,
            },
            Event::InvoiceUpdated {
                project: p,
                invoice,
                change: InvoiceChange::Raised,
                record,
            },
        ) => (p == project
            && record.raised_by == *signer
            && record.ticket == *ticket
            && record.beneficiary == *beneficiary
            && record.asset == *asset
            && record.amount == *amount)
            .then_some(Created::Invoice(*p, *invoice)),
        _ => None,
    }
}

/// What `op`, signed by `signer` and applied at `level`, created: reads the
/// level's events only when the operation creates a record at all.
///
/// An error means the events could not be read, not that the operation
/// failed: it applied all the same.
pub async fn created_at(
    node: &Node,
    op: &Operation,
    signer: &Address,
    level: u32,
) -> Result<Option<Created>, NodeError> {
    if !creates_record(op) {
        return Ok(None);
    }
    Ok(created_by(op, signer, &node.events(level).await?))
}

#[cfg(test)]
mod tests {
    use super::{created_by, creates_record, Created};
    use pledgeroll_contracts::encoding::{List, Text};
    use pledgeroll_contracts::escrow::{Invoice, InvoiceChange, InvoiceStatus, ProjectOperation};
    use pledgeroll_contracts::event::PledgeChange;
    use pledgeroll_contracts::state::{Pledge, PledgeStatus, Tier};
    use pledgeroll_contracts::{
        Address, AssetId, Event, Holder, Operation, PledgeId, ProjectId, TierId,
    };

    fn alice() -> Address {
        "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx"
            .parse()
            .expect("valid")
    }

    fn bob() -> Address {
        "tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN"
            .parse()
            .expect("valid")
    }

    fn add_tier(title: &str) -> Operation {
        Operation::AddTier {
            title: Text::new(title).expect("short"),
            perks: Text::default(),
            asset: AssetId(0),
            amount_per_period: 5_000_000,
            period: 2_592_000,
            patron_limit: None,
        }
    }

    fn tier_event(id: u64, creator: Address, title: &str, patrons: u32) -> Event {
        Event::TierUpdated {
            tier: TierId(id),
            record: Tier {
                creator,
                title: Text::new(title).expect("short"),
                perks: Text::default(),
                asset: AssetId(0),
                amount_per_period: 5_000_000,
                period: 2_592_000,
                patron_limit: None,
                patrons,
                retired: false,
            },
        }
    }

    fn pledge_event(id: u64, patron: Address, tier: u64, change: PledgeChange) -> Event {
        pledge_to(
            id,
            patron,
            Holder::Account(alice()),
            Some(TierId(tier)),
            change,
        )
    }

    fn pledge_to(
        id: u64,
        patron: Address,
        payee: Holder,
        tier: Option<TierId>,
        change: PledgeChange,
    ) -> Event {
        Event::PledgeUpdated {
            pledge: PledgeId(id),
            change,
            record: Pledge {
                patron,
                payee,
                tier,
                asset: AssetId(0),
                amount_per_period: 5_000_000,
                period: 2_592_000,
                rate: 1,
                end: None,
                cap: None,
                status: PledgeStatus::Active,
                created_at: 0,
                streamed: 0,
                since: 0,
                end_scheduled: None,
            },
        }
    }

    fn invoice_event(invoice: u32, raised_by: Address, change: InvoiceChange) -> Event {
        Event::InvoiceUpdated {
            project: ProjectId(0),
            invoice,
            change,
            record: Invoice {
                ticket: 1,
                raised_by,
                beneficiary: bob(),
                asset: AssetId(0),
                amount: 3_000_000,
                approvals: List::default(),
                vetoes: List::default(),
                raised_at: 0,
                unlocks_at: 0,
                status: InvoiceStatus::Open,
                settled_at: None,
            },
        }
    }

    #[test]
    fn a_new_tier_is_the_newest_matching_one_of_its_creator() {
        let events = [
            // An older tier that looks the same lost a patron this level.
            tier_event(2, alice(), "Supporter", 0),
            tier_event(7, alice(), "Supporter", 0),
            // Someone else's tier with the same terms.
            tier_event(8, bob(), "Supporter", 0),
            tier_event(9, alice(), "Sponsor", 0),
        ];
        assert_eq!(
            created_by(&add_tier("Supporter"), &alice(), &events),
            Some(Created::Tier(TierId(7)))
        );
    }

    #[test]
    fn no_matching_event_means_no_id() {
        let events = [tier_event(8, bob(), "Supporter", 0)];
        assert_eq!(created_by(&add_tier("Supporter"), &alice(), &events), None);
        let pause = Operation::PauseCreator;
        assert!(!creates_record(&pause));
        assert_eq!(created_by(&pause, &alice(), &events), None);
    }

    #[test]
    fn a_pledge_is_the_one_its_patron_started_on_that_tier() {
        let op = Operation::Pledge {
            tier: TierId(7),
            amount: None,
            end: None,
            cap: None,
        };
        let events = [
            pledge_event(3, bob(), 7, PledgeChange::Paused),
            pledge_event(4, alice(), 7, PledgeChange::Started),
            pledge_event(5, bob(), 6, PledgeChange::Started),
            pledge_event(6, bob(), 7, PledgeChange::Started),
        ];
        assert!(creates_record(&op));
        assert_eq!(
            created_by(&op, &bob(), &events),
            Some(Created::Pledge(PledgeId(6)))
        );
        assert_eq!(created_by(&op, &bob(), &events[..3]), None);
    }

    #[test]
    fn a_project_pledge_is_the_one_its_patron_started_on_that_project() {
        let op = Operation::Project {
            op: ProjectOperation::Pledge {
                project: ProjectId(0),
                asset: AssetId(0),
                amount_per_period: 5_000_000,
                period: 2_592_000,
                end: None,
                cap: None,
            },
        };
        // A pledge of the same patron to an account is not the one.
        let to_account = pledge_event(4, bob(), 7, PledgeChange::Started);
        let to_project = pledge_to(
            5,
            bob(),
            Holder::Project(ProjectId(0)),
            None,
            PledgeChange::Started,
        );
        assert!(creates_record(&op));
        assert_eq!(
            created_by(&op, &bob(), &[to_project, to_account.clone()]),
            Some(Created::Pledge(PledgeId(5)))
        );
        assert_eq!(created_by(&op, &bob(), &[to_account]), None);
    }

    #[test]
    fn an_invoice_is_the_one_raised_not_one_approved() {
        let op = Operation::Project {
            op: ProjectOperation::RaiseInvoice {
                project: ProjectId(0),
                ticket: 1,
                beneficiary: bob(),
                asset: AssetId(0),
                amount: 3_000_000,
            },
        };
        let events = [
            invoice_event(4, alice(), InvoiceChange::Approved),
            invoice_event(2, alice(), InvoiceChange::Raised),
        ];
        assert_eq!(
            created_by(&op, &alice(), &events),
            Some(Created::Invoice(ProjectId(0), 2))
        );
        assert_eq!(created_by(&op, &alice(), &events[..1]), None);
    }
}
