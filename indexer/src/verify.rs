//! `verify`: checks everything the directory shows against the node, at
//! the mirror's cursor block.
//!
//! - The rollup and its kernel: the mirror must follow the node's rollup,
//!   and the kernel the node runs must be the one the mirror recorded.
//! - The state: mirror rows are turned back into the protocol's records
//!   and compared with the records the node stores (every flow, asset and
//!   supply, account key, creator, tier, pledge, project, escrow account,
//!   ticket, invoice and funder, and the kernel's state hash), so a
//!   difference in any field shows.
//! - Everything else: every mirrored table (ledger, daily figures, patron
//!   counts, events, receipts, levels and the state tables again) is
//!   derived afresh from the node's level records into a scratch mirror,
//!   and compared with the mirror row by row; the first differing row of
//!   each table is named. A directory operator who rewrites history (a
//!   ledger row, a day's income) is found out here, since no state record
//!   holds history.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use futures_util::StreamExt;
use pledgeroll_contracts::asset::{Supply, Ticket};
use pledgeroll_contracts::escrow::{EscrowAsset, Funder, Invoice, Project, WorkTicket};
use pledgeroll_contracts::state::{Account, Creator, Pledge, Tier};
use pledgeroll_contracts::stream::Flow;
use pledgeroll_contracts::{AssetId, Decode, PledgeId, TierId};
use pledgeroll_interface::paths;
use serde::Deserialize;

use crate::db::{Db, DbConfig, Tx};
use crate::error::IndexError;
use crate::mirror::{read_meta, Cursor, LevelData, Mirror, META_KERNEL, META_ROLLUP};
use crate::rows::{
    AccountRow, AssetRow, BalanceRow, CreatorRow, CursorRow, EscrowRow, FunderAssetRow, FunderRow,
    InvoiceRow, LevelRow, PledgeRow, ProjectRow, TicketRow, TierRow, LEVEL_TABLES, STATE_TABLES,
};
use crate::schema::{Row, TableDef, Value};
use crate::source::Source;

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The level compared.
    pub level: u32,
    /// Its block.
    pub block: String,
    /// Records compared, per kind.
    pub checked: BTreeMap<&'static str, usize>,
    /// Pledges in the mirror per status.
    pub pledge_statuses: BTreeMap<String, usize>,
    /// Every difference, in words.
    pub differences: Vec<String>,
}

impl Report {
    /// Whether the mirror equals the node's state.
    pub fn is_consistent(&self) -> bool {
        self.differences.is_empty()
    }
}

#[derive(Debug, Deserialize)]
struct KeyValue {
    key: String,
    value: String,
}

/// Reads the node's state at one block.
struct State<'a> {
    source: &'a Source,
    block: String,
}

impl State<'_> {
    fn key(key: &str) -> String {
        format!("{}{key}", paths::STATE)
    }

    /// The values directly under a protocol key, by their last step.
    async fn values<T: Decode>(&self, key: &str) -> Result<Vec<(String, T)>, IndexError> {
        let path = format!(
            "/global/block/{}/durable/wasm_2_0_0/values?key={}",
            self.block,
            Self::key(key)
        );
        let items: Vec<KeyValue> = self.source.node().get_json(&path).await?;
        items
            .into_iter()
            .map(|kv| {
                let step = kv.key.rsplit('/').next().unwrap_or_default().to_owned();
                let bytes = hex::decode(&kv.value).map_err(|e| corrupt(&kv.key, e))?;
                let value = T::from_bytes(&bytes).map_err(|e| corrupt(&kv.key, e))?;
                Ok((step, value))
            })
            .collect()
    }

    /// The sub-keys of a protocol key.
    async fn subkeys(&self, key: &str) -> Result<Vec<String>, IndexError> {
        let path = format!(
            "/global/block/{}/durable/wasm_2_0_0/subkeys?key={}",
            self.block,
            Self::key(key)
        );
        let steps: Vec<String> = self.source.node().get_json(&path).await?;
        Ok(steps
            .into_iter()
            .filter(|s| !s.is_empty() && s != "@")
            .collect())
    }
}

