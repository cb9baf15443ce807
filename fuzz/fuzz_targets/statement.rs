//! The clear-signing statement as a wallet reads it back from the bytes it
//! is asked to sign (`Statement::from_bytes`): bytes it accepts are exactly
//! the packed statement (`Statement::bytes`) of the text it shows, and that
//! text is printable ASCII within the statement's bound.
//!
//! The input is any bytes, or text packed as a Michelson string (after the
//! statement prefix or not, its length right or off by a little), so the
//! reader gets past the prefix and the length.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pledgeroll_contracts::statement::{Statement, MAX_STATEMENT, PREFIX};
use pledgeroll_fuzz::hex;

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// Any bytes.
    Bytes(&'a [u8]),
    /// `text` packed as a Michelson string.
    Packed {
        after_prefix: bool,
        length_off_by: Option<i8>,
        text: &'a [u8],
    },
}

impl Input<'_> {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Input::Bytes(bytes) => bytes.to_vec(),
            Input::Packed {
                after_prefix,
                length_off_by,
                text,
            } => {
                let mut body = Vec::new();
                if *after_prefix {
                    body.extend_from_slice(PREFIX.as_bytes());
                }
                body.extend_from_slice(text);
                let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
                let len = len.wrapping_add_signed(i32::from(length_off_by.unwrap_or(0)));
                let mut out = vec![0x05, 0x01];
                out.extend_from_slice(&len.to_be_bytes());
                out.extend(body);
                out
            }
        }
    }
}

fuzz_target!(|input: Input<'_>| {
    let data = input.bytes();
    let Some(statement) = Statement::from_bytes(&data) else {
        return;
    };
    let packed = statement.bytes();
    assert!(
        packed == data,
        "statement read from {} packs as {}",
        hex(&data),
        hex(&packed)
    );
    let text = statement.text();
    assert!(text.starts_with(PREFIX) && text.len() <= MAX_STATEMENT);
    assert!(text.bytes().all(|b| (0x20..0x7f).contains(&b)));
});
