//! Creating the mirror's schema from the table descriptions in
//! [`crate::rows`], in the database's dialect, and recognising the schema
//! of an existing mirror.
//!
//! The schema has a version, kept in `indexer_meta`. A mirror of another
//! version is refused rather than changed: a mirror is rebuilt from the
//! node, so indexing again into an empty database is the way forward; a
//! mirror made when the schema was applied by sqlx's migrations
//! (`_sqlx_migrations`) is of schema 1 and refused the same way.
//!
//! Versions: 1, the first mirror; 2, receipts name the record an operation
//! created (`receipts.created`); 3, creators' pause clocks
//! (`creators.paused_seconds`, `paused_since`, `pledges.pause_clock`,
//! `balances.inflow_paused`); 4, patron counts count patrons, not pledges
//! (`tier_patrons`, `creator_patrons`), and alerts (`alerts`).

use super::{Db, Tx};
use crate::error::IndexError;
use crate::rows::{tables, MetaRow};
use crate::schema::Row;

/// The version of the schema this indexer creates and reads.
pub const SCHEMA_VERSION: i64 = 4;

/// The setting holding the schema's version.
const META_SCHEMA: &str = "schema_version";

/// The table sqlx's migration runner kept, in mirrors of schema 1.
const SQLX_MIGRATIONS: &str = "_sqlx_migrations";

/// What a database holds before the schema is brought up to date.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    /// No mirror at all.
    Nothing,
    /// A mirror of this version.
    Current,
    /// Something else: a mirror of another version, described.
    Other(String),
}

impl Db {
    /// Creates the schema in an empty database, or checks that the mirror
    /// there has this indexer's schema; fails with one line saying what
    /// to do otherwise.
    pub async fn migrate(&self) -> Result<(), IndexError> {
        let mut tx = self.begin_schema_change().await?;
        match found(&mut tx).await? {
            Found::Current => {}
            Found::Nothing => {
                for def in tables() {
                    for statement in tx.ddl(def) {
                        tx.execute(&statement, Vec::new()).await?;
                    }
                }
                write_version(&mut tx).await?;
            }
            Found::Other(what) => {
                tx.rollback().await?;
                return Err(IndexError::Config(format!(
                    "this database holds a mirror of another indexer version ({what}; this one \
                     reads schema {SCHEMA_VERSION}): index again into an empty database or \
                     another --schema, the mirror is rebuilt from the node"
                )));
            }
        }
        tx.commit().await
    }
}

async fn write_version(tx: &mut Tx) -> Result<(), IndexError> {
    tx.store(&[MetaRow {
        name: META_SCHEMA.to_owned(),
        value: SCHEMA_VERSION.to_string(),
    }])
    .await
}

/// Recognises what the database holds.
async fn found(tx: &mut Tx) -> Result<Found, IndexError> {
    if tx.columns(MetaRow::DEF.name).await?.is_empty() {
        return Ok(if tx.columns(SQLX_MIGRATIONS).await?.is_empty() {
            Found::Nothing
        } else {
            Found::Other("sqlx migrations without the mirror's tables".to_owned())
        });
    }
    let stored: Vec<MetaRow> = tx.load(&[(META_SCHEMA.to_owned(),)]).await?;
    if let Some(meta) = stored.into_iter().next() {
        return Ok(if meta.value == SCHEMA_VERSION.to_string() {
            Found::Current
        } else {
            Found::Other(format!("schema {}", meta.value))
        });
    }
    Ok(Found::Other(
        if tx.columns(SQLX_MIGRATIONS).await?.is_empty() {
            "a mirror without a schema version"
        } else {
            "schema 1, made by sqlx migrations"
        }
        .to_owned(),
    ))
}
