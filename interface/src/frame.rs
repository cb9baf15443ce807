//! The targeted external-message frame: how a batch of signed operations
//! names the rollup it is for. The wallet builds it, the sandbox's batcher
//! recognises it, and the kernel reads it (through the kernel SDK's parser,
//! which accepts exactly these bytes).
//!
//! `0x00` (targeted), the rollup's 20-byte address, then the contents. The
//! rollup node's batcher adds the external-message tag `0x01` in front.

use pledgeroll_contracts::operation::MAX_BATCH_BYTES;
use pledgeroll_contracts::{Batch, Encode, RollupAddress};

/// The frame tag of a message targeted at one rollup.
pub const TARGETED: u8 = 0;

/// Bytes the frame adds before the contents.
pub const FRAME_OVERHEAD: usize = 21;

/// Why a batch cannot be framed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The batch is above what one inbox message carries.
    #[error("the batch is {0} bytes; one inbox message carries at most {MAX_BATCH_BYTES}")]
    TooLarge(usize),
}

/// `contents` framed for the rollup at `rollup`.
pub fn targeted(rollup: &[u8; 20], contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_OVERHEAD + contents.len());
    out.push(TARGETED);
    out.extend_from_slice(rollup);
    out.extend_from_slice(contents);
    out
}

/// A batch of signed operations framed for `rollup`: the bytes to give the
/// rollup node's batcher.
pub fn batch(rollup: &RollupAddress, batch: &Batch) -> Result<Vec<u8>, FrameError> {
    let payload = batch.to_bytes();
    if payload.len() > MAX_BATCH_BYTES {
        return Err(FrameError::TooLarge(payload.len()));
    }
    Ok(targeted(&rollup.0, &payload))
}

/// Whether `message` is already framed for the rollup at `rollup`.
pub fn is_targeted_at(message: &[u8], rollup: &[u8; 20]) -> bool {
    message.first() == Some(&TARGETED) && message.get(1..FRAME_OVERHEAD) == Some(&rollup[..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use pledgeroll_contracts::Decode;
    use tezos_crypto_rs::hash::SmartRollupHash;
    use tezos_data_encoding::enc::BinWriter;
    use tezos_smart_rollup_encoding::inbox::ExternalMessageFrame;
    use tezos_smart_rollup_encoding::smart_rollup::SmartRollupAddress;

    const ROLLUP: [u8; 20] = [7; 20];

    #[test]
    fn the_frame_is_the_one_the_kernel_sdk_writes_and_parses() {
        let framed = targeted(&ROLLUP, b"ops");
        let sdk = ExternalMessageFrame::Targetted {
            address: SmartRollupAddress::new(SmartRollupHash(ROLLUP.to_vec())),
            contents: b"ops".as_slice(),
        };
        let mut written = Vec::new();
        sdk.bin_write(&mut written).expect("writes");
        assert_eq!(framed, written);
        match ExternalMessageFrame::parse(&framed) {
            Ok(ExternalMessageFrame::Targetted { address, contents }) => {
                assert_eq!(address.hash().0, ROLLUP.to_vec());
                assert_eq!(contents, b"ops");
            }
            Err(e) => panic!("the SDK refuses the frame: {e:?}"),
        }
    }

    #[test]
    fn a_batch_round_trips_and_an_oversized_one_is_refused() {
        let rollup = RollupAddress(ROLLUP);
        let empty = Batch::default();
        let framed = batch(&rollup, &empty).expect("fits");
        assert!(is_targeted_at(&framed, &ROLLUP));
        assert!(!is_targeted_at(&framed, &[8; 20]));
        assert!(!is_targeted_at(b"\x01abc", &ROLLUP));
        assert_eq!(
            framed.get(FRAME_OVERHEAD..).map(Batch::from_bytes),
            Some(Ok(empty))
        );
    }
}
