//! The open family (`open`, `creat`, `openat`, `openat2`): validates the flags as the kernel
//! does, resolves the path with the caller's credentials, checks the policy against the
//! canonical path and performs the open itself through the resolver's fds. The caller receives
//! the result through `SECCOMP_IOCTL_NOTIF_ADDFD`; the call is never continued.

use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};

use cordon_policy::{Action, Category, RuleOrigin};
use cordon_sys::{fs, process};

use crate::caller::{self, Caller, Own};
use crate::context::Context;
use crate::report::{Event, Outcome};
use crate::resolve::{self, Failure, Held, Options, Start, Target, Walk};

/// The decoded arguments of one open-family call.
#[derive(Clone, Debug)]
pub struct OpenRequest {
    pub syscall: &'static str,
    pub start: Start,
    pub path: Vec<u8>,
    /// The open flags: the low 32 bits for open/openat/creat, all 64 for openat2.
    pub flags: u64,
    pub mode: u64,
    pub resolve: u64,
    /// openat2 validates flags, mode and resolve strictly; the older calls ignore unknown bits.
    pub strict: bool,
}

/// The worker's response to one call.
pub enum Reply {
    /// A new fd for the caller. `writable` marks a file open for writing, whose supervisor
    /// copy must be closed before the call completes (see `worker::hand_over`).
    Fd { fd: OwnedFd, cloexec: bool, writable: bool },
    /// The call's return value.
    Value(i64),
    Errno(i32),
    /// The open may block (FIFOs, devices): it runs on the blocking pool.
    Blocking(BlockingOpen),
}

/// An open that may wait for a peer, performed on its own thread with the caller's identity.
pub struct BlockingOpen {
    pub parent: OwnedFd,
    /// The entry to open in `parent`; `None` reopens `parent` itself (a magic-link object).
    pub name: Option<CString>,
    pub flags: i32,
    pub mode: u32,
    pub cloexec: bool,
}

const VALID_OPEN_FLAGS: u64 = (libc::O_ACCMODE
    | libc::O_CREAT
    | libc::O_EXCL
    | libc::O_NOCTTY
    | libc::O_TRUNC
    | libc::O_APPEND
    | libc::O_NONBLOCK
    | libc::O_DSYNC
    | libc::O_ASYNC
    | libc::O_DIRECT
    | libc::O_LARGEFILE
    | libc::O_DIRECTORY
    | libc::O_NOFOLLOW
    | libc::O_NOATIME
    | libc::O_CLOEXEC
    | libc::O_PATH
    | libc::O_SYNC
    | libc::O_TMPFILE) as u64;
const VALID_RESOLVE: u64 = 0x3f;
const RESOLVE_CACHED: u64 = 0x20;
/// The flags `O_PATH` keeps; open and openat silently drop the others.
const O_PATH_FLAGS: i32 = libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_PATH | libc::O_CLOEXEC;
/// Status flags `F_SETFL` can restore after the supervisor's own `O_NONBLOCK`.
const SETFL_FLAGS: i32 = libc::O_APPEND | libc::O_ASYNC | libc::O_DIRECT | libc::O_NOATIME | libc::O_NONBLOCK;
/// Attempts before a path that keeps changing under the resolver fails with `EAGAIN`.
const MAX_RETRIES: u32 = 16;

