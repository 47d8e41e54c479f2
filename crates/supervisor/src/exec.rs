//! exec and chdir, which the kernel cannot let a supervisor perform for another process.
//!
//! The filter stops these calls for the tracer thread (`SECCOMP_RET_TRACE`). At that stop the
//! tracer resolves the target in the caller's view, checks the policy and, when allowed,
//! keeps the checked file or directory open ("pinned"). Another thread of the caller can
//! still change the path in memory or on disk before the kernel reads it, so the result is
//! validated afterwards: at the exec event `/proc/PID/exe` must be the pinned file, and at the
//! syscall exit of a successful chdir `/proc/TID/cwd` must be the pinned directory; otherwise
//! the process is killed before it runs another instruction.

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};

use cordon_policy::Category;
use cordon_sys::{fs, ptrace};

use crate::caller::{self, Caller, Own};
use crate::context::Context;
use crate::known::KnownPaths;
use crate::open::{hide_rule, judge, report};
use crate::report::Outcome;
use crate::resolve::{Failure, Options, Start, Target, Walk};

/// `AT_EMPTY_PATH` and `AT_SYMLINK_NOFOLLOW` of execveat's flags.
const AT_EMPTY_PATH: u64 = 0x1000;
const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
/// The kernel follows at most this many `#!` interpreters (`BINPRM_MAX_RECURSION`).
const MAX_INTERPRETERS: usize = 4;
/// Bytes of a `#!` line the kernel reads (`BINPRM_BUF_SIZE`).
const SHEBANG_MAX: usize = 256;

/// The identity of a checked file or directory, kept open so it cannot be reused.
pub struct Pin {
    dev: u64,
    ino: u64,
    _fd: OwnedFd,
}

impl Pin {
    fn new(fd: OwnedFd) -> Result<Pin, i32> {
        let stat = fs::fstat(fd.as_fd()).map_err(|e| cordon_sys::errno_of(&e))?;
        Ok(Pin { dev: stat.st_dev, ino: stat.st_ino, _fd: fd })
    }

    /// Returns whether `/proc/TID/NAME` (exe or cwd) is the pinned object.
    fn matches(&self, tid: libc::pid_t, name: &str) -> bool {
        match std::fs::metadata(format!("/proc/{tid}/{name}")) {
            Ok(metadata) => {
                use std::os::unix::fs::MetadataExt;
                metadata.dev() == self.dev && metadata.ino() == self.ino
            }
            Err(_) => false,
        }
    }
}

/// The pins of calls between their check and their validation, by thread id.
#[derive(Default)]
pub struct Pins {
    exec: HashMap<libc::pid_t, Pin>,
    chdir: HashMap<libc::pid_t, Pin>,
    /// `mprotect` ranges (address, length) waiting for their syscall exit.
    mappings: HashMap<libc::pid_t, Option<(u64, u64)>>,
}

impl Pins {
    /// Returns whether `tid` is between the entry and the exit of a call that is validated at
    /// its exit. Such a thread must be resumed with `PTRACE_SYSCALL` after every stop, or a
    /// signal delivered in between would let the exit pass unseen.
    pub fn awaits_exit(&self, tid: libc::pid_t) -> bool {
        self.chdir.contains_key(&tid) || self.mappings.contains_key(&tid)
    }

    /// Forgets the pins of a thread that exited.
    pub fn forget(&mut self, tid: libc::pid_t) {
        self.exec.remove(&tid);
        self.chdir.remove(&tid);
        self.mappings.remove(&tid);
    }
}

/// The tracer's next step after a checked call's entry stop.
pub enum Resume {
    /// Continue; the exec event validates the result.
    Continue,
    /// Stop again at the syscall's exit to validate a chdir.
    ToExit,
    /// The call was made to fail with an errno; continue.
    Failed,
}

