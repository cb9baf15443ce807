//! Tezos keys, addresses and signatures, in the binary and base58 forms Tezos
//! users know (`tz1…`, `edpk…`, `edsig…`, `sr1…`, `KT1…`).
//!
//! Verification follows Tezos: the signed bytes are hashed with blake2b-256 and
//! the digest is checked with the key's curve, through `tezos_crypto_rs`.

use core::fmt;
use core::str::FromStr;

use tezos_crypto_rs::base58::{FromBase58Check, ToBase58Check};
use tezos_crypto_rs::hash::{PublicKeyEd25519, PublicKeyP256, PublicKeySecp256k1};
use tezos_crypto_rs::PublicKeySignatureVerifier;
use thiserror::Error;

use crate::encoding::{Decode, DecodeError, Encode, Reader, Writer};

/// Base58check prefixes, in one place.
pub mod prefix {
    /// `tz1…` ed25519 public key hash.
    pub const TZ1: &[u8] = &[6, 161, 159];
    /// `tz2…` secp256k1 public key hash.
    pub const TZ2: &[u8] = &[6, 161, 161];
    /// `tz3…` p256 public key hash.
    pub const TZ3: &[u8] = &[6, 161, 164];
    /// `KT1…` originated contract.
    pub const KT1: &[u8] = &[2, 90, 121];
    /// `sr1…` smart rollup.
    pub const SR1: &[u8] = &[6, 124, 117];
    /// `edpk…` ed25519 public key.
    pub const EDPK: &[u8] = &[13, 15, 37, 217];
    /// `sppk…` secp256k1 public key.
    pub const SPPK: &[u8] = &[3, 254, 226, 86];
    /// `p2pk…` p256 public key.
    pub const P2PK: &[u8] = &[3, 178, 139, 127];
    /// `edsig…` ed25519 signature.
    pub const EDSIG: &[u8] = &[9, 245, 205, 134, 18];
    /// `spsig1…` secp256k1 signature.
    pub const SPSIG: &[u8] = &[13, 115, 101, 19, 63];
    /// `p2sig…` p256 signature.
    pub const P2SIG: &[u8] = &[54, 240, 44, 52];
    /// `sig…` signature of any curve.
    pub const SIG: &[u8] = &[4, 130, 43];
    /// `edsk…` ed25519 seed (32 bytes, 54 characters).
    pub const EDSK_SEED: &[u8] = &[13, 15, 58, 7];
    /// `edsk…` ed25519 secret key with its public key (64 bytes, 98 characters).
    pub const EDSK_FULL: &[u8] = &[43, 246, 78, 7];
    /// `spsk…` secp256k1 secret key.
    pub const SPSK: &[u8] = &[17, 162, 224, 201];
    /// `p2sk…` p256 secret key.
    pub const P2SK: &[u8] = &[16, 81, 238, 189];
    /// `edesk`: an encrypted ed25519 seed (8-byte salt, 48-byte secretbox).
    pub const EDESK: &[u8] = &[7, 90, 60, 179, 41];
    /// `spesk`: an encrypted secp256k1 secret key.
    pub const SPESK: &[u8] = &[9, 237, 241, 174, 150];
    /// `p2esk`: an encrypted P-256 secret key.
    pub const P2ESK: &[u8] = &[9, 48, 57, 115, 171];
}

/// Why a base58 string is not the value expected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Base58Error {
    /// Not base58check, or the checksum is wrong.
    #[error("`{0}` is not valid base58check")]
    NotBase58(String),
    /// Valid base58check, but not of the expected kind or length.
    #[error("`{value}` is not {expected}")]
    WrongKind {
        /// The input.
        value: String,
        /// What was expected, in words.
        expected: &'static str,
    },
}

/// Encodes `payload` under `prefix` as base58check.
pub fn to_base58(prefix: &[u8], payload: &[u8]) -> String {
    let mut data = Vec::with_capacity(prefix.len() + payload.len());
    data.extend_from_slice(prefix);
    data.extend_from_slice(payload);
    // Every payload here is a key, hash or signature far below the 128-byte limit.
    data.to_base58check().unwrap_or_default()
}

