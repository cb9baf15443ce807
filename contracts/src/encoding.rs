//! The canonical binary encoding shared by operations, events and stored values.
//!
//! One byte string per value: integers wider than a byte are unsigned LEB128
//! in the fewest bytes (7 bits a byte, low group first, the high bit set on
//! every byte but the last), variable fields carry such a length and a
//! maximum, enums and options carry an explicit tag byte. Decoders check every
//! bound, refuse longer-than-needed integers and trailing bytes, so
//! `decode(encode(v)) == v` and `encode(decode(b)) == b` for every accepted `b`.

use thiserror::Error;

/// Why a byte string is not the canonical encoding of a value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ended before the value did.
    #[error("input ended early while reading {0}")]
    UnexpectedEnd(&'static str),
    /// Bytes remained after the value.
    #[error("{0} trailing bytes after the value")]
    TrailingBytes(usize),
    /// A tag byte that names no variant.
    #[error("unknown tag {tag} for {what}")]
    UnknownTag {
        /// The type being decoded.
        what: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// A length above the field's maximum.
    #[error("{what} is {len} long, at most {max} allowed")]
    TooLong {
        /// The field being decoded.
        what: &'static str,
        /// The length found.
        len: usize,
        /// The field's maximum.
        max: usize,
    },
    /// A string that is not UTF-8.
    #[error("{0} is not valid UTF-8")]
    InvalidUtf8(&'static str),
    /// A value that decodes but breaks a rule of its type.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// An integer written in more bytes than it needs, or too large for its
    /// type.
    #[error("{0} is not a canonical integer of its width")]
    BadInteger(&'static str),
}

/// Collects the canonical encoding of values.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// A writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Appends raw bytes with no length prefix (fixed-size fields).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Appends an unsigned integer as LEB128 in the fewest bytes.
    fn leb128(&mut self, mut v: u128) {
        loop {
            let low = u8::try_from(v & 0x7f).unwrap_or_default();
            v >>= 7;
            if v == 0 {
                self.buf.push(low);
                return;
            }
            self.buf.push(low | 0x80);
        }
    }

    /// Appends a `u16`.
    pub fn u16(&mut self, v: u16) {
        self.leb128(u128::from(v));
    }

    /// Appends a `u32`.
    pub fn u32(&mut self, v: u32) {
        self.leb128(u128::from(v));
    }

    /// Appends a `u64`.
    pub fn u64(&mut self, v: u64) {
        self.leb128(u128::from(v));
    }

    /// Appends a `u128`.
    pub fn u128(&mut self, v: u128) {
        self.leb128(v);
    }

    /// Appends a `u32` as four little-endian bytes: for layouts outside
    /// the canonical values whose counts are updated in place (the level
    /// record's lists), never inside a value.
    pub fn fixed_u32(&mut self, v: u32) {
        self.raw(&v.to_le_bytes());
    }

    /// Appends a length then the bytes. Callers keep `bytes` within the
    /// field's bound; lengths above `u16::MAX` are a caller bug and are cut so
    /// the decoder rejects the value instead of misreading it.
    pub fn bytes(&mut self, bytes: &[u8]) {
        let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        self.u16(len);
        self.raw(bytes);
    }

    /// Appends a string as length-prefixed UTF-8.
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// Appends a value.
    pub fn put<T: Encode + ?Sized>(&mut self, value: &T) {
        value.encode(self);
    }

    /// Appends an option: tag 0 for none, tag 1 then the value.
    pub fn option<T: Encode>(&mut self, value: &Option<T>) {
        match value {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                v.encode(self);
            }
        }
    }

    /// Appends a list: its count then the items.
    pub fn list<T: Encode>(&mut self, items: &[T]) {
        let len = u16::try_from(items.len()).unwrap_or(u16::MAX);
        self.u16(len);
        for item in items.iter().take(usize::from(len)) {
            item.encode(self);
        }
    }
}

/// Reads canonical encodings from a byte slice, checking every bound.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes(self.rest.len()))
        }
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::UnexpectedEnd(what));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(u8::from_le_bytes(self.array(what)?))
    }

    /// Reads a LEB128 integer of at most `max`, refusing extra bytes.
    fn leb128(&mut self, max: u128, what: &'static str) -> Result<u128, DecodeError> {
        let mut value = 0u128;
        let mut shift = 0u32;
        loop {
            let byte = self.u8(what)?;
            let low = u128::from(byte & 0x7f);
            let bits = low
                .checked_shl(shift)
                .ok_or(DecodeError::BadInteger(what))?;
            if bits >> shift != low {
                return Err(DecodeError::BadInteger(what));
            }
            value |= bits;
            if byte & 0x80 == 0 {
                // A last group of zero after others is a longer form of a
                // shorter integer.
                if byte == 0 && shift > 0 {
                    return Err(DecodeError::BadInteger(what));
                }
                break;
            }
            shift += 7;
        }
        if value > max {
            return Err(DecodeError::BadInteger(what));
        }
        Ok(value)
    }

    /// Reads a `u16`.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let v = self.leb128(u128::from(u16::MAX), what)?;
        u16::try_from(v).map_err(|_| DecodeError::BadInteger(what))
    }

    /// Reads a `u32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let v = self.leb128(u128::from(u32::MAX), what)?;
        u32::try_from(v).map_err(|_| DecodeError::BadInteger(what))
    }

    /// Reads a `u64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let v = self.leb128(u128::from(u64::MAX), what)?;
        u64::try_from(v).map_err(|_| DecodeError::BadInteger(what))
    }

    /// Reads a `u128`.
    pub fn u128(&mut self, what: &'static str) -> Result<u128, DecodeError> {
        self.leb128(u128::MAX, what)
    }

    /// Reads four little-endian bytes written by [`Writer::fixed_u32`].
    pub fn fixed_u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// Reads a length-prefixed byte string of at most `max` bytes.
    pub fn bytes(&mut self, max: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = usize::from(self.u16(what)?);
        if len > max {
            return Err(DecodeError::TooLong { what, len, max });
        }
        self.take(len, what)
    }

    /// Reads a length-prefixed UTF-8 string of at most `max` bytes.
    pub fn string(&mut self, max: usize, what: &'static str) -> Result<String, DecodeError> {
        let bytes = self.bytes(max, what)?;
        core::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| DecodeError::InvalidUtf8(what))
    }

    /// Reads a bool, accepting only 0 and 1.
    pub fn bool(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(DecodeError::UnknownTag { what, tag }),
        }
    }

    /// Reads a value.
    pub fn get<T: Decode>(&mut self) -> Result<T, DecodeError> {
        T::decode(self)
    }

    /// Reads an option written by [`Writer::option`].
    pub fn option<T: Decode>(&mut self, what: &'static str) -> Result<Option<T>, DecodeError> {
        match self.u8(what)? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(self)?)),
            tag => Err(DecodeError::UnknownTag { what, tag }),
        }
    }

    /// Reads a list of at most `max` items written by [`Writer::list`].
    pub fn list<T: Decode>(
        &mut self,
        max: usize,
        what: &'static str,
    ) -> Result<Vec<T>, DecodeError> {
        let len = usize::from(self.u16(what)?);
        if len > max {
            return Err(DecodeError::TooLong { what, len, max });
        }
        // Each item takes at least one byte, so a count above what is left is
        // rejected before any allocation sized by it.
        if len > self.remaining() {
            return Err(DecodeError::UnexpectedEnd(what));
        }
        let mut out = Vec::with_capacity(len);
        for _ in 0..len {
            out.push(T::decode(self)?);
        }
        Ok(out)
    }
}

