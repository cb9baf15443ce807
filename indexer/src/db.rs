//! The database behind the mirror: Postgres or SQLite, one schema, and the
//! few bulk operations the mirror needs, written once over [`TableDef`]s.
//!
//! On Postgres, upserts send each column as one array through `UNNEST` and
//! append-only tables are written with `COPY`, so a batch of thousands of
//! rows is a handful of round trips. On SQLite, rows go in multi-row
//! statements of fixed sizes, prepared once each.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, Executor, PgPool, Postgres, Row as _, Sqlite, SqlitePool};

use crate::error::IndexError;
use crate::rows::{
    AccountRow, AssetRow, BalanceRow, CreatorRow, CursorRow, DailyRow, EscrowRow, EventRow,
    FunderAssetRow, FunderRow, InvoiceRow, LedgerRow, LevelRow, MetaRow, PledgeRow, ProjectRow,
    ReceiptRow, TicketRow, TierRow, UndoRow,
};
use crate::schema::{Kind, Row, TableDef, Value};

/// The tables whose rows the mirror upserts, and a level can change: each
/// change is undone through [`UndoRow`]s.
pub const STATE_TABLES: [TableDef; 13] = [
    AccountRow::DEF,
    AssetRow::DEF,
    BalanceRow::DEF,
    CreatorRow::DEF,
    TierRow::DEF,
    PledgeRow::DEF,
    ProjectRow::DEF,
    EscrowRow::DEF,
    TicketRow::DEF,
    InvoiceRow::DEF,
    FunderRow::DEF,
    FunderAssetRow::DEF,
    DailyRow::DEF,
];

/// The append-only tables, keyed by level first: undoing a level deletes
/// its rows.
pub const LEVEL_TABLES: [TableDef; 4] = [
    LevelRow::DEF,
    EventRow::DEF,
    LedgerRow::DEF,
    ReceiptRow::DEF,
];

/// The indexer's own bookkeeping tables.
pub const BOOK_TABLES: [TableDef; 3] = [CursorRow::DEF, MetaRow::DEF, UndoRow::DEF];

/// A state table by name.
pub fn state_table(name: &str) -> Option<&'static TableDef> {
    STATE_TABLES.iter().find(|t| t.name == name)
}

/// Which database a [`Db`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// Where the mirror lives.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// `postgres://…` or `sqlite:…` (e.g. `sqlite:///var/lib/pledgeroll/mirror.sqlite`).
    pub url: String,
    /// A Postgres schema to keep the mirror in (created if missing); the
    /// connection's default schema if `None`. Ignored by SQLite.
    pub schema: Option<String>,
    /// Most connections in the pool.
    pub max_connections: u32,
}

impl DbConfig {
    /// The database at `url`, default schema, a small pool.
    pub fn new(url: impl Into<String>) -> Self {
        DbConfig {
            url: url.into(),
            schema: None,
            max_connections: 4,
        }
    }
}

/// Runs `$body` with `$tx` bound to the transaction, whichever database it
/// is on: the same sqlx calls compile for both.
macro_rules! on_tx {
    ($self:expr, $tx:ident => $body:block) => {
        match $self {
            Tx::Postgres($tx) => $body,
            Tx::Sqlite($tx) => $body,
        }
    };
}

/// A connection pool to the mirror's database.
#[derive(Debug, Clone)]
pub enum Db {
    /// PostgreSQL.
    Postgres(PgPool),
    /// SQLite.
    Sqlite(SqlitePool),
}

/// Whether `name` is a schema name the mirror accepts: lower-case letters,
/// digits and `_`, not starting with a digit, at most 63 bytes.
pub(crate) fn valid_schema(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// Drops the Postgres schema `schema` at `url` with every table in it, if
/// it exists: a mirror kept in its own schema is removed this way.
pub async fn drop_schema(url: &str, schema: &str) -> Result<(), IndexError> {
    if !valid_schema(schema) {
        return Err(IndexError::Config(format!(
            "invalid schema name {schema:?}: use lower-case letters, digits and _"
        )));
    }
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| IndexError::Config(format!("invalid Postgres URL {url}: {e}")))?;
    let mut conn = PgConnection::connect_with(&options).await?;
    let dropped = conn
        .execute(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE").as_str())
        .await;
    conn.close().await?;
    dropped?;
    Ok(())
}

/// [`drop_schema`] from code that may be inside a runtime or outside any,
/// such as `Drop`: it runs on a thread of its own and waits for it.
pub fn drop_schema_blocking(url: &str, schema: &str) -> Result<(), IndexError> {
    let (url, schema) = (url.to_owned(), schema.to_owned());
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| IndexError::Config(format!("cannot start a runtime: {e}")))?
            .block_on(drop_schema(&url, &schema))
    })
    .join()
    .map_err(|_| IndexError::Config("the thread dropping the schema panicked".to_owned()))?
}