/// Checks an exec or chdir at its seccomp stop. Refusals are applied to the stopped thread
/// here (`ptrace::fail_syscall`), and the caller resumes the thread as the returned `Resume` directs.
pub fn check(context: &Context, own: &mut Own, pins: &mut Pins, tid: libc::pid_t, info: &ptrace::SyscallInfo) -> Resume {
    match info.nr as i64 {
        libc::SYS_mmap => {
            pins.mappings.insert(tid, None);
            return Resume::ToExit;
        }
        libc::SYS_mprotect | libc::SYS_pkey_mprotect => {
            pins.mappings.insert(tid, Some((info.args[0], info.args[1])));
            return Resume::ToExit;
        }
        _ => {}
    }
    let outcome = match info.nr as i64 {
        libc::SYS_execve => check_exec(context, own, tid, "execve", Start::Cwd, info.args[0], 0),
        libc::SYS_execveat => check_exec(context, own, tid, "execveat", start_of(info.args[0]), info.args[1], info.args[4]),
        libc::SYS_chdir => check_chdir(context, own, tid, Some(info.args[0]), None),
        libc::SYS_fchdir => check_chdir(context, own, tid, None, Some(info.args[0] as u32 as i32)),
        other => {
            // A program's own filter can return SECCOMP_RET_TRACE for any call: those are not
            // ours to check, and continuing them is what happens without cordon's tracer.
            tracing::debug!(tid, nr = other, "trace stop for a call cordon does not trace");
            return Resume::Continue;
        }
    };
    let is_exec = matches!(info.nr as i64, libc::SYS_execve | libc::SYS_execveat);
    match outcome {
        Ok(pin) if is_exec => {
            pins.exec.insert(tid, pin);
            Resume::Continue
        }
        Ok(pin) => {
            pins.chdir.insert(tid, pin);
            Resume::ToExit
        }
        Err(errno) => {
            if let Err(error) = ptrace::fail_syscall(tid, errno) {
                // The thread cannot be made to fail the call, so it must not run it at all.
                tracing::warn!(tid, %error, "could not refuse a call; killing the sandbox");
                context.kill_sandbox();
            }
            Resume::Failed
        }
    }
}

/// Validates an exec at the exec event: kills the process unless `/proc/PID/exe` is the file
/// checked at the entry of the exec (by the thread `former`, which may differ from `pid`).
pub fn validate_exec(context: &Context, pins: &mut Pins, pid: libc::pid_t, former: libc::pid_t) {
    let pin = pins.exec.remove(&former).or_else(|| pins.exec.remove(&pid));
    if !context.exec_checked {
        // The filter lets exec run without a check: any file was allowed.
        return;
    }
    let valid = pin.is_some_and(|pin| pin.matches(pid, "exe"));
    if !valid {
        eprintln!("cordon: process {pid} executed a file other than the one checked; killed it");
        context.post_validation_kills.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _ = cordon_sys::process::kill(pid, libc::SIGKILL);
        return;
    }
    // The kernel also maps the ELF interpreter named by PT_INTERP, which no exec call names:
    // every executable file mapping of the new image must pass the exec rules too.
    if context.policy.has_hide_rules() || restricts_exec(context) {
        check_mappings(context, pid, "execve");
    }
}

/// Returns whether the policy can deny an exec, so that executable mappings need checking.
fn restricts_exec(context: &Context) -> bool {
    let policy = &context.policy;
    policy.has_rules(Category::Exec) || policy.default_action(Category::Exec) != cordon_policy::Action::Allow
}

/// Kills `tid` and every sandbox member sharing the resource `kind` with it (`KCMP_VM` for
/// memory, `KCMP_FS` for the cwd). A sibling created with `CLONE_VM` or `CLONE_FS` shares
/// what was just found wrong and would survive the kill of `tid` alone.
fn kill_with_sharers(context: &Context, tid: libc::pid_t, kind: i32) {
    for member in context.members.snapshot() {
        if member != tid && cordon_sys::process::shares(tid, member, kind) {
            let _ = cordon_sys::process::kill(member, libc::SIGKILL);
        }
    }
    let _ = cordon_sys::process::kill(tid, libc::SIGKILL);
}