/// Checks the flags in the kernel's order (`build_open_flags`), before any path lookup.
fn validate(request: &OpenRequest) -> Result<i32, i32> {
    if request.strict {
        if request.flags & !VALID_OPEN_FLAGS != 0 || request.resolve & !VALID_RESOLVE != 0 {
            return Err(libc::EINVAL);
        }
        if request.mode & !0o7777 != 0 {
            return Err(libc::EINVAL);
        }
        let creates = request.flags & (libc::O_CREAT | libc::O_TMPFILE) as u64 != 0;
        if !creates && request.mode != 0 {
            return Err(libc::EINVAL);
        }
        if request.resolve & resolve::RESOLVE_BENEATH != 0 && request.resolve & resolve::RESOLVE_IN_ROOT != 0 {
            return Err(libc::EINVAL);
        }
    }
    let mut flags = request.flags as i32;
    if flags & libc::O_PATH != 0 {
        if request.strict && flags & !O_PATH_FLAGS != 0 {
            return Err(libc::EINVAL);
        }
        flags &= O_PATH_FLAGS;
    }
    if flags & libc::O_CREAT != 0 && flags & libc::O_DIRECTORY != 0 && flags & libc::O_TMPFILE != libc::O_TMPFILE {
        return Err(libc::EINVAL);
    }
    let tmpfile_bit = flags & libc::O_TMPFILE & !libc::O_DIRECTORY != 0;
    if tmpfile_bit && (flags & libc::O_TMPFILE != libc::O_TMPFILE || flags & libc::O_ACCMODE == libc::O_RDONLY) {
        return Err(libc::EINVAL);
    }
    if request.strict && request.resolve & RESOLVE_CACHED != 0 {
        // A cached-only lookup is allowed to fail; the supervisor never has the caller's
        // dentries cached, so it always makes the caller retry without the flag.
        return Err(libc::EAGAIN);
    }
    Ok(flags)
}

/// Lists the categories an open needs, excluding `create`, which depends on whether the file exists.
fn categories(flags: i32) -> Vec<Category> {
    if flags & libc::O_PATH != 0 {
        return vec![Category::Read];
    }
    let mut needed = Vec::with_capacity(2);
    // Access mode 3 opens a file for ioctls only, but the kernel checks both read and write
    // permission for it, so the policy does too.
    let mode = flags & libc::O_ACCMODE;
    if mode != libc::O_WRONLY {
        needed.push(Category::Read);
    }
    if mode != libc::O_RDONLY || flags & libc::O_TRUNC != 0 {
        needed.push(Category::Write);
    }
    needed
}

/// Handles one open-family call for `caller`.
pub fn handle(context: &Context, caller: &Caller, own: &mut Own, request: &OpenRequest) -> Reply {
    let flags = match validate(request) {
        Ok(flags) => flags,
        Err(errno) => return Reply::Errno(errno),
    };
    let _identity = match caller::adopt(own, &caller.credentials) {
        Ok(adopted) => adopted,
        Err(error) => {
            tracing::debug!(tid = caller.tid, %error, "cannot act with the caller's credentials");
            return Reply::Errno(libc::EACCES);
        }
    };
    for _ in 0..MAX_RETRIES {
        match attempt(context, caller, request, flags) {
            Attempt::Done(reply) => return reply,
            Attempt::Raced => continue,
        }
    }
    Reply::Errno(libc::EAGAIN)
}

enum Attempt {
    Done(Reply),
    /// The final component changed between the check and the open; resolve again.
    Raced,
}

fn attempt(context: &Context, caller: &Caller, request: &OpenRequest, flags: i32) -> Attempt {
    let creating = flags & libc::O_CREAT != 0;
    let exclusive = creating && flags & libc::O_EXCL != 0;
    let options = Options {
        follow_final: flags & libc::O_NOFOLLOW == 0 && !exclusive,
        resolve: request.resolve,
    };
    let outcome = Walk::new(caller, &context.policy, &context.members, request.start, &request.path, options)
        .and_then(|mut walk| {
            let target = walk.resolve(&request.path)?;
            Ok((walk, target))
        });
    let (walk, target) = match outcome {
        Ok(resolved) => resolved,
        Err(Failure::Errno(errno)) => return Attempt::Done(Reply::Errno(errno)),
        Err(Failure::Raced) => return Attempt::Raced,
        Err(Failure::Hidden { path, final_component }) => {
            let category = if creating { Category::Create } else { categories(flags).first().copied().unwrap_or(Category::Read) };
            report(context, caller, request.syscall, category, &path, Outcome::Hide, hide_rule(context, &path));
            let errno = if creating && final_component { libc::EACCES } else { libc::ENOENT };
            return Attempt::Done(Reply::Errno(errno));
        }
    };
    let path = walk.path().to_vec();
    match target {
        Target::Directory => Attempt::Done(open_directory(context, caller, request, flags, &walk, &path)),
        Target::Object { fd, path, held } => Attempt::Done(open_object(context, caller, request, flags, fd, &path, held)),
        Target::Entry { name, stat } => open_entry(context, caller, request, flags, &walk, name, stat, &path),
        // The kernel refuses to open a symlink it may not follow.
        Target::OpenerLink { .. } => Attempt::Done(Reply::Errno(libc::ELOOP)),
    }
}

