//! `kernel.wasm` in wasmtime: the `smart_rollup_core` imports over
//! [`HostState`], fuel metering as the tick count, and the kernel's code read
//! from `/kernel/boot.wasm` at every run, as the PVM loads it.

use std::sync::Arc;

use wasmtime::{Caller, Config, Engine, Extern, InstancePre, Linker, Memory, Module, Store, Trap};

use crate::durable::MAX_KEY_LENGTH;
use crate::host::{key, HostError, HostState, KERNEL_BOOT, MAX_MESSAGE_SIZE};
use crate::pvm::{Kernel, RunEnd};

/// The module the host functions are imported from.
pub const HOST_MODULE: &str = "smart_rollup_core";

/// The function the PVM calls.
pub const ENTRYPOINT: &str = "kernel_run";

/// Why a kernel cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    /// The engine could not be set up.
    #[error("cannot set up the wasm engine: {0}")]
    Engine(String),
    /// The bytes are not a WebAssembly 1.0 module the engine accepts.
    #[error("not a valid WebAssembly 1.0 module: {0}")]
    Invalid(String),
    /// The module imports something the rollup host does not provide.
    #[error("the kernel imports {module}.{name}, which the rollup host does not provide")]
    UnknownImport {
        /// The import's module.
        module: String,
        /// The import's name.
        name: String,
    },
    /// The module does not export `kernel_run` and `memory`.
    #[error("the kernel does not export `{0}`")]
    MissingExport(&'static str),
}

/// What the sandbox's host functions see of a kernel call.
type HostCaller<'a> = Caller<'a, HostState>;

fn memory(caller: &mut HostCaller<'_>) -> wasmtime::Result<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        _ => Err(wasmtime::format_err!("the kernel has no exported memory")),
    }
}

/// The guest bytes at `ptr..ptr + len`.
fn guest(mem: &[u8], ptr: i32, len: i32) -> Result<&[u8], HostError> {
    let start = ptr as u32 as usize;
    let len = usize::try_from(len).map_err(|_| HostError::MemoryInvalidAccess)?;
    mem.get(
        start
            ..start
                .checked_add(len)
                .ok_or(HostError::MemoryInvalidAccess)?,
    )
    .ok_or(HostError::MemoryInvalidAccess)
}

fn guest_mut(mem: &mut [u8], ptr: i32, len: usize) -> Result<&mut [u8], HostError> {
    let start = ptr as u32 as usize;
    mem.get_mut(
        start
            ..start
                .checked_add(len)
                .ok_or(HostError::MemoryInvalidAccess)?,
    )
    .ok_or(HostError::MemoryInvalidAccess)
}

/// A key from guest memory; its length is checked before memory is read.
fn guest_key(mem: &[u8], ptr: i32, len: i32) -> Result<Vec<u8>, HostError> {
    if usize::try_from(len).is_ok_and(|l| l > MAX_KEY_LENGTH) {
        return Err(HostError::StoreKeyTooLarge);
    }
    guest(mem, ptr, len).map(<[u8]>::to_vec)
}

fn code(result: Result<i32, HostError>) -> i32 {
    result.unwrap_or_else(HostError::code)
}

fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Registers every `smart_rollup_core` function.
fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    link_messages(linker)?;
    link_values(linker)?;
    link_tree(linker)?;
    link_reveals(linker)
}

