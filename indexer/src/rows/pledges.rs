//! Pledges: the streams from patrons to creators and projects.

use pledgeroll_contracts::state::{EndReason, PauseReason, Pledge, PledgeStatus};
use pledgeroll_contracts::{AssetId, PledgeId, TierId};

use super::{
    address, address_text, base, corrupt, holder_project, holder_text, monthly_units, parse_holder,
    uint, uint32,
};
use crate::error::{int, IndexError};
use crate::schema::table;

table! {
    /// A pledge: a stream from a patron to a creator or a project.
    PledgeRow in "pledges" {
        key {
            /// The pledge.
            pledge_id: i64,
        }
        /// Who pays.
        patron: String,
        /// Who receives: an address or `project-{id}`.
        payee: String,
        /// The project, when the payee is a project escrow.
        project_id: Option<i64>,
        /// The tier, for pledges to a creator.
        tier_id: Option<i64>,
        /// The asset.
        asset_id: i64,
        /// Amount per period as signed, base units.
        amount_per_period: u128,
        /// Period, seconds.
        period: i64,
        /// Fine units per second while active.
        rate: u128,
        /// The rate per 30 days, base units.
        monthly_units: i64,
        /// Time after which it ends, if any.
        end_time: Option<i64>,
        /// Most base units it pays, if capped.
        cap: Option<u128>,
        /// `active`, `paused` or `ended`.
        status: String,
        /// Why paused (`by_patron`, `out_of_funds`) or ended
        /// (`cancelled`, `end_date`, `cap_reached`).
        reason: Option<String>,
        /// When it was made.
        created_at: i64,
        /// Fine units streamed up to `since`.
        streamed: u128,
        /// When the stream last started or was settled.
        since: i64,
        /// The payee creator's pause clock at `since` (0 for a project).
        pause_clock: i64,
        /// When it ends by itself, if scheduled.
        end_scheduled: Option<i64>,
        /// The level that made it.
        created_level: i64,
        /// The level of the last change.
        updated_level: i64,
    }
    // A patron's pledges; a payee's (creator's or project's) recent pledges;
    // a tier's patrons by status.
    index pledges_patron ("patron, pledge_id");
    index pledges_payee ("payee, pledge_id");
    index pledges_tier ("tier_id, status, pledge_id");
}

/// A pledge status as stored: `(status, reason)`.
pub fn status_text(status: &PledgeStatus) -> (&'static str, Option<&'static str>) {
    match status {
        PledgeStatus::Active => ("active", None),
        PledgeStatus::Paused { reason } => (
            "paused",
            Some(match reason {
                PauseReason::ByPatron => "by_patron",
                PauseReason::OutOfFunds => "out_of_funds",
            }),
        ),
        PledgeStatus::Ended { reason } => (
            "ended",
            Some(match reason {
                EndReason::Cancelled => "cancelled",
                EndReason::EndDate => "end_date",
                EndReason::CapReached => "cap_reached",
            }),
        ),
    }
}

fn parse_status(status: &str, reason: Option<&str>) -> Option<PledgeStatus> {
    Some(match (status, reason) {
        ("active", None) => PledgeStatus::Active,
        ("paused", Some(r)) => PledgeStatus::Paused {
            reason: match r {
                "by_patron" => PauseReason::ByPatron,
                "out_of_funds" => PauseReason::OutOfFunds,
                _ => return None,
            },
        },
        ("ended", Some(r)) => PledgeStatus::Ended {
            reason: match r {
                "cancelled" => EndReason::Cancelled,
                "end_date" => EndReason::EndDate,
                "cap_reached" => EndReason::CapReached,
                _ => return None,
            },
        },
        _ => return None,
    })
}