impl Db {
    /// Connects (creating the SQLite file or the Postgres schema if needed).
    pub async fn connect(config: &DbConfig) -> Result<Db, IndexError> {
        let url = config.url.as_str();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut options = PgConnectOptions::from_str(url)
                .map_err(|e| IndexError::Config(format!("invalid Postgres URL {url}: {e}")))?;
            if let Some(schema) = &config.schema {
                if !valid_schema(schema) {
                    return Err(IndexError::Config(format!(
                        "invalid schema name {schema:?}: use lower-case letters, digits and _"
                    )));
                }
                let mut conn = PgConnection::connect_with(&options).await?;
                let created = conn
                    .execute(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"").as_str())
                    .await;
                conn.close().await?;
                match created {
                    Ok(_) => {}
                    // Another connection created it at the same moment.
                    Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => {}
                    Err(e) => return Err(e.into()),
                }
                options = options.options([("search_path", schema.as_str())]);
            }
            // Batches legitimately take seconds; the indexer logs its own
            // timings.
            let options = options.disable_statement_logging();
            let pool = PgPoolOptions::new()
                .max_connections(config.max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| IndexError::Config(format!("invalid SQLite URL {url}: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .pragma("cache_size", "-65536")
                .disable_statement_logging();
            let pool = SqlitePoolOptions::new()
                .max_connections(config.max_connections.max(1))
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(pool))
        } else {
            Err(IndexError::Config(format!(
                "unsupported database URL {url}: use postgres://… or sqlite:…"
            )))
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Postgres(_) => Backend::Postgres,
            Db::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> Result<(), IndexError> {
        match self {
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
            Db::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
        }
        Ok(())
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx, IndexError> {
        Ok(match self {
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
        })
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match self {
            Db::Postgres(pool) => pool.close().await,
            Db::Sqlite(pool) => pool.close().await,
        }
    }

    /// Every row of the mirror's tables (state, levels, events, ledger,
    /// receipts) and the cursor, in key order: two mirrors of the same
    /// chain have equal snapshots. Undo information and settings are left
    /// out, since they depend on when the chain was read.
    pub async fn snapshot(&self) -> Result<BTreeMap<&'static str, Vec<Vec<Value>>>, IndexError> {
        let mut tx = self.begin().await?;
        tx.read_snapshot().await?;
        let mut out = BTreeMap::new();
        for def in STATE_TABLES
            .iter()
            .chain(LEVEL_TABLES.iter())
            .chain(std::iter::once(&CursorRow::DEF))
        {
            out.insert(def.name, tx.select_all(def).await?);
        }
        tx.rollback().await?;
        Ok(out)
    }

    /// The names and kinds of a table's columns as the database has them
    /// (lower-case declared types), for checking the schema.
    pub async fn columns(&self, table: &str) -> Result<Vec<(String, String, bool)>, IndexError> {
        match self {
            Db::Postgres(pool) => {
                let rows = sqlx::query(
                    "SELECT column_name::text, data_type::text, is_nullable::text \
                     FROM information_schema.columns \
                     WHERE table_name = $1 AND table_schema = current_schema() \
                     ORDER BY ordinal_position",
                )
                .bind(table)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok((
                            r.try_get::<String, _>(0)?,
                            r.try_get::<String, _>(1)?.to_lowercase(),
                            r.try_get::<String, _>(2)? == "YES",
                        ))
                    })
                    .collect()
            }
            Db::Sqlite(pool) => {
                let rows =
                    sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)")
                        .bind(table)
                        .fetch_all(pool)
                        .await?;
                rows.iter()
                    .map(|r| {
                        let not_null: i64 = r.try_get(2)?;
                        let pk: i64 = r.try_get(3)?;
                        Ok((
                            r.try_get::<String, _>(0)?,
                            r.try_get::<String, _>(1)?.to_lowercase(),
                            not_null == 0 && pk == 0,
                        ))
                    })
                    .collect()
            }
        }
    }
}

