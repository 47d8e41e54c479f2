//! Processes: fork, pidfds, memory of other processes, waiting, signals and the steps a child
//! performs between fork and exec (none of which allocate).

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::{check, check_int};

/// `PIDFD_THREAD`: the pidfd refers to one thread, not its thread group (Linux 6.9).
pub const PIDFD_THREAD: u32 = libc::O_EXCL as u32;

/// The side of a `fork` the caller is on.
pub enum Forked {
    Child,
    Parent { pid: libc::pid_t },
}

/// Forks the process.
///
/// # Safety
/// The caller must be single-threaded, or the child must restrict itself to async-signal-safe
/// operations until it execs: the child runs with a copy of every lock as it was at the fork.
pub unsafe fn fork() -> io::Result<Forked> {
    // SAFETY: forwarded to the caller's contract above.
    let pid = check_int(unsafe { libc::fork() })?;
    Ok(if pid == 0 { Forked::Child } else { Forked::Parent { pid } })
}

/// Opens a pidfd for a process (`flags == 0`) or a single thread (`PIDFD_THREAD`).
pub fn pidfd_open(pid: libc::pid_t, flags: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes two integers and returns a new fd that we own.
    let fd = check(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, flags) })?;
    // SAFETY: the kernel just returned this fd and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Identity of a task read through its pidfd (`PIDFD_GET_INFO`, Linux 6.13): ids as seen
/// from the supervisor's namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PidfdInfo {
    pub tgid: libc::pid_t,
    pub ruid: u32,
    pub euid: u32,
    pub fsuid: u32,
    pub rgid: u32,
    pub egid: u32,
    pub fsgid: u32,
}

/// `struct pidfd_info` in its first version (`PIDFD_INFO_SIZE_VER0`, 64 bytes).
#[repr(C)]
#[derive(Default)]
struct RawPidfdInfo {
    mask: u64,
    cgroupid: u64,
    pid: u32,
    tgid: u32,
    ppid: u32,
    ruid: u32,
    rgid: u32,
    euid: u32,
    egid: u32,
    suid: u32,
    sgid: u32,
    fsuid: u32,
    fsgid: u32,
    spare: u32,
}

const _: () = assert!(std::mem::size_of::<RawPidfdInfo>() == 64);

const PIDFD_INFO_PID: u64 = 1 << 0;
const PIDFD_INFO_CREDS: u64 = 1 << 1;
/// `_IOWR(PIDFS_IOCTL_MAGIC, 11, struct pidfd_info)`.
const PIDFD_GET_INFO: libc::c_ulong = 0xC040_FF0B;

/// Reads the thread group id and credentials of the task behind `pidfd`. Fails with `ESRCH`
/// once the task has exited, and with `ENOTTY` or `EINVAL` on kernels without the request.
pub fn pidfd_info(pidfd: BorrowedFd<'_>) -> io::Result<PidfdInfo> {
    let mut info = RawPidfdInfo { mask: PIDFD_INFO_PID | PIDFD_INFO_CREDS, ..RawPidfdInfo::default() };
    // SAFETY: the kernel writes at most size_of::<RawPidfdInfo>() bytes into the struct we own;
    // the request encodes that size.
    check_int(unsafe { libc::ioctl(pidfd.as_raw_fd(), PIDFD_GET_INFO, &mut info) })?;
    if info.mask & (PIDFD_INFO_PID | PIDFD_INFO_CREDS) != PIDFD_INFO_PID | PIDFD_INFO_CREDS {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    Ok(PidfdInfo {
        tgid: info.tgid as libc::pid_t,
        ruid: info.ruid,
        euid: info.euid,
        fsuid: info.fsuid,
        rgid: info.rgid,
        egid: info.egid,
        fsgid: info.fsgid,
    })
}

/// Duplicates fd `target_fd` of the process behind `pidfd` into this process.
pub fn pidfd_getfd(pidfd: BorrowedFd<'_>, target_fd: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_getfd takes integers only and returns a new close-on-exec fd that we own.
    let fd = check(unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), target_fd, 0) })?;
    // SAFETY: the kernel just returned this fd and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Copies memory of process `pid` at `address` into `buffer` and returns the byte count, which
/// is short when the range crosses into unmapped memory.
pub fn read_memory(pid: libc::pid_t, address: u64, buffer: &mut [u8]) -> io::Result<usize> {
    let local = libc::iovec { iov_base: buffer.as_mut_ptr().cast(), iov_len: buffer.len() };
    let remote = libc::iovec { iov_base: address as *mut libc::c_void, iov_len: buffer.len() };
    // SAFETY: the local iovec covers exactly `buffer`, which we borrow mutably; the remote
    // iovec is only dereferenced by the kernel, in the other process, with its own checks.
    let count = check(unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) } as libc::c_long)?;
    Ok(count as usize)
}

