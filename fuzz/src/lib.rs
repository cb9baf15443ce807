//! Checks shared by pledgeroll's fuzz targets (`fuzz_targets/`), and the
//! kernel's test harness, which `kernel_run` drives the way the kernel's
//! property tests do.

use core::any::type_name;
use core::fmt::Debug;

use pledgeroll_contracts::encoding::Reader;
use pledgeroll_contracts::{Decode, Encode};

/// The rollup on `MockHost` that the kernel's tests drive
/// (`kernel/tests/common`), shared rather than copied so the fuzzer runs
/// levels exactly as the property tests do.
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code: a failed unwrap is a failed run
#[path = "../../kernel/tests/common/mod.rs"]
pub mod harness;

/// The rollup address the decoder targets frame their messages for.
pub const ROLLUP: [u8; 20] = [0x5a; 20];

/// Reads one `T` from the start of `bytes`, as a stored or sent value is
/// read; if it reads, checks that the value's encoding is exactly the bytes
/// the read consumed (one byte string per value). Returns the value and how
/// many bytes it took.
///
/// # Panics
/// When the bytes read are not the value's canonical encoding: a finding.
pub fn decode_canonical<T: Decode + Encode + Debug>(bytes: &[u8]) -> Option<(T, usize)> {
    let mut reader = Reader::new(bytes);
    let value = T::decode(&mut reader).ok()?;
    let consumed = bytes.len().saturating_sub(reader.remaining());
    let read = bytes.get(..consumed).unwrap_or(bytes);
    let encoded = value.to_bytes();
    assert!(
        encoded == read,
        "{} read from {} encodes as {}: {value:?}",
        type_name::<T>(),
        hex(read),
        hex(&encoded),
    );
    Some((value, consumed))
}

/// Reads a whole `T` from `bytes` as storage is read ([`Decode::from_bytes`]:
/// nothing may trail), checking the round trip as [`decode_canonical`] does.
///
/// # Panics
/// When a value decodes from bytes that are not its canonical encoding.
pub fn decode_whole<T: Decode + Encode + Debug>(bytes: &[u8]) -> Option<T> {
    let prefix = decode_canonical::<T>(bytes);
    let whole = T::from_bytes(bytes).ok();
    assert_eq!(
        whole.is_some(),
        prefix.as_ref().is_some_and(|(_, n)| *n == bytes.len()),
        "{}: from_bytes and a read to the end disagree on {}",
        type_name::<T>(),
        hex(bytes),
    );
    whole
}

/// `bytes` in lowercase hexadecimal, for failure messages.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
