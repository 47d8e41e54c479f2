//! The calling thread of a notification: its procfs handle, credentials, memory and the
//! credentials a worker adopts to act on its behalf.

use std::collections::HashMap;
use std::ffi::CStr;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use cordon_sys::{creds, fs, process};

/// Maximum length of a path argument including its terminating NUL (`PATH_MAX`).
pub const PATH_MAX: usize = libc::PATH_MAX as usize;

/// Identity and credentials of a sandboxed thread, read from `/proc/TID/status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub ruid: u32,
    pub euid: u32,
    pub fsuid: u32,
    pub rgid: u32,
    pub egid: u32,
    pub fsgid: u32,
    pub groups: Vec<u32>,
    pub effective_caps: u64,
    /// The umask, read only for calls that may create a file: `umask` changes it for every
    /// thread sharing the fs attributes at once, so it is never served from a cache.
    pub umask: Option<u32>,
}

/// A thread that sent a notification, pinned by a handle on its `/proc/TID` directory.
pub struct Caller {
    pub tid: libc::pid_t,
    pub tgid: libc::pid_t,
    /// The caller's own view of its tid and tgid (the last `NSpid`/`NStgid` values), which
    /// differ from `tid` and `tgid` inside a pid namespace (`--without-ptrace`).
    pub own_view: (libc::pid_t, libc::pid_t),
    /// `/proc/TID`, opened before the notification was validated: every later lookup of the
    /// thread's root, cwd, fds and status goes through it, so a recycled pid cannot redirect it.
    pub proc_dir: Arc<ProcHandles>,
    pub credentials: Credentials,
}

impl Caller {
    /// Opens the thread's procfs directory and reads its status. The caller must check
    /// `SECCOMP_IOCTL_NOTIF_ID_VALID` afterwards before trusting anything read here.
    pub fn open(tid: libc::pid_t) -> io::Result<Caller> {
        Caller::with_dir(tid, Arc::new(ProcHandles::open(tid)?))
    }

    /// Opens the caller like [`Caller::open`], reusing the thread's procfs handle from `dirs`
    /// and, unless the call needs the umask, the credentials last read through it. A handle
    /// stays bound to the task it was opened for. A kept handle of a thread that has exited
    /// therefore fails to read the status or identity, and the handle is opened again.
    pub fn open_cached(tid: libc::pid_t, dirs: &ProcDirs, needs_umask: bool) -> io::Result<Caller> {
        if let Some(dir) = dirs.get(tid) {
            if !needs_umask {
                if let Some(caller) = Caller::from_known(tid, &dir) {
                    return Ok(caller);
                }
            }
            if let Ok(caller) = Caller::with_dir(tid, dir) {
                return Ok(caller);
            }
            dirs.forget(tid);
        }
        let generation = dirs.generation();
        let dir = Arc::new(ProcHandles::open(tid)?);
        let caller = Caller::with_dir(tid, Arc::clone(&dir))?;
        dirs.insert(tid, dir, generation);
        Ok(caller)
    }

    fn with_dir(tid: libc::pid_t, proc_dir: Arc<ProcHandles>) -> io::Result<Caller> {
        let status = proc_dir.read_status()?;
        let Status { tgid, credentials, own_view } = parse_status(&status).ok_or_else(|| io::Error::from_raw_os_error(libc::EIO))?;
        let own_view = own_view.unwrap_or((tid, tgid));
        proc_dir.remember(Known { tgid, own_view, credentials: Credentials { umask: None, ..credentials.clone() } });
        Ok(Caller { tid, tgid, own_view, proc_dir, credentials })
    }

