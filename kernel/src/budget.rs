//! How much of an inbox level one kernel run takes on.
//!
//! The WASM PVM stops a `kernel_run` after [`TICKS_PER_RUN`] ticks, and a
//! full inbox level needs more than that: a signed operation's signature
//! check alone costs millions of ticks. The kernel cannot read its tick
//! counter, so it estimates what each message costs from what the message
//! holds and what it made the protocol read and write, and reads another
//! message only while the costliest message could still fit under
//! [`RUN_LIMIT`]. Otherwise it saves its place and asks for a reboot; the
//! next run reads on from the next message of the same level.
//!
//! The estimates are per item and deliberately high: each is at or above
//! what `kernel.wasm` measured in the sandbox (wasmtime fuel, one tick per
//! executed instruction; `docs/benchmarks.md`), where the runs of a full
//! level of ed25519 transfers used 5.4 to 5.8 × 10⁹ ticks for an estimate of
//! 6.8 to 7.0 × 10⁹. [`RUN_LIMIT`] is 80 % of the PVM's ticks: the
//! remaining fifth covers estimates that run low, the PVM's own tick model
//! and host calls the sandbox does not meter.
//!
//! The bound holds for operations whose work is bounded. One whose work
//! grows with the state (a creator pausing tens of thousands of pledges,
//! or as many scheduled tasks falling due in one level) is charged what it
//! did after the fact, so the run stops sooner after it, but it is not
//! split: a single such item must fit in a run by itself.

use pledgeroll_contracts::crypto::Curve;
use pledgeroll_contracts::operation::{MAX_BATCH_BYTES, MAX_BATCH_OPERATIONS};

/// Ticks the WASM PVM lets one `kernel_run` use.
pub const TICKS_PER_RUN: u64 = 11_000_000_000;

/// Estimated ticks a run may reach, counting the message it is on: 80 % of
/// [`TICKS_PER_RUN`].
pub const RUN_LIMIT: u64 = TICKS_PER_RUN / 5 * 4;

/// Ticks of a run before its first message: loading the kernel, reading
/// the rollup's metadata and the level's progress.
pub const RUN_TICKS: u64 = 1_000_000;

/// Ticks of reading any inbox message and telling what it is.
pub const MESSAGE_TICKS: u64 = 50_000;

/// Ticks of one ticket deposit besides its durable reads and writes:
/// decoding the Michelson parameter, the ticket's checks and, for one that
/// goes back, the outbox message. A deposit measured 480,000 ticks in all,
/// with about 10 accesses.
pub const DEPOSIT_TICKS: u64 = 200_000;

/// Ticks of one read or write the protocol makes through durable storage,
/// with the logic around it: the path, the host calls, decoding or encoding
/// the value, writing it when the run commits, and the work between
/// accesses. Measured: 27,000 per access in a transfer between streaming
/// accounts, 31,000 in a pledge, 73,000 when a creator pauses its pledges.
pub const ACCESS_TICKS: u64 = 80_000;

/// Ticks of each byte of the level record that earlier runs of the level
/// wrote: a later run reads it and writes it again with its own part.
pub const RECORD_BYTE_TICKS: u64 = 20;

/// Ticks of one signed operation besides its durable reads and writes:
/// decoding it, stating it in words, checking its signature, hashing it for
/// its receipt; charged once the signer's account, and so its curve, is
/// known. A
/// transfer, about 13 accesses, measured 5.2 million ticks in all when
/// signed with ed25519, 6.0 million with secp256k1 and 42.4 million with
/// P-256.
pub const fn operation_ticks(curve: Curve) -> u64 {
    match curve {
        Curve::Ed25519 => 5_000_000,
        Curve::Secp256k1 => 6_000_000,
        Curve::P256 => 42_500_000,
    }
}

/// Bytes of the smallest signed operation: a one-byte operation (such as
/// `PauseCreator`) signed by one of the first 128 accounts, by number.
pub const SMALLEST_SIGNED_OPERATION: usize = 67;

/// Most signed operations one inbox message can carry.
pub const MAX_OPERATIONS_PER_MESSAGE: u64 = {
    // A batch is its count (one byte up to 127), then its operations.
    let by_size = (MAX_BATCH_BYTES - 1) / SMALLEST_SIGNED_OPERATION;
    let most = if by_size < MAX_BATCH_OPERATIONS {
        by_size
    } else {
        MAX_BATCH_OPERATIONS
    };
    most as u64
};

/// Durable reads and writes allowed for each operation of the costliest
/// message; an ordinary operation makes 10 to 40.
pub const ACCESSES_PER_OPERATION: u64 = 60;