/// A value with a canonical binary encoding.
pub trait Encode {
    /// Writes the value's encoding.
    fn encode(&self, w: &mut Writer);

    /// The value's encoding as bytes.
    fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        self.encode(&mut w);
        w.into_bytes()
    }
}

/// A value that can be read back from its canonical encoding.
pub trait Decode: Sized {
    /// Reads one value, leaving the reader after it.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Reads a value that must take all of `bytes`.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let value = Self::decode(&mut r)?;
        r.finish()?;
        Ok(value)
    }
}

macro_rules! int_codec {
    ($($t:ident),*) => {$(
        impl Encode for $t {
            fn encode(&self, w: &mut Writer) {
                w.$t(*self);
            }
        }
        impl Decode for $t {
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                r.$t(stringify!($t))
            }
        }
    )*};
}
int_codec!(u8, u16, u32, u64, u128);

impl Encode for bool {
    fn encode(&self, w: &mut Writer) {
        w.u8(u8::from(*self));
    }
}

impl Decode for bool {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.bool("bool")
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, w: &mut Writer) {
        w.option(self);
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.option("option")
    }
}

impl<T: Encode> Encode for [T] {
    fn encode(&self, w: &mut Writer) {
        w.list(self);
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, w: &mut Writer) {
        w.list(self);
    }
}

