//! The mirror against the database, without a node: levels of a synthetic
//! chain of real protocol events applied in batches of every size, undone
//! and re-applied, on SQLite and on Postgres (`DATABASE_URL`).

#![allow(clippy::indexing_slicing, clippy::panic)]

#[macro_use]
mod common;

use common::chain::{Chain, Shape};
use common::{check_against_protocol, TestDb};
use pledgeroll_contracts::PledgeId;
use pledgeroll_indexer::rows::tables;
use pledgeroll_indexer::schema::{Kind, TableDef, Value};
use pledgeroll_indexer::{Backend, Db, IndexError, LevelData, Mirror};
use rand::{Rng, SeedableRng};

async fn apply_in(
    mirror: &Mirror,
    levels: &[LevelData],
    sizes: &mut impl FnMut() -> usize,
    undo_from: u32,
) {
    let mut rest = levels;
    while !rest.is_empty() {
        let n = sizes().clamp(1, rest.len());
        let (batch, tail) = rest.split_at(n);
        mirror.apply(batch, undo_from).await.expect("applies");
        rest = tail;
    }
}

async fn schema_matches(backend: Backend) {
    let db = TestDb::new(backend);
    let mirror = db.mirror().await;
    for def in tables() {
        let columns = mirror.db().columns(def.name).await.expect("columns");
        let names: Vec<&str> = columns.iter().map(|c| c.0.as_str()).collect();
        let ours: Vec<&str> = def.columns.iter().map(|c| c.name).collect();
        assert_eq!(names, ours, "columns of {}", def.name);
        for ((name, ty, nullable), col) in columns.iter().zip(def.columns) {
            let expected = match (backend, col.ty.kind) {
                (Backend::Postgres, Kind::Int) => "bigint",
                (Backend::Postgres, Kind::Text) => "text",
                (Backend::Postgres, Kind::Exact) => "numeric",
                (Backend::Postgres, Kind::Bool) => "boolean",
                (Backend::Postgres, Kind::Bytes) => "bytea",
                (Backend::Sqlite, Kind::Int) => "integer",
                (Backend::Sqlite, Kind::Text | Kind::Exact) => "text",
                (Backend::Sqlite, Kind::Bool) => "boolean",
                (Backend::Sqlite, Kind::Bytes) => "blob",
            };
            assert_eq!(ty, expected, "type of {}.{name}", def.name);
            assert_eq!(
                *nullable, col.ty.nullable,
                "nullability of {}.{name}",
                def.name
            );
        }
    }
}
on_both!(schema_matches: sqlite_schema_matches_the_rust_tables, postgres_schema_matches_the_rust_tables);

/// A row of `def` holding the largest (`high`) or smallest values of each
/// column's kind, and null in nullable columns when not `high`. The cursor's
/// one row has id 1.
fn extreme_row(def: &TableDef, high: bool) -> Vec<Value> {
    def.columns
        .iter()
        .enumerate()
        .map(|(i, c)| match (c.ty.kind, high) {
            _ if i == 0 && def.check.is_some() => Value::Int(1),
            _ if c.ty.nullable && !high && i >= def.keys => Value::Null,
            (Kind::Int, true) => Value::Int(i64::MAX),
            (Kind::Int, false) => Value::Int(i64::MIN),
            (Kind::Text, true) => Value::Text("ẞ\t\\\n'\"; -- ".repeat(200)),
            (Kind::Text, false) => Value::Text(String::new()),
            (Kind::Exact, true) => Value::Exact(u128::MAX),
            (Kind::Exact, false) => Value::Exact(0),
            (Kind::Bool, high) => Value::Bool(high),
            (Kind::Bytes, true) => Value::Bytes((0..=255).collect()),
            (Kind::Bytes, false) => Value::Bytes(Vec::new()),
        })
        .collect()
}

