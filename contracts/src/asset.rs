//! Assets: layer-1 tickets of type `ticket (pair nat (option bytes))`.
//!
//! An asset is its ticketer plus the ticket's contents. The rollup numbers
//! assets in the order they are first deposited, so operations name them by a
//! short [`AssetId`].

use core::fmt;

use crate::crypto::{blake2b_256, Contract};
use crate::encoding::{Decode, DecodeError, Encode, Reader, Writer};

/// Longest ticket metadata (the `option bytes` of the contents) accepted.
pub const MAX_TICKET_METADATA: usize = 256;

/// How many fine units make one base unit of an asset.
///
/// Streams move fine units; withdrawals round down to base units. The value
/// is the least common multiple of 86,400 (a day), 604,800 (a week),
/// 2,592,000 (30 days) and 31,536,000 (365 days), so a price per minute, hour,
/// day, week, 30-day month or year becomes an exact whole rate per second.
pub const FINE_PER_UNIT: u128 = 1_324_512_000;

/// A rollup-local asset number, assigned at first deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssetId(pub u32);

impl fmt::Display for AssetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Encode for AssetId {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.0);
    }
}

impl Decode for AssetId {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(AssetId(r.u32("asset id")?))
    }
}

/// A layer-1 ticket kind: who minted it and its contents.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket {
    /// The contract that minted the ticket.
    pub ticketer: Contract,
    /// The `nat` of the contents (a token id).
    pub token_id: u64,
    /// The `option bytes` of the contents.
    pub metadata: Option<Vec<u8>>,
}

impl Ticket {
    /// A digest naming this ticket kind in storage.
    pub fn digest(&self) -> [u8; 32] {
        blake2b_256(&self.to_bytes())
    }

    /// The unit the ticket declares for its amounts, if its metadata is
    /// `SYMBOL:DECIMALS` in ASCII: a symbol of 1 to 12 letters and digits,
    /// then 0 to 18 decimal places written without a leading zero (`tez:6`).
    /// Statements show amounts in this unit (`5.25 tez`); a ticket without
    /// one is counted in base units.
    pub fn declared_unit(&self) -> Option<(&str, u8)> {
        declared_unit(self.metadata.as_deref()?)
    }
}

/// The unit ticket metadata `metadata` declares ([`Ticket::declared_unit`]).
pub fn declared_unit(metadata: &[u8]) -> Option<(&str, u8)> {
    let text = core::str::from_utf8(metadata).ok()?;
    let (symbol, decimals) = text.split_once(':')?;
    let symbol_ok =
        (1..=12).contains(&symbol.len()) && symbol.bytes().all(|b| b.is_ascii_alphanumeric());
    let digits_ok = !decimals.is_empty()
        && decimals.bytes().all(|b| b.is_ascii_digit())
        && (decimals == "0" || !decimals.starts_with('0'));
    if !symbol_ok || !digits_ok {
        return None;
    }
    let decimals: u8 = decimals.parse().ok().filter(|d| *d <= 18)?;
    Some((symbol, decimals))
}

impl Encode for Ticket {
    fn encode(&self, w: &mut Writer) {
        self.ticketer.encode(w);
        w.u64(self.token_id);
        match &self.metadata {
            None => w.u8(0),
            Some(m) => {
                w.u8(1);
                w.bytes(m);
            }
        }
    }
}

impl Decode for Ticket {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let ticketer = r.get()?;
        let token_id = r.u64("token id")?;
        let metadata = match r.u8("ticket metadata")? {
            0 => None,
            1 => Some(r.bytes(MAX_TICKET_METADATA, "ticket metadata")?.to_vec()),
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "ticket metadata",
                    tag,
                })
            }
        };
        Ok(Ticket {
            ticketer,
            token_id,
            metadata,
        })
    }
}

/// What came in and went out of the rollup in one asset, in base units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Supply {
    /// Total ever deposited.
    pub deposited: u128,
    /// Total ever withdrawn to layer 1.
    pub withdrawn: u128,
}

impl Encode for Supply {
    fn encode(&self, w: &mut Writer) {
        w.u128(self.deposited);
        w.u128(self.withdrawn);
    }
}

impl Decode for Supply {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Supply {
            deposited: r.u128("deposited")?,
            withdrawn: r.u128("withdrawn")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fine_unit_makes_common_periods_exact() {
        for period in [60u128, 3_600, 86_400, 604_800, 2_592_000, 31_536_000] {
            assert_eq!(FINE_PER_UNIT % period, 0, "period {period}");
        }
    }

    #[test]
    fn tickets_round_trip_and_reject_bad_tags() {
        let t = Ticket {
            ticketer: Contract::Originated([1; 20]),
            token_id: 7,
            metadata: Some(vec![1, 2, 3]),
        };
        assert_eq!(Ticket::from_bytes(&t.to_bytes()), Ok(t.clone()));
        let mut bytes = t.to_bytes();
        // The option's tag, before the metadata's length and three bytes.
        let tag_at = bytes.len() - 5;
        if let Some(b) = bytes.get_mut(tag_at) {
            *b = 9;
        }
        assert!(Ticket::from_bytes(&bytes).is_err());
        assert_eq!(
            Supply::from_bytes(&Supply::default().to_bytes()),
            Ok(Supply::default())
        );
    }

    #[test]
    fn a_ticket_may_declare_its_unit() {
        let with = |metadata: Option<&[u8]>| Ticket {
            ticketer: Contract::Originated([1; 20]),
            token_id: 0,
            metadata: metadata.map(<[u8]>::to_vec),
        };
        assert_eq!(with(Some(b"tez:6")).declared_unit(), Some(("tez", 6)));
        assert_eq!(with(Some(b"USDt:0")).declared_unit(), Some(("USDt", 0)));
        assert_eq!(with(Some(b"X:18")).declared_unit(), Some(("X", 18)));
        for bad in [
            &b"tez"[..],
            b"tez:",
            b":6",
            b"tez:06",
            b"tez:19",
            b"t z:6",
            b"tez:6:7",
            b"abcdefghijklm:6",
            b"\xff:6",
        ] {
            assert_eq!(with(Some(bad)).declared_unit(), None, "{bad:?}");
        }
        assert_eq!(with(None).declared_unit(), None);
    }
}
