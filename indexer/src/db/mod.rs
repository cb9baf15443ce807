//! The database behind the mirror: Postgres or SQLite, one schema, and the
//! few bulk operations the mirror needs, written once over [`TableDef`]s.
//!
//! What differs between the two databases is one trait, [`Engine`],
//! implemented for each ([`postgres`], [`sqlite`]): how to connect, how a
//! column kind is named, how rows are written and read in bulk, and the
//! catalog. [`Db`] and [`Tx`] hold a pool or transaction of either and
//! hand each call to its engine in one place (`on_engine!`); everything
//! else here is written once. The schema is created from the table
//! descriptions in [`crate::rows`] ([`migrate`]).

mod engine;
mod migrate;
mod postgres;
mod sqlite;

use std::collections::BTreeMap;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Executor, FromRow};

pub(crate) use engine::Engine;
pub use migrate::SCHEMA_VERSION;
pub use postgres::copy_text;

use crate::error::IndexError;
use crate::rows::{CursorRow, LEVEL_TABLES, STATE_TABLES};
use crate::schema::{quoted, Row, TableDef, Value};

/// Which database a [`Db`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

impl Backend {
    /// The database a URL names: `postgres://…` (or `postgresql://…`) or
    /// `sqlite:…`.
    pub fn of_url(url: &str) -> Result<Backend, IndexError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else {
            Err(IndexError::Config(format!(
                "unsupported database URL {url}: use postgres://… or sqlite:…"
            )))
        }
    }
}

/// Where the mirror lives.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// `postgres://…` or `sqlite:…` (e.g. `sqlite:///var/lib/pledgeroll/mirror.sqlite`).
    pub url: String,
    /// A Postgres schema to keep the mirror in (created if missing, unless
    /// read-only); the connection's default schema if `None`. Ignored by
    /// SQLite.
    pub schema: Option<String>,
    /// Most connections in the pool.
    pub max_connections: u32,
    /// Whether to open the mirror for reading only (the directory does):
    /// SQLite opens the file read-only and creates nothing, Postgres makes
    /// every transaction read-only. Waits are shorter, since a reader
    /// answers someone.
    pub read_only: bool,
}

impl DbConfig {
    /// The database at `url`, default schema, a small pool.
    pub fn new(url: impl Into<String>) -> Self {
        DbConfig {
            url: url.into(),
            schema: None,
            max_connections: 4,
            read_only: false,
        }
    }

    /// The database at `url` opened for reading only, in `schema` if given.
    pub fn read_only(url: impl Into<String>, schema: Option<String>) -> Self {
        DbConfig {
            url: url.into(),
            schema,
            max_connections: 8,
            read_only: true,
        }
    }
}

