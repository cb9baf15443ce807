//! Secret keys and signing, for wallets and tests (feature `signing`). The
//! protocol itself only verifies.
//!
//! Keys read and print in the Octez forms: `edsk…` (32-byte seed or 64-byte
//! secret key), `spsk…`, `p2sk…`, optionally behind `unencrypted:`.

use core::fmt;
use core::str::FromStr;

use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key as SecretboxKey, Nonce as SecretboxNonce, XSalsa20Poly1305};
use tezos_crypto_rs::hash::SeedEd25519;
use zeroize::Zeroize;

use crate::crypto::{
    blake2b_256, from_base58, prefix, to_base58, Base58Error, Curve, PublicKey, Signature,
};
use crate::crypto::{Address, RollupAddress};
use crate::operation::{Operation, SignedOperation, Signer};
use crate::protocol::account_in;
use crate::statement::{Statement, StatementError};
use crate::store::Store;

/// A secret key of an implicit account. Its bytes are wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey {
    curve: Curve,
    secret: [u8; 32],
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({:?}, <hidden>)", self.curve)
    }
}

/// Why a key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not a secret key in a known form.
    #[error(transparent)]
    Base58(#[from] Base58Error),
    /// The bytes are not a valid key of the curve.
    #[error("not a valid {0:?} secret key")]
    Invalid(Curve),
    /// A 64-byte `edsk` whose public half does not match its seed.
    #[error("the edsk secret key's public half does not match its seed")]
    Mismatch,
    /// An encrypted key read without its passphrase.
    #[error("this secret key is encrypted (encrypted:…); it opens with its passphrase")]
    Encrypted,
    /// The passphrase does not open an encrypted key.
    #[error("the passphrase does not open this encrypted secret key")]
    WrongPassphrase,
}

impl SecretKey {
    /// A key of `curve` from its 32 secret bytes.
    pub fn from_bytes(curve: Curve, secret: [u8; 32]) -> Result<Self, KeyError> {
        let key = SecretKey { curve, secret };
        key.try_public_key()?;
        Ok(key)
    }

    /// Opens Octez's encrypted form of a secret key (`encrypted:edesk…`,
    /// `encrypted:spesk…`, `encrypted:p2esk…`) with `passphrase`, as
    /// octez-client does: PBKDF2-HMAC-SHA512 over the key's 8-byte salt,
    /// 32,768 rounds, gives the key of a NaCl secretbox (XSalsa20-Poly1305,
    /// zero nonce) holding the 32 secret bytes.
    pub fn from_encrypted(text: &str, passphrase: &str) -> Result<Self, KeyError> {
        const WHAT: &str = "an encrypted edesk, spesk or p2esk secret key";
        let s = text.trim();
        let s = s.strip_prefix("encrypted:").unwrap_or(s);
        let (curve, payload) = [
            (Curve::Ed25519, prefix::EDESK),
            (Curve::Secp256k1, prefix::SPESK),
            (Curve::P256, prefix::P2ESK),
        ]
        .into_iter()
        .find_map(|(curve, p)| from_base58::<56>(s, p, WHAT).ok().map(|b| (curve, b)))
        .ok_or_else(|| {
            KeyError::Base58(Base58Error::WrongKind {
                value: s.to_owned(),
                expected: WHAT,
            })
        })?;
        let (salt, sealed) = payload.split_at(8);
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(passphrase.as_bytes(), salt, 32_768, key.as_mut());
        let cipher = XSalsa20Poly1305::new(SecretboxKey::from_slice(key.as_ref()));
        let plain = zeroize::Zeroizing::new(
            cipher
                .decrypt(SecretboxNonce::from_slice(&[0; 24]), sealed)
                .map_err(|_| KeyError::WrongPassphrase)?,
        );
        let secret: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Invalid(curve))?;
        let secret = zeroize::Zeroizing::new(secret);
        SecretKey::from_bytes(curve, *secret)
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The 32 secret bytes (an ed25519 seed, or a scalar).
    pub fn secret_bytes(&self) -> &[u8; 32] {
        &self.secret
    }

