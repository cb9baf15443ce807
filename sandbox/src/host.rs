//! The rollup host's semantics, written once: the input queue of a level,
//! durable storage, the outbox, debug output, preimages and metadata, with
//! the error codes of the `smart_rollup_core` host functions.
//!
//! The wasm imports ([`crate::wasm`]) and the native [`Runtime`]
//! implementation ([`crate::native`]) both delegate to [`HostState`], so the
//! two modes cannot drift apart.
//!
//! [`Runtime`]: tezos_smart_rollup_host::runtime::Runtime

use std::path::PathBuf;
use std::sync::Arc;

use crate::durable::{Key, Tree};

/// Largest inbox message or outbox message, in bytes.
pub const MAX_MESSAGE_SIZE: usize = tezos_smart_rollup_core::MAX_INPUT_MESSAGE_SIZE;

pub use pledgeroll_interface::pvm::{KERNEL_BOOT, MAX_OUTBOX_PER_LEVEL};

/// Size of the metadata `reveal_metadata` writes: the rollup address and
/// the origination level.
pub const METADATA_SIZE: usize = tezos_smart_rollup_host::METADATA_SIZE;

/// An error code a host function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The key is longer than the PVM accepts.
    #[error("store key too large")]
    StoreKeyTooLarge,
    /// The key does not parse.
    #[error("invalid store key")]
    StoreInvalidKey,
    /// There is no value at the key.
    #[error("no value at the key")]
    StoreNotAValue,
    /// An offset outside the value.
    #[error("access outside the value")]
    StoreInvalidAccess,
    /// The value would exceed 2^31 bytes.
    #[error("value size exceeded")]
    StoreValueSizeExceeded,
    /// An address outside the kernel's memory.
    #[error("memory access out of bounds")]
    MemoryInvalidAccess,
    /// Input or output above its limit.
    #[error("input or output too large")]
    InputOutputTooLarge,
    /// Any other failure.
    #[error("invalid access")]
    GenericInvalidAccess,
    /// The key is read-only.
    #[error("read-only value")]
    StoreReadonlyValue,
    /// There is nothing at the key.
    #[error("no tree at the key")]
    StoreNotANode,
    /// The level's outbox is full.
    #[error("outbox full")]
    FullOutbox,
}

impl HostError {
    /// The negative code the host function returns.
    pub fn code(self) -> i32 {
        use tezos_smart_rollup_core as core;
        match self {
            HostError::StoreKeyTooLarge => core::STORE_KEY_TOO_LARGE,
            HostError::StoreInvalidKey => core::STORE_INVALID_KEY,
            HostError::StoreNotAValue => core::STORE_NOT_A_VALUE,
            HostError::StoreInvalidAccess => core::STORE_INVALID_ACCESS,
            HostError::StoreValueSizeExceeded => core::STORE_VALUE_SIZE_EXCEEDED,
            HostError::MemoryInvalidAccess => core::MEMORY_INVALID_ACCESS,
            HostError::InputOutputTooLarge => core::INPUT_OUTPUT_TOO_LARGE,
            HostError::GenericInvalidAccess => core::GENERIC_INVALID_ACCESS,
            HostError::StoreReadonlyValue => core::STORE_READONLY_VALUE,
            HostError::StoreNotANode => core::STORE_NOT_A_NODE,
            HostError::FullOutbox => core::FULL_OUTBOX,
        }
    }
}

/// A message read from the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The inbox level.
    pub level: u32,
    /// The message's index in the level.
    pub id: u32,
    /// The message, cut to the reader's buffer.
    pub payload: Vec<u8>,
}

/// The host's state while the kernel runs: durable storage and what the
/// current level reads and writes.
#[derive(Debug, Clone, Default)]
pub struct HostState {
    /// Durable storage.
    pub durable: Tree,
    metadata: [u8; METADATA_SIZE],
    level: u32,
    inbox: Arc<Vec<Vec<u8>>>,
    next_input: usize,
    outbox: Vec<Vec<u8>>,
    preimages: Option<PathBuf>,
}

/// The reboot flag a kernel sets to run again within the same level.
pub const REBOOT_FLAG: &str = "/kernel/env/reboot";
/// How many reboots the kernel has left in the level (`i32`, little-endian).
pub const REBOOT_COUNTER: &str = "/readonly/kernel/env/reboot_counter";
/// Present while the previous run failed (trapped).
pub const STUCK_FLAG: &str = "/readonly/kernel/env/stuck";
/// Present when the kernel asked for more reboots than a level allows.
pub const TOO_MANY_REBOOT_FLAG: &str = "/readonly/kernel/env/too_many_reboot";
/// The PVM version string.
pub const WASM_VERSION: &str = "/readonly/wasm_version";
/// The version of the WASM PVM this host follows.
pub const WASM_VERSION_VALUE: &str = "2.0.0-r5";

/// One of the PVM's constant keys.
pub(crate) fn key(path: &str) -> Key {
    Key::constant(path)
}

