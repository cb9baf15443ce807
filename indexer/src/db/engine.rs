//! What a database must provide for the mirror: the [`Engine`] trait, and
//! the helpers its two implementations share (binding and decoding values,
//! the glue whose sqlx calls read the same on both).

use sqlx::query::Query;
use sqlx::{
    Arguments as _, Database, Encode, Executor, FromRow, IntoArguments, Pool, Transaction, Type,
};

use super::{Backend, DbConfig};
use crate::error::IndexError;
use crate::schema::{Col, Kind, TableDef, Value};

/// A database the mirror can live in: what differs between Postgres and
/// SQLite, implemented on sqlx's own database types. The calls take the
/// transaction a [`super::Tx`] holds.
pub(crate) trait Engine: Database + Sized {
    /// Which database this is.
    const BACKEND: Backend;

    /// The SQL type a column kind is stored as.
    fn column_type(kind: Kind) -> &'static str;

    /// How to select a column so that it decodes as its kind.
    fn select_column(col: &Col) -> String {
        format!("\"{}\"", col.name)
    }

    /// A pool to the database `config` names (its URL is this database's).
    async fn connect(config: &DbConfig) -> Result<Pool<Self>, IndexError>;

    /// Begins a transaction that changes the schema, holding off any other
    /// until it ends.
    async fn begin_schema_change(
        pool: &Pool<Self>,
    ) -> Result<Transaction<'static, Self>, IndexError>;

    /// Makes the transaction read one snapshot, whatever commits meanwhile.
    async fn read_snapshot(_tx: &mut Transaction<'static, Self>) -> Result<(), IndexError> {
        Ok(())
    }

    /// Runs one statement with `params` bound as `$1`, `$2`, ….
    async fn execute(
        tx: &mut Transaction<'static, Self>,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<(), IndexError>;

    /// The rows a query returns, decoded as the columns of `def`.
    async fn fetch(
        tx: &mut Transaction<'static, Self>,
        def: &TableDef,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Vec<Value>>, IndexError>;

    /// The rows a query on the pool returns, each decoded by its
    /// [`FromRow`].
    async fn fetch_as<T>(
        pool: &Pool<Self>,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<T>, IndexError>
    where
        T: for<'r> FromRow<'r, Self::Row> + Send + Unpin;

    /// Inserts or replaces rows by primary key.
    async fn upsert(
        tx: &mut Transaction<'static, Self>,
        def: &TableDef,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), IndexError>;

    /// Inserts new rows.
    async fn insert(
        tx: &mut Transaction<'static, Self>,
        def: &TableDef,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), IndexError>;

    /// Selects (`select`) or deletes the rows with these primary keys.
    async fn by_keys(
        tx: &mut Transaction<'static, Self>,
        def: &TableDef,
        keys: Vec<Vec<Value>>,
        select: bool,
    ) -> Result<Vec<Vec<Value>>, IndexError>;

    /// The names, declared types (lower case) and nullability of a table's
    /// columns, from the catalog.
    async fn columns(
        tx: &mut Transaction<'static, Self>,
        table: &str,
    ) -> Result<Vec<(String, String, bool)>, IndexError>;
}

/// The columns of `def` as an engine selects them.
pub(super) fn select_list<E: Engine>(def: &TableDef) -> String {
    def.columns
        .iter()
        .map(E::select_column)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The arguments of a statement: `params` bound in order as `$1`, `$2`, ….
pub(super) fn arguments<'q, DB>(
    params: Vec<Value>,
) -> Result<<DB as Database>::Arguments<'q>, IndexError>
where
    DB: Database,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
    Vec<u8>: Encode<'q, DB> + Type<DB>,
{
    let mut args = <DB as Database>::Arguments::<'q>::default();
    for value in params {
        match value {
            Value::Null => args.add(None::<i64>),
            Value::Int(v) => args.add(v),
            Value::Text(v) => args.add(v),
            Value::Exact(v) => args.add(v.to_string()),
            Value::Bool(v) => args.add(v),
            Value::Bytes(v) => args.add(v),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(args)
}

/// The error for a value a column cannot hold.
pub(super) fn mismatch(def: &TableDef, column: &str, value: &Value) -> IndexError {
    IndexError::Corrupt {
        table: def.name.to_owned(),
        reason: format!("column {column} cannot hold {value:?}"),
    }
}

/// Refuses a row whose values do not fit `cols`' kinds.
pub(super) fn check(def: &TableDef, cols: &[Col], row: &[Value]) -> Result<(), IndexError> {
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
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<bool>: sqlx::Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + Type<R::Database>,
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

/// Runs a statement over keys: the rows it selects, decoded as the columns
/// of `def`, or (unless `select`) none once it has deleted them.
pub(super) async fn select_or_delete<'q, DB, A>(
    conn: &mut DB::Connection,
    def: &TableDef,
    q: Query<'q, DB, A>,
    select: bool,
) -> Result<Vec<Vec<Value>>, IndexError>
where
    DB: Database,
    A: 'q + IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> Option<i64>: sqlx::Decode<'r, DB> + Type<DB>,
    for<'r> Option<String>: sqlx::Decode<'r, DB> + Type<DB>,
    for<'r> Option<bool>: sqlx::Decode<'r, DB> + Type<DB>,
    for<'r> Option<Vec<u8>>: sqlx::Decode<'r, DB> + Type<DB>,
{
    if select {
        let rows = q.fetch_all(&mut *conn).await?;
        rows.iter().map(|r| decode(def, r)).collect()
    } else {
        q.execute(&mut *conn).await?;
        Ok(Vec::new())
    }
}

/// The [`Engine`] calls whose sqlx code reads the same on both databases,
/// expanded inside each implementation (sqlx's executors are per
/// database, so they cannot be written once as generic code).
macro_rules! same_on_both {
    () => {
        async fn execute(
            tx: &mut sqlx::Transaction<'static, Self>,
            sql: &str,
            params: Vec<Value>,
        ) -> Result<(), IndexError> {
            let args = super::engine::arguments::<Self>(params)?;
            sqlx::query_with(sql, args).execute(&mut **tx).await?;
            Ok(())
        }

        async fn fetch(
            tx: &mut sqlx::Transaction<'static, Self>,
            def: &TableDef,
            sql: &str,
            params: Vec<Value>,
        ) -> Result<Vec<Vec<Value>>, IndexError> {
            let args = super::engine::arguments::<Self>(params)?;
            let q = sqlx::query_with(sql, args);
            super::engine::select_or_delete(&mut **tx, def, q, true).await
        }

        async fn fetch_as<T>(
            pool: &sqlx::Pool<Self>,
            sql: &str,
            params: &[Value],
        ) -> Result<Vec<T>, IndexError>
        where
            T: for<'r> sqlx::FromRow<'r, <Self as sqlx::Database>::Row> + Send + Unpin,
        {
            let args = super::engine::arguments::<Self>(params.to_vec())?;
            Ok(sqlx::query_as_with(sql, args).fetch_all(pool).await?)
        }
    };
}
pub(super) use same_on_both;