    fn try_public_key(&self) -> Result<PublicKey, KeyError> {
        match self.curve {
            Curve::Ed25519 => {
                let (pk, _) = SeedEd25519(self.secret.to_vec())
                    .keypair()
                    .map_err(|_| KeyError::Invalid(self.curve))?;
                let bytes: [u8; 32] =
                    pk.0.as_slice()
                        .try_into()
                        .map_err(|_| KeyError::Invalid(self.curve))?;
                Ok(PublicKey::Ed25519(bytes))
            }
            Curve::Secp256k1 => {
                let sk = libsecp256k1::SecretKey::parse(&self.secret)
                    .map_err(|_| KeyError::Invalid(self.curve))?;
                Ok(PublicKey::Secp256k1(
                    libsecp256k1::PublicKey::from_secret_key(&sk).serialize_compressed(),
                ))
            }
            Curve::P256 => {
                let sk = p256::ecdsa::SigningKey::from_slice(&self.secret)
                    .map_err(|_| KeyError::Invalid(self.curve))?;
                let point = sk.verifying_key().to_encoded_point(true);
                let bytes: [u8; 33] = point
                    .as_bytes()
                    .try_into()
                    .map_err(|_| KeyError::Invalid(self.curve))?;
                Ok(PublicKey::P256(bytes))
            }
        }
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        // Construction checked the key, so this cannot fail; a zero key is
        // never returned because no `SecretKey` holds an invalid secret.
        self.try_public_key().unwrap_or(PublicKey::Ed25519([0; 32]))
    }

    /// Signs `message` the Tezos way: blake2b-256, then the curve's signature.
    pub fn sign(&self, message: &[u8]) -> Signature {
        let digest = blake2b_256(message);
        let mut out = [0u8; 64];
        match self.curve {
            Curve::Ed25519 => {
                if let Ok((_, sk)) = SeedEd25519(self.secret.to_vec()).keypair() {
                    if let Ok(sig) = sk.sign(digest) {
                        if let Some(bytes) = sig.0.get(..64) {
                            out.copy_from_slice(bytes);
                        }
                    }
                }
            }
            Curve::Secp256k1 => {
                if let Ok(sk) = libsecp256k1::SecretKey::parse(&self.secret) {
                    let (sig, _) = libsecp256k1::sign(&libsecp256k1::Message::parse(&digest), &sk);
                    out = sig.serialize();
                }
            }
            Curve::P256 => {
                use p256::ecdsa::signature::hazmat::PrehashSigner;
                if let Ok(sk) = p256::ecdsa::SigningKey::from_slice(&self.secret) {
                    let signed: Result<p256::ecdsa::Signature, _> = sk.sign_prehash(&digest);
                    if let Ok(sig) = signed {
                        let sig = sig.normalize_s().unwrap_or(sig);
                        out.copy_from_slice(&sig.to_bytes());
                    }
                }
            }
        }
        Signature(out)
    }

    /// Signs `operation`, whose statement is `statement`, as `signer`: the
    /// key itself on an account's first operation, its number afterwards.
    pub fn sign_operation(
        &self,
        statement: &Statement,
        operation: Operation,
        signer: Signer,
    ) -> SignedOperation {
        SignedOperation {
            signer,
            operation,
            signature: self.sign(&statement.bytes()),
        }
    }

    /// Signs `operation` as this key's account would send it next on
    /// `rollup` ([`sign_batch`] of one operation).
    pub fn sign_next<S: Store>(
        &self,
        state: &S,
        rollup: &RollupAddress,
        operation: Operation,
    ) -> Result<SignedOperation, StatementError> {
        let mut signed = sign_batch(state, rollup, vec![(self, operation)])?;
        signed
            .pop()
            .map(|s| s.operation)
            .ok_or(StatementError::Unknown("an operation".to_owned()))
    }
}

/// A signed operation with what its signature is over: the signer's
/// address, the nonce and the statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The operation as sent.
    pub operation: SignedOperation,
    /// The signer's account.
    pub address: Address,
    /// The nonce it is signed at.
    pub nonce: u64,
    /// The words signed.
    pub statement: Statement,
}

impl Signed {
    /// The id its receipt will carry.
    pub fn hash(&self) -> [u8; 32] {
        self.operation.hash(&self.address, self.nonce)
    }
}