/// The most a message should cost: [`MAX_OPERATIONS_PER_MESSAGE`] P-256
/// operations, the costliest curve to check, each with
/// [`ACCESSES_PER_OPERATION`] durable accesses. A run reads another message
/// only while this much still fits under [`RUN_LIMIT`].
pub const COSTLIEST_MESSAGE: u64 = MESSAGE_TICKS
    + MAX_OPERATIONS_PER_MESSAGE
        * (operation_ticks(Curve::P256) + ACCESSES_PER_OPERATION * ACCESS_TICKS);

/// The ticks one run has used so far, as estimated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickBudget {
    spent: u64,
}

impl TickBudget {
    /// A run's budget, charged with [`RUN_TICKS`].
    pub fn new() -> Self {
        TickBudget { spent: RUN_TICKS }
    }

    /// Adds `ticks` to the estimate.
    pub fn charge(&mut self, ticks: u64) {
        self.spent = self.spent.saturating_add(ticks);
    }

    /// Adds `count` durable accesses to the estimate.
    pub fn charge_accesses(&mut self, count: u64) {
        self.charge(count.saturating_mul(ACCESS_TICKS));
    }

    /// The estimated ticks used.
    pub fn spent(&self) -> u64 {
        self.spent
    }

    /// Whether the run can read one more message of any kind and stay
    /// under [`RUN_LIMIT`].
    pub fn allows_another_message(&self) -> bool {
        self.spent.saturating_add(COSTLIEST_MESSAGE) <= RUN_LIMIT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pledgeroll_contracts::signing::SecretKey;
    use pledgeroll_contracts::{Encode, Operation, SignedOperation, Signer};

    fn known_signer(curve: Curve) -> SecretKey {
        SecretKey::from_bytes(curve, [5; 32]).unwrap()
    }

    #[test]
    fn the_smallest_signed_operation_is_the_one_the_bound_assumes() {
        for curve in [Curve::Ed25519, Curve::Secp256k1, Curve::P256] {
            let key = known_signer(curve);
            let smallest = SignedOperation {
                signer: Signer::Index(127),
                operation: Operation::PauseCreator,
                signature: key.sign(b"a statement"),
            };
            assert_eq!(smallest.to_bytes().len(), SMALLEST_SIGNED_OPERATION);
            let revealing = SignedOperation {
                signer: Signer::Key(key.public_key()),
                ..smallest
            };
            assert!(revealing.to_bytes().len() > SMALLEST_SIGNED_OPERATION);
        }
        assert_eq!(MAX_OPERATIONS_PER_MESSAGE, 60);
    }

    #[test]
    fn a_run_stops_while_the_costliest_message_still_fits() {
        let mut budget = TickBudget::new();
        assert!(budget.allows_another_message());
        let mut messages = 0u64;
        while budget.allows_another_message() {
            budget.charge(COSTLIEST_MESSAGE);
            messages += 1;
        }
        assert!(budget.spent() <= RUN_LIMIT);
        assert!(budget.spent() + COSTLIEST_MESSAGE > RUN_LIMIT);
        assert_eq!(messages, (RUN_LIMIT - RUN_TICKS) / COSTLIEST_MESSAGE);
        assert!(
            messages >= 3,
            "a run takes several of the costliest messages"
        );
    }

    #[test]
    fn signed_operations_fill_a_run_by_their_curve() {
        let per_run = |curve: Curve| {
            let mut budget = TickBudget::new();
            let mut ops = 0u64;
            while budget.allows_another_message() {
                budget.charge(MESSAGE_TICKS);
                for _ in 0..32 {
                    budget.charge(operation_ticks(curve));
                    budget.charge_accesses(20);
                    ops += 1;
                }
            }
            ops
        };
        let ed25519 = per_run(Curve::Ed25519);
        // Every run stays well below the ~1,900 ed25519 operations the
        // PVM's ticks allow, and far above one message.
        assert!((800..1_600).contains(&ed25519), "{ed25519}");
        assert!(per_run(Curve::Secp256k1) < ed25519);
        assert!(per_run(Curve::P256) * 5 < ed25519);
        assert!(per_run(Curve::P256) >= 64);
    }

    #[test]
    fn charges_saturate() {
        let mut budget = TickBudget::new();
        budget.charge(u64::MAX);
        budget.charge_accesses(u64::MAX);
        assert_eq!(budget.spent(), u64::MAX);
        assert!(!budget.allows_another_message());
    }
}
