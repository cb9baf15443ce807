//! SQLite: rows go in multi-row statements of a few fixed sizes, each
//! prepared once.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Row as _, Sqlite, SqlitePool, Transaction};

use super::engine::{arguments, check, same_on_both, select_list, select_or_delete, Engine};
use super::{Backend, DbConfig};
use crate::error::IndexError;
use crate::schema::{quoted, Kind, TableDef, Value};

/// Statement sizes, in rows: a batch goes out in the largest that fit,
/// so each table has a few prepared statements, not one per size.
const SIZES: [usize; 6] = [512, 128, 32, 8, 2, 1];

/// Most parameters SQLite binds in one statement.
const MAX_PARAMETERS: usize = 32_766;

impl Engine for Sqlite {
    const BACKEND: Backend = Backend::Sqlite;

    fn column_type(kind: Kind) -> &'static str {
        // SQLite keeps an integer beyond 64 bits only as a float: exact
        // amounts are their decimal digits.
        match kind {
            Kind::Int => "INTEGER",
            Kind::Text | Kind::Exact => "TEXT",
            Kind::Bool => "BOOLEAN",
            Kind::Bytes => "BLOB",
        }
    }

    async fn connect(config: &DbConfig) -> Result<SqlitePool, IndexError> {
        let url = config.url.as_str();
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| IndexError::Config(format!("invalid SQLite URL {url}: {e}")))?;
        let (options, wait) = if config.read_only {
            (options.read_only(true), Duration::from_secs(5))
        } else {
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .pragma("cache_size", "-65536");
            (options, Duration::from_secs(30))
        };
        let options = options.busy_timeout(wait).disable_statement_logging();
        Ok(SqlitePoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(wait)
            .connect_with(options)
            .await?)
    }

    async fn begin_schema_change(
        pool: &SqlitePool,
    ) -> Result<Transaction<'static, Sqlite>, IndexError> {
        // Taking the write lock first: a deferred transaction that read
        // the schema could not write after another changed it.
        Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    same_on_both!();

    async fn upsert(
        tx: &mut Transaction<'static, Sqlite>,
        def: &TableDef,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), IndexError> {
        let conflict = if def.value_columns().is_empty() {
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
        write(tx, def, rows, &conflict).await
    }

    async fn insert(
        tx: &mut Transaction<'static, Sqlite>,
        def: &TableDef,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), IndexError> {
        write(tx, def, rows, "").await
    }

    async fn by_keys(
        tx: &mut Transaction<'static, Sqlite>,
        def: &TableDef,
        keys: Vec<Vec<Value>>,
        select: bool,
    ) -> Result<Vec<Vec<Value>>, IndexError> {
        let head = if select {
            format!("SELECT {} FROM", select_list::<Sqlite>(def))
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
            let args = arguments::<Sqlite>(flatten(def, def.keys, keys.by_ref().take(size))?)?;
            let q = sqlx::query_with(&sql, args);
            out.extend(select_or_delete(&mut **tx, def, q, select).await?);
        }
        Ok(out)
    }

    async fn columns(
        tx: &mut Transaction<'static, Sqlite>,
        table: &str,
    ) -> Result<Vec<(String, String, bool)>, IndexError> {
        let rows = sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)")
            .bind(table)
            .fetch_all(&mut **tx)
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

/// Inserts rows, `conflict` saying what to do with an existing key.
async fn write(
    tx: &mut Transaction<'static, Sqlite>,
    def: &TableDef,
    rows: Vec<Vec<Value>>,
    conflict: &str,
) -> Result<(), IndexError> {
    let width = def.columns.len();
    let mut rows = rows.into_iter();
    for size in plan(rows.len(), width) {
        let sql = format!(
            "INSERT INTO \"{}\" ({}) VALUES {}{conflict}",
            def.name,
            quoted(def.columns),
            tuples(size, width)
        );
        let args = arguments::<Sqlite>(flatten(def, width, rows.by_ref().take(size))?)?;
        sqlx::query_with(&sql, args).execute(&mut **tx).await?;
    }
    Ok(())
}

/// The values of rows of `width` leading columns of `def`, in one list,
/// each checked against its column's kind.
fn flatten(
    def: &TableDef,
    width: usize,
    rows: impl Iterator<Item = Vec<Value>>,
) -> Result<Vec<Value>, IndexError> {
    let cols = def.columns.get(..width).unwrap_or_default();
    let mut out = Vec::new();
    for row in rows {
        check(def, cols, &row)?;
        out.extend(row);
    }
    Ok(out)
}

fn tuples(n: usize, width: usize) -> String {
    let one = format!("({})", vec!["?"; width].join(", "));
    vec![one; n].join(", ")
}

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