    /// Builds the caller from the identity remembered in its handle, without reading the
    /// status. The thread's pidfd proves that the task is still alive, because a handle of an
    /// exited thread whose tid was reused must not lend its credentials. The kernel's ids of
    /// the task must equal the remembered ones. The groups and capabilities are trusted:
    /// every call that changes them is notified, and the identity is dropped before it runs
    /// ([`ProcDirs::credentials_changing`]).
    fn from_known(tid: libc::pid_t, proc_dir: &Arc<ProcHandles>) -> Option<Caller> {
        let known = proc_dir.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()?;
        let info = process::pidfd_info(proc_dir.pidfd().ok()?).ok()?;
        let ids = &known.credentials;
        let same = info.tgid == known.tgid
            && (info.ruid, info.euid, info.fsuid) == (ids.ruid, ids.euid, ids.fsuid)
            && (info.rgid, info.egid, info.fsgid) == (ids.rgid, ids.egid, ids.fsgid);
        if !same {
            return None;
        }
        Some(Caller { tid, tgid: known.tgid, own_view: known.own_view, proc_dir: Arc::clone(proc_dir), credentials: known.credentials })
    }

    /// Returns the device number of the thread's controlling terminal, if it has one.
    pub fn controlling_tty(&self) -> io::Result<Option<u64>> {
        let stat = read_small_file(self.proc_dir.as_fd(), c"stat")?;
        // The command name (field 2) is in parentheses and may contain spaces; fields after
        // the last ')' are: state, ppid, pgrp, session, tty_nr.
        let close = stat.iter().rposition(|&b| b == b')').ok_or_else(|| io::Error::from_raw_os_error(libc::EIO))?;
        let rest = String::from_utf8_lossy(&stat[close + 1..]);
        let tty: i64 = rest.split_whitespace().nth(4).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok((tty != 0).then_some(tty as u64))
    }
}

/// A thread's `/proc/TID` directory and its open `status` file. Both stay bound to the task
/// they were opened for: once it has exited, reading `status` fails.
pub struct ProcHandles {
    dir: OwnedFd,
    status: OwnedFd,
    /// A pidfd of the thread (`PIDFD_THREAD`, Linux 6.9), opened together with the directory,
    /// so both refer to the same task. `None` when the kernel cannot open one.
    pidfd: Option<OwnedFd>,
    /// The identity last read from `status`, without the umask.
    known: Mutex<Option<Known>>,
}

/// The identity read from a thread's status, kept between its calls.
#[derive(Clone)]
struct Known {
    tgid: libc::pid_t,
    own_view: (libc::pid_t, libc::pid_t),
    credentials: Credentials,
}

impl ProcHandles {
    fn open(tid: libc::pid_t) -> io::Result<ProcHandles> {
        let path = format!("/proc/{tid}\0");
        let path = CStr::from_bytes_with_nul(path.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let dir = fs::openat(fs::cwd(), path, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)?;
        let status = fs::openat(dir.as_fd(), c"status", libc::O_RDONLY | libc::O_CLOEXEC, 0)?;
        let pidfd = match process::pidfd_open(tid, process::PIDFD_THREAD) {
            Ok(pidfd) => Some(pidfd),
            Err(error) => {
                tracing::debug!(tid, %error, "cannot open a pidfd of the thread");
                None
            }
        };
        Ok(ProcHandles { dir, status, pidfd, known: Mutex::new(None) })
    }

    /// Returns the thread's pidfd, bound to the task like the other handles. The handles are
    /// opened before the notification is validated, so the validation proves that the tid
    /// named the calling thread when they were opened.
    pub fn pidfd(&self) -> io::Result<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(AsFd::as_fd).ok_or_else(|| io::Error::from_raw_os_error(libc::ENOSYS))
    }

    fn remember(&self, known: Known) {
        *self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(known);
    }

    fn forget_identity(&self) {
        *self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }

    /// Reads the current `status`: a read from offset 0 makes procfs produce the file afresh,
    /// and it produces the whole file in one read when it fits the buffer.
    fn read_status(&self) -> io::Result<Vec<u8>> {
        let mut contents = vec![0u8; 8192];
        let count = process::read_from_start(self.status.as_fd(), &mut contents)?;
        if count == 0 {
            // The task has exited.
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        if count == contents.len() {
            return read_small_file(self.dir.as_fd(), c"status");
        }
        contents.truncate(count);
        Ok(contents)
    }
}

impl AsFd for ProcHandles {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.dir.as_fd()
    }
}