/// Every column of every table holds what the code writes into it, and
/// reads back the same, through the bulk writes and the key lookups.
async fn every_table_round_trips(backend: Backend) {
    let db = TestDb::new(backend);
    let mirror = db.mirror().await;
    let mut tx = mirror.db().begin().await.expect("begin");
    for def in tables() {
        for high in [true, false] {
            let row = extreme_row(def, high);
            let key = row[..def.keys].to_vec();
            tx.insert(def, vec![row.clone()]).await.expect("inserts");
            let all = tx.select_all(def).await.expect("reads");
            assert!(all.contains(&row), "{}: {all:?}", def.name);
            tx.upsert(def, vec![row.clone()]).await.expect("upserts");
            let read = tx.select_keys(def, vec![key.clone()]).await.expect("reads");
            assert_eq!(read, [row], "{} by key", def.name);
            tx.delete_keys(def, vec![key.clone()])
                .await
                .expect("deletes");
            let gone = tx.select_keys(def, vec![key]).await.expect("reads");
            assert!(gone.is_empty(), "{}", def.name);
        }
    }
    tx.rollback().await.expect("rollback");
}
on_both!(every_table_round_trips: sqlite_every_table_round_trips, postgres_every_table_round_trips);

/// A mirror of another schema version is refused in one line: one the
/// earlier sqlx migrations made (schema 1), or one whose version says so.
async fn older_mirrors_are_refused(backend: Backend) {
    let db = TestDb::new(backend);
    let mirror = db.mirror().await;
    mirror.db().close().await;
    let refusal = |setup: &'static [&'static str]| {
        let db = &db;
        async move {
            let db2 = Db::connect(&db.config).await.expect("connects");
            let mut tx = db2.begin().await.expect("begin");
            for sql in setup {
                tx.execute(sql, Vec::new()).await.expect("executes");
            }
            tx.commit().await.expect("commit");
            let refused = Mirror::open(db2.clone()).await;
            db2.close().await;
            let Err(IndexError::Config(message)) = refused else {
                panic!("an old mirror opened: {refused:?}");
            };
            assert!(!message.contains('\n'), "{message}");
            assert!(
                message.contains("index again into an empty database"),
                "{message}"
            );
            message
        }
    };
    let message =
        refusal(&["UPDATE indexer_meta SET value = '0' WHERE name = 'schema_version'"]).await;
    assert!(message.contains("schema 0"), "{message}");
    let message = refusal(&[
        "DELETE FROM indexer_meta",
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, success BOOLEAN NOT NULL)",
        "INSERT INTO _sqlx_migrations (version, success) VALUES (1, TRUE)",
    ])
    .await;
    assert!(
        message.contains("schema 1, made by sqlx migrations"),
        "{message}"
    );
}
on_both!(older_mirrors_are_refused: sqlite_older_mirrors_are_refused, postgres_older_mirrors_are_refused);

async fn a_changed_kernel_stops_the_mirror(backend: Backend) {
    let db = TestDb::new(backend);
    let mirror = db.mirror().await;
    let first = "9f".repeat(32);
    mirror.check_kernel(&first).await.expect("recorded");
    mirror.check_kernel(&first).await.expect("the same kernel");
    let other = "a0".repeat(32);
    let refused = mirror.check_kernel(&other).await;
    let Err(e @ IndexError::KernelChanged { .. }) = refused else {
        panic!("another kernel was accepted: {refused:?}");
    };
    assert!(!e.is_retryable(), "a changed kernel is not waited out");
    assert!(
        e.to_string().contains(&first) && e.to_string().contains(&other),
        "{e}"
    );
    mirror.db().close().await;
}
on_both!(a_changed_kernel_stops_the_mirror: sqlite_a_changed_kernel_stops_the_mirror, postgres_a_changed_kernel_stops_the_mirror);