fn open_directory(context: &Context, caller: &Caller, request: &OpenRequest, flags: i32, walk: &Walk<'_>, path: &[u8]) -> Reply {
    let tmpfile = flags & libc::O_TMPFILE == libc::O_TMPFILE;
    if flags & libc::O_CREAT != 0 && !tmpfile {
        return Reply::Errno(libc::EISDIR);
    }
    let mut needed = categories(flags);
    if tmpfile {
        needed.push(Category::Create);
    }
    if let Err(errno) = judge(context, caller, request.syscall, &needed, path) {
        return Reply::Errno(errno);
    }
    let (open_flags, cloexec) = supervisor_flags(flags);
    let mode = crate::fsop::creation_mode(caller, request.mode as u32);
    match fs::openat(walk.parent(), c".", open_flags, mode) {
        Ok(fd) => Reply::Fd { fd, cloexec, writable: writable(flags) },
        Err(error) => Reply::Errno(cordon_sys::errno_of(&error)),
    }
}

/// Reopens the object of a magic link. An open file reached through `/proc/PID/fd/N`
/// (`/dev/stdout`, `/dev/fd/N`) asked for with access it already has grants nothing new, so
/// the policy is not consulted; when the supervisor's Landlock bound refuses the new open (a
/// log file cordon's own stdout was redirected to), the caller gets a duplicate instead.
/// NOTE: a duplicate shares the file offset with the original and ignores `O_TRUNC`, where
/// the kernel would open a new file description.
fn open_object(context: &Context, caller: &Caller, request: &OpenRequest, flags: i32, object: OwnedFd, path: &[u8], held: Option<Held>) -> Reply {
    if flags & libc::O_CREAT != 0 && flags & libc::O_EXCL != 0 {
        return Reply::Errno(libc::EEXIST);
    }
    let covered = |category: &Category| match (held, category) {
        (Some(held), Category::Read) => held.mode == libc::O_RDONLY || held.mode == libc::O_RDWR,
        (Some(held), Category::Write) => held.mode == libc::O_WRONLY || held.mode == libc::O_RDWR,
        _ => false,
    };
    let needed = categories(flags);
    let held = held.filter(|_| flags & libc::O_PATH == 0 && needed.iter().all(covered));
    if held.is_none() {
        if let Err(errno) = judge(context, caller, request.syscall, &needed, path) {
            return Reply::Errno(errno);
        }
    }
    let stat = match fs::fstat(object.as_fd()) {
        Ok(stat) => stat,
        Err(error) => return Reply::Errno(cordon_sys::errno_of(&error)),
    };
    let flags = flags & !(libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW);
    if let Some(reply) = refuse_o_path(flags, &stat) {
        return reply;
    }
    let (open_flags, cloexec) = supervisor_flags(flags);
    if !is_regular_or_dir(&stat) {
        return Reply::Blocking(BlockingOpen { parent: object, name: None, flags: open_flags, mode: 0, cloexec });
    }
    match (fs::reopen(object.as_fd(), open_flags), held) {
        (Ok(fd), _) => Reply::Fd { fd, cloexec, writable: writable(flags) },
        // A new open outside the supervisor's Landlock bound fails, but the caller already
        // holds this access: hand it a duplicate instead.
        (Err(error), Some(held)) if error.raw_os_error() == Some(libc::EACCES) => duplicate(held, flags, &stat),
        (Err(error), _) => Reply::Errno(cordon_sys::errno_of(&error)),
    }
}