impl<A: Encode, B: Encode> Encode for (A, B) {
    fn encode(&self, w: &mut Writer) {
        self.0.encode(w);
        self.1.encode(w);
    }
}

impl<A: Decode, B: Decode> Decode for (A, B) {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok((A::decode(r)?, B::decode(r)?))
    }
}

/// A UTF-8 string of at most `MAX` bytes: the type of every free-text field.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    /// The text, if it is at most `MAX` bytes long.
    pub fn new(s: impl Into<String>) -> Result<Self, DecodeError> {
        let s = s.into();
        if s.len() > MAX {
            return Err(DecodeError::TooLong {
                what: "text",
                len: s.len(),
                max: MAX,
            });
        }
        Ok(Text(s))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> core::fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize> Encode for Text<MAX> {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.0);
    }
}

impl<const MAX: usize> Decode for Text<MAX> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Text(r.string(MAX, "text")?))
    }
}

/// A list of at most `MAX` items.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct List<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> Default for List<T, MAX> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<T, const MAX: usize> List<T, MAX> {
    /// The list, if it has at most `MAX` items.
    pub fn new(items: Vec<T>) -> Result<Self, DecodeError> {
        if items.len() > MAX {
            return Err(DecodeError::TooLong {
                what: "list",
                len: items.len(),
                max: MAX,
            });
        }
        Ok(List(items))
    }

    /// The items.
    pub fn items(&self) -> &[T] {
        &self.0
    }

    /// Adds an item if there is room; says whether it was added.
    pub fn push(&mut self, item: T) -> bool {
        if self.0.len() >= MAX {
            return false;
        }
        self.0.push(item);
        true
    }

    /// Keeps the items for which `keep` holds.
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.0.retain(keep);
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: Encode, const MAX: usize> Encode for List<T, MAX> {
    fn encode(&self, w: &mut Writer) {
        w.list(&self.0);
    }
}

impl<T: Decode, const MAX: usize> Decode for List<T, MAX> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(List(r.list(MAX, "list")?))
    }
}

impl<const N: usize> Encode for [u8; N] {
    fn encode(&self, w: &mut Writer) {
        w.raw(self);
    }
}

impl<const N: usize> Decode for [u8; N] {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.array("fixed bytes")
    }
}

/// Implements [`Encode`] and [`Decode`] for a struct as its fields in order.
macro_rules! codec_struct {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl $crate::encoding::Encode for $name {
            fn encode(&self, w: &mut $crate::encoding::Writer) {
                $( $crate::encoding::Encode::encode(&self.$field, w); )*
            }
        }
        impl $crate::encoding::Decode for $name {
            fn decode(
                r: &mut $crate::encoding::Reader<'_>,
            ) -> Result<Self, $crate::encoding::DecodeError> {
                Ok(Self { $( $field: r.get()?, )* })
            }
        }
    };
}

/// Implements [`Encode`] and [`Decode`] for an enum as an explicit tag byte
/// then the variant's fields in order.
macro_rules! codec_enum {
    ($name:ident, $what:literal {
        $($tag:literal => $variant:ident $({ $($field:ident),* $(,)? })?),* $(,)?
    }) => {
        impl $crate::encoding::Encode for $name {
            fn encode(&self, w: &mut $crate::encoding::Writer) {
                match self {
                    $( $name::$variant $({ $($field),* })? => {
                        w.u8($tag);
                        $($( $crate::encoding::Encode::encode($field, w); )*)?
                    } )*
                }
            }
        }
        impl $crate::encoding::Decode for $name {
            fn decode(
                r: &mut $crate::encoding::Reader<'_>,
            ) -> Result<Self, $crate::encoding::DecodeError> {
                match r.u8($what)? {
                    $( $tag => Ok($name::$variant $({ $($field: r.get()?),* })?), )*
                    tag => Err($crate::encoding::DecodeError::UnknownTag { what: $what, tag }),
                }
            }
        }
    };
}