async fn chain_is_mirrored_exactly(backend: Backend) {
    let db = TestDb::new(backend);
    let mirror = db.mirror().await;
    let mut chain = Chain::new(7, Shape::default());
    // Checked midway too, while pledges stream.
    let mut levels = chain.levels(40);
    apply_in(&mirror, &levels, &mut || 7, 0).await;
    let midway = chain.protocol();
    check_against_protocol(&mirror, &midway).await;
    let streaming = (0..midway.counters().expect("counters").pledge)
        .filter_map(|id| midway.pledge(PledgeId(id)).expect("read"))
        .filter(|p| p.is_active())
        .count();
    assert!(streaming > 0, "no pledge streams at level 40");
    let rest = chain.levels(110);
    apply_in(&mirror, &rest, &mut || 7, 0).await;
    levels.extend(rest);
    check_against_protocol(&mirror, &chain.protocol()).await;
    let cursor = mirror.cursor().await.expect("cursor").expect("some");
    assert_eq!(cursor.level, 150);
    assert_eq!(cursor.hash, levels[149].hash);
    let snapshot = mirror.db().snapshot().await.expect("snapshot");
    let events: usize = levels.iter().map(LevelData::event_count).sum();
    assert_eq!(snapshot["events"].len(), events);
    let receipts: usize = levels
        .iter()
        .map(|l| l.record.as_ref().map_or(0, |r| r.receipts.len()))
        .sum();
    assert_eq!(snapshot["receipts"].len(), receipts);
    for kind in [
        "deposit",
        "withdrawal",
        "transfer",
        "tip",
        "stream",
        "payout",
        "fund",
    ] {
        assert!(
            snapshot["ledger"]
                .iter()
                .any(|r| r[4] == pledgeroll_indexer::schema::Value::Text(kind.into())),
            "no {kind} in the ledger"
        );
    }
}
on_both!(chain_is_mirrored_exactly: sqlite_mirrors_a_chain_exactly, postgres_mirrors_a_chain_exactly);

async fn batching_changes_nothing(backend: Backend) {
    let levels = Chain::new(11, Shape::default()).levels(60);
    let one = TestDb::new(backend);
    let all = one.sibling();
    let random = one.sibling();
    let (m1, m2, m3) = (
        one.mirror().await,
        all.mirror().await,
        random.mirror().await,
    );
    apply_in(&m1, &levels, &mut || 1, 0).await;
    apply_in(&m2, &levels, &mut || usize::MAX, u32::MAX).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    apply_in(&m3, &levels, &mut || rng.gen_range(1..20), 30).await;
    let s1 = m1.db().snapshot().await.expect("snapshot");
    assert_eq!(s1, m2.db().snapshot().await.expect("snapshot"));
    assert_eq!(s1, m3.db().snapshot().await.expect("snapshot"));
}
on_both!(batching_changes_nothing: sqlite_batching_changes_nothing, postgres_batching_changes_nothing);

async fn a_fork_replaces_levels_exactly(backend: Backend) {
    let mut a = Chain::new(21, Shape::default());
    let common = a.levels(40);
    let mut b = a.fork(99);
    let old = a.levels(30);
    let new = b.levels(35);
    assert_ne!(old[0].hash, new[0].hash);

    let followed = TestDb::new(backend);
    let mirror = followed.mirror().await;
    apply_in(&mirror, &common, &mut || 9, 0).await;
    apply_in(&mirror, &old, &mut || 4, 0).await;
    // The new branch does not follow the mirror's head.
    let refused = mirror.apply(&new[..1], 0).await;
    assert!(
        matches!(refused, Err(IndexError::Discontinuity { level: 41, .. })),
        "{refused:?}"
    );
    mirror.revert_to(40).await.expect("reverts");
    let cursor = mirror.cursor().await.expect("cursor").expect("some");
    assert_eq!(
        (cursor.level, cursor.hash.as_str()),
        (40, common[39].hash.as_str())
    );
    apply_in(&mirror, &new, &mut || 6, 0).await;

    let fresh = followed.sibling();
    let direct = fresh.mirror().await;
    apply_in(&direct, &common, &mut || 100, 0).await;
    apply_in(&direct, &new, &mut || 100, 0).await;
    assert_eq!(
        mirror.db().snapshot().await.expect("snapshot"),
        direct.db().snapshot().await.expect("snapshot")
    );
    check_against_protocol(&mirror, &b.protocol()).await;
}
on_both!(a_fork_replaces_levels_exactly: sqlite_fork_replaces_levels_exactly, postgres_fork_replaces_levels_exactly);

