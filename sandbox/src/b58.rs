//! The Base58Check forms of the hashes the rollup node's RPC shows: block,
//! state, commitment, inbox, payload, context, operation and L2 message
//! hashes, with Octez's prefixes.

use tezos_crypto_rs::base58::{FromBase58Check, ToBase58Check};

/// `B…`: a layer-1 block hash.
pub const BLOCK: &[u8] = &[1, 52];
/// `o…`: a layer-1 operation hash.
pub const OPERATION: &[u8] = &[5, 116];
/// `Co…`: a context hash.
pub const CONTEXT: &[u8] = &[79, 199];
/// `srs1…`: a smart rollup PVM state hash.
pub const STATE: &[u8] = &[17, 165, 235, 240];
/// `src1…`: a smart rollup commitment hash.
pub const COMMITMENT: &[u8] = &[17, 165, 134, 138];
/// `srib1…`: a smart rollup inbox hash.
pub const INBOX: &[u8] = &[3, 255, 138, 145, 110];
/// `srib2…`: the hash of an inbox level's merkelized payloads.
pub const PAYLOADS: &[u8] = &[3, 255, 138, 145, 140];
/// `scmsg…`: a batcher's L2 message id.
pub const MESSAGE_ID: &[u8] = &[3, 250, 179, 247, 196];
/// `sr1…`: a smart rollup address.
pub const ROLLUP: &[u8] = &[6, 124, 117];
/// `KT1…`: an originated contract.
pub const KT1: &[u8] = &[2, 90, 121];

/// `payload` in Base58Check with `prefix`.
pub fn encode(prefix: &[u8], payload: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(prefix.len() + payload.len());
    bytes.extend_from_slice(prefix);
    bytes.extend_from_slice(payload);
    // Encoding a byte string cannot fail; an empty string is never shown.
    bytes.to_base58check().unwrap_or_default()
}

/// The 32-byte payload of a Base58Check hash with `prefix`, or `None`.
pub fn decode32(prefix: &[u8], text: &str) -> Option<[u8; 32]> {
    let bytes = text.from_base58check().ok()?;
    let payload = bytes.strip_prefix(prefix)?;
    payload.try_into().ok()
}

/// The 20-byte payload of a Base58Check hash with `prefix`, or `None`.
pub fn decode20(prefix: &[u8], text: &str) -> Option<[u8; 20]> {
    let bytes = text.from_base58check().ok()?;
    let payload = bytes.strip_prefix(prefix)?;
    payload.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_give_the_octez_leading_characters() {
        for (prefix, lead, len) in [
            (BLOCK, "B", 51),
            (OPERATION, "o", 51),
            (CONTEXT, "Co", 52),
            (STATE, "srs1", 54),
            (COMMITMENT, "src1", 54),
            (INBOX, "srib1", 55),
            (PAYLOADS, "srib2", 55),
            (MESSAGE_ID, "scmsg", 55),
        ] {
            for payload in [[0u8; 32], [0xff; 32]] {
                let s = encode(prefix, &payload);
                assert!(s.starts_with(lead), "{s} for {lead}");
                assert_eq!(s.len(), len, "{s}");
                assert_eq!(decode32(prefix, &s), Some(payload));
            }
        }
        let kt1 = encode(KT1, &[9; 20]);
        assert!(kt1.starts_with("KT1"));
        assert_eq!(decode20(KT1, &kt1), Some([9; 20]));
        assert_eq!(decode32(STATE, &encode(BLOCK, &[1; 32])), None);
        assert_eq!(decode32(BLOCK, "Bnot-base58"), None);
    }
}
