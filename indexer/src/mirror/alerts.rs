//! The alerts of each event: who hears of it and what. Run just before the
//! event's family applies it, over the batch's rows as they stand (a tier
//! retired now and not before, a creator's patrons as it pauses), so the
//! alerts of a level are written with the level. Fan-outs read rows the prefetch
//! brought in: a creator's patrons when it pauses, a tier's when it is
//! retired, a project's funders when it opens refunds.

use pledgeroll_contracts::escrow::InvoiceChange;
use pledgeroll_contracts::event::PledgeChange;
use pledgeroll_contracts::state::{EndReason, PauseReason, PledgeStatus};
use pledgeroll_contracts::units::DAY;
use pledgeroll_contracts::{Event, Holder};

use super::batch::{asset_key, Batch};
use super::prefetch::Keys;
use crate::alerts::AlertKind;
use crate::error::{int, IndexError};
use crate::rows::{address_text, holder_project, status_text, AlertRow};

/// What an alert is about, before it is addressed and numbered: a row whose
/// subject fields are set and the others blank.
fn about() -> AlertRow {
    AlertRow {
        level: 0,
        idx: 0,
        happened_at: 0,
        account: String::new(),
        kind: String::new(),
        event_idx: None,
        counterparty: None,
        pledge_id: None,
        tier_id: None,
        project_id: None,
        invoice_no: None,
        asset_id: None,
        amount: None,
        period: None,
        reason: None,
    }
}

impl Batch {
    /// Sends `about` to `account` as an alert of `kind`, the next of the
    /// level.
    fn alert(
        &mut self,
        event_idx: Option<i64>,
        account: String,
        kind: AlertKind,
        about: &AlertRow,
    ) {
        let idx = self.alert_idx;
        self.alert_idx += 1;
        self.alerts.push(AlertRow {
            level: self.level(),
            idx,
            happened_at: i64::try_from(self.time).unwrap_or(i64::MAX),
            account,
            kind: kind.as_str().to_owned(),
            event_idx,
            ..about.clone()
        });
    }

    /// A project's commissioners, as the batch has the project.
    fn commissioners(&self, project: i64) -> Vec<String> {
        self.projects
            .get(&(project,))
            .and_then(|p| serde_json::from_str(&p.commissioners).ok())
            .unwrap_or_default()
    }
}

/// Adds the keys of the rows the alerts of `event` read: the project whose
/// commissioners hear of it, and the patrons or funders a fan-out reaches.
pub(super) fn keys(event: &Event, keys: &mut Keys) -> Result<(), IndexError> {
    match event {
        Event::Tipped {
            to: Holder::Project(p),
            ..
        }
        | Event::InvoiceUpdated { project: p, .. } => {
            keys.projects.insert((int(p.0, "project id")?,));
        }
        Event::RefundsOpened { project } => {
            let p = int(project.0, "project id")?;
            keys.projects.insert((p,));
            keys.funders_of_projects.insert(p);
        }
        Event::CreatorPaused { creator, .. } => {
            keys.patrons_of_creators.insert(address_text(creator));
        }
        // Only a retiring tier's patrons are read: a tier changes with
        // every pledge, and its patrons may be many.
        Event::TierUpdated { tier, record } if record.retired => {
            keys.patrons_of_tiers.insert(int(tier.0, "tier id")?);
        }
        _ => {}
    }
    Ok(())
}

/// How long before a balance runs out its holder is warned: a week, then a
/// day.
pub const RUNWAY_WARNINGS: [u64; 2] = [7 * DAY, DAY];

/// How long before an invoice pays by itself its commissioners are warned.
pub const INVOICE_WARNING: u64 = DAY;

/// The alerts the clock brings at the level just applied: runway warnings
/// and invoices about to pay by themselves.
pub(super) fn scheduled(b: &mut Batch) {
    let now = b.time;
    let Some(prev) = b.prev_time.replace(now) else {
        return;
    };
    runway(b, prev, now);
    invoices_due(b, prev, now);
}

