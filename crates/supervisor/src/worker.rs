//! Notification workers: receive a notification, pin the calling thread, copy its arguments
//! once, validate the notification, dispatch to the handler of the syscall family, and respond.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cordon_sys::{creds, fs, notify};

use crate::caller::{self, Caller, Own};
use crate::context::Context;
use crate::fscall::{self, copy_errno, read_path, FsDecoder};
use crate::fsop;
use crate::open::{self, BlockingOpen, OpenRequest, Reply};
use crate::resolve::Start;

/// Size of `struct open_how` as of Linux 5.6 (`OPEN_HOW_SIZE_VER0`).
const OPEN_HOW_SIZE: u64 = 24;
/// openat2 refuses a `how` larger than a page with `E2BIG`.
const OPEN_HOW_MAX: u64 = 4096;
/// Blocking opens running at once; beyond this a worker performs them itself.
const MAX_BLOCKING: usize = 4096;

/// The way a notified syscall is served.
#[derive(Clone, Copy)]
enum Handler {
    /// The open family: copy the arguments in, then emulate.
    Open(Decoder),
    /// A call that acts on the process or thread named by the low 32 bits of argument
    /// `index`: allowed on the caller itself, refused for every other pid.
    OwnPid { index: usize },
    /// `pidfd_open`, performed by the supervisor for sandbox members only.
    PidfdOpen,
    /// The other file-system calls: copy the arguments in, then emulate.
    Fs(FsDecoder),
    /// A call that may change the caller's credentials: drop the identity kept for the
    /// thread, then let the kernel run the call. Its arguments are registers, and nothing
    /// about them is checked.
    Credentials,
}

