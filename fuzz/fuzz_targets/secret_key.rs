//! Secret keys as a wallet imports them (`pledgeroll keys import`): the
//! Octez forms `edsk…` (seed or full), `spsk…`, `p2sk…`, optionally behind
//! `unencrypted:`, and the encrypted `encrypted:edesk…`/`spesk…`/`p2esk…`
//! opened with a passphrase (`SecretKey::from_encrypted`).
//!
//! The text is any text, or a valid base58check string built from a fuzzed
//! prefix and payload. Checks: no panic; a key that parses prints in a form
//! that parses to the same key, and prints as the text it was read from
//! unless that was the 64-byte `edsk` form or carried a prefix or spaces.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pledgeroll_contracts::crypto::{from_base58, prefix, to_base58};
use pledgeroll_contracts::signing::SecretKey;

/// Every prefix of a secret key, clear or encrypted, and one of no key.
const PREFIXES: &[&[u8]] = &[
    prefix::EDSK_SEED,
    prefix::EDSK_FULL,
    prefix::SPSK,
    prefix::P2SK,
    prefix::EDESK,
    prefix::SPESK,
    prefix::P2ESK,
    prefix::TZ1,
];

#[derive(Arbitrary, Debug)]
enum Text<'a> {
    /// Any text.
    Any(&'a str),
    /// Base58check of a known prefix (by index) and any payload, behind
    /// `encrypted:` or `unencrypted:` or nothing.
    Base58 {
        prefix: u8,
        payload: &'a [u8],
        tag: Option<bool>,
    },
}

#[derive(Arbitrary, Debug)]
struct Import<'a> {
    text: Text<'a>,
    passphrase: &'a str,
}

fuzz_target!(|import: Import<'_>| {
    let text = match import.text {
        Text::Any(text) => text.to_owned(),
        Text::Base58 {
            prefix,
            payload,
            tag,
        } => {
            let prefix = PREFIXES
                .get(usize::from(prefix) % PREFIXES.len())
                .copied()
                .unwrap_or_default();
            let tag = match tag {
                Some(true) => "encrypted:",
                Some(false) => "unencrypted:",
                None => "",
            };
            format!("{tag}{}", to_base58(prefix, payload))
        }
    };
    if let Ok(key) = text.parse::<SecretKey>() {
        let shown = key.to_string();
        assert_eq!(shown.parse::<SecretKey>().ok(), Some(key), "{text:?}");
        let bare = text.trim();
        let bare = bare.strip_prefix("unencrypted:").unwrap_or(bare);
        let full_edsk = from_base58::<64>(bare, prefix::EDSK_FULL, "edsk").is_ok();
        if !full_edsk {
            assert_eq!(
                shown, bare,
                "a secret key read from {text:?} prints otherwise"
            );
        }
    }
    // Opening with a passphrase either fails or gives a valid key; it is
    // slow (PBKDF2, 32,768 rounds) only for text that is an encrypted key.
    if let Ok(key) = SecretKey::from_encrypted(&text, import.passphrase) {
        assert!(key.to_string().parse::<SecretKey>().is_ok());
    }
});