async fn levels_are_never_applied_twice_nor_skipped(backend: Backend) {
    let levels = Chain::new(5, Shape::default()).levels(8);
    let db = TestDb::new(backend);
    let mirror = db.mirror().await;
    mirror.apply(&levels[..5], 0).await.expect("applies");
    let before = mirror.db().snapshot().await.expect("snapshot");
    for bad in [&levels[4..5], &levels[3..6], &levels[6..8]] {
        let r = mirror.apply(bad, 0).await;
        assert!(matches!(r, Err(IndexError::Discontinuity { .. })), "{r:?}");
    }
    let mut forged = levels[5].clone();
    forged.predecessor = "B4-elsewhere".into();
    assert!(matches!(
        mirror.apply(&[forged], 0).await,
        Err(IndexError::Discontinuity { level: 6, .. })
    ));
    assert_eq!(before, mirror.db().snapshot().await.expect("snapshot"));
    mirror
        .apply(&levels[5..], 0)
        .await
        .expect("the next levels apply");
}
on_both!(levels_are_never_applied_twice_nor_skipped: sqlite_levels_apply_once, postgres_levels_apply_once);

async fn undo_is_kept_only_where_asked(backend: Backend) {
    let levels = Chain::new(8, Shape::default()).levels(12);
    let db = TestDb::new(backend);
    let mirror = db.mirror().await;
    mirror.apply(&levels[..6], 9).await.expect("applies");
    mirror.apply(&levels[6..], 9).await.expect("applies");
    assert_eq!(mirror.undo_floor().await.expect("floor"), Some(9));
    let before = mirror.db().snapshot().await.expect("snapshot");
    let r = mirror.revert_to(6).await;
    assert!(
        matches!(r, Err(IndexError::ReorgTooDeep { level: 7, floor: 9 })),
        "{r:?}"
    );
    assert_eq!(before, mirror.db().snapshot().await.expect("snapshot"));
    mirror
        .revert_to(8)
        .await
        .expect("levels 9 to 12 kept undo information");
    assert_eq!(
        mirror.cursor().await.expect("cursor").map(|c| c.level),
        Some(8)
    );
}
on_both!(undo_is_kept_only_where_asked: sqlite_undo_is_kept_only_where_asked, postgres_undo_is_kept_only_where_asked);

async fn patron_counts_count_patrons_not_pledges(backend: Backend) {
    use common::chain::{ticket, Script};
    use pledgeroll_contracts::signing::SecretKey;
    use pledgeroll_contracts::{fixtures, Operation, TierId};
    use pledgeroll_indexer::rows::{CreatorRow, TierRow};

    let key = common::chain::seeded_key;
    let (creator, patron, other): (SecretKey, SecretKey, SecretKey) = (key(1), key(2), key(3));
    let mut s = Script::default();
    let funds = 1_000_000_000;
    s.level(
        60,
        &[
            (patron.public_key().address(), ticket(0), funds),
            (other.public_key().address(), ticket(0), funds),
        ],
        &[],
    );
    s.level(
        60,
        &[],
        &[
            (&creator, fixtures::profile("Two tiers")),
            (&creator, fixtures::tier(1_000_000, 2_592_000)),
            (&creator, fixtures::tier(3_000_000, 2_592_000)),
        ],
    );
    // One patron pledges twice to tier 0 and once to tier 1; another once.
    s.level(
        60,
        &[],
        &[
            (&patron, fixtures::pledge(TierId(0))),
            (&patron, fixtures::pledge(TierId(0))),
            (&patron, fixtures::pledge(TierId(1))),
            (&other, fixtures::pledge(TierId(0))),
        ],
    );
    // The patron cancels one of their two pledges to tier 0.
    s.level(
        60,
        &[],
        &[(
            &patron,
            Operation::CancelPledge {
                pledge: pledgeroll_contracts::PledgeId(0),
            },
        )],
    );
    // Then the rest of theirs.
    s.level(
        60,
        &[],
        &[
            (
                &patron,
                Operation::CancelPledge {
                    pledge: pledgeroll_contracts::PledgeId(1),
                },
            ),
            (
                &patron,
                Operation::CancelPledge {
                    pledge: pledgeroll_contracts::PledgeId(2),
                },
            ),
        ],
    );
    let db = TestDb::new(backend);
    let mirror = db.mirror().await;
    let counts = |tiers: Vec<TierRow>, creators: Vec<CreatorRow>| {
        (
            tiers
                .iter()
                .map(|t| (t.patrons, t.active_patrons))
                .collect::<Vec<_>>(),
            creators
                .iter()
                .map(|c| (c.patrons, c.active_patrons))
                .collect::<Vec<_>>(),
        )
    };
    let mut seen = Vec::new();
    for (n, level) in s.levels.iter().enumerate() {
        mirror
            .apply(std::slice::from_ref(level), 0)
            .await
            .expect("applies");
        if n >= 2 {
            let mut tx = mirror.db().begin().await.expect("begin");
            let tiers = tx.load_all().await.expect("tiers");
            let creators = tx.load_all().await.expect("creators");
            tx.rollback().await.expect("rollback");
            seen.push(counts(tiers, creators));
        }
    }
    // Tiers keep the protocol's count of live pledges beside their count
    // of streaming patrons; the creator counts patrons.
    assert_eq!(
        seen,
        vec![
            (vec![(3, 2), (1, 1)], vec![(2, 2)]),
            (vec![(2, 2), (1, 1)], vec![(2, 2)]),
            (vec![(1, 1), (0, 0)], vec![(1, 1)]),
        ]
    );
    // Undoing the cancellations brings the counts back exactly.
    mirror.revert_to(3).await.expect("reverts");
    let mut tx = mirror.db().begin().await.expect("begin");
    let tiers = tx.load_all().await.expect("tiers");
    let creators = tx.load_all().await.expect("creators");
    tx.rollback().await.expect("rollback");
    assert_eq!(counts(tiers, creators), seen[0]);
}
on_both!(patron_counts_count_patrons_not_pledges: sqlite_patron_counts_count_patrons_not_pledges, postgres_patron_counts_count_patrons_not_pledges);

