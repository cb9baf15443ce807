//! PostgreSQL: upserts send each column as one array through `UNNEST` and
//! append-only tables are written with `COPY`, so a batch of thousands of
//! rows is a handful of round trips.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::query::Query;
use sqlx::{ConnectOptions, Connection, Executor, PgPool, Postgres, Row as _, Transaction};

use super::engine::{mismatch, same_on_both, select_list, select_or_delete, Engine};
use super::{Backend, DbConfig};
use crate::error::IndexError;
use crate::schema::{quoted, Col, Kind, TableDef, Value};

/// Rows per statement: arrays of this many elements per column.
const CHUNK: usize = 20_000;

impl Engine for Postgres {
    const BACKEND: Backend = Backend::Postgres;

    fn column_type(kind: Kind) -> &'static str {
        match kind {
            Kind::Int => "BIGINT",
            Kind::Text => "TEXT",
            Kind::Exact => "NUMERIC(39, 0)",
            Kind::Bool => "BOOLEAN",
            Kind::Bytes => "BYTEA",
        }
    }

    fn select_column(col: &Col) -> String {
        // NUMERIC decodes only as a decimal type; as text it is exact.
        match col.ty.kind {
            Kind::Exact => format!("\"{0}\"::text AS \"{0}\"", col.name),
            _ => format!("\"{}\"", col.name),
        }
    }

    async fn connect(config: &DbConfig) -> Result<PgPool, IndexError> {
        let url = config.url.as_str();
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| IndexError::Config(format!("invalid Postgres URL {url}: {e}")))?;
        let mut settings = Vec::new();
        if config.read_only {
            settings.push(("default_transaction_read_only", "on".to_owned()));
        }
        if let Some(schema) = &config.schema {
            if !config.read_only {
                create_schema(&options, schema).await?;
            }
            settings.push(("search_path", schema.clone()));
        }
        let options = if settings.is_empty() {
            options
        } else {
            options.options(settings)
        };
        // Batches legitimately take seconds; the indexer logs its own
        // timings.
        let options = options.disable_statement_logging();
        let wait = if config.read_only { 5 } else { 10 };
        Ok(PgPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(wait))
            .connect_with(options)
            .await?)
    }

    async fn begin_schema_change(
        pool: &PgPool,
    ) -> Result<Transaction<'static, Postgres>, IndexError> {
        let mut tx = pool.begin().await?;
        // Creating a table that another transaction is creating fails
        // rather than waits: one schema change at a time per schema.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    async fn read_snapshot(tx: &mut Transaction<'static, Postgres>) -> Result<(), IndexError> {
        // Postgres reads each statement afresh by default.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    same_on_both!();

    async fn upsert(
        tx: &mut Transaction<'static, Postgres>,
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
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn insert(
        tx: &mut Transaction<'static, Postgres>,
        def: &TableDef,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), IndexError> {
        copy_rows(tx, def, &rows).await
    }

    async fn by_keys(
        tx: &mut Transaction<'static, Postgres>,
        def: &TableDef,
        mut keys: Vec<Vec<Value>>,
        select: bool,
    ) -> Result<Vec<Vec<Value>>, IndexError> {
        let head = if select {
            format!("SELECT {} FROM", select_list::<Postgres>(def))
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
            out.extend(select_or_delete(&mut **tx, def, q, select).await?);
        }
        Ok(out)
    }

    async fn columns(
        tx: &mut Transaction<'static, Postgres>,
        table: &str,
    ) -> Result<Vec<(String, String, bool)>, IndexError> {
        let rows = sqlx::query(
            "SELECT column_name::text, data_type::text, is_nullable::text \
             FROM information_schema.columns \
             WHERE table_name = $1 AND table_schema = current_schema() \
             ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(&mut **tx)
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
}

/// Creates the schema a mirror is kept in, if missing.
async fn create_schema(options: &PgConnectOptions, schema: &str) -> Result<(), IndexError> {
    let mut conn = PgConnection::connect_with(options).await?;
    let created = conn
        .execute(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"").as_str())
        .await;
    conn.close().await?;
    match created {
        Ok(_) => Ok(()),
        // Another connection created it at the same moment.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn array_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "bigint[]",
        Kind::Text => "text[]",
        Kind::Exact => "text[]::numeric[]",
        Kind::Bool => "boolean[]",
        Kind::Bytes => "bytea[]",
    }
}

/// Column `i` of `rows` as one typed array, the values taken out.
fn column_array<T>(
    def: &TableDef,
    col: &Col,
    i: usize,
    rows: &mut [Vec<Value>],
    pick: impl Fn(Value) -> Result<Option<T>, Value>,
) -> Result<Vec<Option<T>>, IndexError> {
    rows.iter_mut()
        .map(|r| {
            let v = r
                .get_mut(i)
                .map(|v| std::mem::replace(v, Value::Null))
                .unwrap_or(Value::Null);
            pick(v).map_err(|v| mismatch(def, col.name, &v))
        })
        .collect()
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
    Ok(match col.ty.kind {
        Kind::Int => q.bind(column_array(def, col, i, rows, |v| match v {
            Value::Int(v) => Ok(Some(v)),
            Value::Null => Ok(None),
            v => Err(v),
        })?),
        Kind::Text | Kind::Exact => q.bind(column_array(def, col, i, rows, |v| match v {
            Value::Text(v) => Ok(Some(v)),
            Value::Exact(v) => Ok(Some(v.to_string())),
            Value::Null => Ok(None),
            v => Err(v),
        })?),
        Kind::Bool => q.bind(column_array(def, col, i, rows, |v| match v {
            Value::Bool(v) => Ok(Some(v)),
            Value::Null => Ok(None),
            v => Err(v),
        })?),
        Kind::Bytes => q.bind(column_array(def, col, i, rows, |v| match v {
            Value::Bytes(v) => Ok(Some(v)),
            Value::Null => Ok(None),
            v => Err(v),
        })?),
    })
}

fn unnest(cols: &[Col]) -> String {
    let args = cols
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::{}", i + 1, array_type(c.ty.kind)))
        .collect::<Vec<_>>()
        .join(", ");
    format!("SELECT * FROM UNNEST({args})")
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

/// Writes rows with `COPY … FROM STDIN`.
async fn copy_rows(
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
}
