//! The base58check forms users paste: addresses (`tz1`, `tz2`, `tz3`),
//! public keys, signatures, rollup addresses and contracts (`KT1`).
//!
//! The input is any text, or a valid base58check string built from a fuzzed
//! prefix and payload (so the parsers get past the checksum). Checks: no
//! panic, and text that parses is exactly the form the value prints as
//! (signatures: one of the four forms they print as).

#![no_main]

use arbitrary::Arbitrary;
use core::fmt::Display;
use core::str::FromStr;
use libfuzzer_sys::fuzz_target;
use pledgeroll_contracts::crypto::{prefix, to_base58, Curve};
use pledgeroll_contracts::{Address, Contract, PublicKey, RollupAddress, Signature};

/// Every prefix the parsers know, and one they do not.
const PREFIXES: &[&[u8]] = &[
    prefix::TZ1,
    prefix::TZ2,
    prefix::TZ3,
    prefix::KT1,
    prefix::SR1,
    prefix::EDPK,
    prefix::SPPK,
    prefix::P2PK,
    prefix::EDSIG,
    prefix::SPSIG,
    prefix::P2SIG,
    prefix::SIG,
    &[1, 2, 3],
];

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// Any text.
    Text(&'a str),
    /// Base58check of a known prefix (by index) and any payload.
    Base58 { prefix: u8, payload: &'a [u8] },
}

/// Parses `text` as a `T`; if it parses, it must print as `text`.
fn round_trip<T: FromStr + Display>(text: &str) -> Option<T> {
    let value = text.parse::<T>().ok()?;
    assert_eq!(
        value.to_string(),
        text,
        "{} parsed from {text:?} prints otherwise",
        core::any::type_name::<T>()
    );
    Some(value)
}

fuzz_target!(|input: Input<'_>| {
    let text = match input {
        Input::Text(text) => text.to_owned(),
        Input::Base58 { prefix, payload } => {
            let prefix = PREFIXES
                .get(usize::from(prefix) % PREFIXES.len())
                .copied()
                .unwrap_or_default();
            to_base58(prefix, payload)
        }
    };
    round_trip::<Address>(&text);
    round_trip::<PublicKey>(&text);
    round_trip::<RollupAddress>(&text);
    round_trip::<Contract>(&text);
    if let Ok(signature) = text.parse::<Signature>() {
        let forms = [
            signature.to_string(),
            signature.to_base58(Curve::Ed25519),
            signature.to_base58(Curve::Secp256k1),
            signature.to_base58(Curve::P256),
        ];
        assert!(
            forms.contains(&text),
            "signature parsed from {text:?} prints as none of {forms:?}"
        );
    }
});