/// Validates a chdir at its syscall exit: kills the process unless the cwd is the checked
/// directory (only when the call succeeded).
pub fn validate_chdir(context: &Context, pins: &mut Pins, tid: libc::pid_t, info: &ptrace::SyscallInfo) {
    if info.op != ptrace::SYSCALL_INFO_EXIT {
        return;
    }
    let Some(pin) = pins.chdir.remove(&tid) else { return };
    if info.return_value != 0 {
        return;
    }
    if !pin.matches(tid, "cwd") {
        eprintln!("cordon: process {tid} changed to a directory other than the one checked; killed it");
        context.post_validation_kills.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        kill_with_sharers(context, tid, cordon_sys::process::KCMP_FS);
    }
}

/// Validates an executable file mapping at the exit of `mmap` or `mprotect`: code mapped
/// without exec (the dynamic loader run directly on a binary, `dlopen`) must come from a file
/// the exec rules allow, or the process is killed before it runs it.
pub fn validate_mapping(context: &Context, pins: &mut Pins, tid: libc::pid_t, info: &ptrace::SyscallInfo) {
    if info.op != ptrace::SYSCALL_INFO_EXIT {
        return;
    }
    let Some(range) = pins.mappings.remove(&tid) else { return };
    if info.return_value < 0 {
        return;
    }
    let syscall = if range.is_some() { "mprotect" } else { "mmap" };
    check_mappings(context, tid, syscall);
}

/// Checks every executable file mapping of `tid`'s address space against the exec rules and
/// kills it, with every member sharing its memory, when one is denied. The whole address
/// space is checked, not just the range of the call, because another thread can move a
/// mapping (`mremap`) before the maps are read.
/// NOTE: this is a check after the fact: a thread sharing the memory can run the mapped
/// code between the mapping and this check.
fn check_mappings(context: &Context, tid: libc::pid_t, syscall: &'static str) {
    let maps = match std::fs::read(format!("/proc/{tid}/maps")) {
        Ok(maps) => maps,
        Err(error) => {
            tracing::warn!(tid, %error, "cannot read the mappings to validate; killing the process");
            kill_with_sharers(context, tid, cordon_sys::process::KCMP_VM);
            return;
        }
    };
    // The caller is opened only when a mapping is not known to be allowed already.
    let mut caller: Option<Caller> = None;
    let mut checked: Vec<(u64, u64)> = Vec::new();
    for line in maps.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
        let Some(mapping) = parse_mapping(line) else {
            // A line that cannot be read could be a mapping that must be checked: fail closed.
            tracing::warn!(tid, line = %String::from_utf8_lossy(line), "cannot parse a mapping to validate; killing the process");
            kill_with_sharers(context, tid, cordon_sys::process::KCMP_VM);
            return;
        };
        if !mapping.executable || mapping.inode == 0 || checked.contains(&(mapping.dev, mapping.inode)) {
            continue;
        }
        checked.push((mapping.dev, mapping.inode));
        if ALLOWED_MAPPINGS.contains(mapping.dev, mapping.inode, mapping.path) {
            continue;
        }
        if caller.is_none() {
            match Caller::open(tid) {
                Ok(opened) => caller = Some(opened),
                Err(error) => {
                    tracing::warn!(tid, %error, "cannot open the caller's procfs entry to validate its mappings; killing the process");
                    kill_with_sharers(context, tid, cordon_sys::process::KCMP_VM);
                    return;
                }
            }
        }
        let Some(caller) = caller.as_ref() else { return };
        if !mapping_allowed(context, caller, &mapping, syscall) {
            eprintln!("cordon: process {} mapped code from a file it may not execute; killed it", caller.tgid);
            context.post_validation_kills.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            kill_with_sharers(context, tid, cordon_sys::process::KCMP_VM);
            return;
        }
    }
}

