//! State shared by the tracer, the workers and the signal thread.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering};

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
    /// Whether exec calls stop at their entry for a check: with no exec, read or hide rule to
    /// apply there is nothing to check, and the exec event only updates the tracer's records.
    pub exec_checked: bool,
    /// Processes killed because an exec or chdir did not match what was checked.
    pub post_validation_kills: std::sync::atomic::AtomicUsize,
    /// Counts of trapped calls and tracer stops, printed with `--verbose` at the end.
    pub stats: Stats,
    /// Procfs handles of the threads that made calls, reused by their next calls.
    pub proc_dirs: crate::caller::ProcDirs,
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

/// Counts of the work the supervisor did, for `--verbose` and the benchmarks.
pub struct Stats {
    /// Notifications served, by system call number.
    notifications: Vec<AtomicU64>,
    /// Stops the tracer handled (seccomp, exec, fork, signal and exit stops).
    tracer_stops: AtomicU64,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats { notifications: (0..=crate::filter::MAX_SYSCALL).map(|_| AtomicU64::new(0)).collect(), tracer_stops: AtomicU64::new(0) }
    }
}

impl Stats {
    pub fn count_notification(&self, nr: i64) {
        if let Some(counter) = usize::try_from(nr).ok().and_then(|nr| self.notifications.get(nr)) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn count_tracer_stop(&self) {
        self.tracer_stops.fetch_add(1, Ordering::Relaxed);
    }

    /// One line: the total of trapped calls, the counts by call (largest first) and the tracer stops.
    pub fn summary(&self) -> String {
        let mut counts: Vec<(u64, &str)> = crate::filter::SYSCALLS
            .iter()
            .filter_map(|syscall| {
                let count = self.notifications.get(syscall.number as usize)?.load(Ordering::Relaxed);
                (count > 0).then_some((count, syscall.name))
            })
            .collect();
        counts.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        let total: u64 = counts.iter().map(|(count, _)| count).sum();
        let by_call: Vec<String> = counts.iter().map(|(count, name)| format!("{name} {count}")).collect();
        format!("trapped calls: {total} ({}); tracer stops: {}", by_call.join(", "), self.tracer_stops.load(Ordering::Relaxed))
    }
}
