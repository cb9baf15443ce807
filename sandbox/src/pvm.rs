//! One inbox level as the WASM PVM runs it: the kernel runs, and runs again
//! while it sets the reboot flag (up to 1,000 reboots), with the PVM's
//! read-only flags telling it how the previous run ended.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::host::{
    HostState, REBOOT_COUNTER, REBOOT_FLAG, STUCK_FLAG, TOO_MANY_REBOOT_FLAG, WASM_VERSION,
    WASM_VERSION_VALUE,
};
use crate::native::NativeHost;

/// Reboots a kernel may ask for within one level.
pub const MAX_REBOOTS: i32 = 1_000;

/// Ticks (fuel) one kernel run may use before the PVM stops it, as the WASM
/// PVM's limit per `kernel_run`.
pub const TICKS_PER_RUN: u64 = 11_000_000_000;

/// How one run of the kernel ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    /// `kernel_run` returned.
    Completed,
    /// The kernel trapped (or, natively, panicked).
    Trapped(String),
    /// The kernel used all the ticks a run may take.
    OutOfTicks,
}

/// A kernel the sandbox can run.
pub trait Kernel: Send {
    /// Runs the kernel once over `state`, within `fuel`; returns how the
    /// run ended and the fuel it used (0 where fuel is not metered).
    fn run(&mut self, state: &mut HostState, fuel: u64) -> (RunEnd, u64);

    /// What the kernel is, for logs and `/version`.
    fn describe(&self) -> String;
}

/// The kernel linked into the sandbox, called with a [`NativeHost`].
pub struct NativeKernel {
    entry: fn(&mut NativeHost),
}

impl NativeKernel {
    /// The kernel whose entry point is `entry`, such as
    /// `pledgeroll_kernel::run::<NativeHost>`.
    pub fn new(entry: fn(&mut NativeHost)) -> Self {
        NativeKernel { entry }
    }

    /// The pledgeroll kernel.
    pub fn pledgeroll() -> Self {
        Self::new(pledgeroll_kernel::run::<NativeHost>)
    }
}

impl Kernel for NativeKernel {
    fn run(&mut self, state: &mut HostState, _fuel: u64) -> (RunEnd, u64) {
        let mut host = NativeHost {
            state: std::mem::take(state),
        };
        let entry = self.entry;
        let result = catch_unwind(AssertUnwindSafe(|| entry(&mut host)));
        *state = host.state;
        match result {
            Ok(()) => (RunEnd::Completed, 0),
            Err(panic) => {
                let reason = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "the kernel panicked".to_owned());
                (RunEnd::Trapped(reason), 0)
            }
        }
    }

    fn describe(&self) -> String {
        "native pledgeroll-kernel".to_owned()
    }
}

/// What a level's runs produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LevelRun {
    /// Ticks (wasm fuel) the level used.
    pub ticks: u64,
    /// How many times the kernel ran.
    pub runs: u32,
    /// Why runs failed, if any did.
    pub failures: Vec<String>,
    /// The outbox messages the level wrote.
    pub outbox: Vec<Vec<u8>>,
}

/// Sets the PVM's own values that every level finds in place.
pub fn install_pvm_values(state: &mut HostState) {
    state.set_pvm_value(WASM_VERSION, WASM_VERSION_VALUE.as_bytes().to_vec());
}

