//! Signatures made by Taquito's `InMemorySigner` verify here, and keys and
//! addresses read and print as Taquito prints them. The vectors are produced
//! by `scripts/taquito-vectors`.

#![allow(clippy::indexing_slicing, clippy::panic)] // test code: a failed index is a failed test

use pledgeroll_contracts::crypto::{packed_bytes, PublicKey, Signature};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::Address;
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    generator: String,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    secret_key: String,
    public_key: String,
    address: String,
    bytes: String,
    signature: String,
    generic_signature: String,
}

fn vectors() -> Vectors {
    let text = include_str!("vectors/taquito_signatures.json");
    serde_json::from_str(text).expect("vectors parse")
}

#[test]
fn taquito_signatures_verify_and_tampered_ones_do_not() {
    let v = vectors();
    assert!(v.generator.starts_with("@taquito/signer@"));
    assert_eq!(v.vectors.len(), 21);
    for vec in &v.vectors {
        let pk: PublicKey = vec.public_key.parse().expect("public key");
        let bytes = hex::decode(&vec.bytes).expect("hex");
        let sig: Signature = vec.signature.parse().expect("curve signature");
        let generic: Signature = vec.generic_signature.parse().expect("generic signature");
        assert_eq!(sig, generic);
        assert!(
            pk.verify(&bytes, &sig),
            "{} over {}",
            vec.address,
            vec.bytes
        );
        let mut tampered = bytes.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(!pk.verify(&tampered, &sig));
        // The payload is a packed Michelson bytes value.
        assert_eq!(packed_bytes(&bytes[6..]), bytes);
    }
}

#[test]
fn taquito_keys_give_the_same_public_keys_addresses_and_signature_forms() {
    for vec in vectors().vectors {
        let sk: SecretKey = vec.secret_key.parse().expect("secret key");
        assert_eq!(sk.public_key().to_string(), vec.public_key);
        assert_eq!(sk.public_key().address().to_string(), vec.address);
        assert_eq!(
            vec.address.parse::<Address>().expect("address"),
            sk.public_key().address()
        );
        assert_eq!(sk.to_string(), vec.secret_key);
        let sig: Signature = vec.signature.parse().expect("signature");
        assert_eq!(sig.to_base58(sk.curve()), vec.signature);
        assert_eq!(sig.to_string(), vec.generic_signature);
        // ed25519 signing is deterministic, so ours must equal Taquito's.
        let bytes = hex::decode(&vec.bytes).expect("hex");
        if vec.secret_key.starts_with("edsk") {
            assert_eq!(sk.sign(&bytes), sig);
        } else {
            assert!(sk.public_key().verify(&bytes, &sk.sign(&bytes)));
        }
    }
}

#[test]
fn octez_bootstrap_secret_keys_give_their_published_addresses() {
    let published = [
        (
            "edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh",
            "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx",
        ),
        (
            "edsk39qAm1fiMjgmPkw1EgQYkMzkJezLNewd7PLNHTkr6w9XA2zdfo",
            "tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN",
        ),
        (
            "edsk4ArLQgBTLWG5FJmnGnT689VKoqhXwmDPBuGx3z4cvwU9MmrPZZ",
            "tz1faswCTDciRzE4oJ9jn2Vm2dvjeyA9fUzU",
        ),
        (
            "edsk2uqQB9AY4FvioK2YMdfmyMrer5R8mGFyuaLLFfSRo8EoyNdht3",
            "tz1b7tUupMgCNw2cCLpKTkSD1NZzB5TkP2sv",
        ),
        (
            "edsk4QLrcijEffxV31gGdN2HU7UpyJjA8drFoNcmnB28n89YjPNRFm",
            "tz1ddb9NMYHZi5UzPdzTZMYQQZoMub195zgv",
        ),
    ];
    for (sk, addr) in published {
        let key: SecretKey = sk.parse().expect("secret key");
        assert_eq!(key.public_key().address().to_string(), addr);
    }
}
