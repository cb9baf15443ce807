//! The kernel linked into the sandbox: the SDK's [`Runtime`] trait over
//! [`HostState`], with the same checks the SDK's wasm-side wrapper makes
//! around each host function, so that the native and wasm modes see the
//! same answers.

use tezos_smart_rollup_core::{MAX_FILE_CHUNK_SIZE, MAX_INPUT_MESSAGE_SIZE, PREIMAGE_HASH_SIZE};
use tezos_smart_rollup_host::input::Message;
use tezos_smart_rollup_host::metadata::RollupMetadata;
use tezos_smart_rollup_host::path::Path;
use tezos_smart_rollup_host::runtime::{Runtime, RuntimeError, ValueType};
use tezos_smart_rollup_host::Error;

use crate::host::{
    HostError, HostState, REBOOT_COUNTER, REBOOT_FLAG, STUCK_FLAG, TOO_MANY_REBOOT_FLAG,
    WASM_VERSION,
};

/// Where the PVM flags a failed kernel upgrade.
const UPGRADE_ERROR_FLAG: &str = "/readonly/kernel/env/upgrade_error";

/// A host for a natively linked kernel.
#[derive(Debug, Default)]
pub struct NativeHost {
    /// The host's state.
    pub state: HostState,
}

fn host_err(e: HostError) -> RuntimeError {
    RuntimeError::HostErr(Error::from(e.code()))
}

impl NativeHost {
    fn exists(&self, path: &[u8]) -> Result<(), RuntimeError> {
        match self.state.store_has(path) {
            Ok(code) if code != tezos_smart_rollup_core::VALUE_TYPE_NONE => Ok(()),
            _ => Err(RuntimeError::PathNotFound),
        }
    }

    fn has_value(&self, path: &[u8]) -> Result<(), RuntimeError> {
        match self.state.store_has(path) {
            Ok(tezos_smart_rollup_core::VALUE_TYPE_VALUE)
            | Ok(tezos_smart_rollup_core::VALUE_TYPE_VALUE_WITH_SUBTREE) => Ok(()),
            _ => Err(RuntimeError::PathNotFound),
        }
    }

    fn write_chunked(
        &mut self,
        path: &[u8],
        mut src: &[u8],
        mut offset: usize,
    ) -> Result<(), RuntimeError> {
        let mut write = |bytes: &[u8], at: usize| {
            self.state
                .store_write(path, at as u64, bytes)
                .map_err(host_err)
        };
        if src.len() <= MAX_FILE_CHUNK_SIZE {
            return write(src, offset);
        }
        while let Some((chunk, rest)) = src.split_at_checked(MAX_FILE_CHUNK_SIZE) {
            if rest.is_empty() {
                break;
            }
            write(chunk, offset)?;
            offset += MAX_FILE_CHUNK_SIZE;
            src = rest;
        }
        if src.is_empty() {
            Ok(())
        } else {
            write(src, offset)
        }
    }
}

impl Runtime for NativeHost {
    fn write_output(&mut self, from: &[u8]) -> Result<(), RuntimeError> {
        self.state.write_output(from).map_err(host_err)
    }

    fn write_debug(&self, msg: &str) {
        self.state.write_debug(msg.as_bytes());
    }

    fn read_input(&mut self) -> Result<Option<Message>, RuntimeError> {
        // An empty message reads as the end of the inbox, as through the
        // SDK's wrapper of the host function.
        Ok(self
            .state
            .read_input(MAX_INPUT_MESSAGE_SIZE)
            .filter(|input| !input.payload.is_empty())
            .map(|input| Message::new(input.level, input.id, input.payload)))
    }

    fn store_has<T: Path>(&self, path: &T) -> Result<Option<ValueType>, RuntimeError> {
        match self.state.store_has(path.as_bytes()).map_err(host_err)? {
            tezos_smart_rollup_core::VALUE_TYPE_NONE => Ok(None),
            tezos_smart_rollup_core::VALUE_TYPE_VALUE => Ok(Some(ValueType::Value)),
            tezos_smart_rollup_core::VALUE_TYPE_SUBTREE => Ok(Some(ValueType::Subtree)),
            tezos_smart_rollup_core::VALUE_TYPE_VALUE_WITH_SUBTREE => {
                Ok(Some(ValueType::ValueWithSubtree))
            }
            _ => Err(RuntimeError::HostErr(Error::GenericInvalidAccess)),
        }
    }