/// Runs inbox level `level` with `inbox`: the kernel runs until it stops
/// asking for a reboot, at most [`MAX_REBOOTS`] times more, or until a run
/// uses all its ticks. What is left of the inbox then is dropped.
pub fn run_level(
    kernel: &mut dyn Kernel,
    state: &mut HostState,
    level: u32,
    inbox: Arc<Vec<Vec<u8>>>,
) -> LevelRun {
    state.begin_level(level, inbox);
    let mut out = LevelRun::default();
    let mut reboots_left = MAX_REBOOTS;
    loop {
        state.set_pvm_value(REBOOT_COUNTER, reboots_left.to_le_bytes().to_vec());
        let (end, fuel) = kernel.run(state, TICKS_PER_RUN);
        out.ticks = out.ticks.saturating_add(fuel);
        out.runs += 1;
        match end {
            RunEnd::Completed => state.remove_pvm_key(STUCK_FLAG),
            RunEnd::Trapped(reason) => {
                tracing::warn!(level, "the kernel failed: {reason}");
                state.set_pvm_value(STUCK_FLAG, Vec::new());
                out.failures.push(reason);
            }
            RunEnd::OutOfTicks => {
                tracing::warn!(
                    level,
                    "the kernel ran out of ticks; the rest of the level is skipped"
                );
                state.set_pvm_value(STUCK_FLAG, Vec::new());
                state.remove_pvm_key(REBOOT_FLAG);
                out.failures
                    .push(format!("out of ticks after {TICKS_PER_RUN} ticks"));
                break;
            }
        }
        if state.reboot_requested() {
            state.remove_pvm_key(REBOOT_FLAG);
            if reboots_left > 0 {
                reboots_left -= 1;
                continue;
            }
            tracing::warn!(
                level,
                "the kernel asked for more than {MAX_REBOOTS} reboots; the level ends"
            );
            state.set_pvm_value(TOO_MANY_REBOOT_FLAG, Vec::new());
            break;
        }
        state.remove_pvm_key(TOO_MANY_REBOOT_FLAG);
        break;
    }
    state.skip_inbox();
    out.outbox = state.take_outbox();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::durable::Tree;
    use tezos_smart_rollup_host::path::RefPath;
    use tezos_smart_rollup_host::runtime::Runtime;

    const COUNT: RefPath<'static> = RefPath::assert_from(b"/count");

    /// Counts its runs and asks for a reboot until it has run `n` times in
    /// the level, reading one message a run.
    fn rebooting(host: &mut NativeHost) {
        let runs = host
            .store_read_all(&COUNT)
            .map(|v| v.first().copied().unwrap_or(0))
            .unwrap_or(0);
        let _ = host.read_input();
        host.store_write_all(&COUNT, &[runs.wrapping_add(1)])
            .unwrap();
        let target = host
            .store_read_all(&RefPath::assert_from(b"/target"))
            .unwrap()[0];
        if runs.wrapping_add(1) < target {
            host.mark_for_reboot().unwrap();
        }
    }

    fn panicking(host: &mut NativeHost) {
        host.store_write_all(&COUNT, &[1]).unwrap();
        panic!("boom");
    }

    fn state_with_target(n: u8) -> HostState {
        let mut s = HostState::new(Tree::new(), [1; 20], 0);
        s.store_write(b"/target", 0, &[n]).unwrap();
        s
    }

    #[test]
    fn the_kernel_reboots_within_the_level_while_it_asks() {
        let mut state = state_with_target(3);
        let mut k = NativeKernel::new(rebooting);
        let run = run_level(&mut k, &mut state, 2, Arc::new(vec![vec![1]; 5]));
        assert_eq!(run.runs, 3);
        assert_eq!(state.store_read(b"/count", 0, 1), Ok(&[3u8][..]));
        assert!(!state.reboot_requested());
        // The third run saw two reboots used.
        assert_eq!(
            state.store_read(REBOOT_COUNTER.as_bytes(), 0, 4),
            Ok(&(MAX_REBOOTS - 2).to_le_bytes()[..])
        );
    }

    #[test]
    fn too_many_reboots_end_the_level_and_set_the_flag() {
        let mut state = state_with_target(255);
        state.store_write(b"/count", 0, &[0]).unwrap();
        fn forever(host: &mut NativeHost) {
            host.mark_for_reboot().unwrap();
        }
        let mut k = NativeKernel::new(forever);
        let run = run_level(&mut k, &mut state, 2, Arc::new(vec![]));
        assert_eq!(run.runs, MAX_REBOOTS as u32 + 1);
        assert_eq!(state.store_has(TOO_MANY_REBOOT_FLAG.as_bytes()), Ok(1));
        // A level that ends normally clears it.
        let mut k = NativeKernel::new(rebooting);
        state.store_write(b"/target", 0, &[1]).unwrap();
        run_level(&mut k, &mut state, 3, Arc::new(vec![]));
        assert_eq!(state.store_has(TOO_MANY_REBOOT_FLAG.as_bytes()), Ok(0));
    }

    #[test]
    fn a_failed_run_keeps_its_writes_and_flags_the_next_run() {
        let mut state = state_with_target(1);
        let mut k = NativeKernel::new(panicking);
        let run = run_level(&mut k, &mut state, 2, Arc::new(vec![]));
        assert_eq!(run.failures, vec!["boom".to_owned()]);
        assert_eq!(state.store_has(STUCK_FLAG.as_bytes()), Ok(1));
        assert_eq!(state.store_read(b"/count", 0, 1), Ok(&[1u8][..]));
        let mut k = NativeKernel::new(rebooting);
        run_level(&mut k, &mut state, 3, Arc::new(vec![]));
        assert_eq!(state.store_has(STUCK_FLAG.as_bytes()), Ok(0));
    }
}