/// Sends `signal` to process `pid`.
pub fn kill(pid: libc::pid_t, signal: i32) -> io::Result<()> {
    // SAFETY: kill takes integers only.
    check_int(unsafe { libc::kill(pid, signal) })?;
    Ok(())
}

/// A status reported by `waitpid`.
pub struct WaitStatus {
    pub pid: libc::pid_t,
    pub status: i32,
}

/// Waits for any child or tracee (`__WALL`), retrying on `EINTR`.
pub fn wait_any() -> io::Result<WaitStatus> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes one int through the pointer we own.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if pid >= 0 {
            return Ok(WaitStatus { pid, status });
        }
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EINTR) {
            return Err(error);
        }
    }
}

/// Calls `prctl(option, arg2, 0, 0, 0)`.
pub fn prctl(option: i32, arg2: libc::c_ulong) -> io::Result<()> {
    // SAFETY: every option used by cordon takes integer arguments only.
    check_int(unsafe { libc::prctl(option, arg2, 0, 0, 0) })?;
    Ok(())
}

/// Starts a new session.
pub fn setsid() -> io::Result<()> {
    // SAFETY: setsid has no arguments.
    check_int(unsafe { libc::setsid() })?;
    Ok(())
}

/// Marks fds `first..=last` close-on-exec.
pub fn cloexec_range(first: u32, last: u32) -> io::Result<()> {
    // SAFETY: close_range takes integers only; CLOEXEC closes nothing now.
    check_int(unsafe { libc::close_range(first, last, libc::CLOSE_RANGE_CLOEXEC as i32) })?;
    Ok(())
}

/// Creates a close-on-exec pipe, returning (read end, write end).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds into the array we own.
    check_int(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: both fds were just created and have no other owner.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Reads into `buffer`, retrying on `EINTR`. Does not allocate (safe after fork).
/// Reads from offset 0 of `fd` into `buffer` (`pread`), which makes procfs produce a file
/// afresh, retrying on `EINTR`.
pub fn read_from_start(fd: BorrowedFd<'_>, buffer: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: the kernel writes at most buffer.len() bytes into the buffer we own.
        let count = unsafe { libc::pread(fd.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len(), 0) };
        if count >= 0 {
            return Ok(count as usize);
        }
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EINTR) {
            return Err(error);
        }
    }
}

pub fn read_fd(fd: BorrowedFd<'_>, buffer: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: the kernel writes at most buffer.len() bytes into the buffer we own.
        let count = unsafe { libc::read(fd.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len()) };
        if count >= 0 {
            return Ok(count as usize);
        }
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EINTR) {
            return Err(error);
        }
    }
}

/// Writes all of `bytes`, retrying on `EINTR`. Does not allocate (safe after fork).
pub fn write_fd(fd: BorrowedFd<'_>, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        // SAFETY: the kernel reads at most bytes.len() bytes from the slice we borrow.
        let count = unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
        if count < 0 {
            let error = io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(error);
        }
        bytes = &bytes[count as usize..];
    }
    Ok(())
}

/// Closes a raw fd number that the caller owns (the child's listener copy).
pub fn close_raw(fd: RawFd) -> io::Result<()> {
    // SAFETY: the caller owns `fd` and never uses the number again.
    check_int(unsafe { libc::close(fd) })?;
    Ok(())
}

/// Replaces the process image. Returns only on failure.
pub fn execve(path: &CStr, argv: &[*const libc::c_char], envp: &[*const libc::c_char]) -> io::Error {
    // SAFETY: path is NUL-terminated; argv and envp are NULL-terminated arrays of pointers to
    // NUL-terminated strings that the caller keeps alive across the call.
    unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    io::Error::last_os_error()
}

/// Exits immediately without running destructors or atexit handlers (the child after fork).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no user-space state.
    unsafe { libc::_exit(code) }
}

/// Sets the signal mask of the calling thread to block exactly `signals` in addition to the
/// current mask (`block == true`) or to unblock them.
pub fn mask_signals(signals: &[i32], block: bool) -> io::Result<()> {
    let set = signal_set(signals);
    let how = if block { libc::SIG_BLOCK } else { libc::SIG_UNBLOCK };
    // SAFETY: pthread_sigmask reads the set we own; the old mask is not requested.
    let ret = unsafe { libc::pthread_sigmask(how, &set, std::ptr::null_mut()) };
    if ret != 0 {
        return Err(io::Error::from_raw_os_error(ret));
    }
    Ok(())
}