/// Decodes a base58check string carrying `prefix` and exactly `N` bytes.
pub fn from_base58<const N: usize>(
    s: &str,
    prefix: &[u8],
    expected: &'static str,
) -> Result<[u8; N], Base58Error> {
    let data = s
        .from_base58check()
        .map_err(|_| Base58Error::NotBase58(s.to_owned()))?;
    let wrong = || Base58Error::WrongKind {
        value: s.to_owned(),
        expected,
    };
    let payload = data.strip_prefix(prefix).ok_or_else(wrong)?;
    payload.try_into().map_err(|_| wrong())
}

/// blake2b-256, the digest Tezos signs.
pub fn blake2b_256(data: &[u8]) -> [u8; 32] {
    let digest = tezos_crypto_rs::blake2b::digest_256(data).unwrap_or_default();
    let mut out = [0u8; 32];
    if let Some(bytes) = digest.get(..32) {
        out.copy_from_slice(bytes);
    }
    out
}

fn blake2b_160(data: &[u8]) -> [u8; 20] {
    let digest = tezos_crypto_rs::blake2b::digest_160(data).unwrap_or_default();
    let mut out = [0u8; 20];
    if let Some(bytes) = digest.get(..20) {
        out.copy_from_slice(bytes);
    }
    out
}

/// The signature curves of Tezos implicit accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Curve {
    /// ed25519: `tz1`, `edpk`, `edsig`.
    Ed25519,
    /// secp256k1: `tz2`, `sppk`, `spsig1`.
    Secp256k1,
    /// NIST P-256: `tz3`, `p2pk`, `p2sig`.
    P256,
}

impl Curve {
    fn tag(self) -> u8 {
        match self {
            Curve::Ed25519 => 0,
            Curve::Secp256k1 => 1,
            Curve::P256 => 2,
        }
    }

    fn from_tag(tag: u8, what: &'static str) -> Result<Self, DecodeError> {
        match tag {
            0 => Ok(Curve::Ed25519),
            1 => Ok(Curve::Secp256k1),
            2 => Ok(Curve::P256),
            tag => Err(DecodeError::UnknownTag { what, tag }),
        }
    }

    fn address_prefix(self) -> &'static [u8] {
        match self {
            Curve::Ed25519 => prefix::TZ1,
            Curve::Secp256k1 => prefix::TZ2,
            Curve::P256 => prefix::TZ3,
        }
    }
}

/// A Tezos implicit account (`tz1`, `tz2`, `tz3`): the curve and the
/// blake2b-160 hash of the public key. Every pledgeroll account is one.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    curve: Curve,
    hash: [u8; 20],
}

impl Address {
    /// The address with this curve and key hash.
    pub fn new(curve: Curve, hash: [u8; 20]) -> Self {
        Self { curve, hash }
    }

    /// The key's curve.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The 20-byte public key hash.
    pub fn hash(&self) -> &[u8; 20] {
        &self.hash
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_base58(self.curve.address_prefix(), &self.hash))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Address {
    type Err = Base58Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "a tz1, tz2 or tz3 address";
        for curve in [Curve::Ed25519, Curve::Secp256k1, Curve::P256] {
            if let Ok(hash) = from_base58::<20>(s, curve.address_prefix(), WHAT) {
                return Ok(Address { curve, hash });
            }
        }
        Err(Base58Error::WrongKind {
            value: s.to_owned(),
            expected: WHAT,
        })
    }
}

impl Encode for Address {
    fn encode(&self, w: &mut Writer) {
        w.u8(self.curve.tag());
        w.raw(&self.hash);
    }
}

impl Decode for Address {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let curve = Curve::from_tag(r.u8("address")?, "address")?;
        Ok(Address {
            curve,
            hash: r.array("address")?,
        })
    }
}

/// A public key of an implicit account.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PublicKey {
    /// An ed25519 key (`edpk…`).
    Ed25519([u8; 32]),
    /// A compressed secp256k1 key (`sppk…`).
    Secp256k1([u8; 33]),
    /// A compressed P-256 key (`p2pk…`).
    P256([u8; 33]),
}

impl PublicKey {
    /// The key's curve.
    pub fn curve(&self) -> Curve {
        match self {
            PublicKey::Ed25519(_) => Curve::Ed25519,
            PublicKey::Secp256k1(_) => Curve::Secp256k1,
            PublicKey::P256(_) => Curve::P256,
        }
    }