#[allow(clippy::too_many_arguments)]
fn open_entry(
    context: &Context,
    caller: &Caller,
    request: &OpenRequest,
    flags: i32,
    walk: &Walk<'_>,
    name: CString,
    stat: Option<libc::stat>,
    path: &[u8],
) -> Attempt {
    let creating = flags & libc::O_CREAT != 0;
    let Some(stat) = stat else {
        if !creating {
            return Attempt::Done(Reply::Errno(libc::ENOENT));
        }
        return create_entry(context, caller, request, flags, walk, &name, path);
    };
    if creating && flags & libc::O_EXCL != 0 {
        return Attempt::Done(Reply::Errno(libc::EEXIST));
    }
    if stat.st_mode & libc::S_IFMT == libc::S_IFLNK {
        // Only reached with O_NOFOLLOW: the kernel refuses to open a symlink.
        return Attempt::Done(Reply::Errno(libc::ELOOP));
    }
    if let Err(errno) = judge(context, caller, request.syscall, &categories(flags), path) {
        return Attempt::Done(Reply::Errno(errno));
    }
    if let Some(reply) = refuse_o_path(flags, &stat) {
        return Attempt::Done(reply);
    }
    if is_controlling_tty(&stat) {
        return Attempt::Done(open_controlling_tty(context, caller, flags));
    }
    let retry_missing = flags & libc::O_CREAT != 0;
    let flags = flags & !(libc::O_CREAT | libc::O_EXCL);
    perform(walk, name, flags, request.mode as u32, &stat, retry_missing)
}

/// `O_CREAT` of a name that did not exist when resolved: needs `create` and the open's own
/// categories. Without `create`, the open still succeeds if the file appeared meanwhile,
/// because then nothing is created.
fn create_entry(context: &Context, caller: &Caller, request: &OpenRequest, flags: i32, walk: &Walk<'_>, name: &CString, path: &[u8]) -> Attempt {
    if let Err(errno) = judge(context, caller, request.syscall, &categories(flags), path) {
        return Attempt::Done(Reply::Errno(errno));
    }
    let create = decide(context, Category::Create, path);
    let flags = match create.0 {
        Action::Allow | Action::Audit => {
            if create.0 == Action::Audit {
                report(context, caller, request.syscall, Category::Create, path, Outcome::Audit, create.1.to_string());
            }
            flags
        }
        Action::Deny | Action::Kill => flags & !(libc::O_CREAT | libc::O_EXCL),
    };
    let (open_flags, cloexec) = supervisor_flags(flags);
    let mode = crate::fsop::creation_mode(caller, request.mode as u32);
    match fs::openat(walk.parent(), name, open_flags | libc::O_NOFOLLOW, mode) {
        Ok(fd) => Attempt::Done(Reply::Fd { fd, cloexec, writable: writable(flags) }),
        Err(error) if error.raw_os_error() == Some(libc::ENOENT) && flags & libc::O_CREAT == 0 => {
            report(context, caller, request.syscall, Category::Create, path, Outcome::Deny, create.1.to_string());
            if create.0 == Action::Kill {
                context.kill_sandbox();
            }
            Attempt::Done(Reply::Errno(libc::EACCES))
        }
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => Attempt::Raced,
        Err(error) => Attempt::Done(Reply::Errno(cordon_sys::errno_of(&error))),
    }
}

