//! Signatures made by Taquito's `InMemorySigner` verify here, and keys and
//! addresses read and print as Taquito prints them. The vectors are produced
//! by `scripts/taquito-vectors`.

#![allow(clippy::indexing_slicing, clippy::panic)] // test code: a failed index is a failed test

mod common;

use common::*;
use pledgeroll_contracts::crypto::{PublicKey, Signature};
use pledgeroll_contracts::encoding::{List, Text};
use pledgeroll_contracts::escrow::{Mode, ProjectOperation};
use pledgeroll_contracts::signing::SecretKey;
use pledgeroll_contracts::state::PledgeEnd;
use pledgeroll_contracts::statement::Statement;
use pledgeroll_contracts::Address;
use pledgeroll_contracts::Operation;
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
        // The payload is a packed Michelson bytes value: 0x05 0x0a, the
        // length as a big-endian u32, the bytes.
        assert_eq!(bytes[..2], [0x05, 0x0a]);
        let len = u32::from_be_bytes(bytes[2..6].try_into().expect("four bytes"));
        assert_eq!(len as usize, bytes.len() - 6);
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

/// Statements the protocol makes in a small world, each with the account
/// that signs it: a pledge by the P-256 account, a tip whose memo needs
/// escapes by the secp256k1 one, a project whose description is stated by
/// its hash by the ed25519 one (the world's accounts 2, 1 and 0).
fn statements() -> Vec<(usize, Statement)> {
    let mut w = World::new(3);
    let tez = w.deposit(1, tez_ticket(), 100_000_000);
    w.deposit(2, tez_ticket(), 100_000_000);
    let tier = w.creator_with_tier(0, tez, 5_000_000);
    let pledge = Operation::Pledge {
        tier,
        amount: None,
        end: Some(PledgeEnd::At {
            time: 1_803_859_200,
        }),
        cap: Some(60_000_000),
    };
    let tip = Operation::Tip {
        to: w.holder(0),
        asset: tez,
        amount: 1_250_000,
        memo: Text::new("merci « café » \"ok\" \\ 東京").expect("short"),
    };
    let project = Operation::Project {
        op: ProjectOperation::Create {
            title: Text::new("Better docs").expect("short"),
            description: Text::new("A rewrite of the manual, chapter by chapter. ".repeat(6))
                .expect("short"),
            link: Some(Text::new("https://example.org/manual").expect("short")),
            commissioners: List::new(vec![w.addr(0), w.addr(1)]).expect("few"),
            threshold: 2,
            mode: Mode::Public,
            time_lock: None,
            refund_deadline: 1_803_859_200,
        },
    };
    [(2, pledge), (1, tip), (0, project)]
        .into_iter()
        .map(|(who, op)| (who, w.p.statement(&w.addr(who), &op).expect("a statement")))
        .collect()
}

#[derive(Deserialize)]
struct StatementVectors {
    generator: String,
    vectors: Vec<StatementVector>,
}

#[derive(Deserialize)]
struct StatementVector {
    secret_key: String,
    public_key: String,
    text: String,
    bytes: String,
    unpacked: String,
    signature: String,
}

/// Taquito packs each statement this protocol makes to exactly the bytes
/// the kernel checks, unpacks those bytes to exactly the text, and its
/// signatures by the stating account (all three curves) verify here; a
/// signature over one statement does not verify for another.
#[test]
fn taquito_packs_unpacks_and_signs_statements_as_the_kernel_checks_them() {
    let v: StatementVectors =
        serde_json::from_str(include_str!("vectors/taquito_statements.json")).expect("vectors");
    assert!(v.generator.contains("@taquito/michel-codec@"));
    let made = statements();
    assert_eq!(v.vectors.len(), made.len());
    let w = World::new(3);
    for (vec, (who, statement)) in v.vectors.iter().zip(&made) {
        assert_eq!(vec.text, statement.text(), "regenerate the vectors");
        assert_eq!(vec.unpacked, vec.text);
        let bytes = hex::decode(&vec.bytes).expect("hex");
        assert_eq!(bytes, statement.bytes());
        assert_eq!(Statement::from_bytes(&bytes).as_ref(), Some(statement));
        let sk: SecretKey = vec.secret_key.parse().expect("secret key");
        assert_eq!(sk.to_string(), w.keys[*who].to_string());
        let pk: PublicKey = vec.public_key.parse().expect("public key");
        let sig: Signature = vec.signature.parse().expect("signature");
        assert!(pk.verify(&bytes, &sig), "{}", vec.text);
        for (_, other) in made.iter().filter(|(_, s)| s != statement) {
            assert!(!pk.verify(&other.bytes(), &sig));
        }
    }
    // Every curve is there.
    let prefixes: Vec<&str> = v.vectors.iter().map(|v| &v.secret_key[..4]).collect();
    assert_eq!(prefixes, ["p2sk", "spsk", "edsk"]);
}

#[derive(Deserialize)]
struct EncryptedKeys {
    vectors: Vec<EncryptedKey>,
}

#[derive(Deserialize)]
struct EncryptedKey {
    encrypted: String,
    passphrase: String,
    secret_key: String,
    address: String,
}

/// Octez's encrypted secret keys (made as octez-client makes them, and
/// opened by Taquito before they were written down) open here with their
/// passphrase, on all three curves; a wrong passphrase opens nothing, and
/// an encrypted key is not taken for a plain one.
#[test]
fn octez_encrypted_keys_open_with_their_passphrase() {
    let v: EncryptedKeys =
        serde_json::from_str(include_str!("vectors/octez_encrypted_keys.json")).expect("vectors");
    assert_eq!(v.vectors.len(), 3);
    for vec in &v.vectors {
        let key = SecretKey::from_encrypted(&vec.encrypted, &vec.passphrase).expect("opens");
        assert_eq!(key.to_string(), vec.secret_key);
        assert_eq!(key.public_key().address().to_string(), vec.address);
        assert_eq!(
            SecretKey::from_encrypted(&vec.encrypted, "not it"),
            Err(pledgeroll_contracts::signing::KeyError::WrongPassphrase)
        );
        assert_eq!(
            vec.encrypted.parse::<SecretKey>(),
            Err(pledgeroll_contracts::signing::KeyError::Encrypted)
        );
    }
    assert!(SecretKey::from_encrypted("encrypted:edesk1notakey", "x").is_err());
}