/// Every open invoice nobody vetoed whose time-lock ends within a day
/// from a time after the previous level and by this one: its
/// commissioners hear that it will pay by itself. The invoices come from
/// the batch, which the prefetch filled with those whose time-lock ends
/// within the batch's window (an index range).
fn invoices_due(b: &mut Batch, prev: u64, now: u64) {
    let mut due: Vec<(i64, i64, i64, u128, u64)> = Vec::new();
    for i in b.invoices.rows() {
        let Ok(unlocks_at) = u64::try_from(i.unlocks_at) else {
            continue;
        };
        let at = unlocks_at.saturating_sub(INVOICE_WARNING);
        if i.status == "open" && i.vetoes == "[]" && prev < at && at <= now && unlocks_at > now {
            due.push((i.project_id, i.invoice_no, i.asset_id, i.amount, unlocks_at));
        }
    }
    due.sort_unstable();
    for (project, invoice, asset, amount, unlocks_at) in due {
        let about = AlertRow {
            project_id: Some(project),
            invoice_no: Some(invoice),
            asset_id: Some(asset),
            amount: Some(amount),
            period: i64::try_from(unlocks_at - now).ok(),
            ..about()
        };
        for c in b.commissioners(project) {
            b.alert(None, c, AlertKind::InvoicePaysSoon, &about);
        }
    }
}

/// The runway alerts of the level just applied: every draining balance
/// whose warning time (its run-out time less a week, or a day) falls after
/// the previous level's time and by this level's. The balances come from
/// the batch, which the prefetch filled with every balance running out
/// within the batch's warning windows (an index range, not a scan).
fn runway(b: &mut Batch, prev: u64, now: u64) {
    let mut due: Vec<(String, i64, u64, u64)> = Vec::new();
    for row in b.balances.rows() {
        let Some(runs_out) = row.depletion_scheduled.and_then(|d| u64::try_from(d).ok()) else {
            continue;
        };
        if row.holder.starts_with("project-") {
            continue;
        }
        for warning in RUNWAY_WARNINGS {
            let at = runs_out.saturating_sub(warning);
            if prev < at && at <= now && runs_out > now {
                due.push((row.holder.clone(), row.asset_id, warning, runs_out));
            }
        }
    }
    due.sort_unstable_by(|a, b| {
        (&a.0, a.1, std::cmp::Reverse(a.2)).cmp(&(&b.0, b.1, std::cmp::Reverse(b.2)))
    });
    for (holder, asset_id, _, runs_out) in due {
        let about = AlertRow {
            asset_id: Some(asset_id),
            period: i64::try_from(runs_out - now).ok(),
            ..about()
        };
        b.alert(None, holder, AlertKind::RunwayLow, &about);
    }
}