/// Procfs handles of sandboxed threads, kept between their calls. The tracer removes a
/// thread's handle when it exits or execs. An insertion that raced with a removal is dropped,
/// because the generation counter moved.
pub struct ProcDirs {
    dirs: RwLock<HashMap<libc::pid_t, Arc<ProcHandles>>>,
    generation: AtomicU64,
    /// Without a tracer no exits are reported, so no handle is kept.
    enabled: bool,
}

/// Handles kept at most (three fds each), so that many threads cannot exhaust the
/// supervisor's fds.
const MAX_PROC_DIRS: usize = 64;

impl ProcDirs {
    pub fn new(enabled: bool) -> ProcDirs {
        ProcDirs { dirs: RwLock::new(HashMap::new()), generation: AtomicU64::new(0), enabled }
    }

    fn get(&self, tid: libc::pid_t) -> Option<Arc<ProcHandles>> {
        let dirs = self.dirs.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        dirs.get(&tid).cloned()
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn insert(&self, tid: libc::pid_t, dir: Arc<ProcHandles>, generation: u64) {
        if !self.enabled {
            return;
        }
        let mut dirs = self.dirs.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.generation.load(Ordering::SeqCst) == generation && dirs.len() < MAX_PROC_DIRS {
            dirs.insert(tid, dir);
        }
    }

    /// Drops the identity remembered for `tid`, which is about to change its credentials
    /// (a call of the setuid family, `setgroups` or `capset`, still blocked in the filter).
    /// A thread's credentials change only by its own calls, and the thread cannot make another
    /// call until this one returns, so no worker can remember the old identity again.
    pub fn credentials_changing(&self, tid: libc::pid_t) {
        if let Some(dir) = self.get(tid) {
            dir.forget_identity();
        }
    }

    /// Drops the handle of `tid` (the thread exited, execed, or its handle went stale).
    pub fn forget(&self, tid: libc::pid_t) {
        let mut dirs = self.dirs.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        dirs.remove(&tid);
    }
}

fn read_small_file(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Vec<u8>> {
    let fd = fs::openat(dir, name, libc::O_RDONLY | libc::O_CLOEXEC, 0)?;
    let mut contents = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    loop {
        let count = process::read_fd(fd.as_fd(), &mut chunk)?;
        if count == 0 {
            return Ok(contents);
        }
        contents.extend_from_slice(&chunk[..count]);
    }
}

/// The fields of `/proc/TID/status` the supervisor needs.
struct Status {
    tgid: libc::pid_t,
    credentials: Credentials,
    /// The innermost (last) `NSpid` and `NStgid` values.
    own_view: Option<(libc::pid_t, libc::pid_t)>,
}

/// Extracts the thread group id, credentials and namespace ids from `/proc/TID/status`, in
/// one pass over the lines as bytes: the `Name` line contains the thread's name as raw bytes,
/// cut to 15 bytes, so the text need not be UTF-8, and only the numeric lines are read.
fn parse_status(status: &[u8]) -> Option<Status> {
    let mut tgid = None;
    let (mut uids, mut gids, mut groups, mut caps, mut umask) = (None, None, Vec::new(), None, None);
    let (mut ns_pid, mut ns_tgid) = (None, None);
    for line in status.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        let key = &line[..colon];
        if !matches!(key, b"Tgid" | b"Uid" | b"Gid" | b"Groups" | b"CapEff" | b"Umask" | b"NSpid" | b"NStgid") {
            continue;
        }
        let value = std::str::from_utf8(&line[colon + 1..]).ok()?.trim();
        let last = || value.split_ascii_whitespace().last()?.parse::<libc::pid_t>().ok();
        match key {
            b"Tgid" => tgid = value.parse().ok(),
            b"Uid" => uids = parse_four(value),
            b"Gid" => gids = parse_four(value),
            b"Groups" => groups = value.split_ascii_whitespace().filter_map(|g| g.parse().ok()).collect(),
            b"CapEff" => caps = u64::from_str_radix(value, 16).ok(),
            b"Umask" => umask = u32::from_str_radix(value, 8).ok(),
            b"NSpid" => ns_pid = last(),
            _ => ns_tgid = last(),
        }
    }
    let (uids, gids) = (uids?, gids?);
    let credentials = Credentials {
        ruid: uids[0],
        euid: uids[1],
        fsuid: uids[3],
        rgid: gids[0],
        egid: gids[1],
        fsgid: gids[3],
        groups,
        effective_caps: caps?,
        umask: Some(umask?),
    };
    let own_view = ns_pid.zip(ns_tgid);
    Some(Status { tgid: tgid?, credentials, own_view })
}

fn parse_four(value: &str) -> Option<[u32; 4]> {
    let mut ids = value.split_ascii_whitespace().map(|v| v.parse::<u32>());
    Some([ids.next()?.ok()?, ids.next()?.ok()?, ids.next()?.ok()?, ids.next()?.ok()?])
}

/// The reason a string argument could not be copied out of the caller.
#[derive(Debug)]
pub enum CopyError {
    /// The address is not readable: `EFAULT`.
    Fault,
    /// No NUL within `PATH_MAX` bytes: `ENAMETOOLONG`.
    TooLong,
    /// The supervisor may not read the caller's memory (a non-dumpable process).
    Denied(io::Error),
}

/// Copies a NUL-terminated path out of the caller's memory, exactly once, page by page so
/// that a string ending just before unmapped memory is still read.
pub fn read_path(tid: libc::pid_t, address: u64) -> Result<Vec<u8>, CopyError> {
    const PAGE: u64 = 4096;
    let mut path = Vec::with_capacity(256);
    let mut cursor = address;
    while path.len() < PATH_MAX {
        let page_left = (PAGE - cursor % PAGE) as usize;
        let want = page_left.min(PATH_MAX - path.len());
        let mut chunk = [0u8; PAGE as usize];
        let count = match process::read_memory(tid, cursor, &mut chunk[..want]) {
            Ok(0) => return Err(CopyError::Fault),
            Ok(count) => count,
            Err(error) if error.raw_os_error() == Some(libc::EFAULT) => return Err(CopyError::Fault),
            Err(error) => return Err(CopyError::Denied(error)),
        };
        if let Some(end) = chunk[..count].iter().position(|&b| b == 0) {
            path.extend_from_slice(&chunk[..end]);
            return Ok(path);
        }
        path.extend_from_slice(&chunk[..count]);
        cursor += count as u64;
    }
    Err(CopyError::TooLong)
}

/// Copies `length` bytes of a structure argument out of the caller.
pub fn read_struct(tid: libc::pid_t, address: u64, length: usize) -> Result<Vec<u8>, CopyError> {
    let mut buffer = vec![0u8; length];
    match process::read_memory(tid, address, &mut buffer) {
        Ok(count) if count == length => Ok(buffer),
        Ok(_) => Err(CopyError::Fault),
        Err(error) if error.raw_os_error() == Some(libc::EFAULT) => Err(CopyError::Fault),
        Err(error) => Err(CopyError::Denied(error)),
    }
}

/// The worker's own credentials, captured once per worker thread and restored after each call.
pub struct Own {
    fsuid: u32,
    fsgid: u32,
    groups: Vec<u32>,
    caps: creds::Capabilities,
    umask: u32,
}

impl Own {
    pub fn capture() -> io::Result<Own> {
        let (_, euid, _, egid) = creds::ids();
        let groups = own_groups()?;
        let caps = creds::capabilities()?;
        Ok(Own { fsuid: euid, fsgid: egid, groups, caps, umask: creds::umask() })
    }
}

fn own_groups() -> io::Result<Vec<u32>> {
    let status = std::fs::read_to_string("/proc/thread-self/status")?;
    Ok(status
        .lines()
        .find_map(|line| line.strip_prefix("Groups:"))
        .map(|groups| groups.split_whitespace().filter_map(|g| g.parse().ok()).collect())
        .unwrap_or_default())
}

/// The caller's credentials adopted by a worker thread; dropping it restores the worker's own.
pub struct Adopted<'a> {
    own: &'a mut Own,
    changed: bool,
}

