//! Messages people sign for pledgeroll that the rollup never takes: alert
//! subscriptions today, each under a domain tag of its own.
//!
//! ```text
//! Tezos Signed Message: pledgeroll-alerts https://directory.example tz1…: subscribe
//! to every alert by webhook to "https://hooks.example/p", warned 7 days before a
//! balance runs out, signed at 2026-12-01T18:40:00Z
//! ```
//!
//! They are statements in the clear-signing format (a packed Michelson
//! string a wallet shows as text), so any Tezos wallet signs them and shows
//! what it signs. A rollup operation's statement reads
//! `Tezos Signed Message: pledgeroll sr1… nonce N …`, and the kernel only
//! accepts a signature over the statement it renders itself from the
//! operation; a text under another tag (`pledgeroll-alerts`) can never be
//! that statement, so a signature made here never moves funds. The
//! directory they are for is named, and the time signed, so a message is
//! good for one directory and a few minutes only.

use crate::crypto::Address;
use crate::statement::{quote, Statement, PREFIX};
use crate::units::format_rfc3339;

/// The domain tag of alert subscriptions.
pub const ALERTS_TAG: &str = "pledgeroll-alerts";

/// Where a subscription's alerts go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertChannel {
    /// A JSON POST per alert to this URL, signed with HMAC-SHA256.
    Webhook {
        /// The URL.
        url: String,
    },
    /// An e-mail per alert to this address.
    Email {
        /// The address.
        address: String,
    },
}

/// What an account asks a directory about its alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertsRequest {
    /// Sends the account's alerts of `kinds` (every kind if empty) to
    /// `channel`, with runway warnings `runway_days` days before a balance
    /// runs out (and again a day before).
    Subscribe {
        /// Where they go.
        channel: AlertChannel,
        /// The kinds wanted, by their stable names; empty for every kind.
        kinds: Vec<String>,
        /// Days before a balance runs out that the first warning comes.
        runway_days: u16,
    },
    /// Stops a subscription of the account.
    Unsubscribe {
        /// The subscription's number.
        subscription: u64,
    },
    /// Lists the account's subscriptions and their delivery logs.
    List,
}

/// The words an account signs to make `request` of the directory at
/// `directory` (its public URL) at `signed_at` (Unix seconds).
///
/// The time is signed in the statement, so it is part of what a wallet
/// shows and what the directory checks.
pub fn alerts_statement(
    directory: &str,
    account: &Address,
    request: &AlertsRequest,
    signed_at: i64,
) -> Statement {
    let words = match request {
        AlertsRequest::Subscribe {
            channel,
            kinds,
            runway_days,
        } => {
            let kinds = if kinds.is_empty() {
                "every alert".to_owned()
            } else {
                format!("alerts {}", kinds.join(", "))
            };
            let channel = match channel {
                AlertChannel::Webhook { url } => format!("by webhook to {}", quote(url)),
                AlertChannel::Email { address } => format!("by e-mail to {}", quote(address)),
            };
            let days = if *runway_days == 1 { "day" } else { "days" };
            format!(
                "subscribe to {kinds} {channel}, warned {runway_days} {days} before a balance runs out"
            )
        }
        AlertsRequest::Unsubscribe { subscription } => {
            format!("stop alert subscription {subscription}")
        }
        AlertsRequest::List => "list alert subscriptions and deliveries".to_owned(),
    };
    Statement::off_rollup(format!(
        "{PREFIX}-alerts {} {account}: {words}, signed at {}",
        quote_url(directory),
        format_rfc3339(signed_at)
    ))
}

/// A directory's URL as a statement names it: as it is when printable and
/// free of spaces and quotes, quoted otherwise.
fn quote_url(url: &str) -> String {
    if !url.is_empty()
        && url
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    {
        url.to_owned()
    } else {
        quote(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::PREFIX;

    fn account() -> Address {
        "tz1Ke2h7sDdakHJQh8WX4Z372du1KChsksyU".parse().expect("tz1")
    }

    #[test]
    fn a_subscription_says_what_where_and_for_whom() {
        let s = alerts_statement(
            "https://dir.example",
            &account(),
            &AlertsRequest::Subscribe {
                channel: AlertChannel::Webhook {
                    url: "https://hooks.example/p?x=\"1\"".to_owned(),
                },
                kinds: vec!["tip_received".to_owned(), "pledge_started".to_owned()],
                runway_days: 7,
            },
            1_764_614_400,
        );
        assert_eq!(
            s.text(),
            "Tezos Signed Message: pledgeroll-alerts https://dir.example \
             tz1Ke2h7sDdakHJQh8WX4Z372du1KChsksyU: subscribe to alerts tip_received, \
             pledge_started by webhook to \"https://hooks.example/p?x=\\\"1\\\"\", warned 7 days \
             before a balance runs out, signed at 2025-12-01T18:40:00Z"
        );
        // Never an operation's statement, which names a rollup next.
        assert!(!s.text().starts_with(&format!("{PREFIX} ")));
        assert!(s.text().starts_with(&format!("{PREFIX}-alerts ")));
        assert_eq!(Statement::from_bytes(&s.bytes()), Some(s));
    }

    #[test]
    fn every_request_has_its_own_words() {
        let at = 0;
        let words = |r: &AlertsRequest| alerts_statement("http://d", &account(), r, at);
        let email = words(&AlertsRequest::Subscribe {
            channel: AlertChannel::Email {
                address: "me@example.org".to_owned(),
            },
            kinds: Vec::new(),
            runway_days: 1,
        });
        assert!(
            email.text().contains(
                "subscribe to every alert by e-mail to \"me@example.org\", warned 1 day before"
            ),
            "{}",
            email.text()
        );
        let stop = words(&AlertsRequest::Unsubscribe { subscription: 3 });
        assert!(stop
            .text()
            .contains(": stop alert subscription 3, signed at 1970-01-01T00:00:00Z"));
        let list = words(&AlertsRequest::List);
        assert!(list
            .text()
            .contains(": list alert subscriptions and deliveries,"));
        let spaced = alerts_statement("http://d x", &account(), &AlertsRequest::List, at);
        assert!(spaced
            .text()
            .contains("pledgeroll-alerts \"http://d x\" tz1"));
    }
}