    /// The key's raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            PublicKey::Ed25519(k) => k,
            PublicKey::Secp256k1(k) | PublicKey::P256(k) => k,
        }
    }

    /// The implicit account of this key.
    pub fn address(&self) -> Address {
        Address::new(self.curve(), blake2b_160(self.as_bytes()))
    }

    /// Checks `signature` over `message` the way Tezos does: blake2b-256 of the
    /// message, then the curve's verification of that digest.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        let digest = blake2b_256(message);
        let sig = tezos_crypto_rs::hash::Signature(signature.0.to_vec());
        let checked = match self {
            PublicKey::Ed25519(k) => PublicKeyEd25519(k.to_vec()).verify_signature(&sig, &digest),
            PublicKey::Secp256k1(k) => {
                PublicKeySecp256k1(k.to_vec()).verify_signature(&sig, &digest)
            }
            PublicKey::P256(k) => PublicKeyP256(k.to_vec()).verify_signature(&sig, &digest),
        };
        matches!(checked, Ok(true))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = match self {
            PublicKey::Ed25519(_) => prefix::EDPK,
            PublicKey::Secp256k1(_) => prefix::SPPK,
            PublicKey::P256(_) => prefix::P2PK,
        };
        f.write_str(&to_base58(p, self.as_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for PublicKey {
    type Err = Base58Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "an edpk, sppk or p2pk public key";
        if let Ok(k) = from_base58(s, prefix::EDPK, WHAT) {
            return Ok(PublicKey::Ed25519(k));
        }
        if let Ok(k) = from_base58(s, prefix::SPPK, WHAT) {
            return Ok(PublicKey::Secp256k1(k));
        }
        from_base58(s, prefix::P2PK, WHAT).map(PublicKey::P256)
    }
}

impl Encode for PublicKey {
    fn encode(&self, w: &mut Writer) {
        w.u8(self.curve().tag());
        w.raw(self.as_bytes());
    }
}

impl Decode for PublicKey {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match Curve::from_tag(r.u8("public key")?, "public key")? {
            Curve::Ed25519 => Ok(PublicKey::Ed25519(r.array("public key")?)),
            Curve::Secp256k1 => Ok(PublicKey::Secp256k1(r.array("public key")?)),
            Curve::P256 => Ok(PublicKey::P256(r.array("public key")?)),
        }
    }
}

/// A 64-byte signature of any curve.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl Signature {
    /// The signature as `edsig…`, `spsig1…` or `p2sig…` for the given curve.
    pub fn to_base58(&self, curve: Curve) -> String {
        let p = match curve {
            Curve::Ed25519 => prefix::EDSIG,
            Curve::Secp256k1 => prefix::SPSIG,
            Curve::P256 => prefix::P2SIG,
        };
        to_base58(p, &self.0)
    }
}

impl fmt::Display for Signature {
    /// The generic `sig…` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_base58(prefix::SIG, &self.0))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Signature {
    type Err = Base58Error;

    /// Accepts `edsig…`, `spsig1…`, `p2sig…` and the generic `sig…`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "a signature (edsig, spsig1, p2sig or sig)";
        [prefix::EDSIG, prefix::SPSIG, prefix::P2SIG, prefix::SIG]
            .iter()
            .find_map(|p| from_base58(s, p, WHAT).ok())
            .map(Signature)
            .ok_or_else(|| Base58Error::WrongKind {
                value: s.to_owned(),
                expected: WHAT,
            })
    }
}

impl Encode for Signature {
    fn encode(&self, w: &mut Writer) {
        w.raw(&self.0);
    }
}

impl Decode for Signature {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Signature(r.array("signature")?))
    }
}

/// A smart rollup's address (`sr1…`). Signed payloads name it so a
/// signature for one rollup is worthless on another.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupAddress(pub [u8; 20]);

impl fmt::Display for RollupAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_base58(prefix::SR1, &self.0))
    }
}

impl fmt::Debug for RollupAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for RollupAddress {
    type Err = Base58Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        from_base58(s, prefix::SR1, "an sr1 rollup address").map(RollupAddress)
    }
}

/// A layer-1 contract: an implicit account or an originated `KT1…`. Ticketers
/// and withdrawal destinations are these.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Contract {
    /// A `tz1`/`tz2`/`tz3` account.
    Implicit(Address),
    /// A `KT1…` smart contract.
    Originated([u8; 20]),
}