/// The handlers, by syscall number. Every number the filter sends to USER_NOTIF must be
/// here (a unit test checks it); a notification for any other number gets `ENOSYS`.
const HANDLERS: &[(i64, &str, Handler)] = &[
    (libc::SYS_open, "open", Handler::Open(decode_open)),
    (libc::SYS_creat, "creat", Handler::Open(decode_creat)),
    (libc::SYS_openat, "openat", Handler::Open(decode_openat)),
    (libc::SYS_openat2, "openat2", Handler::Open(decode_openat2)),
    (libc::SYS_prlimit64, "prlimit64", Handler::OwnPid { index: 0 }),
    (libc::SYS_sched_setaffinity, "sched_setaffinity", Handler::OwnPid { index: 0 }),
    (libc::SYS_sched_getaffinity, "sched_getaffinity", Handler::OwnPid { index: 0 }),
    (libc::SYS_sched_setscheduler, "sched_setscheduler", Handler::OwnPid { index: 0 }),
    (libc::SYS_sched_getscheduler, "sched_getscheduler", Handler::OwnPid { index: 0 }),
    (libc::SYS_sched_setparam, "sched_setparam", Handler::OwnPid { index: 0 }),
    (libc::SYS_sched_getparam, "sched_getparam", Handler::OwnPid { index: 0 }),
    (libc::SYS_sched_setattr, "sched_setattr", Handler::OwnPid { index: 0 }),
    (libc::SYS_sched_getattr, "sched_getattr", Handler::OwnPid { index: 0 }),
    (libc::SYS_sched_rr_get_interval, "sched_rr_get_interval", Handler::OwnPid { index: 0 }),
    (libc::SYS_setpriority, "setpriority", Handler::OwnPid { index: 1 }),
    (libc::SYS_getpriority, "getpriority", Handler::OwnPid { index: 1 }),
    (libc::SYS_ioprio_set, "ioprio_set", Handler::OwnPid { index: 1 }),
    (libc::SYS_ioprio_get, "ioprio_get", Handler::OwnPid { index: 1 }),
    (libc::SYS_pidfd_open, "pidfd_open", Handler::PidfdOpen),
    (libc::SYS_open_tree, "open_tree", Handler::Open(decode_open_tree)),
    (libc::SYS_stat, "stat", Handler::Fs(fscall::decode_stat)),
    (libc::SYS_lstat, "lstat", Handler::Fs(fscall::decode_lstat)),
    (libc::SYS_fstat, "fstat", Handler::Fs(fscall::decode_fstat)),
    (libc::SYS_newfstatat, "newfstatat", Handler::Fs(fscall::decode_newfstatat)),
    (libc::SYS_statx, "statx", Handler::Fs(fscall::decode_statx)),
    (libc::SYS_statfs, "statfs", Handler::Fs(fscall::decode_statfs)),
    (libc::SYS_fstatfs, "fstatfs", Handler::Fs(fscall::decode_fstatfs)),
    (libc::SYS_access, "access", Handler::Fs(fscall::decode_access)),
    (libc::SYS_faccessat, "faccessat", Handler::Fs(fscall::decode_faccessat)),
    (libc::SYS_faccessat2, "faccessat2", Handler::Fs(fscall::decode_faccessat2)),
    (libc::SYS_readlink, "readlink", Handler::Fs(fscall::decode_readlink)),
    (libc::SYS_readlinkat, "readlinkat", Handler::Fs(fscall::decode_readlinkat)),
    (libc::SYS_getxattr, "getxattr", Handler::Fs(fscall::decode_getxattr)),
    (libc::SYS_lgetxattr, "lgetxattr", Handler::Fs(fscall::decode_lgetxattr)),
    (libc::SYS_fgetxattr, "fgetxattr", Handler::Fs(fscall::decode_fgetxattr)),
    (464, "getxattrat", Handler::Fs(fscall::decode_getxattrat)),
    (libc::SYS_listxattr, "listxattr", Handler::Fs(fscall::decode_listxattr)),
    (libc::SYS_llistxattr, "llistxattr", Handler::Fs(fscall::decode_llistxattr)),
    (libc::SYS_flistxattr, "flistxattr", Handler::Fs(fscall::decode_flistxattr)),
    (465, "listxattrat", Handler::Fs(fscall::decode_listxattrat)),
    (468, "file_getattr", Handler::Fs(fscall::decode_file_getattr)),
    (469, "file_setattr", Handler::Fs(fscall::decode_file_setattr)),
    (libc::SYS_inotify_add_watch, "inotify_add_watch", Handler::Fs(fscall::decode_inotify_add_watch)),
    (libc::SYS_fanotify_mark, "fanotify_mark", Handler::Fs(fscall::decode_fanotify_mark)),
    (libc::SYS_getdents, "getdents", Handler::Fs(fscall::decode_getdents)),
    (libc::SYS_getdents64, "getdents64", Handler::Fs(fscall::decode_getdents)),
    (libc::SYS_mkdir, "mkdir", Handler::Fs(fscall::decode_mkdir)),
    (libc::SYS_mkdirat, "mkdirat", Handler::Fs(fscall::decode_mkdirat)),
    (libc::SYS_mknod, "mknod", Handler::Fs(fscall::decode_mknod)),
    (libc::SYS_mknodat, "mknodat", Handler::Fs(fscall::decode_mknodat)),
    (libc::SYS_symlink, "symlink", Handler::Fs(fscall::decode_symlink)),
    (libc::SYS_symlinkat, "symlinkat", Handler::Fs(fscall::decode_symlinkat)),
    (libc::SYS_unlink, "unlink", Handler::Fs(fscall::decode_unlink)),
    (libc::SYS_rmdir, "rmdir", Handler::Fs(fscall::decode_rmdir)),
    (libc::SYS_unlinkat, "unlinkat", Handler::Fs(fscall::decode_unlinkat)),
    (libc::SYS_rename, "rename", Handler::Fs(fscall::decode_rename)),
    (libc::SYS_renameat, "renameat", Handler::Fs(fscall::decode_renameat)),
    (libc::SYS_renameat2, "renameat2", Handler::Fs(fscall::decode_renameat2)),
    (libc::SYS_link, "link", Handler::Fs(fscall::decode_link)),
    (libc::SYS_linkat, "linkat", Handler::Fs(fscall::decode_linkat)),
    (libc::SYS_chmod, "chmod", Handler::Fs(fscall::decode_chmod)),
    (libc::SYS_fchmod, "fchmod", Handler::Fs(fscall::decode_fchmod)),
    (libc::SYS_fchmodat, "fchmodat", Handler::Fs(fscall::decode_fchmodat)),
    (libc::SYS_fchmodat2, "fchmodat2", Handler::Fs(fscall::decode_fchmodat2)),
    (libc::SYS_chown, "chown", Handler::Fs(fscall::decode_chown)),
    (libc::SYS_lchown, "lchown", Handler::Fs(fscall::decode_lchown)),
    (libc::SYS_fchown, "fchown", Handler::Fs(fscall::decode_fchown)),
    (libc::SYS_fchownat, "fchownat", Handler::Fs(fscall::decode_fchownat)),
    (libc::SYS_utime, "utime", Handler::Fs(fscall::decode_utime)),
    (libc::SYS_utimes, "utimes", Handler::Fs(fscall::decode_utimes)),
    (libc::SYS_futimesat, "futimesat", Handler::Fs(fscall::decode_futimesat)),
    (libc::SYS_utimensat, "utimensat", Handler::Fs(fscall::decode_utimensat)),
    (libc::SYS_truncate, "truncate", Handler::Fs(fscall::decode_truncate)),
    (libc::SYS_ftruncate, "ftruncate", Handler::Fs(fscall::decode_ftruncate)),
    (libc::SYS_setxattr, "setxattr", Handler::Fs(fscall::decode_setxattr)),
    (libc::SYS_lsetxattr, "lsetxattr", Handler::Fs(fscall::decode_lsetxattr)),
    (libc::SYS_fsetxattr, "fsetxattr", Handler::Fs(fscall::decode_fsetxattr)),
    (463, "setxattrat", Handler::Fs(fscall::decode_setxattrat)),
    (libc::SYS_removexattr, "removexattr", Handler::Fs(fscall::decode_removexattr)),
    (libc::SYS_lremovexattr, "lremovexattr", Handler::Fs(fscall::decode_lremovexattr)),
    (libc::SYS_fremovexattr, "fremovexattr", Handler::Fs(fscall::decode_fremovexattr)),
    (466, "removexattrat", Handler::Fs(fscall::decode_removexattrat)),
    (libc::SYS_setuid, "setuid", Handler::Credentials),
    (libc::SYS_setgid, "setgid", Handler::Credentials),
    (libc::SYS_setreuid, "setreuid", Handler::Credentials),
    (libc::SYS_setregid, "setregid", Handler::Credentials),
    (libc::SYS_setresuid, "setresuid", Handler::Credentials),
    (libc::SYS_setresgid, "setresgid", Handler::Credentials),
    (libc::SYS_setfsuid, "setfsuid", Handler::Credentials),
    (libc::SYS_setfsgid, "setfsgid", Handler::Credentials),
    (libc::SYS_setgroups, "setgroups", Handler::Credentials),
    (libc::SYS_capset, "capset", Handler::Credentials),
];

