//! What the mirror alerts people to, and to whom: the kinds of alert,
//! their stable names, and the words the directory's feeds and the
//! notifier say them in.

/// What an alert says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// To a creator: a patron pledged.
    PledgeStarted,
    /// To a creator: a patron moved a pledge to another tier or amount.
    PledgeChanged,
    /// To a creator: a patron paused a pledge.
    PledgePaused,
    /// To a creator: a patron resumed a pledge.
    PledgeResumed,
    /// To a creator: a pledge ended (cancelled, end date or cap).
    PledgeEnded,
    /// To a creator: a patron's stream stopped for want of funds.
    PatronRanDry,
    /// To a patron: their pledge stopped for want of funds.
    PledgeRanDry,
    /// To a patron: their pledge ended by its own terms (end date, cap).
    PledgeCompleted,
    /// To a patron: a creator they pay paused the subscription.
    CreatorPaused,
    /// To a patron: a creator they pay resumed.
    CreatorResumed,
    /// To a patron: a tier they pay was retired.
    TierRetired,
    /// To a creator or project: a tip arrived.
    TipReceived,
    /// To an account: a withdrawal left for layer 1.
    WithdrawalSent,
    /// To commissioners: an invoice was raised.
    InvoiceRaised,
    /// To commissioners: an invoice was approved.
    InvoiceApproved,
    /// To commissioners: an invoice was vetoed.
    InvoiceVetoed,
    /// To the beneficiary: an invoice was paid.
    InvoicePaid,
    /// To commissioners: an invoice nobody vetoed pays by itself within a
    /// day.
    InvoicePaysSoon,
    /// To commissioners and funders: a project opened refunds.
    RefundsOpened,
    /// To a patron: a balance paying pledges runs out within a week, and
    /// again within a day.
    RunwayLow,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [AlertKind; 20] = [
        AlertKind::PledgeStarted,
        AlertKind::PledgeChanged,
        AlertKind::PledgePaused,
        AlertKind::PledgeResumed,
        AlertKind::PledgeEnded,
        AlertKind::PatronRanDry,
        AlertKind::PledgeRanDry,
        AlertKind::PledgeCompleted,
        AlertKind::CreatorPaused,
        AlertKind::CreatorResumed,
        AlertKind::TierRetired,
        AlertKind::TipReceived,
        AlertKind::WithdrawalSent,
        AlertKind::InvoiceRaised,
        AlertKind::InvoiceApproved,
        AlertKind::InvoiceVetoed,
        AlertKind::InvoicePaid,
        AlertKind::InvoicePaysSoon,
        AlertKind::RefundsOpened,
        AlertKind::RunwayLow,
    ];

    /// Its stable name, as stored and as webhooks carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::PledgeStarted => "pledge_started",
            AlertKind::PledgeChanged => "pledge_changed",
            AlertKind::PledgePaused => "pledge_paused",
            AlertKind::PledgeResumed => "pledge_resumed",
            AlertKind::PledgeEnded => "pledge_ended",
            AlertKind::PatronRanDry => "patron_ran_dry",
            AlertKind::PledgeRanDry => "pledge_ran_dry",
            AlertKind::PledgeCompleted => "pledge_completed",
            AlertKind::CreatorPaused => "creator_paused",
            AlertKind::CreatorResumed => "creator_resumed",
            AlertKind::TierRetired => "tier_retired",
            AlertKind::TipReceived => "tip_received",
            AlertKind::WithdrawalSent => "withdrawal_sent",
            AlertKind::InvoiceRaised => "invoice_raised",
            AlertKind::InvoiceApproved => "invoice_approved",
            AlertKind::InvoiceVetoed => "invoice_vetoed",
            AlertKind::InvoicePaid => "invoice_paid",
            AlertKind::InvoicePaysSoon => "invoice_pays_soon",
            AlertKind::RefundsOpened => "refunds_opened",
            AlertKind::RunwayLow => "runway_low",
        }
    }

    /// The kind a stored name names.
    pub fn parse(name: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_name_that_reads_back() {
        let mut names: Vec<&str> = AlertKind::ALL.iter().map(|k| k.as_str()).collect();
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.as_str()), Some(k));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AlertKind::ALL.len());
        assert_eq!(AlertKind::parse("nothing"), None);
    }
}
