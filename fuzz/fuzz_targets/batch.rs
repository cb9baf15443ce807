//! The payload of an external message sent to this rollup, read as the
//! kernel reads it: framed for the rollup, sorted by `inbox::classify`, then
//! `Batch::parse`. Checks that the kernel sees exactly the payload, and that
//! a batch (and a signed operation or operation read from the same bytes)
//! that decodes is the canonical encoding of what it read.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pledgeroll_contracts::text;
use pledgeroll_contracts::{Batch, Encode, Operation, SignedOperation};
use pledgeroll_fuzz::{decode_canonical, hex, ROLLUP};
use pledgeroll_interface::frame;
use pledgeroll_kernel::inbox::{self, Input};

fuzz_target!(|payload: &[u8]| {
    // The external-message tag the rollup node adds, then the wallet's frame.
    let mut message = vec![1];
    message.extend(frame::targeted(&ROLLUP, payload));
    let contents = match inbox::classify(&message, &ROLLUP) {
        Input::Operations(contents) => contents,
        other => panic!("a framed payload is read as {other:?}"),
    };
    assert_eq!(contents, payload, "the kernel reads another payload");

    if let Ok(batch) = Batch::parse(contents) {
        let encoded = batch.to_bytes();
        assert!(
            encoded == contents,
            "batch {} encodes as {}: {batch:?}",
            hex(contents),
            hex(&encoded)
        );
        for op in batch.operations.items() {
            // Text rules hold or refuse; they never panic on what decodes.
            let _refused = text::check_operation(&op.operation).is_err();
        }
    }
    decode_canonical::<Batch>(contents);
    decode_canonical::<SignedOperation>(contents);
    decode_canonical::<Operation>(contents);
});