impl HostState {
    /// A host for the rollup at `address` originated at `origination_level`,
    /// over `durable`.
    pub fn new(durable: Tree, address: [u8; 20], origination_level: u32) -> Self {
        let mut metadata = [0u8; METADATA_SIZE];
        for (m, b) in metadata
            .iter_mut()
            .zip(address.iter().chain(&origination_level.to_be_bytes()))
        {
            *m = *b;
        }
        HostState {
            durable,
            metadata,
            ..HostState::default()
        }
    }

    /// Serves preimages from `dir`, one file per hash named by its hex, as
    /// the rollup node's `wasm_2_0_0` directory does.
    pub fn with_preimages(mut self, dir: Option<PathBuf>) -> Self {
        self.preimages = dir;
        self
    }

    /// Starts inbox level `level` with `messages`; the outbox starts empty.
    pub fn begin_level(&mut self, level: u32, messages: Arc<Vec<Vec<u8>>>) {
        self.level = level;
        self.inbox = messages;
        self.next_input = 0;
        self.outbox.clear();
    }

    /// The outbox messages written during the level, taken out.
    pub fn take_outbox(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.outbox)
    }

    /// The current inbox level.
    pub fn level(&self) -> u32 {
        self.level
    }

    /// The rollup address.
    pub fn rollup_address(&self) -> [u8; 20] {
        let mut a = [0u8; 20];
        a.iter_mut()
            .zip(self.metadata.iter())
            .for_each(|(o, b)| *o = *b);
        a
    }

    /// Drops the rest of the level's inbox: the kernel yielded.
    pub fn skip_inbox(&mut self) {
        self.next_input = self.inbox.len();
    }

    /// `read_input`: the next message, cut to `max_bytes` (at most 4,096),
    /// or `None` once the level's inbox is read.
    pub fn read_input(&mut self, max_bytes: usize) -> Option<Input> {
        let message = self.inbox.get(self.next_input)?;
        let id = u32::try_from(self.next_input).unwrap_or(u32::MAX);
        self.next_input += 1;
        let len = message.len().min(max_bytes).min(MAX_MESSAGE_SIZE);
        Some(Input {
            level: self.level,
            id,
            payload: message.get(..len).unwrap_or_default().to_vec(),
        })
    }

    /// `write_output`: queues an outbox message for the level.
    pub fn write_output(&mut self, message: &[u8]) -> Result<(), HostError> {
        if message.len() > MAX_MESSAGE_SIZE {
            return Err(HostError::InputOutputTooLarge);
        }
        if self.outbox.len() >= MAX_OUTBOX_PER_LEVEL {
            return Err(HostError::FullOutbox);
        }
        self.outbox.push(message.to_vec());
        Ok(())
    }

    /// `write_debug`: the kernel's log, passed on to the sandbox's log.
    pub fn write_debug(&self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_end();
        if !text.is_empty() {
            tracing::debug!(target: "pledgeroll_sandbox::kernel", level = self.level, "{text}");
        }
    }

    /// `store_has`: 0 for nothing, 1 a value, 2 a subtree, 3 both.
    pub fn store_has(&self, path: &[u8]) -> Result<i32, HostError> {
        Ok(self.durable.has(&Key::parse(path)?))
    }

    /// `store_read`: up to `max_bytes` of the value from `offset`.
    pub fn store_read(&self, path: &[u8], offset: u64, max_bytes: u64) -> Result<&[u8], HostError> {
        self.durable.read(&Key::parse(path)?, offset, max_bytes)
    }

    /// `store_write`: writes `bytes` at `offset`.
    pub fn store_write(&mut self, path: &[u8], offset: u64, bytes: &[u8]) -> Result<(), HostError> {
        let key = Key::parse(path)?;
        self.durable.write(&key, offset, bytes, false)
    }

    /// `store_delete`: removes the key and its subtree.
    pub fn store_delete(&mut self, path: &[u8]) -> Result<(), HostError> {
        let key = Key::parse(path)?;
        self.durable.delete(&key, false)
    }

    /// `store_delete_value`: removes the key's value only.
    pub fn store_delete_value(&mut self, path: &[u8]) -> Result<(), HostError> {
        let key = Key::parse(path)?;
        self.durable.delete_value(&key, false)
    }

    /// `store_list_size`: the entries under the key, its value included.
    pub fn store_list_size(&self, path: &[u8]) -> Result<i64, HostError> {
        let count = self.durable.count_subtrees(&Key::parse(path)?);
        Ok(i64::try_from(count).unwrap_or(i64::MAX))
    }

    /// `store_move`.
    pub fn store_move(&mut self, from: &[u8], to: &[u8]) -> Result<(), HostError> {
        let (from, to) = (Key::parse(from)?, Key::parse(to)?);
        self.durable.move_tree(&from, &to)
    }

    /// `store_copy`.
    pub fn store_copy(&mut self, from: &[u8], to: &[u8]) -> Result<(), HostError> {
        let (from, to) = (Key::parse(from)?, Key::parse(to)?);
        self.durable.copy(&from, &to)
    }

    /// `store_value_size`.
    pub fn store_value_size(&self, path: &[u8]) -> Result<i32, HostError> {
        let size = self.durable.value_size(&Key::parse(path)?)?;
        i32::try_from(size).map_err(|_| HostError::StoreValueSizeExceeded)
    }

    /// `reveal_preimage`: up to `max_bytes` of the preimage of `hash`.
    pub fn reveal_preimage(&self, hash: &[u8], max_bytes: usize) -> Result<Vec<u8>, HostError> {
        let Some(dir) = &self.preimages else {
            tracing::warn!(hash = %hex::encode(hash), "the kernel asked for a preimage and no preimage directory is set");
            return Err(HostError::GenericInvalidAccess);
        };
        let path = dir.join(hex::encode(hash));
        match std::fs::read(&path) {
            Ok(mut bytes) => {
                bytes.truncate(max_bytes);
                Ok(bytes)
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot read the preimage the kernel asked for: {e}");
                Err(HostError::GenericInvalidAccess)
            }
        }
    }

    /// `reveal_metadata`: the rollup address and origination level.
    pub fn reveal_metadata(&self) -> [u8; METADATA_SIZE] {
        self.metadata
    }

    /// Whether the kernel asked to run again within the level.
    pub fn reboot_requested(&self) -> bool {
        self.durable.value(&key(REBOOT_FLAG)).is_some()
    }

    /// Sets one of the PVM's own values.
    pub fn set_pvm_value(&mut self, path: &str, value: Vec<u8>) {
        self.durable.set(&key(path), value);
    }

    /// Removes one of the PVM's own keys.
    pub fn remove_pvm_key(&mut self, path: &str) {
        // Deleting with the PVM's rights cannot fail.
        let _ = self.durable.delete(&key(path), true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inbox_is_read_in_order_and_cut_to_the_buffer() {
        let mut h = HostState::new(Tree::new(), [7; 20], 3);
        h.begin_level(9, Arc::new(vec![vec![1, 2, 3], vec![4; 5000]]));
        assert_eq!(
            h.read_input(2),
            Some(Input {
                level: 9,
                id: 0,
                payload: vec![1, 2]
            })
        );
        assert_eq!(h.read_input(10_000).map(|i| i.payload.len()), Some(4096));
        assert_eq!(h.read_input(10), None);
        let meta = h.reveal_metadata();
        assert_eq!(&meta[..20], &[7; 20]);
        assert_eq!(&meta[20..], &3u32.to_be_bytes());
        assert_eq!(h.rollup_address(), [7; 20]);
    }

    #[test]
    fn the_outbox_holds_a_hundred_messages_of_at_most_4096_bytes() {
        let mut h = HostState::default();
        assert_eq!(
            h.write_output(&[0; 4097]),
            Err(HostError::InputOutputTooLarge)
        );
        for _ in 0..MAX_OUTBOX_PER_LEVEL {
            h.write_output(&[1]).unwrap();
        }
        assert_eq!(h.write_output(&[1]), Err(HostError::FullOutbox));
        assert_eq!(h.take_outbox().len(), MAX_OUTBOX_PER_LEVEL);
        h.write_output(&[1]).unwrap();
    }

    #[test]
    fn store_calls_return_the_pvm_codes() {
        let mut h = HostState::default();
        assert_eq!(h.store_has(b"/a"), Ok(0));
        assert_eq!(h.store_value_size(b"/a"), Err(HostError::StoreNotAValue));
        h.store_write(b"/a", 0, b"xyz").unwrap();
        assert_eq!(h.store_value_size(b"/a"), Ok(3));
        assert_eq!(h.store_read(b"/a", 1, 5), Ok(&b"yz"[..]));
        assert_eq!(h.store_list_size(b"/a"), Ok(1));
        assert_eq!(h.store_copy(b"/a", b"/b"), Ok(()));
        assert_eq!(h.store_move(b"/b", b"/c/d"), Ok(()));
        assert_eq!(h.store_has(b"/c"), Ok(2));
        assert_eq!(h.store_delete(b"/c"), Ok(()));
        assert_eq!(h.store_delete_value(b"/a"), Ok(()));
        assert_eq!(h.store_has(b"/a"), Ok(0));
        assert_eq!(h.store_has(b"bad"), Err(HostError::StoreInvalidKey));
        assert_eq!(
            h.store_write(b"/readonly/x", 0, b"1"),
            Err(HostError::StoreReadonlyValue)
        );
        assert_eq!(HostError::FullOutbox.code(), -11);
        assert_eq!(HostError::StoreKeyTooLarge.code(), -1);
    }

    #[test]
    fn missing_preimages_are_an_error() {
        let h = HostState::default();
        assert_eq!(
            h.reveal_preimage(&[0; 33], 10),
            Err(HostError::GenericInvalidAccess)
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(hex::encode([1u8; 33])), b"preimage").unwrap();
        let h = HostState::default().with_preimages(Some(dir.path().to_path_buf()));
        assert_eq!(h.reveal_preimage(&[1; 33], 3), Ok(b"pre".to_vec()));
        assert_eq!(
            h.reveal_preimage(&[2; 33], 3),
            Err(HostError::GenericInvalidAccess)
        );
    }
}