/// Duplicates a member's open file into the caller (`pidfd_getfd`), provided the fd still
/// refers to the checked object with an access mode that covers `flags`: the fd number may
/// have been reused since it was inspected.
fn duplicate(held: Held, flags: i32, object: &libc::stat) -> Reply {
    let duplicated = process::pidfd_open(held.pid, 0).and_then(|pidfd| process::pidfd_getfd(pidfd.as_fd(), held.fd));
    let fd = match duplicated {
        Ok(fd) => fd,
        Err(error) => {
            tracing::debug!(pid = held.pid, fd = held.fd, %error, "could not duplicate an open file");
            return Reply::Errno(libc::EACCES);
        }
    };
    let same = fs::fstat(fd.as_fd()).is_ok_and(|stat| stat.st_dev == object.st_dev && stat.st_ino == object.st_ino);
    let mode = fs::status_flags(fd.as_fd()).map(|status| status & libc::O_ACCMODE).unwrap_or(-1);
    let requested = flags & libc::O_ACCMODE;
    let covers = mode == libc::O_RDWR || mode == requested;
    if !same || !covers {
        return Reply::Errno(libc::EACCES);
    }
    Reply::Fd { fd, cloexec: flags & libc::O_CLOEXEC != 0, writable: writable(flags) }
}

/// Opens an existing, already-checked entry. FIFOs and devices go to the blocking pool.
/// Everything else is opened with `O_NONBLOCK` first, so a regular file swapped for a FIFO
/// after the check cannot stall the worker; the flag is removed afterwards.
/// `retry_missing`: the call had `O_CREAT`, so an entry that vanished after the check is
/// resolved again (and created, if the policy allows) instead of failing with `ENOENT`.
fn perform(walk: &Walk<'_>, name: CString, flags: i32, mode: u32, stat: &libc::stat, retry_missing: bool) -> Attempt {
    let (open_flags, cloexec) = supervisor_flags(flags);
    let open_flags = open_flags | libc::O_NOFOLLOW;
    if !is_regular_or_dir(stat) {
        return match walk.parent().try_clone_to_owned() {
            Ok(parent) => Attempt::Done(Reply::Blocking(BlockingOpen { parent, name: Some(name), flags: open_flags, mode, cloexec })),
            Err(error) => Attempt::Done(Reply::Errno(cordon_sys::errno_of(&error))),
        };
    }
    let fd = match fs::openat(walk.parent(), &name, open_flags | libc::O_NONBLOCK, mode) {
        Ok(fd) => fd,
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) && flags & libc::O_NOFOLLOW == 0 => return Attempt::Raced,
        Err(error) if error.raw_os_error() == Some(libc::ENOENT) && retry_missing => return Attempt::Raced,
        Err(error) => return Attempt::Done(Reply::Errno(cordon_sys::errno_of(&error))),
    };
    let opened = match fs::fstat(fd.as_fd()) {
        Ok(opened) => opened,
        Err(error) => return Attempt::Done(Reply::Errno(cordon_sys::errno_of(&error))),
    };
    if !is_regular_or_dir(&opened) {
        return Attempt::Raced;
    }
    if flags & (libc::O_NONBLOCK | libc::O_PATH) == 0 {
        if let Err(error) = fs::set_status_flags(fd.as_fd(), flags & SETFL_FLAGS) {
            return Attempt::Done(Reply::Errno(cordon_sys::errno_of(&error)));
        }
    }
    Attempt::Done(Reply::Fd { fd, cloexec, writable: writable(flags) })
}

/// The flags the supervisor opens with: the caller's, with `O_CLOEXEC` always set on the
/// supervisor's copy (the caller's wish travels separately to ADDFD), `O_NOCTTY` so the
/// supervisor never acquires a terminal, and `O_PATH` emulated as a non-blocking read-only
/// open because ADDFD cannot carry an `O_PATH` file.
fn supervisor_flags(flags: i32) -> (i32, bool) {
    let cloexec = flags & libc::O_CLOEXEC != 0;
    let mut flags = (flags & !libc::O_CLOEXEC) | libc::O_CLOEXEC | libc::O_NOCTTY;
    if flags & libc::O_PATH != 0 {
        flags = (flags & (libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NOCTTY)) | libc::O_RDONLY | libc::O_NONBLOCK;
    }
    (flags, cloexec)
}