/// Resets every signal disposition that a child must not inherit from the supervisor.
pub fn reset_signal_defaults(signals: &[i32]) {
    for &signal in signals {
        // SAFETY: SIG_DFL is always a valid disposition; failures (invalid numbers) are ignored
        // because the list only names real signals.
        unsafe { libc::signal(signal, libc::SIG_DFL) };
    }
}

fn signal_set(signals: &[i32]) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data and sigemptyset initialises it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: set points to a sigset_t we own.
    unsafe { libc::sigemptyset(&mut set) };
    for &signal in signals {
        // SAFETY: as above; invalid numbers only make sigaddset fail, which cannot happen here.
        unsafe { libc::sigaddset(&mut set, signal) };
    }
    set
}

/// A signal received by [`wait_signal`] and who sent it.
pub struct ReceivedSignal {
    pub signal: i32,
    /// `si_code`: `SI_USER` for kill(2), `SI_KERNEL` for signals generated by a terminal.
    pub code: i32,
}

/// Waits for one of `signals`, which must be blocked in every thread.
pub fn wait_signal(signals: &[i32]) -> io::Result<ReceivedSignal> {
    let set = signal_set(signals);
    loop {
        // SAFETY: siginfo_t is plain data, written by the kernel.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: the kernel reads the set and writes one siginfo_t, both owned here.
        let signal = unsafe { libc::sigwaitinfo(&set, &mut info) };
        if signal > 0 {
            return Ok(ReceivedSignal { signal, code: info.si_code });
        }
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EINTR) {
            return Err(error);
        }
    }
}

/// Sets a resource limit of the calling process.
pub fn set_rlimit(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> io::Result<()> {
    let limit = libc::rlimit { rlim_cur: soft, rlim_max: hard };
    // SAFETY: the kernel reads one rlimit from the struct we own.
    check_int(unsafe { libc::setrlimit(resource, &limit) })?;
    Ok(())
}

/// Moves the calling (single-threaded) process into a new user namespace, when `with_user` is
/// set, and makes its next child the init process of a new pid namespace. The user namespace
/// maps the caller's own uid and gid, so files keep their owners.
pub fn unshare_pid_namespace(with_user: bool) -> io::Result<()> {
    // SAFETY: getuid and getgid take no arguments and cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let flags = if with_user { libc::CLONE_NEWUSER | libc::CLONE_NEWPID } else { libc::CLONE_NEWPID };
    // SAFETY: unshare takes an integer flag word.
    check_int(unsafe { libc::unshare(flags) })?;
    if with_user {
        std::fs::write("/proc/self/setgroups", b"deny")?;
        std::fs::write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
        std::fs::write("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    }
    Ok(())
}

/// Waits for any child, returning its pid and raw status (`waitpid(-1, 0)`), retrying on
/// `EINTR`. Does not allocate (safe after fork).
pub fn wait_child() -> io::Result<WaitStatus> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes one int through the pointer we own.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid >= 0 {
            return Ok(WaitStatus { pid, status });
        }
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EINTR) {
            return Err(error);
        }
    }
}

/// `kcmp` types: the address space and the fs_struct (cwd, root, umask).
pub const KCMP_VM: i32 = 1;
pub const KCMP_FS: i32 = 3;

/// Returns whether `a` and `b` share the kernel resource `kind` (`kcmp(2)`). Errors (a task
/// that is gone, no ptrace access) count as not shared.
pub fn shares(a: libc::pid_t, b: libc::pid_t, kind: i32) -> bool {
    // SAFETY: kcmp takes integers only for these types.
    unsafe { libc::syscall(libc::SYS_kcmp, a, b, kind, 0, 0) == 0 }
}

/// Copies `bytes` into the memory of process `pid` at `address` and returns the byte count,
/// which is short when the range crosses into unmapped or read-only memory.
pub fn write_memory(pid: libc::pid_t, address: u64, bytes: &[u8]) -> io::Result<usize> {
    let local = libc::iovec { iov_base: bytes.as_ptr() as *mut libc::c_void, iov_len: bytes.len() };
    let remote = libc::iovec { iov_base: address as *mut libc::c_void, iov_len: bytes.len() };
    // SAFETY: the kernel only reads the local iovec, which covers exactly `bytes`; the remote
    // iovec is dereferenced by the kernel in the other process, with its own checks.
    let count = check(unsafe { libc::process_vm_writev(pid, &local, 1, &remote, 1, 0) } as libc::c_long)?;
    Ok(count as usize)
}