/// Adds the alerts of `event`, the `idx`th of the level.
pub(super) fn derive(b: &mut Batch, idx: i64, event: &Event) -> Result<(), IndexError> {
    let idx = Some(idx);
    match event {
        Event::PledgeUpdated {
            pledge,
            change,
            record,
        } => {
            let patron = address_text(&record.patron);
            let about = AlertRow {
                pledge_id: Some(int(pledge.0, "pledge id")?),
                tier_id: record.tier.map(|t| int(t.0, "tier id")).transpose()?,
                project_id: holder_project(&record.payee),
                asset_id: Some(asset_key(record.asset)),
                amount: Some(u128::from(record.amount_per_period)),
                period: Some(i64::from(record.period)),
                reason: status_text(&record.status).1.map(str::to_owned),
                ..about()
            };
            let out_of_funds = matches!(
                record.status,
                PledgeStatus::Paused {
                    reason: PauseReason::OutOfFunds
                }
            );
            if let Holder::Account(creator) = &record.payee {
                let to_creator = match change {
                    PledgeChange::Started => Some(AlertKind::PledgeStarted),
                    PledgeChange::Changed => Some(AlertKind::PledgeChanged),
                    PledgeChange::Paused if out_of_funds => Some(AlertKind::PatronRanDry),
                    PledgeChange::Paused => Some(AlertKind::PledgePaused),
                    PledgeChange::Resumed => Some(AlertKind::PledgeResumed),
                    PledgeChange::Ended => Some(AlertKind::PledgeEnded),
                    PledgeChange::Settled => None,
                };
                if let Some(kind) = to_creator {
                    let about = AlertRow {
                        counterparty: Some(patron.clone()),
                        ..about.clone()
                    };
                    b.alert(idx, address_text(creator), kind, &about);
                }
            }
            // The patron hears of what they did not do themselves.
            let to_patron = match (change, &record.status) {
                (PledgeChange::Paused, _) if out_of_funds => Some(AlertKind::PledgeRanDry),
                (
                    PledgeChange::Ended,
                    PledgeStatus::Ended {
                        reason: EndReason::EndDate | EndReason::CapReached,
                    },
                ) => Some(AlertKind::PledgeCompleted),
                _ => None,
            };
            if let Some(kind) = to_patron {
                let about = AlertRow {
                    counterparty: Some(crate::rows::holder_text(&record.payee)),
                    ..about
                };
                b.alert(idx, patron, kind, &about);
            }
        }
        Event::Tipped {
            from,
            to,
            asset,
            amount,
            ..
        } => {
            let about = AlertRow {
                counterparty: Some(address_text(from)),
                project_id: holder_project(to),
                asset_id: Some(asset_key(*asset)),
                amount: Some(u128::from(*amount)),
                ..about()
            };
            match to {
                Holder::Account(a) => b.alert(idx, address_text(a), AlertKind::TipReceived, &about),
                Holder::Project(p) => {
                    for c in b.commissioners(int(p.0, "project id")?) {
                        b.alert(idx, c, AlertKind::TipReceived, &about);
                    }
                }
            }
        }
        Event::Withdrawn {
            account,
            asset,
            amount,
            destination,
            ..
        } => {
            let about = AlertRow {
                counterparty: Some(destination.to_string()),
                asset_id: Some(asset_key(*asset)),
                amount: Some(u128::from(*amount)),
                ..about()
            };
            b.alert(
                idx,
                address_text(account),
                AlertKind::WithdrawalSent,
                &about,
            );
        }
        Event::CreatorPaused { creator, pause } => {
            let creator = address_text(creator);
            let kind = if pause.is_paused() {
                AlertKind::CreatorPaused
            } else {
                AlertKind::CreatorResumed
            };
            let mut patrons: Vec<String> = b
                .creator_patrons
                .rows()
                .filter(|p| p.creator == creator && p.live_pledges > 0)
                .map(|p| p.patron.clone())
                .collect();
            patrons.sort_unstable();
            let about = AlertRow {
                counterparty: Some(creator),
                ..about()
            };
            for p in patrons {
                b.alert(idx, p, kind, &about);
            }
        }
        Event::TierUpdated { tier, record } => {
            let tier_id = int(tier.0, "tier id")?;
            let was_retired = b.tiers.get(&(tier_id,)).is_some_and(|t| t.retired);
            if !record.retired || was_retired {
                return Ok(());
            }
            let mut patrons: Vec<String> = b
                .tier_patrons
                .rows()
                .filter(|p| p.tier_id == tier_id && p.live_pledges > 0)
                .map(|p| p.patron.clone())
                .collect();
            patrons.sort_unstable();
            let about = AlertRow {
                counterparty: Some(address_text(&record.creator)),
                tier_id: Some(tier_id),
                ..about()
            };
            for p in patrons {
                b.alert(idx, p, AlertKind::TierRetired, &about);
            }
        }
        Event::InvoiceUpdated {
            project,
            invoice,
            change,
            record,
        } => {
            let project_id = int(project.0, "project id")?;
            let about = AlertRow {
                counterparty: Some(address_text(&record.raised_by)),
                project_id: Some(project_id),
                invoice_no: Some(i64::from(*invoice)),
                asset_id: Some(asset_key(record.asset)),
                amount: Some(u128::from(record.amount)),
                ..about()
            };
            let raised_by = address_text(&record.raised_by);
            let to_commissioners = match change {
                InvoiceChange::Raised => Some(AlertKind::InvoiceRaised),
                InvoiceChange::Approved => Some(AlertKind::InvoiceApproved),
                InvoiceChange::Vetoed => Some(AlertKind::InvoiceVetoed),
                InvoiceChange::Paid | InvoiceChange::Withdrawn => None,
            };
            if let Some(kind) = to_commissioners {
                for c in b.commissioners(project_id) {
                    if kind != AlertKind::InvoiceRaised || c != raised_by {
                        b.alert(idx, c, kind, &about);
                    }
                }
            }
            if *change == InvoiceChange::Paid {
                b.alert(
                    idx,
                    address_text(&record.beneficiary),
                    AlertKind::InvoicePaid,
                    &about,
                );
            }
        }
        Event::RefundsOpened { project } => {
            let project_id = int(project.0, "project id")?;
            let mut told = b.commissioners(project_id);
            let mut funders: Vec<String> = b
                .funders
                .rows()
                .filter(|f| f.project_id == project_id)
                .map(|f| f.funder.clone())
                .collect();
            funders.sort_unstable();
            for f in funders {
                if !told.contains(&f) {
                    told.push(f);
                }
            }
            let about = AlertRow {
                project_id: Some(project_id),
                ..about()
            };
            for account in told {
                b.alert(idx, account, AlertKind::RefundsOpened, &about);
            }
        }
        _ => {}
    }
    Ok(())
}