/// A transaction on the mirror's database.
#[derive(Debug)]
pub enum Tx {
    /// On PostgreSQL.
    Postgres(sqlx::Transaction<'static, Postgres>),
    /// On SQLite.
    Sqlite(sqlx::Transaction<'static, Sqlite>),
}

impl Tx {
    /// Commits.
    pub async fn commit(self) -> Result<(), IndexError> {
        match self {
            Tx::Postgres(tx) => tx.commit().await?,
            Tx::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), IndexError> {
        match self {
            Tx::Postgres(tx) => tx.rollback().await?,
            Tx::Sqlite(tx) => tx.rollback().await?,
        }
        Ok(())
    }

    /// Makes the transaction read one consistent snapshot, whatever commits
    /// meanwhile (Postgres reads each statement afresh by default; a SQLite
    /// transaction already reads one snapshot). Must come first.
    pub async fn read_snapshot(&mut self) -> Result<(), IndexError> {
        if let Tx::Postgres(tx) = self {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Inserts or replaces rows by primary key. Keys must be distinct.
    pub async fn upsert(
        &mut self,
        def: &TableDef,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), IndexError> {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            Tx::Postgres(tx) => pg::upsert(tx, def, rows).await,
            Tx::Sqlite(tx) => lite::write(tx, def, rows, true).await,
        }
    }

    /// Inserts new rows (append-only tables).
    pub async fn insert(
        &mut self,
        def: &TableDef,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), IndexError> {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            Tx::Postgres(tx) => pg::copy(tx, def, rows).await,
            Tx::Sqlite(tx) => lite::write(tx, def, rows, false).await,
        }
    }

    /// Deletes rows by primary key.
    pub async fn delete_keys(
        &mut self,
        def: &TableDef,
        keys: Vec<Vec<Value>>,
    ) -> Result<(), IndexError> {
        if keys.is_empty() {
            return Ok(());
        }
        match self {
            Tx::Postgres(tx) => pg::by_keys(tx, def, keys, false).await.map(drop),
            Tx::Sqlite(tx) => lite::by_keys(tx, def, keys, false).await.map(drop),
        }
    }

    /// The rows with these primary keys (absent ones are left out).
    pub async fn select_keys(
        &mut self,
        def: &TableDef,
        keys: Vec<Vec<Value>>,
    ) -> Result<Vec<Vec<Value>>, IndexError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Tx::Postgres(tx) => pg::by_keys(tx, def, keys, true).await,
            Tx::Sqlite(tx) => lite::by_keys(tx, def, keys, true).await,
        }
    }

    /// Every row, in key order.
    pub async fn select_all(&mut self, def: &TableDef) -> Result<Vec<Vec<Value>>, IndexError> {
        self.select_where(def, None).await
    }

    /// The rows of levels above `level` (tables keyed by level first), in
    /// key order.
    pub async fn select_above(
        &mut self,
        def: &TableDef,
        level: i64,
    ) -> Result<Vec<Vec<Value>>, IndexError> {
        self.select_where(def, Some(level)).await
    }

    async fn select_where(
        &mut self,
        def: &TableDef,
        above: Option<i64>,
    ) -> Result<Vec<Vec<Value>>, IndexError> {
        let exprs = select_list(def, self.backend());
        let keys = quoted(def.key_columns());
        let filter = if above.is_some() {
            " WHERE \"level\" > $1"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {exprs} FROM \"{}\"{filter} ORDER BY {keys}",
            def.name
        );
        let mut rows = Vec::new();
        on_tx!(self, tx => {
            let mut q = sqlx::query(&sql);
            if let Some(level) = above {
                q = q.bind(level);
            }
            for r in q.fetch_all(&mut **tx).await? {
                rows.push(decode(def, &r)?);
            }
        });
        Ok(rows)
    }

    /// Deletes the rows of levels above `level` (tables keyed by level first).
    pub async fn delete_above(&mut self, def: &TableDef, level: i64) -> Result<(), IndexError> {
        self.delete_levels(def, ">", level).await
    }

    /// Deletes the rows of levels below `level` (tables keyed by level first).
    pub async fn delete_below(&mut self, def: &TableDef, level: i64) -> Result<(), IndexError> {
        self.delete_levels(def, "<", level).await
    }

    async fn delete_levels(
        &mut self,
        def: &TableDef,
        comparison: &str,
        level: i64,
    ) -> Result<(), IndexError> {
        let sql = format!(
            "DELETE FROM \"{}\" WHERE \"level\" {comparison} $1",
            def.name
        );
        on_tx!(self, tx => {
            sqlx::query(&sql).bind(level).execute(&mut **tx).await?;
        });
        Ok(())
    }

    /// Which database this transaction is on.
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Postgres(_) => Backend::Postgres,
            Tx::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Typed rows by key.
    pub async fn load<R: Row>(&mut self, keys: &[R::Key]) -> Result<Vec<R>, IndexError> {
        let keys = keys.iter().map(R::key_values).collect();
        self.select_keys(&R::DEF, keys)
            .await?
            .into_iter()
            .map(R::from_values)
            .collect()
    }

    /// Every typed row of a table.
    pub async fn load_all<R: Row>(&mut self) -> Result<Vec<R>, IndexError> {
        self.select_all(&R::DEF)
            .await?
            .into_iter()
            .map(R::from_values)
            .collect()
    }

    /// Inserts new typed rows.
    pub async fn append<R: Row>(&mut self, rows: &[R]) -> Result<(), IndexError> {
        self.insert(&R::DEF, rows.iter().map(Row::values).collect())
            .await
    }

    /// Upserts typed rows.
    pub async fn store<R: Row>(&mut self, rows: &[R]) -> Result<(), IndexError> {
        self.upsert(&R::DEF, rows.iter().map(Row::values).collect())
            .await
    }
}

fn quoted(cols: &[crate::schema::Col]) -> String {
    cols.iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn select_list(def: &TableDef, backend: Backend) -> String {
    def.columns
        .iter()
        .map(|c| match (c.ty.kind, backend) {
            (Kind::Exact, Backend::Postgres) => format!("\"{0}\"::text AS \"{0}\"", c.name),
            _ => format!("\"{}\"", c.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn mismatch(def: &TableDef, column: &str, value: &Value) -> IndexError {
    IndexError::Corrupt {
        table: def.name.to_owned(),
        reason: format!("column {column} cannot hold {value:?}"),
    }
}

fn exact(def: &TableDef, column: &str, text: Option<String>) -> Result<Value, IndexError> {
    match text {
        None => Ok(Value::Null),
        Some(t) => t
            .parse()
            .map(Value::Exact)
            .map_err(|_| IndexError::Corrupt {
                table: def.name.to_owned(),
                reason: format!("column {column} holds {t:?}, not an exact integer"),
            }),
    }
}

/// A row's values, by each column's kind.
fn decode<R>(def: &TableDef, row: &R) -> Result<Vec<Value>, IndexError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    def.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(match c.ty.kind {
                Kind::Int => row
                    .try_get::<Option<i64>, _>(i)?
                    .map_or(Value::Null, Value::Int),
                Kind::Text => row
                    .try_get::<Option<String>, _>(i)?
                    .map_or(Value::Null, Value::Text),
                Kind::Exact => exact(def, c.name, row.try_get::<Option<String>, _>(i)?)?,
                Kind::Bool => row
                    .try_get::<Option<bool>, _>(i)?
                    .map_or(Value::Null, Value::Bool),
                Kind::Bytes => row
                    .try_get::<Option<Vec<u8>>, _>(i)?
                    .map_or(Value::Null, Value::Bytes),
            })
        })
        .collect()
}

mod pg {
    use super::*;

    /// Rows per statement: arrays of this many elements per column.
    const CHUNK: usize = 20_000;

    fn array_type(kind: Kind) -> &'static str {
        match kind {
            Kind::Int => "bigint[]",
            Kind::Text => "text[]",
            Kind::Exact => "text[]::numeric[]",
            Kind::Bool => "boolean[]",
            Kind::Bytes => "bytea[]",
        }
    }

    /// Binds column `i` of `rows` as one array.
    fn bind_column<'q>(
        q: Query<'q, Postgres, PgArguments>,
        def: &TableDef,
        i: usize,
        rows: &mut [Vec<Value>],
    ) -> Result<Query<'q, Postgres, PgArguments>, IndexError> {
        let col = def
            .columns
            .get(i)
            .ok_or_else(|| mismatch(def, "?", &Value::Null))?;
        let take = |r: &mut Vec<Value>| -> Value {
            r.get_mut(i)
                .map(|v| std::mem::replace(v, Value::Null))
                .unwrap_or(Value::Null)
        };
        Ok(match col.ty.kind {
            Kind::Int => {
                let mut out: Vec<Option<i64>> = Vec::with_capacity(rows.len());
                for r in rows.iter_mut() {
                    match take(r) {
                        Value::Int(v) => out.push(Some(v)),
                        Value::Null => out.push(None),
                        v => return Err(mismatch(def, col.name, &v)),
                    }
                }
                q.bind(out)
            }
            Kind::Text | Kind::Exact => {
                let mut out: Vec<Option<String>> = Vec::with_capacity(rows.len());
                for r in rows.iter_mut() {
                    match take(r) {
                        Value::Text(v) => out.push(Some(v)),
                        Value::Exact(v) => out.push(Some(v.to_string())),
                        Value::Null => out.push(None),
                        v => return Err(mismatch(def, col.name, &v)),
                    }
                }
                q.bind(out)
            }
            Kind::Bool => {
                let mut out: Vec<Option<bool>> = Vec::with_capacity(rows.len());
                for r in rows.iter_mut() {
                    match take(r) {
                        Value::Bool(v) => out.push(Some(v)),
                        Value::Null => out.push(None),
                        v => return Err(mismatch(def, col.name, &v)),
                    }
                }
                q.bind(out)
            }
            Kind::Bytes => {
                let mut out: Vec<Option<Vec<u8>>> = Vec::with_capacity(rows.len());
                for r in rows.iter_mut() {
                    match take(r) {
                        Value::Bytes(v) => out.push(Some(v)),
                        Value::Null => out.push(None),
                        v => return Err(mismatch(def, col.name, &v)),
                    }
                }
                q.bind(out)
            }
        })
    }