type Decoder = fn(&'static str, &Caller, &[u64; 6]) -> Result<OpenRequest, i32>;

/// Runs one worker until the listener is closed.
pub fn run(context: Arc<Context>, listener: Arc<OwnedFd>) {
    if let Err(error) = creds::unshare_fs() {
        // Without its own fs_struct the worker's umask would be shared by all workers.
        tracing::error!(%error, "worker could not unshare its fs attributes; stopping the sandbox");
        std::process::abort();
    }
    let mut own = match Own::capture() {
        Ok(own) => own,
        Err(error) => {
            tracing::error!(%error, "worker could not read its credentials; stopping the sandbox");
            std::process::abort();
        }
    };
    let blocking = Arc::new(AtomicUsize::new(0));
    loop {
        let notification = match notify::receive(listener.as_fd()) {
            Ok(notification) => notification,
            Err(error) if error.raw_os_error() == Some(libc::EINTR) => continue,
            // ENOENT: the notification was withdrawn before it was received, or no process
            // uses the filter any more. Waiting on the listener distinguishes the two without spinning.
            Err(error) if error.raw_os_error() == Some(libc::ENOENT) => match notify::wait_for_notification(listener.as_fd()) {
                Ok(false) => continue,
                Ok(true) => {
                    tracing::debug!("no sandboxed process uses the filter any more; worker stops");
                    return;
                }
                Err(error) => {
                    tracing::debug!(%error, "cannot wait on the notification listener");
                    return;
                }
            },
            Err(error) => {
                tracing::debug!(%error, "notification listener closed");
                return;
            }
        };
        serve(&context, &listener, &blocking, &mut own, &notification);
    }
}

fn serve(context: &Arc<Context>, listener: &Arc<OwnedFd>, blocking: &Arc<AtomicUsize>, own: &mut Own, notification: &notify::Notification) {
    let id = notification.id;
    let nr = i64::from(notification.data.nr);
    context.stats.count_notification(nr);
    let Some(&(_, name, handler)) = HANDLERS.iter().find(|(number, _, _)| *number == nr) else {
        tracing::warn!(nr, "notification for a syscall without a handler");
        answer(listener.as_fd(), id, Reply::Errno(libc::ENOSYS));
        return;
    };
    match handler {
        Handler::Open(decode) => serve_open(context, listener, blocking, own, notification, name, decode),
        Handler::OwnPid { index } => serve_own_pid(listener, notification, name, index),
        Handler::PidfdOpen => serve_pidfd_open(context, listener, notification),
        Handler::Fs(decode) => serve_fs(context, listener, own, notification, name, decode),
        Handler::Credentials => {
            context.proc_dirs.credentials_changing(notification.pid as libc::pid_t);
            continue_call(listener.as_fd(), id);
        }
    }
}

fn continue_call(listener: BorrowedFd<'_>, id: u64) {
    if let Err(error) = notify::continue_call(listener, id) {
        // ENOENT: the caller died or was interrupted meanwhile; no response is needed.
        if error.raw_os_error() != Some(libc::ENOENT) {
            tracing::warn!(%error, id, "could not continue a notification");
        }
    }
}

/// Returns whether a notified call may create a file, which needs the caller's current umask.
fn may_create(nr: i64, args: &[u64; 6]) -> bool {
    let creating = |flags: u64| flags as u32 & (libc::O_CREAT | libc::O_TMPFILE & !libc::O_DIRECTORY) as u32 != 0;
    match nr {
        libc::SYS_open => creating(args[1]),
        libc::SYS_openat => creating(args[2]),
        // openat2's flags are in the caller's memory, read only after the caller is pinned.
        libc::SYS_creat | libc::SYS_openat2 | libc::SYS_mkdir | libc::SYS_mkdirat | libc::SYS_mknod | libc::SYS_mknodat => true,
        _ => false,
    }
}

/// Opens a pidfd for the caller, only for a live member of the sandbox: a pidfd of the
/// supervisor or a host process would reach it through `process_madvise` and
/// `process_mrelease`, which Landlock's scoping does not cover. The pidfd is opened first and
/// membership checked afterwards: a member's pid is not reused before the tracer has reaped
/// it and removed it from the set, so a pidfd opened while the pid was a member is a member's.
fn serve_pidfd_open(context: &Context, listener: &Arc<OwnedFd>, notification: &notify::Notification) {
    let id = notification.id;
    let pid = notification.data.args[0] as u32 as libc::pid_t;
    let flags = notification.data.args[1] as u32;
    let reply = match cordon_sys::process::pidfd_open(pid, flags) {
        Ok(pidfd) if context.members.contains(pid) => Reply::Fd { fd: pidfd, cloexec: true, writable: false },
        Ok(_) => Reply::Errno(libc::ESRCH),
        Err(error) => Reply::Errno(cordon_sys::errno_of(&error)),
    };
    if !notify::id_valid(listener.as_fd(), id) {
        return;
    }
    answer(listener.as_fd(), id, reply);
}

/// Returns whether `target` is another thread of the caller's process (thread pools set the
/// affinity and priority of their threads by tid).
/// NOTE: a thread can exit and its tid be reused between this check and the call, which
/// needs the kernel to cycle through every pid in that window.
fn is_own_thread(caller: &Caller, target: libc::pid_t) -> bool {
    let path = format!("/proc/{}/task/{target}", caller.tgid);
    std::fs::symlink_metadata(path).is_ok()
}

/// Allows a pid-taking call only on the caller's own thread or process. The pid is a
/// register argument that no other thread can change, and the caller cannot exit and have
/// its pid reused while it waits here, so continuing the call is race-free.
fn serve_own_pid(listener: &Arc<OwnedFd>, notification: &notify::Notification, name: &'static str, index: usize) {
    let id = notification.id;
    let tid = notification.pid as libc::pid_t;
    let target = notification.data.args[index] as u32 as libc::pid_t;
    let caller = Caller::open(tid);
    if !notify::id_valid(listener.as_fd(), id) {
        return;
    }
    let allowed = match &caller {
        Ok(caller) => {
            let own = [caller.tid, caller.tgid, caller.own_view.0, caller.own_view.1];
            target == 0 || own.contains(&target) || is_own_thread(caller, target)
        }
        Err(_) => false,
    };
    if !allowed {
        tracing::debug!(tid, syscall = name, target, "call on another process refused");
        answer(listener.as_fd(), id, Reply::Errno(libc::EPERM));
        return;
    }
    continue_call(listener.as_fd(), id);
}

fn serve_open(
    context: &Arc<Context>,
    listener: &Arc<OwnedFd>,
    blocking: &Arc<AtomicUsize>,
    own: &mut Own,
    notification: &notify::Notification,
    name: &'static str,
    decode: Decoder,
) {
    let id = notification.id;
    let tid = notification.pid as libc::pid_t;
    // Pin the thread and copy its arguments, then prove with ID_VALID that the thread was the
    // one that made the call while we read (its pid cannot be reused while it waits).
    let needs_umask = may_create(i64::from(notification.data.nr), &notification.data.args);
    let caller = Caller::open_cached(tid, &context.proc_dirs, needs_umask).map_err(|error| {
        // Fails closed: without the caller's procfs handle nothing can be checked.
        tracing::debug!(tid, syscall = name, %error, "cannot open the caller's procfs entry");
        libc::EACCES
    });
    let prepared = caller.and_then(|caller| {
        let request = decode(name, &caller, &notification.data.args)?;
        Ok((caller, request))
    });
    if !notify::id_valid(listener.as_fd(), id) {
        return;
    }
    let (caller, request) = match prepared {
        Ok(prepared) => prepared,
        Err(errno) => {
            answer(listener.as_fd(), id, Reply::Errno(errno));
            return;
        }
    };
    let reply = open::handle(context, &caller, own, &request);
    if let Reply::Errno(errno) = &reply {
        tracing::debug!(tid, syscall = name, path = %crate::report::escape(&request.path), start = ?request.start, errno, "call failed");
    }
    match reply {
        Reply::Blocking(work) => dispatch_blocking(listener, blocking, own, id, caller.credentials.clone(), work),
        reply => answer(listener.as_fd(), id, reply),
    }
}

/// Serves a file-system call other than an open: pin the caller, copy its arguments and take
/// the fds it names, validate the notification, then perform the call.
fn serve_fs(context: &Context, listener: &Arc<OwnedFd>, own: &mut Own, notification: &notify::Notification, name: &'static str, decode: FsDecoder) {
    let id = notification.id;
    let tid = notification.pid as libc::pid_t;
    let needs_umask = may_create(i64::from(notification.data.nr), &notification.data.args);
    let prepared = Caller::open_cached(tid, &context.proc_dirs, needs_umask)
        .map_err(|error| {
            tracing::debug!(tid, syscall = name, %error, "cannot open the caller's procfs entry");
            libc::EACCES
        })
        .and_then(|caller| {
            let request = decode(name, &caller, &notification.data.args)?;
            Ok((caller, request))
        });
    if !notify::id_valid(listener.as_fd(), id) {
        return;
    }
    let (reply, request) = match prepared {
        Ok((caller, request)) => (fsop::handle(context, &caller, own, &request), Some(request)),
        Err(errno) => (Reply::Errno(errno), None),
    };
    if let Reply::Errno(errno) = &reply {
        if tracing::enabled!(tracing::Level::DEBUG) {
            let path = match request.as_ref().map(|request| &request.subject) {
                Some(fscall::Subject::Path(arg)) => crate::report::escape(&arg.path),
                Some(fscall::Subject::Fd(_)) => "(open file)".to_owned(),
                None => "(arguments unreadable)".to_owned(),
            };
            tracing::debug!(tid, syscall = name, %path, error = %std::io::Error::from_raw_os_error(*errno), "call failed");
        }
    }
    answer(listener.as_fd(), id, reply);
}

/// Runs an open that may block on its own thread, so a FIFO waiting for its peer never holds
/// a worker that other sandboxed processes need.
fn dispatch_blocking(listener: &Arc<OwnedFd>, blocking: &Arc<AtomicUsize>, own: &mut Own, id: u64, credentials: caller::Credentials, work: BlockingOpen) {
    if blocking.fetch_add(1, Ordering::SeqCst) >= MAX_BLOCKING {
        blocking.fetch_sub(1, Ordering::SeqCst);
        // NOTE: past the bound the worker opens inline and may wait for the FIFO's peer.
        let reply = perform_blocking(own, &credentials, work);
        answer(listener.as_fd(), id, reply);
        return;
    }
    let thread_listener = Arc::clone(listener);
    let counter = Arc::clone(blocking);
    let spawned = std::thread::Builder::new().name("cordon-blocking".into()).spawn(move || {
        let reply = match creds::unshare_fs().and_then(|()| Own::capture()) {
            Ok(mut own) => perform_blocking(&mut own, &credentials, work),
            Err(error) => {
                tracing::warn!(%error, "blocking open thread could not set up its identity");
                Reply::Errno(libc::EAGAIN)
            }
        };
        answer(thread_listener.as_fd(), id, reply);
        counter.fetch_sub(1, Ordering::SeqCst);
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "could not start a blocking open thread");
        blocking.fetch_sub(1, Ordering::SeqCst);
        answer(listener.as_fd(), id, Reply::Errno(libc::EAGAIN));
    }
}

fn perform_blocking(own: &mut Own, credentials: &caller::Credentials, work: BlockingOpen) -> Reply {
    let _identity = match caller::adopt(own, credentials) {
        Ok(adopted) => adopted,
        Err(_) => return Reply::Errno(libc::EACCES),
    };
    let opened = match &work.name {
        Some(name) => fs::openat(work.parent.as_fd(), name, work.flags, work.mode),
        None => fs::reopen(work.parent.as_fd(), work.flags),
    };
    match opened {
        Ok(fd) => Reply::Fd { fd, cloexec: work.cloexec, writable: open::writable(work.flags) },
        Err(error) => Reply::Errno(cordon_sys::errno_of(&error)),
    }
}

/// Installs an opened file in the caller and completes the call with its fd number. A file
/// open for writing is installed first and the supervisor's copy closed before the call
/// completes: otherwise the file would still have a writer for a moment after the program
/// closed its own fd, and executing it then would fail with `ETXTBSY`.
fn hand_over(listener: BorrowedFd<'_>, id: u64, fd: OwnedFd, cloexec: bool, writable: bool) -> std::io::Result<()> {
    if !writable {
        return notify::add_fd_and_respond(listener, id, fd.as_fd(), cloexec).map(drop);
    }
    let number = notify::add_fd(listener, id, fd.as_fd(), cloexec)?;
    drop(fd);
    notify::respond(listener, id, i64::from(number), 0)
}

fn answer(listener: BorrowedFd<'_>, id: u64, reply: Reply) {
    let result = match reply {
        Reply::Fd { fd, cloexec, writable } => hand_over(listener, id, fd, cloexec, writable),
        Reply::Errno(errno) => notify::respond(listener, id, 0, errno),
        Reply::Value(value) => notify::respond(listener, id, value, 0),
        Reply::Blocking(_) => notify::respond(listener, id, 0, libc::EAGAIN),
    };
    if let Err(error) = result {
        // ENOENT: the caller died or was interrupted meanwhile; no response is needed.
        if error.raw_os_error() != Some(libc::ENOENT) {
            tracing::warn!(%error, id, "could not respond to a notification");
        }
    }
}


/// `open(path, flags, mode)`. On x86_64 the kernel forces `O_LARGEFILE` for open and openat.
fn decode_open(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<OpenRequest, i32> {
    Ok(OpenRequest {
        syscall,
        start: Start::Cwd,
        path: read_path(caller, args[0])?,
        flags: u64::from(args[1] as u32 | libc::O_LARGEFILE as u32),
        mode: args[2] & 0o7777,
        resolve: 0,
        strict: false,
    })
}

/// `creat(path, mode)` is `open(path, O_CREAT|O_WRONLY|O_TRUNC, mode)`.
fn decode_creat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<OpenRequest, i32> {
    Ok(OpenRequest {
        syscall,
        start: Start::Cwd,
        path: read_path(caller, args[0])?,
        flags: (libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC | libc::O_LARGEFILE) as u64,
        mode: args[1] & 0o7777,
        resolve: 0,
        strict: false,
    })
}

/// `openat(dirfd, path, flags, mode)`: dirfd and flags are ints (low 32 bits).
fn decode_openat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<OpenRequest, i32> {
    Ok(OpenRequest {
        syscall,
        start: start_of(args[0]),
        path: read_path(caller, args[1])?,
        flags: u64::from(args[2] as u32 | libc::O_LARGEFILE as u32),
        mode: args[3] & 0o7777,
        resolve: 0,
        strict: false,
    })
}

/// `openat2(dirfd, path, how, size)`: `how` is copied once, extensible-struct rules apply
/// (smaller than version 0: EINVAL; larger than a page: E2BIG; unknown trailing bytes must be
/// zero, else E2BIG).
fn decode_openat2(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<OpenRequest, i32> {
    let size = args[3];
    if size < OPEN_HOW_SIZE {
        return Err(libc::EINVAL);
    }
    if size > OPEN_HOW_MAX {
        return Err(libc::E2BIG);
    }
    let how = caller::read_struct(caller.tid, args[2], size as usize).map_err(copy_errno)?;
    if how[OPEN_HOW_SIZE as usize..].iter().any(|&b| b != 0) {
        return Err(libc::E2BIG);
    }
    let field = |index: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&how[index * 8..index * 8 + 8]);
        u64::from_ne_bytes(bytes)
    };
    Ok(OpenRequest {
        syscall,
        start: start_of(args[0]),
        path: read_path(caller, args[1])?,
        flags: field(0),
        mode: field(1),
        resolve: field(2),
        strict: true,
    })
}

/// `OPEN_TREE_CLOEXEC` and the flags `open_tree` accepts without `OPEN_TREE_CLONE` (which the
/// static filter refuses).
const OPEN_TREE_CLOEXEC: u32 = libc::O_CLOEXEC as u32;
const OPEN_TREE_FLAGS: u32 = OPEN_TREE_CLOEXEC | (libc::AT_EMPTY_PATH | libc::AT_NO_AUTOMOUNT | libc::AT_SYMLINK_NOFOLLOW) as u32;

/// `open_tree(dirfd, path, flags)` without `OPEN_TREE_CLONE` returns an `O_PATH` fd of the
/// path, so it is served as an `O_PATH` open.
fn decode_open_tree(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<OpenRequest, i32> {
    let flags = args[2] as u32;
    if flags & !OPEN_TREE_FLAGS != 0 {
        return Err(libc::EINVAL);
    }
    let mut path = read_path(caller, args[1])?;
    if path.is_empty() && flags & libc::AT_EMPTY_PATH as u32 != 0 {
        path = b".".to_vec();
    }
    let mut open_flags = libc::O_PATH | libc::O_LARGEFILE;
    if flags & OPEN_TREE_CLOEXEC != 0 {
        open_flags |= libc::O_CLOEXEC;
    }
    if flags & libc::AT_SYMLINK_NOFOLLOW as u32 != 0 {
        open_flags |= libc::O_NOFOLLOW;
    }
    Ok(OpenRequest { syscall, start: start_of(args[0]), path, flags: open_flags as u64, mode: 0, resolve: 0, strict: false })
}

fn start_of(dirfd: u64) -> Start {
    let dirfd = dirfd as u32 as i32;
    if dirfd == libc::AT_FDCWD {
        Start::Cwd
    } else {
        Start::Fd(dirfd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notified_syscall_has_a_handler() {
        let filter = crate::filter::NOTIFIED.iter().chain(crate::filter::STAT_CALLS).chain(crate::filter::LISTING_CALLS).chain(crate::filter::ACCESS_CALLS);
        let fd_calls = crate::filter::FD_STAT_CALLS.iter().chain(crate::filter::FD_ATTR_CALLS).chain(crate::filter::CREDENTIAL_CALLS);
        for &nr in filter.chain(fd_calls) {
            assert!(HANDLERS.iter().any(|(number, _, _)| *number == nr), "syscall {nr} is notified but has no handler");
        }
    }
}