    fn store_read<T: Path>(
        &self,
        path: &T,
        from_offset: usize,
        max_bytes: usize,
    ) -> Result<Vec<u8>, RuntimeError> {
        self.has_value(path.as_bytes())?;
        let max = max_bytes.min(MAX_FILE_CHUNK_SIZE);
        self.state
            .store_read(path.as_bytes(), from_offset as u64, max as u64)
            .map(<[u8]>::to_vec)
            .map_err(host_err)
    }

    fn store_read_slice<T: Path>(
        &self,
        path: &T,
        from_offset: usize,
        buffer: &mut [u8],
    ) -> Result<usize, RuntimeError> {
        let bytes = self
            .state
            .store_read(path.as_bytes(), from_offset as u64, buffer.len() as u64)
            .map_err(host_err)?;
        let dst = buffer
            .get_mut(..bytes.len())
            .ok_or(RuntimeError::HostErr(Error::MemoryInvalidAccess))?;
        dst.copy_from_slice(bytes);
        Ok(bytes.len())
    }

    fn store_read_all(&self, path: &impl Path) -> Result<Vec<u8>, RuntimeError> {
        let length = self.store_value_size(path)?;
        let mut buffer = Vec::with_capacity(length);
        while buffer.len() < length {
            let offset = buffer.len();
            let max = MAX_FILE_CHUNK_SIZE.min(length - offset);
            let chunk = self
                .state
                .store_read(path.as_bytes(), offset as u64, max as u64)
                .map_err(host_err)?;
            if chunk.is_empty() {
                return Err(RuntimeError::HostErr(Error::StoreInvalidAccess));
            }
            buffer.extend_from_slice(chunk);
        }
        Ok(buffer)
    }

    fn store_write<T: Path>(
        &mut self,
        path: &T,
        src: &[u8],
        at_offset: usize,
    ) -> Result<(), RuntimeError> {
        self.write_chunked(path.as_bytes(), src, at_offset)
    }

    fn store_write_all<T: Path>(&mut self, path: &T, src: &[u8]) -> Result<(), RuntimeError> {
        self.store_delete_value(path)?;
        self.write_chunked(path.as_bytes(), src, 0)
    }

    fn store_delete<T: Path>(&mut self, path: &T) -> Result<(), RuntimeError> {
        self.exists(path.as_bytes())?;
        self.state.store_delete(path.as_bytes()).map_err(host_err)
    }

    fn store_delete_value<T: Path>(&mut self, path: &T) -> Result<(), RuntimeError> {
        self.state
            .store_delete_value(path.as_bytes())
            .map_err(host_err)
    }