pub(crate) use codec_enum;
pub(crate) use codec_struct;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_leb128_in_the_fewest_bytes_and_round_trip() {
        assert_eq!(0u32.to_bytes(), vec![0]);
        assert_eq!(127u32.to_bytes(), vec![0x7f]);
        assert_eq!(128u32.to_bytes(), vec![0x80, 0x01]);
        assert_eq!(300u64.to_bytes(), vec![0xac, 0x02]);
        assert_eq!(u64::MAX.to_bytes().len(), 10);
        assert_eq!(u128::MAX.to_bytes().len(), 19);
        for v in [
            0u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::MAX,
            0x0123_4567_89ab_cdef,
        ] {
            assert_eq!(u64::from_bytes(&v.to_bytes()), Ok(v));
        }
        assert_eq!(u128::from_bytes(&u128::MAX.to_bytes()), Ok(u128::MAX));
        assert_eq!(u16::from_bytes(&u16::MAX.to_bytes()), Ok(u16::MAX));
    }

    #[test]
    fn longer_forms_and_overflows_are_refused() {
        // 0 and 1 written in two bytes.
        assert_eq!(
            u64::from_bytes(&[0x80, 0x00]),
            Err(DecodeError::BadInteger("u64"))
        );
        assert_eq!(
            u64::from_bytes(&[0x81, 0x00]),
            Err(DecodeError::BadInteger("u64"))
        );
        // One more than the type holds.
        let over = (u128::from(u16::MAX) + 1).to_bytes();
        assert_eq!(u16::from_bytes(&over), Err(DecodeError::BadInteger("u16")));
        let over = (u128::from(u64::MAX) + 1).to_bytes();
        assert_eq!(u64::from_bytes(&over), Err(DecodeError::BadInteger("u64")));
        // Past 128 bits, and bits beyond the last group's room.
        assert!(u128::from_bytes(&[0xff; 20]).is_err());
        let mut top = vec![0xff; 18];
        top.push(0x04);
        assert_eq!(u128::from_bytes(&top), Err(DecodeError::BadInteger("u128")));
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        assert_eq!(
            u16::from_bytes(&[1, 0, 0]),
            Err(DecodeError::TrailingBytes(2))
        );
        assert!(matches!(
            u32::from_bytes(&[0x81]),
            Err(DecodeError::UnexpectedEnd(_))
        ));
    }

    #[test]
    fn bools_and_options_accept_only_their_tags() {
        assert_eq!(bool::from_bytes(&[1]), Ok(true));
        assert!(bool::from_bytes(&[2]).is_err());
        assert_eq!(Option::<u8>::from_bytes(&[1, 7]), Ok(Some(7)));
        assert_eq!(Option::<u8>::from_bytes(&[0]), Ok(None));
        assert!(Option::<u8>::from_bytes(&[2, 7]).is_err());
    }

    #[test]
    fn strings_respect_their_bound_and_utf8() {
        let mut w = Writer::default();
        w.str("héllo");
        let bytes = w.into_bytes();
        assert_eq!(Reader::new(&bytes).string(6, "s"), Ok("héllo".to_owned()));
        assert!(matches!(
            Reader::new(&bytes).string(5, "s"),
            Err(DecodeError::TooLong { .. })
        ));
        assert_eq!(
            Reader::new(&[1, 0xff]).string(5, "s"),
            Err(DecodeError::InvalidUtf8("s"))
        );
    }

    #[test]
    fn list_count_beyond_input_fails_without_allocating() {
        let bytes = [0xff, 0xff, 0x03];
        assert!(Reader::new(&bytes).list::<u64>(usize::MAX, "l").is_err());
        assert!(matches!(
            Reader::new(&[3, 1, 2, 3]).list::<u8>(2, "l"),
            Err(DecodeError::TooLong { .. })
        ));
    }
}