/// Makes the calling worker thread act with `caller`'s fsuid, fsgid, groups, effective
/// capabilities (never more than the worker has) and umask. Fails closed: when the worker
/// cannot take on an identity (an unprivileged supervisor and a caller with other ids), the
/// call is refused rather than performed with the supervisor's identity.
pub fn adopt<'a>(own: &'a mut Own, caller: &Credentials) -> io::Result<Adopted<'a>> {
    // Without the caller's umask (a call that creates nothing), files would be created
    // with no permission bits rather than with another caller's umask.
    let umask = caller.umask.unwrap_or(0o777);
    if own.umask != umask {
        creds::set_umask(umask);
        own.umask = umask;
    }
    let same = caller.fsuid == own.fsuid
        && caller.fsgid == own.fsgid
        && caller.groups == own.groups
        && caller.effective_caps == own.caps.effective;
    if same {
        return Ok(Adopted { own, changed: false });
    }
    let adopted = Adopted { own, changed: true };
    if caller.groups != adopted.own.groups {
        creds::set_groups(&caller.groups)?;
    }
    if !creds::set_fsgid(caller.fsgid) || !creds::set_fsuid(caller.fsuid) {
        return Err(io::Error::from_raw_os_error(libc::EPERM));
    }
    // Changing fsuid away from 0 clears the file-system capabilities from the effective set.
    // Set it explicitly to what the caller has, bounded by what the worker is permitted.
    let caps = creds::Capabilities {
        effective: caller.effective_caps & adopted.own.caps.permitted,
        ..adopted.own.caps
    };
    creds::set_capabilities(caps)?;
    Ok(adopted)
}