/// Whether `name` is a schema name the mirror accepts: lower-case letters,
/// digits and `_`, not starting with a digit, at most 63 bytes.
pub fn valid_schema(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// Refuses a schema name that [`valid_schema`] does not accept.
pub(crate) fn check_schema(name: &str) -> Result<(), IndexError> {
    if valid_schema(name) {
        Ok(())
    } else {
        Err(IndexError::Config(format!(
            "invalid schema name {name:?}: use lower-case letters, digits and _"
        )))
    }
}

/// Drops the Postgres schema `schema` at `url` with every table in it, if
/// it exists: a mirror kept in its own schema is removed this way.
pub async fn drop_schema(url: &str, schema: &str) -> Result<(), IndexError> {
    check_schema(schema)?;
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| IndexError::Config(format!("invalid Postgres URL {url}: {e}")))?;
    let mut conn = sqlx::PgConnection::connect_with(&options).await?;
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

/// A pool of either database.
#[derive(Debug, Clone)]
enum Pool {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

/// A transaction on either database.
#[derive(Debug)]
enum Txn {
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

/// Hands a pool or transaction to its engine: evaluates `$body` with
/// `$inner` bound to it and `$E` naming its [`Engine`]. The one place the
/// two databases part.
macro_rules! on_engine {
    ($value:expr, $enum:ident($inner:ident), $E:ident => $body:expr) => {
        match $value {
            $enum::Postgres($inner) => {
                type $E = sqlx::Postgres;
                $body
            }
            $enum::Sqlite($inner) => {
                type $E = sqlx::Sqlite;
                $body
            }
        }
    };
}

/// A connection pool to the mirror's database.
#[derive(Debug, Clone)]
pub struct Db {
    pool: Pool,
}

impl Db {
    /// Connects (creating the SQLite file or the Postgres schema if needed,
    /// unless the configuration is read-only).
    pub async fn connect(config: &DbConfig) -> Result<Db, IndexError> {
        if let Some(schema) = &config.schema {
            check_schema(schema)?;
        }
        let pool = match Backend::of_url(&config.url)? {
            Backend::Postgres => Pool::Postgres(sqlx::Postgres::connect(config).await?),
            Backend::Sqlite => Pool::Sqlite(sqlx::Sqlite::connect(config).await?),
        };
        Ok(Db { pool })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        on_engine!(&self.pool, Pool(_pool), E => E::BACKEND)
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx, IndexError> {
        let txn = match &self.pool {
            Pool::Postgres(pool) => Txn::Postgres(pool.begin().await?),
            Pool::Sqlite(pool) => Txn::Sqlite(pool.begin().await?),
        };
        Ok(Tx { txn })
    }

    /// Starts a transaction that will write. On SQLite it takes the write
    /// lock at once (`BEGIN IMMEDIATE`), waiting for another writer (the
    /// indexer, the notifier, the directory's subscriptions) to finish: a
    /// transaction that read first could not write after another writer
    /// committed. On Postgres it is an ordinary transaction.
    pub async fn begin_write(&self) -> Result<Tx, IndexError> {
        let txn = match &self.pool {
            Pool::Postgres(pool) => Txn::Postgres(pool.begin().await?),
            Pool::Sqlite(pool) => Txn::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
        };
        Ok(Tx { txn })
    }

    /// Starts the transaction that changes the schema; other such
    /// transactions wait until it ends.
    async fn begin_schema_change(&self) -> Result<Tx, IndexError> {
        let txn = match &self.pool {
            Pool::Postgres(pool) => Txn::Postgres(sqlx::Postgres::begin_schema_change(pool).await?),
            Pool::Sqlite(pool) => Txn::Sqlite(sqlx::Sqlite::begin_schema_change(pool).await?),
        };
        Ok(Tx { txn })
    }

    /// Closes every connection.
    pub async fn close(&self) {
        on_engine!(&self.pool, Pool(pool), _E => pool.close().await)
    }

    /// Every row `sql` returns with `params` bound as `$1`, `$2`, …, each
    /// decoded by its [`FromRow`] (queries the directory writes once for
    /// both databases).
    pub async fn fetch_as<T>(&self, sql: &str, params: &[Value]) -> Result<Vec<T>, IndexError>
    where
        T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
    {
        on_engine!(&self.pool, Pool(pool), E => E::fetch_as(pool, sql, params).await)
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

    /// The names, declared types (lower case) and nullability of a table's
    /// columns as the database has them, for checking the schema; none if
    /// the table does not exist.
    pub async fn columns(&self, table: &str) -> Result<Vec<(String, String, bool)>, IndexError> {
        let mut tx = self.begin().await?;
        let columns = tx.columns(table).await?;
        tx.rollback().await?;
        Ok(columns)
    }
}

/// A transaction on the mirror's database.
#[derive(Debug)]
pub struct Tx {
    txn: Txn,
}

impl Tx {
    /// Which database this transaction is on.
    pub fn backend(&self) -> Backend {
        on_engine!(&self.txn, Txn(_tx), E => E::BACKEND)
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), IndexError> {
        on_engine!(self.txn, Txn(tx), _E => tx.commit().await?);
        Ok(())
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), IndexError> {
        on_engine!(self.txn, Txn(tx), _E => tx.rollback().await?);
        Ok(())
    }

    /// Makes the transaction read one consistent snapshot, whatever commits
    /// meanwhile. Must come first.
    pub async fn read_snapshot(&mut self) -> Result<(), IndexError> {
        on_engine!(&mut self.txn, Txn(tx), E => E::read_snapshot(tx).await)
    }

    /// Runs one statement, with `params` bound as `$1`, `$2`, ….
    pub async fn execute(&mut self, sql: &str, params: Vec<Value>) -> Result<(), IndexError> {
        on_engine!(&mut self.txn, Txn(tx), E => E::execute(tx, sql, params).await)
    }

    /// The rows a query returns, decoded as the columns of `def` (which it
    /// must select in order).
    pub async fn fetch(
        &mut self,
        def: &TableDef,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Vec<Value>>, IndexError> {
        on_engine!(&mut self.txn, Txn(tx), E => E::fetch(tx, def, sql, params).await)
    }

    /// See [`Db::columns`].
    pub async fn columns(
        &mut self,
        table: &str,
    ) -> Result<Vec<(String, String, bool)>, IndexError> {
        on_engine!(&mut self.txn, Txn(tx), E => E::columns(tx, table).await)
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
        on_engine!(&mut self.txn, Txn(tx), E => E::upsert(tx, def, rows).await)
    }

    /// Inserts new rows (append-only tables): a `COPY` on Postgres.
    pub async fn insert(
        &mut self,
        def: &TableDef,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), IndexError> {
        if rows.is_empty() {
            return Ok(());
        }
        on_engine!(&mut self.txn, Txn(tx), E => E::insert(tx, def, rows).await)
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
        on_engine!(&mut self.txn, Txn(tx), E => E::by_keys(tx, def, keys, false).await.map(drop))
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
        on_engine!(&mut self.txn, Txn(tx), E => E::by_keys(tx, def, keys, true).await)
    }

    /// The list of `def`'s columns to select, each decodable as its kind.
    fn select_list(&self, def: &TableDef) -> String {
        on_engine!(&self.txn, Txn(_tx), E => engine::select_list::<E>(def))
    }

    /// The statements creating `def` in this database's dialect.
    fn ddl(&self, def: &TableDef) -> Vec<String> {
        on_engine!(&self.txn, Txn(_tx), E => def.ddl(E::column_type))
    }

    /// Every row whose `column` equals `value`, in key order.
    pub async fn select_by(
        &mut self,
        def: &TableDef,
        column: &str,
        value: Value,
    ) -> Result<Vec<Vec<Value>>, IndexError> {
        let order = quoted(def.key_columns());
        self.select_filtered(def, &format!("\"{column}\" = $1"), &order, vec![value])
            .await
    }

    /// Every row meeting `filter` (SQL written in this crate, with `params`
    /// bound as `$1`, `$2`, …), then `order` (SQL, e.g. `"level, idx LIMIT
    /// 10"`).
    pub async fn select_filtered(
        &mut self,
        def: &TableDef,
        filter: &str,
        order: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Vec<Value>>, IndexError> {
        let sql = format!(
            "SELECT {} FROM \"{}\" WHERE {filter} ORDER BY {order}",
            self.select_list(def),
            def.name
        );
        self.fetch(def, &sql, params).await
    }

    /// The row with the lowest key, if the table has any.
    pub async fn select_first(&mut self, def: &TableDef) -> Result<Option<Vec<Value>>, IndexError> {
        let sql = format!(
            "SELECT {} FROM \"{}\" ORDER BY {} LIMIT 1",
            self.select_list(def),
            def.name,
            quoted(def.key_columns())
        );
        Ok(self.fetch(def, &sql, Vec::new()).await?.into_iter().next())
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
        let filter = if above.is_some() {
            " WHERE \"level\" > $1"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {} FROM \"{}\"{filter} ORDER BY {}",
            self.select_list(def),
            def.name,
            quoted(def.key_columns())
        );
        let params = above.map(Value::Int).into_iter().collect();
        self.fetch(def, &sql, params).await
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
        self.execute(&sql, vec![Value::Int(level)]).await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(valid_schema("mirror_1"));
        assert!(!valid_schema("Mirror"));
        assert!(!valid_schema("a; drop table x"));
        assert!(!valid_schema(""));
        assert!(check_schema("9lives").is_err());
    }

    #[test]
    fn urls_name_their_database() {
        assert_eq!(
            Backend::of_url("postgresql://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::of_url("sqlite::memory:").ok(),
            Some(Backend::Sqlite)
        );
        assert!(Backend::of_url("mysql://h/db").is_err());
    }
}