    fn unnest(cols: &[crate::schema::Col]) -> String {
        let args = cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("${}::{}", i + 1, array_type(c.ty.kind)))
            .collect::<Vec<_>>()
            .join(", ");
        format!("SELECT * FROM UNNEST({args})")
    }

    pub(super) async fn upsert(
        conn: &mut PgConnection,
        def: &TableDef,
        mut rows: Vec<Vec<Value>>,
    ) -> Result<(), IndexError> {
        let update = if def.value_columns().is_empty() {
            "NOTHING".to_owned()
        } else {
            let sets = def
                .value_columns()
                .iter()
                .map(|c| format!("\"{0}\" = EXCLUDED.\"{0}\"", c.name))
                .collect::<Vec<_>>()
                .join(", ");
            format!("UPDATE SET {sets}")
        };
        let sql = format!(
            "INSERT INTO \"{}\" ({}) {} ON CONFLICT ({}) DO {update}",
            def.name,
            quoted(def.columns),
            unnest(def.columns),
            quoted(def.key_columns()),
        );
        for chunk in rows.chunks_mut(CHUNK) {
            let mut q = sqlx::query(&sql);
            for i in 0..def.columns.len() {
                q = bind_column(q, def, i, chunk)?;
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// One value in `COPY … FROM STDIN` text format.
    fn copy_value(out: &mut Vec<u8>, value: &Value) {
        match value {
            Value::Null => out.extend_from_slice(b"\\N"),
            Value::Int(v) => out.extend_from_slice(v.to_string().as_bytes()),
            Value::Exact(v) => out.extend_from_slice(v.to_string().as_bytes()),
            Value::Bool(v) => out.push(if *v { b't' } else { b'f' }),
            Value::Bytes(v) => {
                out.extend_from_slice(b"\\\\x");
                out.extend_from_slice(hex::encode(v).as_bytes());
            }
            Value::Text(s) => {
                for b in s.bytes() {
                    match b {
                        b'\\' => out.extend_from_slice(b"\\\\"),
                        b'\t' => out.extend_from_slice(b"\\t"),
                        b'\n' => out.extend_from_slice(b"\\n"),
                        b'\r' => out.extend_from_slice(b"\\r"),
                        _ => out.push(b),
                    }
                }
            }
        }
    }

    /// Encodes rows in `COPY` text format.
    pub fn copy_text(rows: &[Vec<Value>], out: &mut Vec<u8>) {
        for row in rows {
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    out.push(b'\t');
                }
                copy_value(out, v);
            }
            out.push(b'\n');
        }
    }

    pub(super) async fn copy(
        conn: &mut PgConnection,
        def: &TableDef,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), IndexError> {
        copy_rows(conn, def, &rows).await
    }

    /// Writes rows with `COPY … FROM STDIN`.
    pub async fn copy_rows(
        conn: &mut PgConnection,
        def: &TableDef,
        rows: &[Vec<Value>],
    ) -> Result<(), IndexError> {
        let sql = format!("COPY \"{}\" ({}) FROM STDIN", def.name, quoted(def.columns));
        let mut copy = conn.copy_in_raw(&sql).await?;
        for chunk in rows.chunks(4_096) {
            let mut buf = Vec::with_capacity(chunk.len() * 128);
            copy_text(chunk, &mut buf);
            if let Err(e) = copy.send(buf).await {
                let _ = copy.abort("the indexer stopped sending rows").await;
                return Err(e.into());
            }
        }
        copy.finish().await?;
        Ok(())
    }

    pub(super) async fn by_keys(
        conn: &mut PgConnection,
        def: &TableDef,
        mut keys: Vec<Vec<Value>>,
        select: bool,
    ) -> Result<Vec<Vec<Value>>, IndexError> {
        let head = if select {
            format!("SELECT {} FROM", select_list(def, Backend::Postgres))
        } else {
            "DELETE FROM".to_owned()
        };
        let sql = format!(
            "{head} \"{}\" WHERE ({}) IN ({})",
            def.name,
            quoted(def.key_columns()),
            unnest(def.key_columns()),
        );
        let mut out = Vec::new();
        for chunk in keys.chunks_mut(CHUNK) {
            let mut q = sqlx::query(&sql);
            for i in 0..def.keys {
                q = bind_column(q, def, i, chunk)?;
            }
            if select {
                for row in q.fetch_all(&mut *conn).await? {
                    out.push(decode(def, &row)?);
                }
            } else {
                q.execute(&mut *conn).await?;
            }
        }
        Ok(out)
    }
}