impl Drop for Adopted<'_> {
    fn drop(&mut self) {
        if !self.changed {
            return;
        }
        let own = &*self.own;
        // Capabilities first: setgroups needs CAP_SETGID, which the caller may not have had.
        let restored = creds::set_capabilities(own.caps).is_ok()
            && creds::set_groups(&own.groups).is_ok()
            && creds::set_fsgid(own.fsgid)
            && creds::set_fsuid(own.fsuid);
        if !restored {
            // A worker that cannot return to its own identity would serve the next caller with
            // the wrong one. Stopping the supervisor kills the sandbox, so this fails closed.
            tracing::error!("worker could not restore its credentials; stopping the sandbox");
            std::process::abort();
        }
    }
}

/// Borrowed handle helper for call sites that need the caller's proc dir.
impl AsFd for Caller {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.proc_dir.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_with_cut_name_parses() {
        let status = b"Name:\tabcdefghijklmn\xc3\nUmask:\t0027\nState:\tR (running)\nTgid:\t41\nPid:\t42\nUid:\t1000\t1001\t1002\t1003\nGid:\t2000\t2001\t2002\t2003\nGroups:\t4 24 27 \nNStgid:\t41\t7\nNSpid:\t42\t8\nCapEff:\t0000000000000400\n";
        let parsed = parse_status(status).expect("parses");
        assert_eq!(parsed.tgid, 41);
        assert_eq!(parsed.own_view, Some((8, 7)));
        assert_eq!((parsed.credentials.ruid, parsed.credentials.euid, parsed.credentials.fsuid), (1000, 1001, 1003));
        assert_eq!((parsed.credentials.rgid, parsed.credentials.egid, parsed.credentials.fsgid), (2000, 2001, 2003));
        assert_eq!(parsed.credentials.groups, vec![4, 24, 27]);
        assert_eq!(parsed.credentials.effective_caps, 0x400);
        assert_eq!(parsed.credentials.umask, Some(0o027));
    }

    #[test]
    fn status_without_credentials_fails() {
        assert!(parse_status(b"Name:\tx\nTgid:\t1\n").is_none());
    }
}