/// The inbox, the outbox and debug output.
fn link_messages(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        HOST_MODULE,
        "read_input",
        |mut c: HostCaller<'_>, info: i32, dst: i32, max_bytes: i32| -> wasmtime::Result<i32> {
            let m = memory(&mut c)?;
            let (mem, host) = m.data_and_store_mut(&mut c);
            Ok(code((|| {
                let max = max_bytes.min(to_i32(MAX_MESSAGE_SIZE));
                let max = usize::try_from(max).map_err(|_| HostError::MemoryInvalidAccess)?;
                // Both buffers must fit before a message is taken.
                guest_mut(mem, info, 8)?;
                guest_mut(mem, dst, max)?;
                let Some(input) = host.read_input(max) else {
                    return Ok(0);
                };
                guest_mut(mem, dst, input.payload.len())?.copy_from_slice(&input.payload);
                let mut header = [0u8; 8];
                header
                    .iter_mut()
                    .zip(
                        input
                            .level
                            .to_le_bytes()
                            .iter()
                            .chain(&input.id.to_le_bytes()),
                    )
                    .for_each(|(h, b)| *h = *b);
                guest_mut(mem, info, 8)?.copy_from_slice(&header);
                Ok(to_i32(input.payload.len()))
            })()))
        },
    )?;
    linker.func_wrap(
        HOST_MODULE,
        "write_output",
        |mut c: HostCaller<'_>, src: i32, len: i32| -> wasmtime::Result<i32> {
            let m = memory(&mut c)?;
            let (mem, host) = m.data_and_store_mut(&mut c);
            Ok(code((|| {
                if len > to_i32(MAX_MESSAGE_SIZE) {
                    return Err(HostError::InputOutputTooLarge);
                }
                host.write_output(guest(mem, src, len)?).map(|()| 0)
            })()))
        },
    )?;
    linker.func_wrap(
        HOST_MODULE,
        "write_debug",
        |mut c: HostCaller<'_>, src: i32, len: i32| -> wasmtime::Result<()> {
            let m = memory(&mut c)?;
            let (mem, host) = m.data_and_store_mut(&mut c);
            // The PVM does not check a debug message's bounds: a bad one is
            // logged as an error code, never a failure.
            match guest(mem, src, len) {
                Ok(bytes) => host.write_debug(bytes),
                Err(e) => host.write_debug(format!("Error code: {}", e.code()).as_bytes()),
            }
            Ok(())
        },
    )?;
    Ok(())
}

/// Durable storage: reading and writing values.
fn link_values(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        HOST_MODULE,
        "store_has",
        |mut c: HostCaller<'_>, path: i32, len: i32| -> wasmtime::Result<i32> {
            let m = memory(&mut c)?;
            let (mem, host) = m.data_and_store_mut(&mut c);
            Ok(code(
                guest_key(mem, path, len).and_then(|k| host.store_has(&k)),
            ))
        },
    )?;
    linker.func_wrap(
        HOST_MODULE,
        "store_read",
        |mut c: HostCaller<'_>,
         path: i32,
         len: i32,
         offset: i32,
         dst: i32,
         max: i32|
         -> wasmtime::Result<i32> {
            let m = memory(&mut c)?;
            let (mem, host) = m.data_and_store_mut(&mut c);
            Ok(code((|| {
                let k = guest_key(mem, path, len)?;
                let offset = u64::try_from(offset).map_err(|_| HostError::StoreInvalidAccess)?;
                let max = u64::try_from(max).map_err(|_| HostError::StoreInvalidAccess)?;
                let bytes = host.store_read(&k, offset, max)?;
                guest_mut(mem, dst, bytes.len())?.copy_from_slice(bytes);
                Ok(to_i32(bytes.len()))
            })()))
        },
    )?;
    linker.func_wrap(
        HOST_MODULE,
        "store_write",
        |mut c: HostCaller<'_>,
         path: i32,
         len: i32,
         offset: i32,
         src: i32,
         num: i32|
         -> wasmtime::Result<i32> {
            let m = memory(&mut c)?;
            let (mem, host) = m.data_and_store_mut(&mut c);
            Ok(code((|| {
                let k = guest_key(mem, path, len)?;
                if num > to_i32(MAX_MESSAGE_SIZE) {
                    return Err(HostError::InputOutputTooLarge);
                }
                let bytes = guest(mem, src, num)?;
                let offset = u64::try_from(offset).map_err(|_| HostError::StoreInvalidAccess)?;
                host.store_write(&k, offset, bytes).map(|()| 0)
            })()))
        },
    )?;
    linker.func_wrap(
        HOST_MODULE,
        "store_value_size",
        |mut c: HostCaller<'_>, path: i32, len: i32| -> wasmtime::Result<i32> {
            let m = memory(&mut c)?;
            let (mem, host) = m.data_and_store_mut(&mut c);
            Ok(code(
                guest_key(mem, path, len).and_then(|k| host.store_value_size(&k)),
            ))
        },
    )?;
    Ok(())
}