impl fmt::Display for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Contract::Implicit(a) => fmt::Display::fmt(a, f),
            Contract::Originated(h) => f.write_str(&to_base58(prefix::KT1, h)),
        }
    }
}

impl fmt::Debug for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Contract {
    type Err = Base58Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(h) = from_base58(s, prefix::KT1, "a KT1 or tz address") {
            return Ok(Contract::Originated(h));
        }
        s.parse().map(Contract::Implicit)
    }
}

impl Encode for Contract {
    fn encode(&self, w: &mut Writer) {
        match self {
            Contract::Implicit(a) => {
                w.u8(0);
                a.encode(w);
            }
            Contract::Originated(h) => {
                w.u8(1);
                w.raw(h);
            }
        }
    }
}

impl Decode for Contract {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8("contract")? {
            0 => Ok(Contract::Implicit(r.get()?)),
            1 => Ok(Contract::Originated(r.array("contract")?)),
            tag => Err(DecodeError::UnknownTag {
                what: "contract",
                tag,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_public_keys_give_their_published_addresses() {
        let pairs = [
            (
                "edpkuBknW28nW72KG6RoHtYW7p12T6GKc7nAbwYX5m8Wd9sDVC9yav",
                "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx",
            ),
            (
                "edpktzNbDAUjUk697W7gYg2CRuBQjyPxbEg8dLccYYwKSKvkPvjtV9",
                "tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN",
            ),
            (
                "edpkuTXkJDGcFd5nh6VvMz8phXxU3Bi7h6hqgywNFi1vZTfQNnS1RV",
                "tz1faswCTDciRzE4oJ9jn2Vm2dvjeyA9fUzU",
            ),
            (
                "edpkuFrRoDSEbJYgxRtLx2ps82UdaYc1WwfS9sE11yhauZt5DgCHbU",
                "tz1b7tUupMgCNw2cCLpKTkSD1NZzB5TkP2sv",
            ),
            (
                "edpkv8EUUH68jmo3f7Um5PezmfGrRF24gnfLpH3sVNwJnV5bVCxL2n",
                "tz1ddb9NMYHZi5UzPdzTZMYQQZoMub195zgv",
            ),
        ];
        for (pk, addr) in pairs {
            let key: PublicKey = pk.parse().expect("published key parses");
            assert_eq!(key.to_string(), pk);
            assert_eq!(key.address().to_string(), addr);
            let parsed: Address = addr.parse().expect("published address parses");
            assert_eq!(parsed, key.address());
        }
    }

    #[test]
    fn a_mistyped_address_is_rejected() {
        assert!("tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSy"
            .parse::<Address>()
            .is_err());
        assert!("KT1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx"
            .parse::<Address>()
            .is_err());
        assert!("edpkuBknW28nW72KG6RoHtYW7p12T6GKc7nAbwYX5m8Wd9sDVC9yav"
            .parse::<Address>()
            .is_err());
    }

    #[test]
    fn addresses_keys_and_contracts_round_trip() {
        let a: Address = "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx"
            .parse()
            .expect("valid");
        assert_eq!(Address::from_bytes(&a.to_bytes()), Ok(a));
        assert_eq!(a.to_bytes().len(), 21);
        let k: PublicKey = "edpkuBknW28nW72KG6RoHtYW7p12T6GKc7nAbwYX5m8Wd9sDVC9yav"
            .parse()
            .expect("valid");
        assert_eq!(PublicKey::from_bytes(&k.to_bytes()), Ok(k));
        for c in [Contract::Implicit(a), Contract::Originated([7; 20])] {
            assert_eq!(Contract::from_bytes(&c.to_bytes()), Ok(c));
            assert_eq!(c.to_string().parse::<Contract>(), Ok(c));
        }
        assert!(Address::from_bytes(&[9; 21]).is_err());
    }

    #[test]
    fn rollup_addresses_parse_and_print() {
        let sr = RollupAddress([3; 20]);
        let text = sr.to_string();
        assert!(text.starts_with("sr1"));
        assert_eq!(text.parse::<RollupAddress>(), Ok(sr));
        assert!("tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx"
            .parse::<RollupAddress>()
            .is_err());
    }
}