/// Executable files that a mapping check named and the policy allowed without a report.
/// Audited files are not kept, so that every check of them is logged.
static ALLOWED_MAPPINGS: KnownPaths = KnownPaths::new(4096);

/// One line of `/proc/PID/maps`.
struct Mapping<'a> {
    executable: bool,
    dev: u64,
    inode: u64,
    path: &'a [u8],
}

/// Parses `start-end perms offset major:minor inode path` (the range is not needed).
fn parse_mapping(line: &[u8]) -> Option<Mapping<'_>> {
    // The path starts at the first '/' or '[' (the fields before it are ASCII) and may contain
    // spaces and any bytes.
    let path_start = line.iter().position(|&b| b == b'/' || b == b'[').unwrap_or(line.len());
    let text = std::str::from_utf8(&line[..path_start]).ok()?;
    let mut fields = text.split_ascii_whitespace();
    let _range = fields.next()?;
    let perms = fields.next()?;
    let _offset = fields.next()?;
    let (major, minor) = fields.next()?.split_once(':')?;
    let inode: u64 = fields.next()?.parse().ok()?;
    Some(Mapping {
        executable: perms.as_bytes().get(2) == Some(&b'x'),
        dev: libc::makedev(u32::from_str_radix(major, 16).ok()?, u32::from_str_radix(minor, 16).ok()?),
        inode,
        path: &line[path_start..],
    })
}

/// Names a mapped file the way the resolver names magic-link objects and checks `exec`.
fn mapping_allowed(context: &Context, caller: &Caller, mapping: &Mapping<'_>, syscall: &'static str) -> bool {
    let Ok(mut walk) = Walk::new(caller, &context.policy, &context.members, Start::Cwd, b"/", Options::default()) else {
        return false;
    };
    // The identity the kernel reported for the mapping, which the name must lead to.
    let mut stat = fs::empty_stat();
    stat.st_dev = mapping.dev;
    stat.st_ino = mapping.inode;
    stat.st_mode = libc::S_IFREG;
    let path = match walk.name_path(mapping.path, &stat) {
        Ok(path) => path,
        Err(failure) => {
            failure_errno(context, caller, syscall, failure);
            return false;
        }
    };
    if judge(context, caller, syscall, &[Category::Read, Category::Exec], &path).is_err() {
        return false;
    }
    let plain_allow = [Category::Read, Category::Exec].into_iter().all(|category| context.policy.decide(category, &path).action == cordon_policy::Action::Allow);
    if plain_allow && path == mapping.path {
        ALLOWED_MAPPINGS.remember(mapping.dev, mapping.inode, mapping.path);
    }
    true
}

fn start_of(dirfd: u64) -> Start {
    let dirfd = dirfd as u32 as i32;
    if dirfd == libc::AT_FDCWD {
        Start::Cwd
    } else {
        Start::Fd(dirfd)
    }
}

/// Resolves and checks an exec target and, for `#!` scripts, its interpreters. Returns the
/// pin of the file the kernel will finally map: the last interpreter for a script.
fn check_exec(context: &Context, own: &mut Own, tid: libc::pid_t, syscall: &'static str, start: Start, address: u64, flags: u64) -> Result<Pin, i32> {
    let caller = Caller::open(tid).map_err(|_| libc::EACCES)?;
    let path = caller::read_path(tid, address).map_err(|error| match error {
        caller::CopyError::Fault => libc::EFAULT,
        caller::CopyError::TooLong => libc::ENAMETOOLONG,
        caller::CopyError::Denied(_) => libc::EACCES,
    })?;
    let _identity = caller::adopt(own, &caller.credentials).map_err(|_| libc::EACCES)?;
    let mut pin = if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        let Start::Fd(fd) = start else { return Err(libc::ENOENT) };
        exec_fd_object(context, &caller, syscall, fd)?
    } else {
        let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
        exec_path(context, &caller, syscall, start, &path, follow)?
    };
    for _ in 0..MAX_INTERPRETERS {
        let Some(interpreter) = shebang(&pin.1) else { return Ok(pin.0) };
        pin = exec_path(context, &caller, syscall, Start::Cwd, &interpreter, true)?;
    }
    Err(libc::ELOOP)
}