/// Signs operations to send together in one batch, in order, as each key's
/// account would send them next on `rollup`: reading each account's nonce
/// and number and the facts each statement names from `state`, and counting
/// an account's nonce up through the batch. An account signs by number when
/// the rollup knows it, by key otherwise.
pub fn sign_batch<S: Store>(
    state: &S,
    rollup: &RollupAddress,
    operations: Vec<(&SecretKey, Operation)>,
) -> Result<Vec<Signed>, StatementError> {
    let mut signed: Vec<Signed> = Vec::with_capacity(operations.len());
    for (key, operation) in operations {
        let public_key = key.public_key();
        let address = public_key.address();
        let account = account_in(state, &address)?;
        let pending = signed.iter().filter(|s| s.address == address).count() as u64;
        let nonce = account.next_nonce.saturating_add(pending);
        let statement = Statement::new(state, rollup, &address, nonce, &operation)?;
        let signer = match account.index {
            Some(n) => Signer::Index(n),
            None => Signer::Key(public_key),
        };
        signed.push(Signed {
            operation: key.sign_operation(&statement, operation, signer),
            address,
            nonce,
            statement,
        });
    }
    Ok(signed)
}

impl fmt::Display for SecretKey {
    /// The Octez form: `edsk…` (seed), `spsk…` or `p2sk…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = match self.curve {
            Curve::Ed25519 => prefix::EDSK_SEED,
            Curve::Secp256k1 => prefix::SPSK,
            Curve::P256 => prefix::P2SK,
        };
        f.write_str(&to_base58(p, &self.secret))
    }
}

impl FromStr for SecretKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "an edsk, spsk or p2sk secret key";
        let s = s.trim();
        if s.starts_with("encrypted:") {
            return Err(KeyError::Encrypted);
        }
        let s = s.strip_prefix("unencrypted:").unwrap_or(s);
        if let Ok(seed) = from_base58::<32>(s, prefix::EDSK_SEED, WHAT) {
            return SecretKey::from_bytes(Curve::Ed25519, seed);
        }
        if let Ok(full) = from_base58::<64>(s, prefix::EDSK_FULL, WHAT) {
            let mut seed = [0u8; 32];
            seed.copy_from_slice(full.get(..32).unwrap_or(&[0; 32]));
            let key = SecretKey::from_bytes(Curve::Ed25519, seed)?;
            if key.public_key().as_bytes() != full.get(32..).unwrap_or(&[]) {
                return Err(KeyError::Mismatch);
            }
            return Ok(key);
        }
        if let Ok(k) = from_base58::<32>(s, prefix::SPSK, WHAT) {
            return SecretKey::from_bytes(Curve::Secp256k1, k);
        }
        let k = from_base58::<32>(s, prefix::P2SK, WHAT)?;
        SecretKey::from_bytes(Curve::P256, k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOTSTRAP1: &str = "edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh";

    #[test]
    fn bootstrap1_secret_key_gives_its_address() {
        let sk: SecretKey = BOOTSTRAP1.parse().expect("valid");
        assert_eq!(
            sk.public_key().address().to_string(),
            "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx"
        );
        assert_eq!(sk.to_string(), BOOTSTRAP1);
        let prefixed: SecretKey = format!("unencrypted:{BOOTSTRAP1}").parse().expect("valid");
        assert_eq!(prefixed, sk);
    }

    #[test]
    fn every_curve_signs_what_it_verifies() {
        for (curve, byte) in [
            (Curve::Ed25519, 1u8),
            (Curve::Secp256k1, 2),
            (Curve::P256, 3),
        ] {
            let sk = SecretKey::from_bytes(curve, [byte; 32]).expect("valid");
            let sig = sk.sign(b"pledge");
            assert!(sk.public_key().verify(b"pledge", &sig), "{curve:?}");
            assert!(!sk.public_key().verify(b"pledgf", &sig), "{curve:?}");
            let text = sk.to_string();
            assert_eq!(text.parse::<SecretKey>().expect("round trip"), sk);
        }
    }

    #[test]
    fn invalid_keys_are_refused() {
        assert!(SecretKey::from_bytes(Curve::Secp256k1, [0; 32]).is_err());
        assert!(SecretKey::from_bytes(Curve::P256, [0xff; 32]).is_err());
        assert!("edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsi"
            .parse::<SecretKey>()
            .is_err());
        assert!("tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx"
            .parse::<SecretKey>()
            .is_err());
    }
}