/// Durable storage: deleting, listing, moving and copying subtrees.
fn link_tree(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        HOST_MODULE,
        "store_delete",
        |mut c: HostCaller<'_>, path: i32, len: i32| -> wasmtime::Result<i32> {
            let m = memory(&mut c)?;
            let (mem, host) = m.data_and_store_mut(&mut c);
            Ok(code(
                guest_key(mem, path, len).and_then(|k| host.store_delete(&k).map(|()| 0)),
            ))
        },
    )?;
    linker.func_wrap(
        HOST_MODULE,
        "store_delete_value",
        |mut c: HostCaller<'_>, path: i32, len: i32| -> wasmtime::Result<i32> {
            let m = memory(&mut c)?;
            let (mem, host) = m.data_and_store_mut(&mut c);
            Ok(code(
                guest_key(mem, path, len).and_then(|k| host.store_delete_value(&k).map(|()| 0)),
            ))
        },
    )?;
    linker.func_wrap(
        HOST_MODULE,
        "store_list_size",
        |mut c: HostCaller<'_>, path: i32, len: i32| -> wasmtime::Result<i64> {
            let m = memory(&mut c)?;
            let (mem, host) = m.data_and_store_mut(&mut c);
            Ok(guest_key(mem, path, len)
                .and_then(|k| host.store_list_size(&k))
                .unwrap_or_else(|e| i64::from(e.code())))
        },
    )?;
    linker.func_wrap(
        HOST_MODULE,
        "store_move",
        |mut c: HostCaller<'_>,
         from: i32,
         from_len: i32,
         to: i32,
         to_len: i32|
         -> wasmtime::Result<i32> {
            let m = memory(&mut c)?;
            let (mem, host) = m.data_and_store_mut(&mut c);
            Ok(code((|| {
                let (f, t) = (guest_key(mem, from, from_len)?, guest_key(mem, to, to_len)?);
                host.store_move(&f, &t).map(|()| 0)
            })()))
        },
    )?;
    linker.func_wrap(
        HOST_MODULE,
        "store_copy",
        |mut c: HostCaller<'_>,
         from: i32,
         from_len: i32,
         to: i32,
         to_len: i32|
         -> wasmtime::Result<i32> {
            let m = memory(&mut c)?;
            let (mem, host) = m.data_and_store_mut(&mut c);
            Ok(code((|| {
                let (f, t) = (guest_key(mem, from, from_len)?, guest_key(mem, to, to_len)?);
                host.store_copy(&f, &t).map(|()| 0)
            })()))
        },
    )?;
    Ok(())
}

/// The reveal channel: preimages and the rollup's metadata.
fn link_reveals(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        HOST_MODULE,
        "reveal_preimage",
        |mut c: HostCaller<'_>,
         hash: i32,
         hash_len: i32,
         dst: i32,
         max: i32|
         -> wasmtime::Result<i32> {
            let m = memory(&mut c)?;
            let (mem, host) = m.data_and_store_mut(&mut c);
            Ok(code((|| {
                let h = guest(mem, hash, hash_len)?.to_vec();
                let max = usize::try_from(max).map_err(|_| HostError::MemoryInvalidAccess)?;
                let bytes = host.reveal_preimage(&h, max)?;
                guest_mut(mem, dst, bytes.len())?.copy_from_slice(&bytes);
                Ok(to_i32(bytes.len()))
            })()))
        },
    )?;
    linker.func_wrap(
        HOST_MODULE,
        "reveal_metadata",
        |mut c: HostCaller<'_>, dst: i32, max: i32| -> wasmtime::Result<i32> {
            let m = memory(&mut c)?;
            let (mem, host) = m.data_and_store_mut(&mut c);
            Ok(code((|| {
                let meta = host.reveal_metadata();
                let max = usize::try_from(max).map_err(|_| HostError::MemoryInvalidAccess)?;
                let n = meta.len().min(max);
                guest_mut(mem, dst, n)?.copy_from_slice(meta.get(..n).unwrap_or_default());
                Ok(to_i32(n))
            })()))
        },
    )?;
    Ok(())
}

/// The names the rollup host provides under [`HOST_MODULE`].
pub const HOST_FUNCTIONS: [&str; 14] = [
    "read_input",
    "write_output",
    "write_debug",
    "store_has",
    "store_read",
    "store_write",
    "store_delete",
    "store_delete_value",
    "store_list_size",
    "store_move",
    "store_copy",
    "reveal_preimage",
    "store_value_size",
    "reveal_metadata",
];

/// A compiled kernel, ready to instantiate.
struct Compiled {
    code: Arc<Vec<u8>>,
    pre: InstancePre<HostState>,
}