fn corrupt(key: &str, e: impl std::fmt::Display) -> IndexError {
    IndexError::Node(pledgeroll_interface::NodeError::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

/// Compares records by key and notes every difference.
fn compare<K: Ord + Debug, T: PartialEq + Debug>(
    report: &mut Report,
    kind: &'static str,
    node: BTreeMap<K, T>,
    mut mirror: BTreeMap<K, T>,
) {
    *report.checked.entry(kind).or_default() += node.len();
    for (key, theirs) in node {
        match mirror.remove(&key) {
            None => report.differences.push(format!(
                "{kind} {key:?}: on the node, missing from the mirror"
            )),
            Some(ours) if ours != theirs => report.differences.push(format!(
                "{kind} {key:?}: the node has {theirs:?}, the mirror has {ours:?}"
            )),
            Some(_) => {}
        }
    }
    for key in mirror.into_keys() {
        report
            .differences
            .push(format!("{kind} {key:?}: in the mirror, not on the node"));
    }
}

fn parse_id<T: std::str::FromStr>(step: &str) -> Option<T> {
    step.parse().ok()
}

/// One holder's flows, by (holder, asset).
type HolderFlows = Vec<((String, u32), Flow)>;

/// A project funder's pledges, by (project, funder).
type FunderPledges = BTreeMap<(i64, String), Vec<PledgeId>>;

/// A key of the mirror as the node's key type; a value that does not fit
/// becomes one no node key equals, so the record shows as a difference.
fn id<T: TryFrom<i64> + Bounded>(v: i64) -> T {
    T::try_from(v).unwrap_or(T::MAX)
}

/// Integer types with a largest value, for [`id`].
trait Bounded {
    const MAX: Self;
}

impl Bounded for u32 {
    const MAX: u32 = u32::MAX;
}

impl Bounded for u64 {
    const MAX: u64 = u64::MAX;
}

/// The node's records directly under a protocol key, by numeric id.
async fn by_id<K: std::str::FromStr + Ord, T: Decode>(
    state: &State<'_>,
    key: &str,
) -> Result<BTreeMap<K, T>, IndexError> {
    Ok(state
        .values::<T>(key)
        .await?
        .into_iter()
        .filter_map(|(k, v)| Some((parse_id(&k)?, v)))
        .collect())
}

/// Compares the mirror with the node's state at the mirror's cursor.
pub async fn verify(mirror: &Mirror, source: &Source) -> Result<Report, IndexError> {
    // One snapshot of the mirror throughout, even while an indexer writes.
    let mut tx = mirror.db().begin().await?;
    tx.read_snapshot().await?;
    let cursor: Vec<CursorRow> = tx.load(&[(1,)]).await?;
    let cursor = cursor
        .into_iter()
        .next()
        .ok_or_else(|| IndexError::Config("the mirror is empty: run the indexer first".into()))?;
    let cursor = Cursor {
        level: u32::try_from(cursor.level).map_err(|_| IndexError::Corrupt {
            table: "indexer_cursor".into(),
            reason: format!("level {}", cursor.level),
        })?,
        hash: cursor.block_hash,
    };
    let mut report = Report {
        level: cursor.level,
        block: cursor.hash.clone(),
        ..Report::default()
    };
    match source.block_hash(cursor.level).await? {
        Some(hash) if hash == cursor.hash => {}
        other => {
            report.differences.push(format!(
                "the node's block at level {} is {}, the mirror's is {}: let the indexer follow the node first",
                cursor.level,
                other.as_deref().unwrap_or("missing"),
                cursor.hash
            ));
            tx.rollback().await?;
            return Ok(report);
        }
    }
    if !followed(source, &mut tx, &cursor, &mut report).await? {
        tx.rollback().await?;
        return Ok(report);
    }
    let state = State {
        source,
        block: cursor.hash.clone(),
    };
    state_hash(&state, &mut tx, &cursor, &mut report).await?;
    assets(&state, &mut tx, &mut report).await?;
    flows(&state, &mut tx, &mut report).await?;
    account_keys(&state, &mut tx, &mut report).await?;
    creators(&state, &mut tx, &mut report).await?;
    let funder_pledges = pledges(&state, &mut tx, &mut report).await?;
    let project_ids = projects(&state, &mut tx, &mut report).await?;
    project_parts(&state, &mut tx, &mut report, &project_ids, funder_pledges).await?;
    rederived(source, &mut tx, &cursor, &mut report).await?;
    tx.rollback().await?;
    Ok(report)
}

/// Whether the node runs the rollup and the kernel the mirror follows;
/// notes the difference otherwise (nothing else is worth comparing then).
async fn followed(
    source: &Source,
    tx: &mut Tx,
    cursor: &Cursor,
    report: &mut Report,
) -> Result<bool, IndexError> {
    let rollup = source.rollup().await?;
    match read_meta(tx, META_ROLLUP).await? {
        Some(ours) if ours != rollup => {
            report.differences.push(format!(
                "the node runs rollup {rollup}, the mirror follows {ours}: this mirror is of another rollup"
            ));
            return Ok(false);
        }
        Some(_) => {}
        None => report.differences.push(format!(
            "the mirror names no rollup; the node runs {rollup}"
        )),
    }
    *report.checked.entry("rollup").or_default() += 1;
    let kernel = source.kernel_hash(&cursor.hash).await?;
    let ours = read_meta(tx, META_KERNEL).await?;
    if let (Some(theirs), Some(ours)) = (&kernel, &ours) {
        if theirs != ours {
            report.differences.push(format!(
                "the node's kernel at level {} is {theirs}, the mirror recorded {ours}",
                cursor.level
            ));
            return Ok(false);
        }
        *report.checked.entry("kernel hash").or_default() += 1;
    }
    Ok(true)
}

/// Levels read from the node and applied to the scratch mirror at once.
const REDERIVE_BATCH: usize = 1_000;

/// Derives a scratch mirror from the node's level records, from the
/// mirror's first level to its cursor, and compares every mirrored table
/// with it row by row.
async fn rederived(
    source: &Source,
    tx: &mut Tx,
    cursor: &Cursor,
    report: &mut Report,
) -> Result<(), IndexError> {
    let Some(first) = tx.select_first(&LevelRow::DEF).await? else {
        return Ok(());
    };
    let first = LevelRow::from_values(first)?.level;
    let first = u32::try_from(first).map_err(|_| IndexError::Corrupt {
        table: "levels".into(),
        reason: format!("level {first}"),
    })?;
    let scratch_dir = tempfile::tempdir().map_err(|e| {
        IndexError::Config(format!("cannot make a scratch directory to verify in: {e}"))
    })?;
    let url = format!(
        "sqlite://{}",
        scratch_dir.path().join("rederived.sqlite").display()
    );
    let scratch = Mirror::open(Db::connect(&DbConfig::new(url)).await?).await?;
    let mut levels = futures_util::stream::iter(first..=cursor.level)
        .map(|l| source.fetch(l))
        .buffered(16);
    let mut batch: Vec<LevelData> = Vec::with_capacity(REDERIVE_BATCH);
    loop {
        let next = levels.next().await.transpose()?;
        let done = next.is_none();
        batch.extend(next);
        if batch.len() >= REDERIVE_BATCH || (done && !batch.is_empty()) {
            scratch.apply(&batch, u32::MAX).await?;
            batch.clear();
        }
        if done {
            break;
        }
    }
    let mut theirs = scratch.db().begin().await?;
    for def in STATE_TABLES.iter().chain(LEVEL_TABLES.iter()) {
        let node = keyed(def, theirs.select_all(def).await?);
        let mirror = keyed(def, tx.select_all(def).await?);
        compare_rows(report, def, node, mirror);
    }
    theirs.rollback().await?;
    scratch.db().close().await;
    Ok(())
}

/// A table's rows by primary key.
fn keyed(def: &TableDef, rows: Vec<Vec<Value>>) -> BTreeMap<Vec<Value>, Vec<Value>> {
    rows.into_iter()
        .map(|row| (row.iter().take(def.keys).cloned().collect(), row))
        .collect()
}

/// Compares a table as the node's levels give it with the mirror's, and
/// names the first differing row (and how many differ).
fn compare_rows(
    report: &mut Report,
    def: &TableDef,
    node: BTreeMap<Vec<Value>, Vec<Value>>,
    mut mirror: BTreeMap<Vec<Value>, Vec<Value>>,
) {
    *report.checked.entry(def.name).or_default() += node.len();
    let mut first: Option<String> = None;
    let mut differing = 0usize;
    for (key, theirs) in node {
        let said = match mirror.remove(&key) {
            None => Some("is missing from the mirror".to_owned()),
            Some(ours) if ours != theirs => Some(columns_differing(def, &theirs, &ours)),
            Some(_) => None,
        };
        if let Some(said) = said {
            differing += 1;
            first.get_or_insert_with(|| format!("{} {said}", row_name(def, &key)));
        }
    }
    for key in mirror.into_keys() {
        differing += 1;
        first.get_or_insert_with(|| {
            format!(
                "{} is in the mirror, but no level of the node gives it",
                row_name(def, &key)
            )
        });
    }
    if let Some(first) = first {
        let more = match differing {
            1 => String::new(),
            n => format!(" ({} more rows of `{}` differ)", n - 1, def.name),
        };
        report.differences.push(format!("{first}{more}"));
    }
}

/// A row named by its table and key: `ledger row (level 12, idx 3)`.
fn row_name(def: &TableDef, key: &[Value]) -> String {
    let parts: Vec<String> = def
        .key_columns()
        .iter()
        .zip(key)
        .map(|(c, v)| format!("{} {}", c.name, shown(v)))
        .collect();
    format!("`{}` row ({})", def.name, parts.join(", "))
}

/// The columns of a row that differ: `fine: the node's levels give 1000,
/// the mirror has 2000`.
fn columns_differing(def: &TableDef, theirs: &[Value], ours: &[Value]) -> String {
    let parts: Vec<String> = def
        .columns
        .iter()
        .zip(theirs.iter().zip(ours))
        .filter(|(_, (t, o))| t != o)
        .map(|(c, (t, o))| {
            format!(
                "{}: the node's levels give {}, the mirror has {}",
                c.name,
                shown(t),
                shown(o)
            )
        })
        .collect();
    format!("differs: {}", parts.join("; "))
}

/// A stored value as a person reads it.
fn shown(v: &Value) -> String {
    match v {
        Value::Null => "nothing".to_owned(),
        Value::Int(i) => i.to_string(),
        Value::Text(t) => format!("{t:?}"),
        Value::Exact(e) => e.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Bytes(b) => format!("0x{}", hex::encode(b)),
    }
}

/// The kernel's state hash after the level.
async fn state_hash(
    state: &State<'_>,
    tx: &mut Tx,
    cursor: &Cursor,
    report: &mut Report,
) -> Result<(), IndexError> {
    let levels: Vec<LevelRow> = tx.load(&[(i64::from(cursor.level),)]).await?;
    let ours = levels.into_iter().next().and_then(|l| l.state_hash);
    let theirs = state
        .source
        .node()
        .durable_value(&cursor.hash, &paths::LEVEL_STATE_HASH.to_string())
        .await?
        .map(hex::encode);
    if ours.is_some() && ours != theirs {
        report.differences.push(format!(
            "state hash at level {}: the node has {theirs:?}, the mirror has {ours:?}",
            cursor.level
        ));
    }
    *report.checked.entry("state hash").or_default() += 1;
    Ok(())
}

/// Assets and their supplies.
async fn assets(state: &State<'_>, tx: &mut Tx, report: &mut Report) -> Result<(), IndexError> {
    let node_tickets: BTreeMap<u32, Ticket> = by_id(state, "/assets").await?;
    let node_supply: BTreeMap<u32, Supply> = by_id(state, "/supply").await?;
    let mut our_tickets = BTreeMap::new();
    let mut our_supply = BTreeMap::new();
    for a in tx.load_all::<AssetRow>().await? {
        let id: u32 = id(a.asset_id);
        our_tickets.insert(id, a.ticket()?);
        our_supply.insert(id, a.supply());
    }
    compare(report, "asset", node_tickets, our_tickets);
    compare(report, "supply", node_supply, our_supply);
    Ok(())
}

/// Every holder's balance in every asset.
async fn flows(state: &State<'_>, tx: &mut Tx, report: &mut Report) -> Result<(), IndexError> {
    let holders = state.subkeys("/flows").await?;
    let flows: Vec<Result<HolderFlows, IndexError>> = futures_util::stream::iter(holders)
        .map(|holder| async move {
            let values = state.values::<Flow>(&format!("/flows/{holder}")).await?;
            Ok(values
                .into_iter()
                .filter_map(|(asset, flow)| Some(((holder.clone(), parse_id(&asset)?), flow)))
                .collect())
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut node_flows = BTreeMap::new();
    for part in flows {
        node_flows.extend(part?);
    }
    let mut our_flows = BTreeMap::new();
    for b in tx.load_all::<BalanceRow>().await? {
        our_flows.insert((b.holder.clone(), id(b.asset_id)), b.flow()?);
    }
    compare(report, "flow", node_flows, our_flows);
    Ok(())
}

/// Account keys.
async fn account_keys(
    state: &State<'_>,
    tx: &mut Tx,
    report: &mut Report,
) -> Result<(), IndexError> {
    let node_keys: BTreeMap<String, Option<String>> = state
        .values::<Account>("/accounts")
        .await?
        .into_iter()
        .map(|(a, acc)| (a, acc.public_key.map(|k| k.to_string())))
        .collect();
    let our_keys: BTreeMap<String, Option<String>> = tx
        .load_all::<AccountRow>()
        .await?
        .into_iter()
        .filter(|a| a.public_key.is_some() || node_keys.contains_key(&a.address))
        .map(|a| (a.address, a.public_key))
        .collect();
    compare(report, "account key", node_keys, our_keys);
    Ok(())
}

/// Tiers, and creators with their tier lists.
async fn creators(state: &State<'_>, tx: &mut Tx, report: &mut Report) -> Result<(), IndexError> {
    let mut our_tiers = BTreeMap::new();
    let mut creator_tiers: BTreeMap<String, Vec<TierId>> = BTreeMap::new();
    for t in tx.load_all::<TierRow>().await? {
        let id: u64 = id(t.tier_id);
        our_tiers.insert(id, t.tier()?);
        creator_tiers.entry(t.creator).or_default().push(TierId(id));
    }
    let node_tiers: BTreeMap<u64, Tier> = by_id(state, "/tiers").await?;
    compare(report, "tier", node_tiers, our_tiers);
    let node_creators: BTreeMap<String, Creator> = state
        .values::<Creator>("/creators")
        .await?
        .into_iter()
        .collect();
    let mut our_creators = BTreeMap::new();
    for c in tx.load_all::<CreatorRow>().await? {
        let tiers = creator_tiers.remove(&c.address).unwrap_or_default();
        let creator = Creator {
            profile: c.profile()?,
            tiers: pledgeroll_contracts::encoding::List::new(tiers).map_err(|e| {
                IndexError::Corrupt {
                    table: "tiers".into(),
                    reason: format!("creator {}: {e}", c.address),
                }
            })?,
            pause: c.pause()?,
        };
        our_creators.insert(c.address, creator);
    }
    compare(report, "creator", node_creators, our_creators);
    Ok(())
}

/// Pledges; returns each project funder's pledges, for comparing funders.
async fn pledges(
    state: &State<'_>,
    tx: &mut Tx,
    report: &mut Report,
) -> Result<FunderPledges, IndexError> {
    let mut our_pledges = BTreeMap::new();
    let mut funder_pledges = FunderPledges::new();
    for p in tx.load_all::<PledgeRow>().await? {
        *report.pledge_statuses.entry(p.status.clone()).or_default() += 1;
        let id: u64 = id(p.pledge_id);
        our_pledges.insert(id, p.pledge()?);
        if let Some(project) = p.project_id {
            funder_pledges
                .entry((project, p.patron.clone()))
                .or_default()
                .push(PledgeId(id));
        }
    }
    let node_pledges: BTreeMap<u64, Pledge> = by_id(state, "/pledges").await?;
    compare(report, "pledge", node_pledges, our_pledges);
    Ok(funder_pledges)
}

/// Projects; returns the node's project ids.
async fn projects(
    state: &State<'_>,
    tx: &mut Tx,
    report: &mut Report,
) -> Result<Vec<u64>, IndexError> {
    let node_projects: BTreeMap<u64, Project> = by_id(state, "/projects").await?;
    let mut our_projects = BTreeMap::new();
    for p in tx.load_all::<ProjectRow>().await? {
        our_projects.insert(id(p.project_id), p.project()?);
    }
    let ids = node_projects.keys().copied().collect();
    compare(report, "project", node_projects, our_projects);
    Ok(ids)
}

/// Everything under the projects: escrow accounts, tickets, invoices and
/// funders.
async fn project_parts(
    state: &State<'_>,
    tx: &mut Tx,
    report: &mut Report,
    projects: &[u64],
    funder_pledges: FunderPledges,
) -> Result<(), IndexError> {
    let mut node_escrows = BTreeMap::new();
    let mut node_tickets = BTreeMap::new();
    let mut node_invoices = BTreeMap::new();
    let mut node_funders = BTreeMap::new();
    for p in projects {
        let under = |part: &str| format!("/projects/{p}/{part}");
        for (asset, e) in by_id::<u32, EscrowAsset>(state, &under("assets")).await? {
            node_escrows.insert((*p, asset), e);
        }
        for (n, t) in by_id::<u32, WorkTicket>(state, &under("tickets")).await? {
            node_tickets.insert((*p, n), t);
        }
        for (n, i) in by_id::<u32, Invoice>(state, &under("invoices")).await? {
            node_invoices.insert((*p, n), i);
        }
        for (who, f) in state.values::<Funder>(&under("funders")).await? {
            node_funders.insert((*p, who), funder_view(&f));
        }
    }
    let mut our_escrows = BTreeMap::new();
    for e in tx.load_all::<EscrowRow>().await? {
        our_escrows.insert((id(e.project_id), id(e.asset_id)), e.escrow()?);
    }
    compare(report, "escrow", node_escrows, our_escrows);
    let mut our_tickets = BTreeMap::new();
    for t in tx.load_all::<TicketRow>().await? {
        our_tickets.insert((id(t.project_id), id(t.ticket_no)), t.ticket()?);
    }
    compare(report, "ticket", node_tickets, our_tickets);
    let mut our_invoices = BTreeMap::new();
    for i in tx.load_all::<InvoiceRow>().await? {
        our_invoices.insert((id(i.project_id), id(i.invoice_no)), i.invoice()?);
    }
    compare(report, "invoice", node_invoices, our_invoices);
    let our_funders = funders(tx, funder_pledges).await?;
    compare(report, "funder", node_funders, our_funders);
    Ok(())
}

/// The mirror's funders as the node keeps them: one-off funds per asset,
/// pledges, and whether they reclaimed.
async fn funders(
    tx: &mut Tx,
    mut funder_pledges: FunderPledges,
) -> Result<BTreeMap<(u64, String), FunderView>, IndexError> {
    let mut one_off: BTreeMap<(i64, String), BTreeSet<(u32, u128)>> = BTreeMap::new();
    for fa in tx.load_all::<FunderAssetRow>().await? {
        if fa.one_off > 0 {
            one_off
                .entry((fa.project_id, fa.funder.clone()))
                .or_default()
                .insert((id(fa.asset_id), fa.one_off));
        }
    }
    let mut ours = BTreeMap::new();
    for f in tx.load_all::<FunderRow>().await? {
        let key = (f.project_id, f.funder.clone());
        let view = FunderView {
            one_off: one_off.remove(&key).unwrap_or_default(),
            pledges: funder_pledges.remove(&key).unwrap_or_default(),
            reclaimed: f.reclaimed,
        };
        ours.insert((id(f.project_id), f.funder), view);
    }
    Ok(ours)
}

/// A funder's record with its lists in a canonical order.
#[derive(Debug, PartialEq, Eq)]
struct FunderView {
    one_off: BTreeSet<(u32, u128)>,
    pledges: Vec<PledgeId>,
    reclaimed: bool,
}

fn funder_view(f: &Funder) -> FunderView {
    let mut pledges = f.pledges.items().to_vec();
    pledges.sort();
    FunderView {
        one_off: f
            .one_off
            .items()
            .iter()
            .filter(|(_, v)| *v > 0)
            .map(|(AssetId(a), v)| (*a, *v))
            .collect(),
        pledges,
        reclaimed: f.reclaimed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_reports_missing_extra_and_different_records() {
        let mut report = Report::default();
        let node = BTreeMap::from([(1, "a"), (2, "b"), (3, "c")]);
        let mirror = BTreeMap::from([(1, "a"), (2, "x"), (4, "d")]);
        compare(&mut report, "thing", node, mirror);
        assert_eq!(report.checked.get("thing"), Some(&3));
        assert_eq!(report.differences.len(), 3, "{:?}", report.differences);
        assert!(report.differences.iter().any(|d| d.contains("thing 2")));
        assert!(report
            .differences
            .iter()
            .any(|d| d.contains("thing 3") && d.contains("missing")));
        assert!(report
            .differences
            .iter()
            .any(|d| d.contains("thing 4") && d.contains("not on the node")));
        let mut clean = Report::default();
        compare(
            &mut clean,
            "thing",
            BTreeMap::from([(1, 1)]),
            BTreeMap::from([(1, 1)]),
        );
        assert!(clean.is_consistent());
    }
}
