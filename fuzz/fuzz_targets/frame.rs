//! The targeted external-message frame (`interface::frame`): what the
//! sandbox's batcher takes as framed for this rollup must be what the
//! kernel reads as this rollup's operations, with the same contents, and
//! framing those contents again gives the same bytes.
//!
//! The message is any bytes, or a frame whose tag and rollup address may be
//! off by a byte, so both sides meet near misses.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pledgeroll_fuzz::ROLLUP;
use pledgeroll_interface::frame::{self, FRAME_OVERHEAD, TARGETED};
use pledgeroll_kernel::inbox::{self, Input};

#[derive(Arbitrary, Debug)]
enum Message<'a> {
    /// Any bytes.
    Bytes(&'a [u8]),
    /// A frame for this rollup, its tag replaced and one byte of its
    /// address XORed (by place, value) if asked.
    Frame {
        tag: Option<u8>,
        address_edit: Option<(u8, u8)>,
        contents: &'a [u8],
    },
}

impl Message<'_> {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Message::Bytes(bytes) => bytes.to_vec(),
            Message::Frame {
                tag,
                address_edit,
                contents,
            } => {
                let mut address = ROLLUP;
                if let Some((at, x)) = address_edit {
                    if let Some(b) = address.get_mut(usize::from(*at) % ROLLUP.len()) {
                        *b ^= x;
                    }
                }
                let mut out = vec![tag.unwrap_or(TARGETED)];
                out.extend_from_slice(&address);
                out.extend_from_slice(contents);
                out
            }
        }
    }
}

fuzz_target!(|message: Message<'_>| {
    let message = message.bytes();
    let targeted = frame::is_targeted_at(&message, &ROLLUP);
    // The rollup node adds the external-message tag in front.
    let mut inbox_message = vec![1];
    inbox_message.extend_from_slice(&message);
    match inbox::classify(&inbox_message, &ROLLUP) {
        Input::Operations(contents) => {
            assert!(targeted, "the kernel takes a message the batcher does not");
            assert_eq!(Some(contents), message.get(FRAME_OVERHEAD..));
            assert_eq!(frame::targeted(&ROLLUP, contents), message);
        }
        other => assert!(
            !targeted,
            "the batcher takes a message the kernel reads as {other:?}"
        ),
    }
});