async fn alerts_are_derived_with_their_level(backend: Backend) {
    use pledgeroll_contracts::{Operation, TierId};
    use pledgeroll_indexer::rows::AlertRow;

    let key = common::chain::seeded_key;
    let (creator, patron, dry) = (key(11), key(12), key(13));
    let (c, p, d) = (
        creator.public_key().address().to_string(),
        patron.public_key().address().to_string(),
        dry.public_key().address().to_string(),
    );
    let mut s = common::chain::pledges_and_a_tip(&creator, &patron, &dry);
    // Twenty days on, 2 tez at 5 tez a month have run out.
    s.level(20 * 86_400, &[], &[]);
    s.level(60, &[], &[(&creator, Operation::PauseCreator)]);
    s.level(
        60,
        &[],
        &[(&creator, Operation::RetireTier { tier: TierId(0) })],
    );
    let db = TestDb::new(backend);
    let mirror = db.mirror().await;
    mirror.apply(&s.levels, 0).await.expect("applies");
    let alerts = |rows: Vec<AlertRow>| {
        rows.into_iter()
            .map(|a| (a.level, a.account, a.kind, a.counterparty, a.pledge_id))
            .collect::<Vec<_>>()
    };
    let mut tx = mirror.db().begin().await.expect("begin");
    let got = alerts(tx.load_all().await.expect("alerts"));
    tx.rollback().await.expect("rollback");
    let mut patrons = [p.clone(), d.clone()];
    patrons.sort_unstable();
    let a = |level: i64, to: &str, kind: &str, other: &str, pledge: Option<i64>| {
        (
            level,
            to.to_owned(),
            kind.to_owned(),
            Some(other.to_owned()),
            pledge,
        )
    };
    let want = vec![
        a(3, &c, "pledge_started", &p, Some(0)),
        a(3, &c, "pledge_started", &d, Some(1)),
        a(3, &c, "tip_received", &p, None),
        a(4, &c, "patron_ran_dry", &d, Some(1)),
        a(4, &d, "pledge_ran_dry", &c, Some(1)),
        a(5, &patrons[0], "creator_paused", &c, None),
        a(5, &patrons[1], "creator_paused", &c, None),
        a(6, &patrons[0], "tier_retired", &c, None),
        a(6, &patrons[1], "tier_retired", &c, None),
    ];
    assert_eq!(got, want);
    // Undoing levels undoes their alerts; applying them again derives the
    // same ones.
    mirror.revert_to(4).await.expect("reverts");
    let mut tx = mirror.db().begin().await.expect("begin");
    let kept = alerts(tx.load_all().await.expect("alerts"));
    tx.rollback().await.expect("rollback");
    assert_eq!(kept, want[..5].to_vec());
    mirror
        .apply(&s.levels[4..], 0)
        .await
        .expect("applies again");
    let mut tx = mirror.db().begin().await.expect("begin");
    let again = alerts(tx.load_all().await.expect("alerts"));
    tx.rollback().await.expect("rollback");
    assert_eq!(again, want);
}
on_both!(alerts_are_derived_with_their_level: sqlite_alerts_are_derived_with_their_level, postgres_alerts_are_derived_with_their_level);

