//! Alert subscriptions and their deliveries: tables of their own beside the
//! mirrored data. The directory writes subscriptions (from messages the
//! accounts signed); the notifier writes deliveries. Neither is mirrored
//! from the rollup, so `verify` and mirror snapshots leave them out.

use crate::schema::table;

table! {
    /// An account's alert subscription.
    SubscriptionRow in "alert_subscriptions" {
        key {
            /// Its number.
            subscription_id: i64,
        }
        /// The account whose alerts it sends.
        account: String,
        /// `webhook` or `email`.
        channel: String,
        /// The webhook's URL or the e-mail address.
        target: String,
        /// The secret webhook bodies are signed with (HMAC-SHA256).
        secret: String,
        /// The kinds sent, a JSON array of names; empty for every kind.
        kinds: String,
        /// Days before a balance runs out the first runway warning comes.
        runway_days: i64,
        /// The first level whose alerts it sends: the one after the mirror's
        /// when it was made.
        from_level: i64,
        /// The words the account signed.
        statement: String,
        /// Their blake2b-256, hex: words are used once.
        statement_hash: String,
        /// Its signature over them.
        signature: String,
        /// When it was made (Unix seconds).
        created_at: i64,
        /// When it was stopped, if it was.
        stopped_at: Option<i64>,
    }
    // An account's subscriptions; the words signed, used once each.
    index alert_subscriptions_account ("account, subscription_id");
    index alert_subscriptions_statement ("statement_hash");
}

table! {
    /// One alert due to one subscription, and how its delivery went.
    DeliveryRow in "alert_deliveries" {
        key {
            /// The subscription.
            subscription_id: i64,
            /// The alert's level.
            level: i64,
            /// The alert's position in its level.
            idx: i64,
        }
        /// `pending`, `delivered`, or `failed` (given up after a day).
        status: String,
        /// Attempts made.
        attempts: i64,
        /// When to try next (Unix seconds), while pending.
        next_attempt_at: i64,
        /// When the first attempt was made.
        first_attempt_at: Option<i64>,
        /// When it was delivered.
        delivered_at: Option<i64>,
        /// What the last attempt got: an HTTP status or an error, in words.
        last_result: Option<String>,
    }
    // What is pending, by subscription, in order.
    index alert_deliveries_pending ("status, subscription_id, level, idx");
}
