//! Social backup: a secret key split into Shamir shares, any `threshold` of
//! which rebuild it, so friends can hold a backup that none of them can use
//! alone.
//!
//! Each share is printed as bech32m text (`prshare1…`), whose checksum
//! catches a mistyped character. A share carries its set's threshold, curve
//! and a fingerprint of the public key, so shares of different backups are
//! never combined into a wrong key, and the rebuilt key is checked against
//! that fingerprint.

use bech32::{Bech32m, Hrp};
use blahaj::{Share, Sharks};
use pledgeroll_contracts::crypto::{blake2b_256, Curve};
use pledgeroll_contracts::signing::SecretKey;
use thiserror::Error;
use zeroize::Zeroizing;

const HRP: &str = "prshare";
const VERSION: u8 = 1;
/// Bytes before the Shamir share: version, threshold, curve, fingerprint (4).
const HEADER: usize = 7;

/// Why shares could not be made or combined.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BackupError {
    /// Shares and threshold that make no sense.
    #[error("need 1 <= threshold <= shares <= 255 (got {threshold} of {shares})")]
    BadCounts {
        /// The threshold asked for.
        threshold: usize,
        /// The number of shares asked for.
        shares: usize,
    },
    /// A share's text is not a valid share (a typo, or cut short).
    #[error("share {index} is not valid: {reason}; check it for typos")]
    BadShare {
        /// Its position in the input, from 1.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// Shares from different backups.
    #[error("share {index} belongs to a different backup than share 1")]
    MixedShares {
        /// Its position in the input, from 1.
        index: usize,
    },
    /// The same share given twice.
    #[error("share {index} repeats an earlier share")]
    Duplicate {
        /// Its position in the input, from 1.
        index: usize,
    },
    /// Fewer shares than the backup's threshold.
    #[error("this backup needs {needed} shares, only {given} given")]
    TooFew {
        /// The threshold.
        needed: usize,
        /// How many were given.
        given: usize,
    },
    /// The combined shares do not rebuild the key they claim to.
    #[error("the shares do not rebuild the backed-up key; one of them is wrong")]
    WrongKey,
}

fn curve_tag(curve: Curve) -> u8 {
    match curve {
        Curve::Ed25519 => 0,
        Curve::Secp256k1 => 1,
        Curve::P256 => 2,
    }
}

fn fingerprint(key: &SecretKey) -> [u8; 4] {
    let digest = blake2b_256(key.public_key().as_bytes());
    let mut out = [0u8; 4];
    out.copy_from_slice(digest.get(..4).unwrap_or(&[0; 4]));
    out
}

/// Splits `key` into `shares` texts, any `threshold` of which rebuild it.
pub fn split(key: &SecretKey, shares: usize, threshold: usize) -> Result<Vec<String>, BackupError> {
    if threshold < 1 || threshold > shares || shares > 255 {
        return Err(BackupError::BadCounts { threshold, shares });
    }
    let bad = || BackupError::BadCounts { threshold, shares };
    let t = u8::try_from(threshold).map_err(|_| bad())?;
    let mut header = vec![VERSION, t, curve_tag(key.curve())];
    header.extend_from_slice(&fingerprint(key));
    let hrp = Hrp::parse(HRP).map_err(|_| bad())?;
    Sharks(t)
        .dealer(key.secret_bytes())
        .take(shares)
        .map(|share| {
            let mut data = Zeroizing::new(header.clone());
            data.extend(Vec::from(&share));
            bech32::encode::<Bech32m>(hrp, &data).map_err(|_| bad())
        })
        .collect()
}