pub use pg::{copy_rows, copy_text};

mod lite {
    use super::*;

    /// Statement sizes, in rows: a batch goes out in the largest that fit,
    /// so each table has a few prepared statements, not one per size.
    const SIZES: [usize; 6] = [512, 128, 32, 8, 2, 1];

    fn bind<'q>(
        q: Query<'q, Sqlite, SqliteArguments<'q>>,
        value: Value,
    ) -> Query<'q, Sqlite, SqliteArguments<'q>> {
        match value {
            Value::Null => q.bind(None::<i64>),
            Value::Int(v) => q.bind(v),
            Value::Text(v) => q.bind(v),
            Value::Exact(v) => q.bind(v.to_string()),
            Value::Bool(v) => q.bind(v),
            Value::Bytes(v) => q.bind(v),
        }
    }

    fn check(def: &TableDef, cols: &[crate::schema::Col], row: &[Value]) -> Result<(), IndexError> {
        for (c, v) in cols.iter().zip(row) {
            let fits = matches!(
                (c.ty.kind, v),
                (_, Value::Null)
                    | (Kind::Int, Value::Int(_))
                    | (Kind::Text, Value::Text(_))
                    | (Kind::Exact, Value::Exact(_))
                    | (Kind::Bool, Value::Bool(_))
                    | (Kind::Bytes, Value::Bytes(_))
            );
            if !fits {
                return Err(mismatch(def, c.name, v));
            }
        }
        Ok(())
    }

    fn tuples(n: usize, width: usize) -> String {
        let one = format!("({})", vec!["?"; width].join(", "));
        vec![one; n].join(", ")
    }

    /// Most parameters SQLite binds in one statement.
    const MAX_PARAMETERS: usize = 32_766;

    /// Splits `total` rows of `width` values into statement sizes.
    fn plan(total: usize, width: usize) -> Vec<usize> {
        let most = MAX_PARAMETERS / width.max(1);
        let mut left = total;
        let mut out = Vec::new();
        for size in SIZES.into_iter().filter(|s| *s <= most) {
            while left >= size {
                out.push(size);
                left -= size;
            }
        }
        out
    }

    pub(super) async fn write(
        conn: &mut SqliteConnection,
        def: &TableDef,
        rows: Vec<Vec<Value>>,
        upsert: bool,
    ) -> Result<(), IndexError> {
        let conflict = if !upsert {
            String::new()
        } else if def.value_columns().is_empty() {
            format!(" ON CONFLICT ({}) DO NOTHING", quoted(def.key_columns()))
        } else {
            let sets = def
                .value_columns()
                .iter()
                .map(|c| format!("\"{0}\" = excluded.\"{0}\"", c.name))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                " ON CONFLICT ({}) DO UPDATE SET {sets}",
                quoted(def.key_columns())
            )
        };
        let mut rows = rows.into_iter();
        for size in plan(rows.len(), def.columns.len()) {
            let sql = format!(
                "INSERT INTO \"{}\" ({}) VALUES {}{conflict}",
                def.name,
                quoted(def.columns),
                tuples(size, def.columns.len())
            );
            let mut q = sqlx::query(&sql);
            for row in rows.by_ref().take(size) {
                check(def, def.columns, &row)?;
                for v in row {
                    q = bind(q, v);
                }
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }

    pub(super) async fn by_keys(
        conn: &mut SqliteConnection,
        def: &TableDef,
        keys: Vec<Vec<Value>>,
        select: bool,
    ) -> Result<Vec<Vec<Value>>, IndexError> {
        let head = if select {
            format!("SELECT {} FROM", select_list(def, Backend::Sqlite))
        } else {
            "DELETE FROM".to_owned()
        };
        let mut out = Vec::new();
        let mut keys = keys.into_iter();
        for size in plan(keys.len(), def.keys) {
            let set = if def.keys == 1 {
                vec!["?"; size].join(", ")
            } else {
                format!("VALUES {}", tuples(size, def.keys))
            };
            let sql = format!(
                "{head} \"{}\" WHERE ({}) IN ({set})",
                def.name,
                quoted(def.key_columns())
            );
            let mut q = sqlx::query(&sql);
            for key in keys.by_ref().take(size) {
                check(def, def.key_columns(), &key)?;
                for v in key {
                    q = bind(q, v);
                }
            }
            if select {
                for row in q.fetch_all(&mut *conn).await? {
                    out.push(decode(def, &row)?);
                }
            } else {
                q.execute(&mut *conn).await?;
            }
        }
        Ok(out)
    }

    #[cfg(test)]
    mod tests {
        use super::plan;

        #[test]
        fn batches_split_into_few_statement_sizes() {
            assert_eq!(plan(0, 3), Vec::<usize>::new());
            assert_eq!(plan(1, 3), vec![1]);
            assert_eq!(plan(700, 3), vec![512, 128, 32, 8, 8, 8, 2, 2]);
            assert_eq!(plan(1_131, 20).iter().sum::<usize>(), 1_131);
            // Wide rows stay under SQLite's parameter limit.
            assert!(plan(5_000, 100).iter().all(|n| n * 100 <= 32_766));
            assert_eq!(plan(5_000, 100).iter().sum::<usize>(), 5_000);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_reads_specially() {
        let mut out = Vec::new();
        copy_text(
            &[vec![
                Value::Int(-3),
                Value::Text("a\tb\\c\nd".into()),
                Value::Null,
                Value::Exact(u128::MAX),
                Value::Bool(false),
                Value::Bytes(vec![0xab, 0x01]),
            ]],
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "-3\ta\\tb\\\\c\\nd\t\\N\t340282366920938463463374607431768211455\tf\t\\\\xab01\n"
        );
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(valid_schema("mirror_1"));
        assert!(!valid_schema("Mirror"));
        assert!(!valid_schema("a; drop table x"));
        assert!(!valid_schema(""));
    }
}
