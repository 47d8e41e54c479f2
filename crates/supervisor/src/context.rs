//! State shared by the tracer, the workers and the signal thread.

use std::os::fd::OwnedFd;

use cordon_policy::Policy;

use crate::members::Members;
use crate::report::Reporter;

/// The terminal cordon was started on, which the sandbox may reopen as `/dev/tty`.
pub struct Terminal {
    pub rdev: u64,
    pub fd: OwnedFd,
}

pub struct Context {
    pub policy: Policy,
    pub members: Members,
    pub reporter: Reporter,
    pub terminal: Option<Terminal>,
    /// Processes (thread groups) the sandbox may have alive at once.
    pub max_processes: Option<usize>,
    /// Set when `--timeout` expired and the sandbox was killed.
    pub timed_out: std::sync::atomic::AtomicBool,
    /// Processes killed because an exec or chdir did not match what was checked.
    pub post_validation_kills: std::sync::atomic::AtomicUsize,
    /// Without ptrace: cordon's init process of the sandbox's pid namespace, whose death
    /// makes the kernel kill every process in the namespace.
    pub namespace_init: Option<libc::pid_t>,
}

impl Context {
    /// Kills every process of the sandbox (a `kill` rule matched, or the sandbox must end).
    pub fn kill_sandbox(&self) {
        if let Some(init) = self.namespace_init {
            let _ = cordon_sys::process::kill(init, libc::SIGKILL);
        }
        for tid in self.members.snapshot() {
            // ESRCH only means the thread is already gone.
            let _ = cordon_sys::process::kill(tid, libc::SIGKILL);
        }
    }
}
