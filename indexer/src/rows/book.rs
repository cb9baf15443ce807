//! The chain as indexed and the indexer's own bookkeeping: levels, events
//! and receipts (append-only, keyed by level), the cursor, the settings,
//! and the undo information of levels a reorganisation may replace.

use crate::schema::table;

table! {
    /// The indexer's position: the last level applied and its block. One
    /// row, written in the same transaction as that level's changes.
    CursorRow in "indexer_cursor" {
        key {
            /// Always 1.
            id: i64,
        }
        /// The last level applied.
        level: i64,
        /// Its block hash.
        block_hash: String,
    }
    check "id = 1";
}

table! {
    /// Settings of the mirror: the rollup it mirrors, and from which level
    /// undo information is complete.
    MetaRow in "indexer_meta" {
        key {
            /// The setting's name.
            name: String,
        }
        /// Its value.
        value: String,
    }
}

table! {
    /// How to undo a level: each row the level changed, as it was before.
    /// Kept only for levels a reorganisation may still replace.
    UndoRow in "indexer_undo" {
        key {
            /// The level.
            level: i64,
            /// Order within the level.
            seq: i64,
        }
        /// The table.
        tbl: String,
        /// The row's key values, JSON.
        row_key: String,
        /// The row's values before the level, JSON; null if it was absent.
        image: Option<String>,
    }
}

table! {
    /// One indexed level: its block, time and the kernel's state hash.
    LevelRow in "levels" {
        key {
            /// The level.
            level: i64,
        }
        /// The block hash.
        block_hash: String,
        /// The previous block's hash.
        predecessor: String,
        /// The protocol's clock after the level (Unix seconds); null
        /// before the kernel first ran.
        level_time: Option<i64>,
        /// The kernel's state hash after the level (hex); null when the
        /// kernel wrote no record at this level.
        state_hash: Option<String>,
        /// Events in the level.
        events: i64,
        /// Operation receipts in the level.
        receipts: i64,
        /// Notices about inbox messages the kernel could not use.
        notices: i64,
        /// Why the level aborted, if it did.
        fault: Option<String>,
    }
}

table! {
    /// Every event the kernel recorded, in order, with its canonical
    /// encoding (decode with `pledgeroll_contracts::Event::from_bytes`).
    EventRow in "events" {
        key {
            /// The level.
            level: i64,
            /// Its position in the level.
            idx: i64,
        }
        /// The level's time (scheduled changes happened at or before it).
        happened_at: i64,
        /// The variant, e.g. `pledge_updated`.
        kind: String,
        /// The account or holder it is mainly about.
        account: Option<String>,
        /// The other party, if any.
        counterparty: Option<String>,
        /// The pledge, if any.
        pledge_id: Option<i64>,
        /// The project, if any.
        project_id: Option<i64>,
        /// The tier, if any.
        tier_id: Option<i64>,
        /// The asset, if any.
        asset_id: Option<i64>,
        /// What changed (`started`, `paused`, `approved`, …), if told.
        change: Option<String>,
        /// The event's canonical encoding.
        data: Vec<u8>,
    }
    // A holder's activity (either side), a pledge's and a project's history.
    index events_account ("account, level, idx");
    index events_counterparty ("counterparty, level, idx") where "counterparty IS NOT NULL";
    index events_pledge ("pledge_id, level, idx") where "pledge_id IS NOT NULL";
    index events_project ("project_id, level, idx") where "project_id IS NOT NULL";
}

table! {
    /// Every operation receipt.
    ReceiptRow in "receipts" {
        key {
            /// The level.
            level: i64,
            /// Its position in the level.
            idx: i64,
        }
        /// The operation's hash, hex.
        hash: String,
        /// The signer.
        signer: String,
        /// The nonce it carried.
        nonce: i64,
        /// Whether it applied.
        applied: bool,
        /// Why it failed.
        reason: Option<String>,
        /// The record it created, as JSON ids (`{"project":2,"ticket":4}`).
        created: Option<String>,
    }
    index receipts_hash ("hash");
    index receipts_signer ("signer, level, idx");
}

/// The record a receipt says its operation created, as stored in
/// `receipts.created`: its ids by name, as one JSON object.
pub fn created_json(created: &pledgeroll_contracts::Created) -> String {
    let ids: serde_json::Map<String, serde_json::Value> = created
        .ids()
        .into_iter()
        .map(|(name, id)| (name.to_owned(), id.into()))
        .collect();
    serde_json::Value::Object(ids).to_string()
}