async fn runway_alerts_come_a_week_and_a_day_before_a_balance_runs_out(backend: Backend) {
    use common::chain::{ticket, Script};
    use pledgeroll_contracts::{fixtures, TierId};
    use pledgeroll_indexer::rows::{AlertRow, BalanceRow};

    let key = common::chain::seeded_key;
    let (creator, patron) = (key(21), key(22));
    let p = patron.public_key().address().to_string();
    let mut s = Script::default();
    s.level(
        60,
        &[(patron.public_key().address(), ticket(0), 2_000_000)],
        &[],
    );
    s.level(
        60,
        &[],
        &[
            (&creator, fixtures::profile("Runway")),
            (&creator, fixtures::tier(5_000_000, 2_592_000)),
        ],
    );
    s.level(60, &[], &[(&patron, fixtures::pledge(TierId(0)))]);
    for _ in 0..14 {
        s.level(86_400, &[], &[]);
    }
    let db = TestDb::new(backend);
    let mirror = db.mirror().await;
    mirror.apply(&s.levels[..3], 0).await.expect("applies");
    let mut tx = mirror.db().begin().await.expect("begin");
    let balance: Vec<BalanceRow> = tx.load(&[(p.clone(), 0)]).await.expect("balance");
    tx.rollback().await.expect("rollback");
    let runs_out = balance[0].depletion_scheduled.expect("the balance drains");
    // Applied a level at a time and all at once, the alerts are the same.
    mirror.apply(&s.levels[3..], 0).await.expect("applies");
    let times: Vec<i64> = s
        .levels
        .iter()
        .map(|l| i64::try_from(l.time.expect("a time")).expect("fits"))
        .collect();
    let due_level = |warning: i64| {
        let at = runs_out - warning;
        let n = times
            .iter()
            .position(|t| *t >= at)
            .expect("within the levels");
        (i64::try_from(n + 1).expect("fits"), runs_out - times[n])
    };
    let (week, week_left) = due_level(7 * 86_400);
    let (day, day_left) = due_level(86_400);
    let mut tx = mirror.db().begin().await.expect("begin");
    let alerts: Vec<AlertRow> = tx.load_all().await.expect("alerts");
    tx.rollback().await.expect("rollback");
    let runway: Vec<(i64, String, Option<i64>, Option<i64>)> = alerts
        .iter()
        .filter(|a| a.kind == "runway_low")
        .map(|a| (a.level, a.account.clone(), a.asset_id, a.period))
        .collect();
    assert_eq!(
        runway,
        vec![
            (week, p.clone(), Some(0), Some(week_left)),
            (day, p.clone(), Some(0), Some(day_left)),
        ]
    );
    assert!(
        week_left <= 7 * 86_400 && week_left > 6 * 86_400,
        "{week_left}"
    );
    assert!(day_left <= 86_400 && day_left > 0, "{day_left}");
    // One level at a time gives the same.
    let db2 = TestDb::new(backend);
    let stepwise = db2.mirror().await;
    for l in &s.levels {
        stepwise
            .apply(std::slice::from_ref(l), 0)
            .await
            .expect("applies");
    }
    let mut tx = stepwise.db().begin().await.expect("begin");
    let again: Vec<AlertRow> = tx.load_all().await.expect("alerts");
    tx.rollback().await.expect("rollback");
    assert_eq!(again, alerts);
}
on_both!(runway_alerts_come_a_week_and_a_day_before_a_balance_runs_out: sqlite_runway_alerts_come_before_a_balance_runs_out, postgres_runway_alerts_come_before_a_balance_runs_out);