/// Runs the kernel stored at `/kernel/boot.wasm` in wasmtime.
pub struct WasmKernel {
    engine: Engine,
    linker: Linker<HostState>,
    compiled: Option<Compiled>,
}

impl WasmKernel {
    /// A wasmtime engine with fuel metering and WebAssembly 1.0 only, as the
    /// PVM runs.
    pub fn new() -> Result<Self, WasmError> {
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .cranelift_nan_canonicalization(true)
            .wasm_simd(false)
            .wasm_relaxed_simd(false)
            .wasm_multi_memory(false)
            .wasm_bulk_memory(false)
            .wasm_multi_value(false)
            .wasm_tail_call(false)
            .wasm_extended_const(false)
            .wasm_memory64(false);
        let engine = Engine::new(&config).map_err(|e| WasmError::Engine(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        link(&mut linker).map_err(|e| WasmError::Engine(e.to_string()))?;
        Ok(WasmKernel {
            engine,
            linker,
            compiled: None,
        })
    }

    /// Compiles `code` and checks that it is a kernel this host can run.
    pub fn check(&self, code: &[u8]) -> Result<(), WasmError> {
        self.compile(code).map(|_| ())
    }

    fn compile(&self, code: &[u8]) -> Result<InstancePre<HostState>, WasmError> {
        let module =
            Module::new(&self.engine, code).map_err(|e| WasmError::Invalid(e.to_string()))?;
        for import in module.imports() {
            if import.module() != HOST_MODULE || !HOST_FUNCTIONS.contains(&import.name()) {
                return Err(WasmError::UnknownImport {
                    module: import.module().to_owned(),
                    name: import.name().to_owned(),
                });
            }
        }
        let exports: Vec<&str> = module.exports().map(|e| e.name()).collect();
        if !exports.contains(&ENTRYPOINT) {
            return Err(WasmError::MissingExport(ENTRYPOINT));
        }
        if !exports.contains(&"memory") {
            return Err(WasmError::MissingExport("memory"));
        }
        self.linker
            .instantiate_pre(&module)
            .map_err(|e| WasmError::Invalid(e.to_string()))
    }

    /// The compiled form of the code in `state`, compiled again only when the
    /// code changed.
    fn prepare(&mut self, state: &HostState) -> Result<InstancePre<HostState>, String> {
        let code = state
            .durable
            .value(&key(KERNEL_BOOT))
            .cloned()
            .ok_or_else(|| format!("no kernel at {KERNEL_BOOT}"))?;
        if let Some(c) = &self.compiled {
            if Arc::ptr_eq(&c.code, &code) || c.code == code {
                return Ok(c.pre.clone());
            }
        }
        let pre = self.compile(&code).map_err(|e| e.to_string())?;
        self.compiled = Some(Compiled {
            code,
            pre: pre.clone(),
        });
        Ok(pre)
    }

    fn call(
        &self,
        pre: &InstancePre<HostState>,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<()> {
        let instance = pre.instantiate(&mut *store)?;
        let run = instance.get_typed_func::<(), ()>(&mut *store, ENTRYPOINT)?;
        run.call(&mut *store, ())
    }
}

impl Kernel for WasmKernel {
    fn run(&mut self, state: &mut HostState, fuel: u64) -> (RunEnd, u64) {
        let pre = match self.prepare(state) {
            Ok(pre) => pre,
            Err(reason) => return (RunEnd::Trapped(reason), 0),
        };
        let mut store = Store::new(&self.engine, std::mem::take(state));
        let result = store
            .set_fuel(fuel)
            .and_then(|()| self.call(&pre, &mut store));
        let left = store.get_fuel().unwrap_or(0);
        *state = store.into_data();
        let used = fuel.saturating_sub(left);
        match result {
            Ok(()) => (RunEnd::Completed, used),
            Err(e) if e.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) => {
                (RunEnd::OutOfTicks, used)
            }
            Err(e) => (RunEnd::Trapped(format!("{e:#}")), used),
        }
    }

    fn describe(&self) -> String {
        "kernel.wasm in wasmtime".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_that_are_not_kernels_are_refused() {
        let k = WasmKernel::new().unwrap();
        assert!(matches!(k.check(b"not wasm"), Err(WasmError::Invalid(_))));
        // (module) with no exports.
        let empty = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
        assert!(matches!(
            k.check(&empty),
            Err(WasmError::MissingExport("kernel_run"))
        ));
    }
}
