//! Reading, before a batch is applied, every row it may read or change, in
//! one bulk query per table: the family modules name the keys of their
//! events ([`super::Projection::keys`]), and a few rows lead to others (a
//! pledge to its tier, a tier to its creator, a balance to its last day).

use std::collections::BTreeSet;

use pledgeroll_contracts::{Address, AssetId, Holder, ProjectId};

use super::alerts::{INVOICE_WARNING, RUNWAY_WARNINGS};
use super::batch::{asset_key, day, Batch};
use super::{projection, LevelData};
use crate::db::Tx;
use crate::error::{int, IndexError};
use crate::rows::{address_text, holder_text, LevelRow};
use crate::schema::Value;

/// The keys a batch will touch, per table.
#[derive(Debug, Default)]
pub(super) struct Keys {
    pub(super) accounts: BTreeSet<(String,)>,
    pub(super) assets: BTreeSet<(i64,)>,
    pub(super) balances: BTreeSet<(String, i64)>,
    pub(super) creators: BTreeSet<(String,)>,
    pub(super) tiers: BTreeSet<(i64,)>,
    pub(super) tier_patrons: BTreeSet<(i64, String)>,
    pub(super) creator_patrons: BTreeSet<(String, String)>,
    pub(super) pledges: BTreeSet<(i64,)>,
    pub(super) projects: BTreeSet<(i64,)>,
    pub(super) escrows: BTreeSet<(i64, i64)>,
    pub(super) tickets: BTreeSet<(i64, i64)>,
    pub(super) invoices: BTreeSet<(i64, i64)>,
    pub(super) funders: BTreeSet<(i64, String)>,
    pub(super) funder_assets: BTreeSet<(i64, String, i64)>,
    /// Creators whose patrons an alert goes to.
    pub(super) patrons_of_creators: BTreeSet<String>,
    /// Tiers whose patrons an alert goes to.
    pub(super) patrons_of_tiers: BTreeSet<i64>,
    /// Projects whose funders an alert goes to.
    pub(super) funders_of_projects: BTreeSet<i64>,
}

impl Keys {
    /// A holder's balance in an asset.
    pub(super) fn balance(&mut self, holder: &Holder, asset: AssetId) {
        self.balances
            .insert((holder_text(holder), asset_key(asset)));
    }

    /// An account's balance in an asset.
    pub(super) fn account_balance(&mut self, account: &Address, asset: AssetId) {
        self.balance(&Holder::Account(*account), asset);
    }

    /// A project's funder, and their one-off funds in `asset` if given.
    pub(super) fn funder(
        &mut self,
        p: ProjectId,
        funder: &Address,
        asset: Option<AssetId>,
    ) -> Result<(), IndexError> {
        let p = int(p.0, "project id")?;
        self.funders.insert((p, address_text(funder)));
        if let Some(a) = asset {
            self.funder_assets
                .insert((p, address_text(funder), asset_key(a)));
        }
        Ok(())
    }
}

impl Batch {
    /// Reads the time of the level before the batch, and every balance
    /// that runs out within the batch's warning windows.
    async fn runway_balances(
        &mut self,
        tx: &mut Tx,
        batch: &[LevelData],
    ) -> Result<(), IndexError> {
        if let Some(cursor) = super::read_cursor(tx).await? {
            let rows: Vec<LevelRow> = tx.load(&[(i64::from(cursor.level),)]).await?;
            self.prev_time = rows
                .into_iter()
                .next()
                .and_then(|l| l.level_time)
                .and_then(|t| u64::try_from(t).ok());
        }
        let Some((first, last)) = self.time_window(batch) else {
            return Ok(());
        };
        let earliest = RUNWAY_WARNINGS.iter().min().copied().unwrap_or(0);
        let latest = RUNWAY_WARNINGS.iter().max().copied().unwrap_or(0);
        let from = int(first.saturating_add(earliest), "run-out time")?;
        let to = int(last.saturating_add(latest), "run-out time")?;
        self.balances
            .read_where(
                tx,
                "depletion_scheduled BETWEEN $1 AND $2",
                vec![Value::Int(from), Value::Int(to)],
            )
            .await
    }

