//! What can go wrong while indexing, and which failures are worth retrying.

use pledgeroll_interface::NodeError;
use thiserror::Error;

/// Why indexing, verifying or opening the mirror failed.
#[derive(Debug, Error)]
pub enum IndexError {
    /// The database failed or refused a statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The rollup node failed or refused a request.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The database URL or another setting is unusable.
    #[error("{0}")]
    Config(String),
    /// A level read from the node is not what the kernel writes.
    #[error("level {level} from the node is unusable: {reason}")]
    BadLevel {
        /// The level.
        level: u32,
        /// What is wrong with it.
        reason: String,
    },
    /// A block does not follow the chain indexed so far: the node
    /// reorganised while it was read. The next round starts over.
    #[error("block {hash} at level {level} does not follow the indexed chain")]
    Discontinuity {
        /// The level.
        level: u32,
        /// Its block hash.
        hash: String,
    },
    /// A block read by hash is gone from the node: it was replaced.
    #[error("block {hash} is no longer on the node's chain")]
    BlockGone {
        /// The block hash.
        hash: String,
    },
    /// The node replaced levels whose undo information was not kept.
    #[error(
        "the node replaced level {level}, below level {floor} from which undo information is kept; \
         index again into an empty database (or raise --undo-window)"
    )]
    ReorgTooDeep {
        /// The first level that must be reverted.
        level: u32,
        /// The first level that can be reverted.
        floor: u32,
    },
    /// The database mirrors another rollup.
    #[error(
        "this database mirrors rollup {stored}, but the node runs rollup {node}; use another database or schema"
    )]
    WrongRollup {
        /// The rollup stored in the database.
        stored: String,
        /// The node's rollup.
        node: String,
    },
    /// The node runs another kernel than the one the mirror recorded.
    #[error(
        "the node's kernel changed: the mirror recorded blake2b-256 {stored}, the node now runs {node}; a pledgeroll rollup never replaces its kernel, so this node is not the rollup the mirror followed"
    )]
    KernelChanged {
        /// The kernel hash the mirror recorded.
        stored: String,
        /// The node's kernel hash.
        node: String,
    },
    /// A stored row does not decode into its table's types.
    #[error("the row in {table} does not decode: {reason}")]
    Corrupt {
        /// The table.
        table: String,
        /// What is wrong.
        reason: String,
    },
    /// A protocol value does not fit the column it goes to.
    #[error("{what} {value} is out of range for the database")]
    OutOfRange {
        /// What the value is.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// The metrics endpoint cannot be served.
    #[error("cannot serve metrics on {addr}: {reason}")]
    Metrics {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The indexer stopped on an error it cannot get past.
    #[error("the indexer stopped: {0}")]
    Stopped(String),
    /// A wait ran out of time.
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        seconds: u64,
    },
}

impl IndexError {
    /// Whether the failure is transient (the database or the node is away,
    /// or the node changed its chain while it was read) so the same work
    /// should be tried again after a pause.
    pub fn is_retryable(&self) -> bool {
        match self {
            IndexError::Database(e) => database_is_transient(e),
            IndexError::Node(e) => node_is_transient(e),
            IndexError::Discontinuity { .. } | IndexError::BlockGone { .. } => true,
            _ => false,
        }
    }
}

fn database_is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // Connection exceptions, operator intervention, insufficient
            // resources, serialization failures and deadlocks (Postgres),
            // and a busy or locked database (SQLite).
            code.starts_with("08")
                || code.starts_with("57")
                || code.starts_with("53")
                || code == "40001"
                || code == "40P01"
                || code == "5"
                || code == "6"
        }),
        _ => false,
    }
}

fn node_is_transient(e: &NodeError) -> bool {
    match e {
        NodeError::Unreachable { .. } | NodeError::Timeout { .. } => true,
        NodeError::Refused { status, .. } => *status >= 500 || *status == 404 || *status == 429,
        NodeError::Unexpected { .. } | NodeError::Corrupt { .. } | NodeError::TooLarge { .. } => {
            false
        }
    }
}

/// A `u64` (an id, a nonce, a time) as a database integer.
pub(crate) fn int(value: u64, what: &'static str) -> Result<i64, IndexError> {
    i64::try_from(value).map_err(|_| IndexError::OutOfRange {
        what,
        value: value.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_away_node_is_retried_and_a_corrupt_answer_is_not() {
        let away = IndexError::Node(NodeError::Unreachable {
            url: "http://127.0.0.1:1".into(),
            reason: "connection refused".into(),
        });
        assert!(away.is_retryable());
        let corrupt = IndexError::Node(NodeError::Corrupt {
            key: "/pledgeroll/level/events".into(),
            reason: "trailing bytes".into(),
        });
        assert!(!corrupt.is_retryable());
        let huge = IndexError::Node(NodeError::TooLarge {
            path: "/global/block/7/durable/wasm_2_0_0/value".into(),
            limit: 64 << 20,
        });
        assert!(
            !huge.is_retryable(),
            "an oversized answer stops the mirror, loudly"
        );
        assert!(IndexError::Database(sqlx::Error::PoolTimedOut).is_retryable());
        assert!(!IndexError::Database(sqlx::Error::RowNotFound).is_retryable());
        assert!(!IndexError::ReorgTooDeep { level: 3, floor: 9 }.is_retryable());
    }

    #[test]
    fn integers_beyond_the_database_range_are_refused() {
        assert_eq!(int(7, "level").ok(), Some(7));
        assert!(int(u64::MAX, "level").is_err());
    }
}