/// Rebuilds a key from share texts.
pub fn recover(texts: &[String]) -> Result<SecretKey, BackupError> {
    let mut header: Option<[u8; HEADER]> = None;
    let mut shares: Vec<Share> = Vec::new();
    let mut seen_x: Vec<u8> = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let index = i + 1;
        let bad = |reason: &str| BackupError::BadShare {
            index,
            reason: reason.to_owned(),
        };
        let (hrp, data) = bech32::decode(text.trim()).map_err(|e| bad(&e.to_string()))?;
        let data = Zeroizing::new(data);
        if hrp.as_str() != HRP {
            return Err(bad("it is not a pledgeroll share"));
        }
        if data.len() != HEADER + 1 + 32 {
            return Err(bad("it has the wrong length"));
        }
        let (head, share) = data.split_at(HEADER);
        let head: [u8; HEADER] = head
            .try_into()
            .map_err(|_| bad("it has the wrong length"))?;
        if head.first() != Some(&VERSION) {
            return Err(bad("unknown share version"));
        }
        match header {
            None => header = Some(head),
            Some(h) if h != head => return Err(BackupError::MixedShares { index }),
            Some(_) => {}
        }
        let x = share
            .first()
            .copied()
            .ok_or_else(|| bad("it has the wrong length"))?;
        if seen_x.contains(&x) {
            return Err(BackupError::Duplicate { index });
        }
        seen_x.push(x);
        shares.push(Share::try_from(share).map_err(bad)?);
    }
    let head = header.ok_or(BackupError::TooFew {
        needed: 1,
        given: 0,
    })?;
    let [_, threshold, curve, f0, f1, f2, f3] = head;
    if shares.len() < usize::from(threshold) {
        return Err(BackupError::TooFew {
            needed: usize::from(threshold),
            given: shares.len(),
        });
    }
    let secret = Zeroizing::new(
        Sharks(threshold)
            .recover(&shares)
            .map_err(|_| BackupError::WrongKey)?,
    );
    let curve = match curve {
        0 => Curve::Ed25519,
        1 => Curve::Secp256k1,
        2 => Curve::P256,
        _ => return Err(BackupError::WrongKey),
    };
    let bytes: [u8; 32] = secret
        .as_slice()
        .try_into()
        .map_err(|_| BackupError::WrongKey)?;
    let bytes = Zeroizing::new(bytes);
    let key = SecretKey::from_bytes(curve, *bytes).map_err(|_| BackupError::WrongKey)?;
    if fingerprint(&key) != [f0, f1, f2, f3] {
        return Err(BackupError::WrongKey);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        "edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh"
            .parse()
            .expect("valid")
    }

    #[test]
    fn every_three_of_five_rebuild_the_key() {
        let shares = split(&key(), 5, 3).expect("split");
        assert_eq!(shares.len(), 5);
        assert!(shares.iter().all(|s| s.starts_with("prshare1")));
        for a in 0..5 {
            for b in a + 1..5 {
                for c in b + 1..5 {
                    let subset = vec![shares[a].clone(), shares[b].clone(), shares[c].clone()];
                    assert_eq!(recover(&subset).expect("recovers"), key(), "{a} {b} {c}");
                }
            }
        }
        assert_eq!(recover(&shares).expect("all five recover"), key());
    }

    #[test]
    fn two_shares_are_not_enough() {
        let shares = split(&key(), 5, 3).expect("split");
        let err = recover(&shares[..2]).expect_err("too few");
        assert_eq!(
            err,
            BackupError::TooFew {
                needed: 3,
                given: 2
            }
        );
    }

    #[test]
    fn a_mistyped_share_is_caught_by_its_checksum() {
        let shares = split(&key(), 5, 3).expect("split");
        let mut typo = shares[1].clone().into_bytes();
        let last = typo.len() - 3;
        typo[last] = if typo[last] == b'q' { b'p' } else { b'q' };
        let typo = String::from_utf8(typo).expect("ascii");
        let err = recover(&[shares[0].clone(), typo, shares[2].clone()]).expect_err("typo");
        assert!(
            matches!(err, BackupError::BadShare { index: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn shares_of_different_backups_or_repeated_shares_are_refused() {
        let ours = split(&key(), 5, 3).expect("split");
        let other_key = SecretKey::from_bytes(Curve::Secp256k1, [5; 32]).expect("valid");
        let theirs = split(&other_key, 5, 3).expect("split");
        let err =
            recover(&[ours[0].clone(), theirs[1].clone(), ours[2].clone()]).expect_err("mixed");
        assert_eq!(err, BackupError::MixedShares { index: 2 });
        let err = recover(&[ours[0].clone(), ours[0].clone(), ours[2].clone()]).expect_err("dup");
        assert_eq!(err, BackupError::Duplicate { index: 2 });
        assert_eq!(recover(&theirs[2..]).expect("recovers"), other_key);
    }

    #[test]
    fn impossible_counts_are_refused() {
        assert!(split(&key(), 2, 3).is_err());
        assert!(split(&key(), 3, 0).is_err());
        assert!(split(&key(), 300, 3).is_err());
    }
}
