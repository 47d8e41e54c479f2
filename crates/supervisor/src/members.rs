//! The set of live sandbox threads, maintained by the tracer from fork, clone, exec and exit
//! events. It is the only source of truth for "is this pid part of the sandbox": procfs access
//! to a pid outside it is refused, whatever the policy allows.

use std::collections::HashSet;
use std::sync::RwLock;

#[derive(Default)]
pub struct Members {
    tids: RwLock<HashSet<libc::pid_t>>,
    /// Without ptrace there are no fork events to follow: the sandbox is then the pid
    /// namespace cordon created, named by its `/proc/PID/ns/pid` link, minus its init.
    namespace: Option<(Vec<u8>, libc::pid_t)>,
}

impl Members {
    /// Members defined by a pid namespace (`--without-ptrace`): every process in it except
    /// cordon's own init process `init`.
    pub fn of_namespace(link: Vec<u8>, init: libc::pid_t) -> Members {
        Members { tids: RwLock::default(), namespace: Some((link, init)) }
    }

    pub fn insert(&self, tid: libc::pid_t) {
        self.write().insert(tid);
    }

    pub fn remove(&self, tid: libc::pid_t) {
        self.write().remove(&tid);
    }

    pub fn contains(&self, tid: libc::pid_t) -> bool {
        if let Some((link, init)) = &self.namespace {
            return tid != *init && std::fs::read_link(format!("/proc/{tid}/ns/pid")).is_ok_and(|target| {
                use std::os::unix::ffi::OsStrExt;
                target.as_os_str().as_bytes() == link.as_slice()
            });
        }
        self.read().contains(&tid)
    }

    pub fn snapshot(&self) -> Vec<libc::pid_t> {
        self.read().iter().copied().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    // A poisoned lock only means another thread panicked while holding it. The set itself is
    // always consistent (single inserts and removes), and panics abort the process anyway.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashSet<libc::pid_t>> {
        self.tids.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashSet<libc::pid_t>> {
        self.tids.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