    fn store_count_subkeys<T: Path>(&self, prefix: &T) -> Result<u64, RuntimeError> {
        let count = self
            .state
            .store_list_size(prefix.as_bytes())
            .map_err(host_err)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn store_move(
        &mut self,
        from_path: &impl Path,
        to_path: &impl Path,
    ) -> Result<(), RuntimeError> {
        self.exists(from_path.as_bytes())?;
        self.state
            .store_move(from_path.as_bytes(), to_path.as_bytes())
            .map_err(host_err)
    }

    fn store_copy(
        &mut self,
        from_path: &impl Path,
        to_path: &impl Path,
    ) -> Result<(), RuntimeError> {
        self.exists(from_path.as_bytes())?;
        self.state
            .store_copy(from_path.as_bytes(), to_path.as_bytes())
            .map_err(host_err)
    }

    fn reveal_preimage(
        &self,
        hash: &[u8; PREIMAGE_HASH_SIZE],
        destination: &mut [u8],
    ) -> Result<usize, RuntimeError> {
        let bytes = self
            .state
            .reveal_preimage(hash, destination.len())
            .map_err(host_err)?;
        let dst = destination
            .get_mut(..bytes.len())
            .ok_or(RuntimeError::HostErr(Error::MemoryInvalidAccess))?;
        dst.copy_from_slice(&bytes);
        Ok(bytes.len())
    }

    fn store_value_size(&self, path: &impl Path) -> Result<usize, RuntimeError> {
        self.exists(path.as_bytes())?;
        let size = self
            .state
            .store_value_size(path.as_bytes())
            .map_err(host_err)?;
        usize::try_from(size).map_err(|_| RuntimeError::HostErr(Error::GenericInvalidAccess))
    }

    fn mark_for_reboot(&mut self) -> Result<(), RuntimeError> {
        self.write_chunked(REBOOT_FLAG.as_bytes(), &[0], 0)
    }

    fn reveal_metadata(&self) -> RollupMetadata {
        RollupMetadata::from(self.state.reveal_metadata())
    }

    fn last_run_aborted(&self) -> Result<bool, RuntimeError> {
        Ok(self
            .state
            .store_has(STUCK_FLAG.as_bytes())
            .map_err(host_err)?
            != 0)
    }

    fn upgrade_failed(&self) -> Result<bool, RuntimeError> {
        Ok(self
            .state
            .store_has(UPGRADE_ERROR_FLAG.as_bytes())
            .map_err(host_err)?
            != 0)
    }

    fn restart_forced(&self) -> Result<bool, RuntimeError> {
        Ok(self
            .state
            .store_has(TOO_MANY_REBOOT_FLAG.as_bytes())
            .map_err(host_err)?
            != 0)
    }

    fn reboot_left(&self) -> Result<u32, RuntimeError> {
        let mut bytes = [0u8; 4];
        let read = self
            .state
            .store_read(REBOOT_COUNTER.as_bytes(), 0, 4)
            .map_err(host_err)?;
        bytes.iter_mut().zip(read).for_each(|(b, r)| *b = *r);
        Ok(u32::from_le_bytes(bytes))
    }

    fn runtime_version(&self) -> Result<String, RuntimeError> {
        self.has_value(WASM_VERSION.as_bytes())?;
        let bytes = self
            .state
            .store_read(WASM_VERSION.as_bytes(), 0, 9)
            .map_err(host_err)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| RuntimeError::DecodingError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::durable::Tree;
    use std::sync::Arc;
    use tezos_smart_rollup_host::path::RefPath;

    const PATH: RefPath<'static> = RefPath::assert_from(b"/a/b");

    #[test]
    fn values_larger_than_a_chunk_round_trip() {
        let mut host = NativeHost::default();
        let value: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        host.store_write_all(&PATH, &value).unwrap();
        assert_eq!(host.store_read_all(&PATH).unwrap(), value);
        assert_eq!(host.store_value_size(&PATH).unwrap(), 5000);
        host.store_write_all(&PATH, &[1, 2]).unwrap();
        assert_eq!(host.store_read_all(&PATH).unwrap(), vec![1, 2]);
        assert_eq!(host.store_read(&PATH, 1, 10).unwrap(), vec![2]);
    }

    #[test]
    fn missing_paths_are_reported_as_the_sdk_does() {
        let mut host = NativeHost::default();
        assert_eq!(
            host.store_read(&PATH, 0, 1),
            Err(RuntimeError::PathNotFound)
        );
        assert_eq!(host.store_delete(&PATH), Err(RuntimeError::PathNotFound));
        assert_eq!(
            host.store_value_size(&PATH),
            Err(RuntimeError::PathNotFound)
        );
        let to = RefPath::assert_from(b"/c");
        assert_eq!(host.store_copy(&PATH, &to), Err(RuntimeError::PathNotFound));
        assert_eq!(
            host.store_read_slice(&PATH, 0, &mut [0; 4]),
            Err(RuntimeError::HostErr(Error::StoreNotAValue))
        );
        assert_eq!(host.store_has(&PATH), Ok(None));
    }

    #[test]
    fn reboot_flags_and_metadata_reach_the_kernel() {
        let mut host = NativeHost {
            state: HostState::new(Tree::new(), [3; 20], 42),
        };
        assert_eq!(host.reveal_metadata().origination_level, 42);
        assert_eq!(host.reveal_metadata().raw_rollup_address, [3; 20]);
        host.mark_for_reboot().unwrap();
        assert!(host.state.reboot_requested());
        host.state
            .set_pvm_value(REBOOT_COUNTER, 7i32.to_le_bytes().to_vec());
        assert_eq!(host.reboot_left(), Ok(7));
        assert_eq!(host.last_run_aborted(), Ok(false));
        host.state.set_pvm_value(STUCK_FLAG, vec![]);
        assert_eq!(host.last_run_aborted(), Ok(true));
        host.state.set_pvm_value(WASM_VERSION, b"2.0.0-r5".to_vec());
        assert_eq!(host.runtime_version().unwrap(), "2.0.0-r5");
        host.state
            .begin_level(5, Arc::new(vec![vec![9], vec![], vec![8]]));
        assert_eq!(host.read_input().unwrap().map(|m| m.level), Some(5));
        // The empty message ends the inbox as the SDK reads it.
        assert_eq!(host.read_input().unwrap(), None);
    }
}