async fn commissioners_hear_a_day_before_an_invoice_pays_by_itself(backend: Backend) {
    use common::chain::{ticket, Script};
    use pledgeroll_contracts::encoding::{List, Text};
    use pledgeroll_contracts::escrow::{Mode, ProjectOperation};
    use pledgeroll_contracts::{AssetId, Operation, ProjectId};
    use pledgeroll_indexer::rows::AlertRow;

    let key = common::chain::seeded_key;
    let (a, b) = (key(41), key(42));
    let (a_addr, b_addr) = (a.public_key().address(), b.public_key().address());
    let project = |op| Operation::Project { op };
    let p = ProjectId(0);
    let mut s = Script::default();
    s.level(60, &[(a_addr, ticket(0), 100_000_000)], &[]);
    let refund_deadline = u64::try_from(s.now).expect("positive") + 90 * 86_400;
    s.level(
        60,
        &[],
        &[
            (
                &a,
                project(ProjectOperation::Create {
                    title: Text::new("Timed".to_owned()).expect("short"),
                    description: Text::new("pays by itself".to_owned()).expect("short"),
                    link: None,
                    commissioners: List::new(vec![a_addr, b_addr]).expect("short"),
                    threshold: 2,
                    mode: Mode::Public,
                    time_lock: Some(3 * 86_400),
                    refund_deadline,
                }),
            ),
            (
                &a,
                project(ProjectOperation::Fund {
                    project: p,
                    asset: AssetId(0),
                    amount: 10_000_000,
                }),
            ),
            (
                &a,
                project(ProjectOperation::OpenTicket {
                    project: p,
                    title: Text::new("work".to_owned()).expect("short"),
                    url: None,
                    budget: None,
                }),
            ),
            (
                &a,
                project(ProjectOperation::CloseTicket {
                    project: p,
                    ticket: 0,
                }),
            ),
            (
                &a,
                project(ProjectOperation::RaiseInvoice {
                    project: p,
                    ticket: 0,
                    beneficiary: a_addr,
                    asset: AssetId(0),
                    amount: 3_000_000,
                }),
            ),
        ],
    );
    let raised_at = s.now;
    for _ in 0..4 {
        s.level(86_400, &[], &[]);
    }
    let db = TestDb::new(backend);
    let mirror = db.mirror().await;
    for l in &s.levels {
        mirror
            .apply(std::slice::from_ref(l), 0)
            .await
            .expect("applies");
    }
    let mut tx = mirror.db().begin().await.expect("begin");
    let alerts: Vec<AlertRow> = tx.load_all().await.expect("alerts");
    tx.rollback().await.expect("rollback");
    let soon: Vec<(i64, String, Option<i64>)> = alerts
        .iter()
        .filter(|x| x.kind == "invoice_pays_soon")
        .map(|x| (x.level, x.account.clone(), x.period))
        .collect();
    // Unlocks 3 days after it was raised (level 2): the warning falls due
    // 2 days after, at level 4, a day before.
    let unlocks = raised_at + 3 * 86_400;
    let level_4 = raised_at + 2 * 86_400;
    // In the order the project lists its commissioners.
    let to = [a_addr.to_string(), b_addr.to_string()];
    assert_eq!(
        soon,
        vec![
            (4, to[0].clone(), Some(unlocks - level_4)),
            (4, to[1].clone(), Some(unlocks - level_4)),
        ]
    );
    assert!(
        alerts.iter().any(|x| x.kind == "invoice_paid"),
        "it paid at level 5"
    );
}
on_both!(commissioners_hear_a_day_before_an_invoice_pays_by_itself: sqlite_commissioners_hear_before_an_invoice_pays, postgres_commissioners_hear_before_an_invoice_pays);