impl PledgeRow {
    /// The row of a pledge record, keeping its creation level from `old`.
    pub fn from_pledge(
        id: PledgeId,
        p: &Pledge,
        old: Option<&PledgeRow>,
        level: u32,
    ) -> Result<Self, IndexError> {
        let (status, reason) = status_text(&p.status);
        Ok(PledgeRow {
            pledge_id: int(id.0, "pledge id")?,
            patron: address_text(&p.patron),
            payee: holder_text(&p.payee),
            project_id: holder_project(&p.payee),
            tier_id: p.tier.map(|t| int(t.0, "tier id")).transpose()?,
            asset_id: i64::from(p.asset.0),
            amount_per_period: u128::from(p.amount_per_period),
            period: i64::from(p.period),
            rate: p.rate,
            monthly_units: monthly_units(p.rate),
            end_time: p.end.map(|t| int(t, "pledge end")).transpose()?,
            cap: p.cap.map(u128::from),
            status: status.to_owned(),
            reason: reason.map(str::to_owned),
            created_at: int(p.created_at, "pledge time")?,
            streamed: p.streamed,
            since: int(p.since, "pledge time")?,
            pause_clock: int(p.pause_clock, "pause clock")?,
            end_scheduled: p.end_scheduled.map(|t| int(t, "pledge end")).transpose()?,
            created_level: old.map_or(i64::from(level), |o| o.created_level),
            updated_level: i64::from(level),
        })
    }

    /// Whether the pledge streams now.
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }

    /// Whether the pledge is live: active or paused, not ended.
    pub fn is_live(&self) -> bool {
        self.status != "ended"
    }

    /// The pledge record this row mirrors.
    pub fn pledge(&self) -> Result<Pledge, IndexError> {
        const T: &str = "pledges";
        let opt = |v: Option<i64>| v.map(|t| uint(T, t)).transpose();
        Ok(Pledge {
            patron: address(T, &self.patron)?,
            payee: parse_holder(&self.payee)
                .ok_or_else(|| corrupt(T, format!("payee {}", self.payee)))?,
            tier: opt(self.tier_id)?.map(TierId),
            asset: AssetId(uint32(T, self.asset_id)?),
            amount_per_period: base(T, self.amount_per_period)?,
            period: uint32(T, self.period)?,
            rate: self.rate,
            end: opt(self.end_time)?,
            cap: self.cap.map(|c| base(T, c)).transpose()?,
            status: parse_status(&self.status, self.reason.as_deref())
                .ok_or_else(|| corrupt(T, format!("status {} {:?}", self.status, self.reason)))?,
            created_at: uint(T, self.created_at)?,
            streamed: self.streamed,
            since: uint(T, self.since)?,
            pause_clock: uint(T, self.pause_clock)?,
            end_scheduled: opt(self.end_scheduled)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use pledgeroll_contracts::{Holder, ProjectId};

    use super::super::tests::alice;
    use super::*;
    use crate::schema::Row;

    #[test]
    fn pledges_round_trip_through_rows() {
        let p = Pledge {
            patron: alice(),
            payee: Holder::Project(ProjectId(3)),
            tier: None,
            asset: AssetId(1),
            amount_per_period: u64::MAX,
            period: 2_592_000,
            rate: 123,
            end: Some(99),
            cap: Some(7),
            status: PledgeStatus::Paused {
                reason: PauseReason::OutOfFunds,
            },
            created_at: 5,
            streamed: u128::MAX / 3,
            since: 9,
            pause_clock: 600,
            end_scheduled: None,
        };
        let row = PledgeRow::from_pledge(PledgeId(8), &p, None, 4).expect("fits");
        assert_eq!(row.project_id, Some(3));
        assert_eq!(row.status, "paused");
        assert_eq!(row.reason.as_deref(), Some("out_of_funds"));
        assert_eq!(row.pledge().expect("decodes"), p);
        let again = PledgeRow::from_values(row.values()).expect("decodes");
        assert_eq!(again, row);
        let broken = PledgeRow {
            reason: Some("by_accident".into()),
            ..row
        };
        assert!(broken.pledge().is_err());
    }
}