/// Checks the file the caller's fd refers to (`execveat(fd, "", ..., AT_EMPTY_PATH)`).
fn exec_fd_object(context: &Context, caller: &Caller, syscall: &'static str, fd: i32) -> Result<(Pin, OwnedFd), i32> {
    let mut walk = Walk::new(caller, &context.policy, &context.members, Start::Cwd, b"", Options::default()).map_err(|f| failure_errno(context, caller, syscall, f))?;
    let (object, path, stat) = walk.fd_object(fd).map_err(|f| failure_errno(context, caller, syscall, f))?;
    if stat.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(libc::EACCES);
    }
    judge(context, caller, syscall, &[Category::Read, Category::Exec], &path)?;
    pin_with_reader(object)
}

/// Pins a checked file and opens it for reading its `#!` line. A file the supervisor cannot
/// read is treated as a binary: if it is a script after all, the exe check at the exec event
/// finds the interpreter instead of the pinned file and kills the process.
fn pin_with_reader(object: OwnedFd) -> Result<(Pin, OwnedFd), i32> {
    let reader = fs::reopen(object.as_fd(), libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .or_else(|_| fs::openat(fs::cwd(), c"/dev/null", libc::O_RDONLY | libc::O_CLOEXEC, 0))
        .map_err(|e| cordon_sys::errno_of(&e))?;
    Ok((Pin::new(object)?, reader))
}

/// Resolves an exec target path in the caller's view and checks `exec` on it.
fn exec_path(context: &Context, caller: &Caller, syscall: &'static str, start: Start, path: &[u8], follow: bool) -> Result<(Pin, OwnedFd), i32> {
    let options = Options { follow_final: follow, resolve: 0 };
    let mut walk = Walk::new(caller, &context.policy, &context.members, start, path, options).map_err(|f| failure_errno(context, caller, syscall, f))?;
    let target = walk.resolve(path).map_err(|f| failure_errno(context, caller, syscall, f))?;
    let (object, canonical) = match target {
        Target::Entry { stat: None, .. } => return Err(libc::ENOENT),
        Target::Entry { stat: Some(stat), .. } if stat.st_mode & libc::S_IFMT == libc::S_IFLNK => return Err(libc::ELOOP),
        Target::Entry { stat: Some(stat), .. } if stat.st_mode & libc::S_IFMT != libc::S_IFREG => return Err(libc::EACCES),
        Target::Entry { name, .. } => {
            let fd = fs::openat(walk.parent(), &name, libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC, 0).map_err(|e| cordon_sys::errno_of(&e))?;
            (fd, walk.path().to_vec())
        }
        Target::Directory => return Err(libc::EACCES),
        Target::OpenerLink { .. } => return Err(libc::ELOOP),
        Target::Object { fd, path, .. } => (fd, path),
    };
    judge(context, caller, syscall, &[Category::Read, Category::Exec], &canonical)?;
    pin_with_reader(object)
}

/// Returns the interpreter path of a `#!` script, reading its first line from `file`.
fn shebang(file: &OwnedFd) -> Option<Vec<u8>> {
    let mut head = [0u8; SHEBANG_MAX];
    let count = cordon_sys::process::read_fd(file.as_fd(), &mut head).ok()?;
    let head = &head[..count];
    let line = head.strip_prefix(b"#!")?;
    let newline = line.iter().position(|&b| b == b'\n');
    let line = &line[..newline.unwrap_or(line.len())];
    let start = line.iter().position(|&b| b != b' ' && b != b'\t')?;
    let rest = &line[start..];
    let end = rest.iter().position(|&b| matches!(b, b' ' | b'\t' | 0));
    if newline.is_none() && end.is_none() && count == SHEBANG_MAX {
        // The interpreter name runs past the bytes the kernel reads: it refuses the script
        // with ENOEXEC, so there is no interpreter to check.
        return None;
    }
    Some(rest[..end.unwrap_or(rest.len())].to_vec())
}

/// Checks a chdir (path) or fchdir (fd) target: it must be a directory the policy lets the
/// caller enter. Returns the pin of the directory.
fn check_chdir(context: &Context, own: &mut Own, tid: libc::pid_t, address: Option<u64>, fd: Option<i32>) -> Result<Pin, i32> {
    let syscall = if fd.is_some() { "fchdir" } else { "chdir" };
    let caller = Caller::open(tid).map_err(|_| libc::EACCES)?;
    let path = match address {
        Some(address) => caller::read_path(tid, address).map_err(|error| match error {
            caller::CopyError::Fault => libc::EFAULT,
            caller::CopyError::TooLong => libc::ENAMETOOLONG,
            caller::CopyError::Denied(_) => libc::EACCES,
        })?,
        None => Vec::new(),
    };
    let _identity = caller::adopt(own, &caller.credentials).map_err(|_| libc::EACCES)?;
    let options = Options { follow_final: true, resolve: 0 };
    let mut walk = Walk::new(&caller, &context.policy, &context.members, Start::Cwd, &path, options).map_err(|f| failure_errno(context, &caller, syscall, f))?;
    let (object, canonical) = if let Some(fd) = fd {
        let (object, canonical, stat) = walk.fd_object(fd).map_err(|f| failure_errno(context, &caller, syscall, f))?;
        if stat.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return Err(libc::ENOTDIR);
        }
        (object, canonical)
    } else {
        match walk.resolve(&path).map_err(|f| failure_errno(context, &caller, syscall, f))? {
            Target::Entry { stat: None, .. } => return Err(libc::ENOENT),
            Target::Entry { stat: Some(stat), name } => {
                if stat.st_mode & libc::S_IFMT != libc::S_IFDIR {
                    return Err(libc::ENOTDIR);
                }
                let fd = fs::openat(walk.parent(), &name, libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC, 0).map_err(|e| cordon_sys::errno_of(&e))?;
                (fd, walk.path().to_vec())
            }
            Target::Directory => {
                let fd = fs::openat(walk.parent(), c".", libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0).map_err(|e| cordon_sys::errno_of(&e))?;
                (fd, walk.path().to_vec())
            }
            Target::OpenerLink { .. } => return Err(libc::ELOOP),
            Target::Object { fd, path, .. } => {
                let stat = fs::fstat(fd.as_fd()).map_err(|e| cordon_sys::errno_of(&e))?;
                if stat.st_mode & libc::S_IFMT != libc::S_IFDIR {
                    return Err(libc::ENOTDIR);
                }
                (fd, path)
            }
        }
    };
    judge(context, &caller, syscall, &[Category::Chdir], &canonical)?;
    Pin::new(object)
}

/// Maps a resolution failure to the errno of the call, reporting hidden paths.
fn failure_errno(context: &Context, caller: &Caller, syscall: &'static str, failure: Failure) -> i32 {
    match failure {
        Failure::Errno(errno) => errno,
        // A racing rename: the post-validation would catch a swap, but refusing is simpler.
        Failure::Raced => libc::EAGAIN,
        Failure::Hidden { path, .. } => {
            let category = if syscall.ends_with("chdir") { Category::Chdir } else { Category::Exec };
            report(context, caller, syscall, category, &path, Outcome::Hide, hide_rule(context, &path));
            libc::ENOENT
        }
    }
}