/// `O_PATH` is emulated by a real open, which FIFOs and devices must not see.
/// NOTE: a genuine O_PATH fd would also reach files the caller may not read; the emulation
/// returns the read permission error for those instead.
fn refuse_o_path(flags: i32, stat: &libc::stat) -> Option<Reply> {
    (flags & libc::O_PATH != 0 && !is_regular_or_dir(stat)).then_some(Reply::Errno(libc::ENXIO))
}

/// Returns whether open `flags` give write access (O_PATH opens are emulated read-only).
pub(crate) fn writable(flags: i32) -> bool {
    flags & libc::O_PATH == 0 && flags & libc::O_ACCMODE != libc::O_RDONLY
}

fn is_regular_or_dir(stat: &libc::stat) -> bool {
    matches!(stat.st_mode & libc::S_IFMT, libc::S_IFREG | libc::S_IFDIR)
}

/// `/dev/tty` (character device 5:0) means the opener's controlling terminal.
fn is_controlling_tty(stat: &libc::stat) -> bool {
    stat.st_mode & libc::S_IFMT == libc::S_IFCHR && stat.st_rdev == libc::makedev(5, 0)
}

/// Opens `/dev/tty` for the caller: `ENXIO` without a controlling terminal, else the
/// terminal the sandbox inherited from cordon, reopened; any other terminal is refused.
fn open_controlling_tty(context: &Context, caller: &Caller, flags: i32) -> Reply {
    let tty = match caller.controlling_tty() {
        Ok(Some(tty)) => tty,
        Ok(None) => return Reply::Errno(libc::ENXIO),
        Err(error) => return Reply::Errno(cordon_sys::errno_of(&error)),
    };
    let Some(terminal) = context.terminal.as_ref().filter(|t| t.rdev == tty) else {
        // NOTE: a sandboxed process that acquired another controlling terminal cannot open
        // it through /dev/tty under cordon.
        return Reply::Errno(libc::ENXIO);
    };
    let (open_flags, cloexec) = supervisor_flags(flags & !(libc::O_CREAT | libc::O_EXCL));
    Reply::Blocking(BlockingOpen {
        parent: match terminal.fd.try_clone() {
            Ok(fd) => fd,
            Err(error) => return Reply::Errno(cordon_sys::errno_of(&error)),
        },
        name: None,
        flags: open_flags,
        mode: 0,
        cloexec,
    })
}

/// Returns the action for `path` and the rule that decided it, formatted only when reported.
fn decide<'a>(context: &'a Context, category: Category, path: &[u8]) -> (Action, &'a RuleOrigin) {
    let decision = context.policy.decide(category, path);
    (decision.action, decision.origin)
}

/// Checks every category in `needed`: the first denial ends the check with `EACCES`
/// (reported once), audits are reported and allowed.
pub(crate) fn judge(context: &Context, caller: &Caller, syscall: &'static str, needed: &[Category], path: &[u8]) -> Result<(), i32> {
    for &category in needed {
        let (action, rule) = decide(context, category, path);
        match action {
            Action::Allow => {}
            Action::Audit => report(context, caller, syscall, category, path, Outcome::Audit, rule.to_string()),
            Action::Deny => {
                report(context, caller, syscall, category, path, Outcome::Deny, rule.to_string());
                return Err(libc::EACCES);
            }
            Action::Kill => {
                report(context, caller, syscall, category, path, Outcome::Deny, rule.to_string());
                context.kill_sandbox();
                return Err(libc::EACCES);
            }
        }
    }
    Ok(())
}

pub(crate) fn hide_rule(context: &Context, path: &[u8]) -> String {
    context.policy.hidden(path).map(|origin| origin.to_string()).unwrap_or_default()
}

pub(crate) fn report(context: &Context, caller: &Caller, syscall: &'static str, category: Category, path: &[u8], outcome: Outcome, rule: String) {
    context.reporter.report(&Event { pid: caller.tgid, tid: caller.tid, syscall, category, path, outcome, rule });
}