    /// The times the batch's scheduled alerts fall between: from the level
    /// before the batch (or its first level) to its last level.
    fn time_window(&self, batch: &[LevelData]) -> Option<(u64, u64)> {
        let mut times = batch.iter().filter_map(|l| l.time);
        let first = self.prev_time.or_else(|| times.clone().next())?;
        Some((first, times.next_back()?))
    }

    /// Reads every open invoice whose time-lock ends within a day of the
    /// batch's levels, and names their projects, whose commissioners hear
    /// of them.
    async fn invoices_due(
        &mut self,
        tx: &mut Tx,
        batch: &[LevelData],
        keys: &mut Keys,
    ) -> Result<(), IndexError> {
        let Some((first, last)) = self.time_window(batch) else {
            return Ok(());
        };
        let from = int(first.saturating_add(INVOICE_WARNING), "time-lock end")?;
        let to = int(last.saturating_add(INVOICE_WARNING), "time-lock end")?;
        self.invoices
            .read_where(
                tx,
                "unlocks_at BETWEEN $1 AND $2",
                vec![Value::Int(from), Value::Int(to)],
            )
            .await?;
        keys.projects
            .extend(self.invoices.rows().map(|i| (i.project_id,)));
        Ok(())
    }

    /// Reads every row the batch may read or change.
    pub(super) async fn prefetch(
        &mut self,
        tx: &mut Tx,
        batch: &[LevelData],
    ) -> Result<(), IndexError> {
        let mut keys = Keys::default();
        for l in batch {
            if let Some(r) = &l.record {
                for e in &r.events {
                    projection(e).keys(e, &mut keys)?;
                    super::alerts::keys(e, &mut keys)?;
                }
            }
        }
        // A pledge's tier before the batch, and each tier's creator, take
        // part in patron counts, with the patron's pledges to them.
        self.pledges.read(tx, &keys.pledges).await?;
        for p in self.pledges.rows() {
            if let Some(t) = p.tier_id {
                keys.tiers.insert((t,));
                keys.tier_patrons.insert((t, p.patron.clone()));
                keys.creator_patrons
                    .insert((p.payee.clone(), p.patron.clone()));
            }
        }
        self.runway_balances(tx, batch).await?;
        self.invoices_due(tx, batch, &mut keys).await?;
        self.tier_patrons.read(tx, &keys.tier_patrons).await?;
        self.creator_patrons.read(tx, &keys.creator_patrons).await?;
        for creator in &keys.patrons_of_creators {
            self.creator_patrons
                .read_where(tx, "creator = $1", vec![Value::Text(creator.clone())])
                .await?;
        }
        for tier in &keys.patrons_of_tiers {
            self.tier_patrons
                .read_where(tx, "tier_id = $1", vec![Value::Int(*tier)])
                .await?;
        }
        self.tiers.read(tx, &keys.tiers).await?;
        keys.creators
            .extend(self.tiers.rows().map(|t| (t.creator.clone(),)));
        self.creators.read(tx, &keys.creators).await?;
        self.accounts.read(tx, &keys.accounts).await?;
        self.assets.read(tx, &keys.assets).await?;
        self.balances.read(tx, &keys.balances).await?;
        self.projects.read(tx, &keys.projects).await?;
        self.escrows.read(tx, &keys.escrows).await?;
        self.tickets.read(tx, &keys.tickets).await?;
        self.invoices.read(tx, &keys.invoices).await?;
        self.funders.read(tx, &keys.funders).await?;
        for project in &keys.funders_of_projects {
            self.funders
                .read_where(tx, "project_id = $1", vec![Value::Int(*project)])
                .await?;
        }
        self.funder_assets.read(tx, &keys.funder_assets).await?;
        // A holder's daily rows only change along with its flow, so none
        // exists after the day of its last flow change: that is the only
        // one to read.
        let mut days = BTreeSet::new();
        for b in self.balances.rows() {
            let at = u64::try_from(b.at).unwrap_or(0);
            days.insert((b.holder.clone(), b.asset_id, day(at)?));
        }
        self.daily.read(tx, &days).await
    }
}
