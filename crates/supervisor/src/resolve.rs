//! The resolver: walks a path in the calling thread's view, one component at a time, holding
//! an fd for every directory it passes through and building the canonical path as it goes.
//!
//! The policy is checked against the path built here, and the operation is then performed
//! through the fds held here (`openat(parent, name, ...)`), so the object checked is the
//! object used. Symlinks are followed by the resolver itself, never by the kernel. Names
//! whose meaning depends on the opener (`/proc/self`, `/proc/thread-self`, magic links below
//! `/proc/PID`) are resolved for the caller. Procfs pid directories are entered only for
//! live members of the sandbox.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::OnceLock;

use cordon_policy::Policy;
use cordon_sys::{fs, process};

use crate::caller::Caller;
use crate::known::KnownPaths;
use crate::members::Members;

const PROC_SUPER_MAGIC: i64 = 0x9fa0;
const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;
const PROC_ROOT_INO: u64 = 1;
/// The kernel's limit on symlinks followed in one lookup (`MAXSYMLINKS`).
const MAX_SYMLINKS: u32 = 40;
const NAME_MAX: usize = 255;

pub const RESOLVE_NO_XDEV: u64 = 0x01;
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_BENEATH: u64 = 0x08;
pub const RESOLVE_IN_ROOT: u64 = 0x10;

/// The starting directory of a relative path.
#[derive(Clone, Copy, Debug)]
pub enum Start {
    Cwd,
    Fd(i32),
}

/// Resolution options.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Follow a final symlink (no `O_NOFOLLOW`, no `O_CREAT|O_EXCL`).
    pub follow_final: bool,
    /// `RESOLVE_*` flags of openat2.
    pub resolve: u64,
}

/// The position of a directory with respect to procfs, tracked per directory so `..` restores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProcState {
    Outside,
    /// Inside `/proc/PID` of a member; symlinks here are magic links.
    Process,
    /// `/proc/PID/task`, whose numeric entries are thread ids.
    TaskList,
}

/// The sandbox's root directory, opened once by [`share_root`]. No sandboxed process can
/// change its root (`chroot`, `pivot_root`, `setns` and new mount namespaces are refused by the
/// static filter), and cordon starts the sandbox without changing it, so every caller's root
/// is the supervisor's.
static ROOT: OnceLock<OwnedFd> = OnceLock::new();

/// Whether [`ROOT`] is on a file system other than procfs and devpts.
static ROOT_PLAIN: OnceLock<bool> = OnceLock::new();

/// The supervisor's own `/proc/self/fd`, through which the resolver reads the path of an fd it
/// holds.
static OWN_FDS: OnceLock<OwnedFd> = OnceLock::new();

/// Opens the root every walk starts from, so a walk need not open `/proc/TID/root`.
pub fn share_root() -> io::Result<()> {
    let root = fs::openat(fs::cwd(), c"/", libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)?;
    let plain = !is_special_fs(fs::fs_type(root.as_fd())?);
    let own_fds = fs::openat(fs::cwd(), c"/proc/self/fd", libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)?;
    let _ = ROOT.set(root);
    let _ = ROOT_PLAIN.set(plain);
    let _ = OWN_FDS.set(own_fds);
    Ok(())
}

fn is_special_fs(kind: i64) -> bool {
    matches!(kind, PROC_SUPER_MAGIC | DEVPTS_SUPER_MAGIC)
}

/// Start directories of relative walks: entered after a one-step walk from the root, outside
/// procfs and devpts and with no hidden prefix.
static STARTS: KnownPaths = KnownPaths::new(1024);

/// A directory fd on the walk's stack: one the walk opened, or the shared root.
enum DirFd {
    Owned(OwnedFd),
    Root(BorrowedFd<'static>),
}

impl DirFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            DirFd::Owned(fd) => fd.as_fd(),
            DirFd::Root(fd) => *fd,
        }
    }
}

struct Dir {
    fd: DirFd,
    /// Whether the walk reached this directory in one `openat2` step, so the entry below it
    /// on the stack is an ancestor but not necessarily its parent.
    detached: bool,
    /// Length of the canonical path of this directory inside `Walk::path`.
    path_len: usize,
    proc: ProcState,
    dev: u64,
    /// Known to be on a file system other than procfs and devpts.
    plain: bool,
}

/// The outcome of a resolution.
pub enum Target {
    /// An entry `name` in the directory at the top of the walk; `stat` is `None` when no such
    /// entry exists (yet). The entry is never a symlink that should have been followed.
    Entry { name: CString, stat: Option<libc::stat> },
    /// The walk ended on the directory at the top of the walk (".", "..", "/").
    Directory,
    /// A magic link resolved to an object: an `O_PATH` fd and the object's policy name, and
    /// for an open file of a member (`/proc/PID/fd/N`) where that file is.
    Object { fd: OwnedFd, path: Vec<u8>, held: Option<Held> },
    /// A final `/proc/self` or `/proc/thread-self` that was not to be followed: `name` in the
    /// directory at the top of the walk, whose link text for the caller is `text`.
    OpenerLink { name: CString, text: Vec<u8> },
}

/// An open file of a sandbox member, reached through `/proc/PID/fd/N`.
#[derive(Clone, Copy, Debug)]
pub struct Held {
    pub pid: libc::pid_t,
    pub fd: i32,
    /// Its access mode: `O_RDONLY`, `O_WRONLY` or `O_RDWR`.
    pub mode: i32,
    /// The inode it had when its mode was read.
    pub ino: u64,
}

/// The reason a resolution failed.
#[derive(Debug)]
pub enum Failure {
    /// The errno the syscall fails with.
    Errno(i32),
    /// The path, or a directory on the way, is hidden by the policy (`path` names it).
    Hidden { path: Vec<u8>, final_component: bool },
    /// A component changed type between two steps of the walk (a concurrent rename or
    /// symlink swap); the caller resolves again from the start.
    Raced,
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Failure {
        Failure::Errno(cordon_sys::errno_of(&error))
    }
}

pub type Result<T> = std::result::Result<T, Failure>;

/// One path walk in the view of one calling thread.
pub struct Walk<'a> {
    caller: &'a Caller,
    policy: &'a Policy,
    members: &'a Members,
    stack: Vec<Dir>,
    /// Canonical path of the top of the stack ("/" for the root), later with the final name.
    path: Vec<u8>,
    /// Index of the directory that `RESOLVE_BENEATH` and `RESOLVE_IN_ROOT` treat as the root.
    floor: usize,
    symlinks: u32,
    options: Options,
}

impl<'a> Walk<'a> {
    /// Prepares a walk of `path` for `caller`. Opens the caller's root (and its cwd or dirfd
    /// for relative paths) through its procfs handle.
    pub fn new(caller: &'a Caller, policy: &'a Policy, members: &'a Members, start: Start, path: &[u8], options: Options) -> Result<Walk<'a>> {
        let (root, plain) = match ROOT.get() {
            Some(root) => (DirFd::Root(root.as_fd()), ROOT_PLAIN.get().copied().unwrap_or(false)),
            None => (DirFd::Owned(fs::openat(caller.proc_dir.as_fd(), c"root", libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)?), false),
        };
        let dev = if options.resolve & RESOLVE_NO_XDEV != 0 { fs::fstat(root.as_fd())?.st_dev } else { 0 };
        let mut walk = Walk {
            caller,
            policy,
            members,
            stack: vec![Dir { fd: root, detached: false, path_len: 1, proc: ProcState::Outside, dev, plain }],
            path: b"/".to_vec(),
            floor: 0,
            symlinks: 0,
            options,
        };
        let scoped = options.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) != 0;
        if path.first() == Some(&b'/') && !scoped {
            return Ok(walk);
        }
        walk.enter_start(start)?;
        if scoped {
            walk.floor = walk.stack.len() - 1;
        }
        if path.first() == Some(&b'/') && options.resolve & RESOLVE_BENEATH != 0 {
            return Err(Failure::Errno(libc::EXDEV));
        }
        Ok(walk)
    }

    /// Replaces the stack with the canonical walk to the caller's cwd or dirfd.
    fn enter_start(&mut self, start: Start) -> Result<()> {
        let link = match start {
            Start::Cwd => CString::from(c"cwd"),
            Start::Fd(fd) if fd < 0 => return Err(Failure::Errno(libc::EBADF)),
            Start::Fd(fd) => CString::new(format!("fd/{fd}")).map_err(|_| Failure::Errno(libc::EBADF))?,
        };
        let proc_dir = self.caller.proc_dir.as_fd();
        // A dirfd is taken with pidfd_getfd, which is cheaper than opening its magic link.
        let duplicate = match start {
            Start::Fd(fd) => match self.caller.proc_dir.pidfd().and_then(|pidfd| process::pidfd_getfd(pidfd, fd)) {
                Err(error) if error.raw_os_error() == Some(libc::EBADF) => return Err(Failure::Errno(libc::EBADF)),
                duplicate => duplicate.ok(),
            },
            Start::Cwd => None,
        };
        let object = match duplicate {
            Some(object) => object,
            None => match fs::openat(proc_dir, &link, libc::O_PATH | libc::O_CLOEXEC, 0) {
                Ok(object) => object,
                Err(error) if error.raw_os_error() == Some(libc::ENOENT) => return Err(Failure::Errno(libc::EBADF)),
                Err(error) => return Err(error.into()),
            },
        };
        let stat = fs::fstat(object.as_fd())?;
        if stat.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return Err(Failure::Errno(libc::ENOTDIR));
        }
        // The path of the pinned directory itself, not of whatever the caller's fd names by now.
        let hint = match OWN_FDS.get() {
            Some(own_fds) => fs::readlinkat(own_fds.as_fd(), &to_cstring(object.as_raw_fd().to_string().as_bytes())?)?,
            None => fs::readlinkat(proc_dir, &link)?,
        };
        if self.options.resolve == 0 && OWN_FDS.get().is_some() && STARTS.contains(stat.st_dev, stat.st_ino, &hint) {
            self.stack.truncate(1);
            self.path = hint;
            self.stack.push(Dir { fd: DirFd::Owned(object), detached: true, path_len: self.path.len(), proc: ProcState::Outside, dev: stat.st_dev, plain: true });
            return Ok(());
        }
        if self.walk_fast(&hint, &stat)? {
            if OWN_FDS.get().is_some() {
                STARTS.remember(stat.st_dev, stat.st_ino, &hint);
            }
            return Ok(());
        }
        if !self.walk_canonical(&hint, &stat)? {
            if hint.starts_with(b"/proc/") || hint.ends_with(b" (deleted)") {
                // A procfs directory outside the sandbox (a dirfd passed in from outside) or a
                // deleted directory: there is nothing the walk could find later.
                // NOTE: the kernel would still resolve ".." inside a deleted directory;
                // cordon refuses, because it cannot name what the policy would judge.
                return Err(Failure::Errno(libc::ENOENT));
            }
            // The directory moved between reading its name and walking it.
            return Err(Failure::Raced);
        }
        Ok(())
    }

    /// Walks `hint`, the kernel's text for an object's path, from the caller's root without
    /// following symlinks, and keeps the walk if it ends on the directory described by `stat`.
    /// The text is never trusted: only a walk that reaches the same inode names the object.
    fn walk_canonical(&mut self, hint: &[u8], stat: &libc::stat) -> Result<bool> {
        if !self.walk_plain(hint)? {
            return Ok(false);
        }
        let top = fs::fstat(self.top())?;
        Ok(top.st_dev == stat.st_dev && top.st_ino == stat.st_ino)
    }

    /// Like [`Walk::walk_canonical`], in one `openat2` step when [`Walk::enter_fast`] allows it.
    fn walk_fast(&mut self, hint: &[u8], stat: &libc::stat) -> Result<bool> {
        if hint.first() != Some(&b'/') {
            return Ok(false);
        }
        self.stack.truncate(1);
        self.path.truncate(1);
        let components: Vec<&[u8]> = hint.split(|&b| b == b'/').filter(|c| !c.is_empty()).collect();
        if !matches!(self.enter_fast(&components), Ok(true)) {
            return Ok(false);
        }
        let top = fs::fstat(self.top())?;
        Ok(top.st_dev == stat.st_dev && top.st_ino == stat.st_ino)
    }

    /// Enters the directories `components` below the top in a single `openat2` with
    /// `RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH`, which gives the
    /// same object as the component walk when no component is a symlink, `.` or `..`.
    /// Returns `Ok(false)` when the walk must take the slow path instead: a symlink on the
    /// way, procfs or devpts (whose names depend on the opener or on membership), hide rules
    /// on a prefix, or resolve flags. Errors that the component walk would return the same
    /// way (`ENOENT`, `ENOTDIR`, `EACCES`) are returned directly.
    fn enter_fast(&mut self, components: &[&[u8]]) -> Result<bool> {
        if components.is_empty() {
            return Ok(true);
        }
        if self.options.resolve != 0 || self.top_state() != ProcState::Outside {
            return Ok(false);
        }
        let at_root = self.stack.len() == 1;
        if at_root && components[0] == b"proc" {
            return Ok(false);
        }
        let mut path = self.path.clone();
        for component in components {
            if *component == b"." || *component == b".." || component.len() > NAME_MAX {
                return Ok(false);
            }
            if path.last() != Some(&b'/') {
                path.push(b'/');
            }
            path.extend_from_slice(component);
            if self.policy.has_hide_rules() && self.policy.hidden(&path).is_some() {
                return Ok(false);
            }
        }
        let relative = to_cstring(&components.join(&b'/'))?;
        let flags = (libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) as u64;
        let resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH;
        // Without crossing a mount, the directory is on the top's file system: when that is
        // known not to be procfs or devpts, the file-system type need not be asked.
        let top_plain = self.stack.last().is_some_and(|dir| dir.plain);
        let opened = match top_plain {
            true => match fs::openat2(self.top(), &relative, flags, resolve | RESOLVE_NO_XDEV) {
                Err(error) if error.raw_os_error() == Some(libc::EXDEV) => fs::openat2(self.top(), &relative, flags, resolve).map(|fd| (fd, false)),
                other => other.map(|fd| (fd, true)),
            },
            false => fs::openat2(self.top(), &relative, flags, resolve).map(|fd| (fd, false)),
        };
        let (fd, same_mount) = match opened {
            Ok(opened) => opened,
            Err(error) => {
                return match error.raw_os_error() {
                    Some(errno @ (libc::ENOENT | libc::ENOTDIR | libc::EACCES)) => Err(Failure::Errno(errno)),
                    _ => Ok(false),
                }
            }
        };
        if !same_mount && is_special_fs(fs::fs_type(fd.as_fd())?) {
            return Ok(false);
        }
        let dev = self.stack.last().map(|dir| dir.dev).unwrap_or(0);
        self.path = path;
        self.stack.push(Dir { fd: DirFd::Owned(fd), detached: true, path_len: self.path.len(), proc: ProcState::Outside, dev, plain: true });
        Ok(true)
    }

    /// Enters the directory `path` (absolute) from the caller's root in one `openat2` step
    /// when [`Walk::enter_fast`] allows it; `false` means the component walk must do it.
    fn enter_parent_fast(&mut self, path: &[u8]) -> bool {
        if path.first() != Some(&b'/') {
            return false;
        }
        self.stack.truncate(1);
        self.path.truncate(1);
        let components: Vec<&[u8]> = path.split(|&b| b == b'/').filter(|c| !c.is_empty()).collect();
        matches!(self.enter_fast(&components), Ok(true))
    }

    /// Walks the directories of an absolute `path` from the caller's root, entering no
    /// symlink. Returns `false` when any component is missing, not a directory or a symlink,
    /// and the hide failure when a component is hidden.
    fn walk_plain(&mut self, path: &[u8]) -> Result<bool> {
        if path.first() != Some(&b'/') {
            return Ok(false);
        }
        self.stack.truncate(1);
        self.path.truncate(1);
        for component in path.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".") {
            if component == b".." {
                return Ok(false);
            }
            match self.enter_directory(component, false) {
                Ok(true) => {}
                // Hidden stays hidden whichever way the walk was reached.
                Err(hidden @ Failure::Hidden { .. }) => return Err(hidden),
                Ok(false) | Err(_) => return Ok(false),
            }
        }
        Ok(true)
    }

    fn top(&self) -> BorrowedFd<'_> {
        self.stack.last().map(|dir| dir.fd.as_fd()).unwrap_or_else(|| fs::cwd())
    }

    fn top_state(&self) -> ProcState {
        self.stack.last().map(|dir| dir.proc).unwrap_or(ProcState::Outside)
    }

    /// Returns the canonical path of the final component after a successful resolution.
    pub fn path(&self) -> &[u8] {
        &self.path
    }

    /// Returns the directory that contains the final component.
    pub fn parent(&self) -> BorrowedFd<'_> {
        self.top()
    }

    /// Resolves `path`.
    pub fn resolve(&mut self, path: &[u8]) -> Result<Target> {
        if path.is_empty() {
            return Err(Failure::Errno(libc::ENOENT));
        }
        let mut pending: Vec<Vec<u8>> = Vec::new();
        let mut trailing_slash = path.last() == Some(&b'/');
        push_components(&mut pending, path);
        if pending.is_empty() {
            return Ok(Target::Directory);
        }
        if !trailing_slash && pending.len() >= 2 {
            let directories: Vec<&[u8]> = pending[1..].iter().rev().map(Vec::as_slice).collect();
            if self.enter_fast(&directories)? {
                pending.truncate(1);
            }
        }
        while let Some(component) = pending.pop() {
            let last = pending.is_empty();
            match component.as_slice() {
                b"." => {
                    if last {
                        return Ok(Target::Directory);
                    }
                }
                b".." => {
                    self.leave_directory()?;
                    if last {
                        return Ok(Target::Directory);
                    }
                }
                name if last && !trailing_slash => {
                    match self.final_component(name)? {
                        Step::Done(target) => return Ok(target),
                        Step::Follow(link) => {
                            trailing_slash |= link.last() == Some(&b'/');
                            self.follow(&link, &mut pending)?;
                        }
                    }
                }
                name => {
                    if let Some(link) = self.middle_component(name)? {
                        trailing_slash |= last && link.last() == Some(&b'/');
                        self.follow(&link, &mut pending)?;
                    } else if last {
                        return Ok(Target::Directory);
                    }
                }
            }
        }
        Ok(Target::Directory)
    }

    /// Queues a symlink's target in place of the link.
    fn follow(&mut self, target: &[u8], pending: &mut Vec<Vec<u8>>) -> Result<()> {
        self.symlinks += 1;
        if self.symlinks > MAX_SYMLINKS || self.options.resolve & RESOLVE_NO_SYMLINKS != 0 {
            return Err(Failure::Errno(libc::ELOOP));
        }
        if target.is_empty() {
            return Err(Failure::Errno(libc::ENOENT));
        }
        if target[0] == b'/' {
            if self.options.resolve & RESOLVE_BENEATH != 0 {
                return Err(Failure::Errno(libc::EXDEV));
            }
            let keep = if self.options.resolve & RESOLVE_IN_ROOT != 0 { self.floor + 1 } else { 1 };
            self.stack.truncate(keep);
            let path_len = self.stack[keep - 1].path_len;
            self.path.truncate(path_len);
        }
        push_components(pending, target);
        Ok(())
    }

    fn leave_directory(&mut self) -> Result<()> {
        if self.stack.len() - 1 <= self.floor {
            if self.options.resolve & RESOLVE_BENEATH != 0 {
                return Err(Failure::Errno(libc::EXDEV));
            }
            // ".." at the root (or at the IN_ROOT floor) stays there, as in the kernel.
            return Ok(());
        }
        if self.stack.last().is_some_and(|dir| dir.detached) {
            self.attach_top()?;
        }
        self.stack.pop();
        let path_len = self.stack.last().map(|dir| dir.path_len).unwrap_or(1);
        self.path.truncate(path_len);
        Ok(())
    }

    /// Replaces a detached top with the full component walk to it, so that `..` pops to its
    /// real parent. The walk must reach the same directory, else the tree changed meanwhile.
    fn attach_top(&mut self) -> Result<()> {
        let before = fs::fstat(self.top())?;
        let path = self.path.clone();
        if !self.walk_plain(&path)? {
            return Err(Failure::Raced);
        }
        let after = fs::fstat(self.top())?;
        if before.st_dev != after.st_dev || before.st_ino != after.st_ino {
            return Err(Failure::Raced);
        }
        Ok(())
    }

    /// Returns the canonical path `name` would have inside the top directory.
    fn child_path(&self, name: &[u8]) -> Vec<u8> {
        let mut child = self.path.clone();
        if child.last() != Some(&b'/') {
            child.push(b'/');
        }
        child.extend_from_slice(name);
        child
    }

    fn check_hidden(&self, name: &[u8], final_component: bool) -> Result<()> {
        if !self.policy.has_hide_rules() {
            return Ok(());
        }
        let child = self.child_path(name);
        if self.policy.hidden(&child).is_some() {
            return Err(Failure::Hidden { path: child, final_component });
        }
        Ok(())
    }

    /// Procfs names that stand for the caller itself, rewritten to the caller's ids.
    fn opener_dependent(&self, name: &[u8]) -> Result<Option<Vec<u8>>> {
        if name != b"self" && name != b"thread-self" {
            return Ok(None);
        }
        if !self.at_proc_root()? {
            return Ok(None);
        }
        let caller = self.caller;
        Ok(Some(if name == b"self" {
            caller.tgid.to_string().into_bytes()
        } else {
            format!("{}/task/{}", caller.tgid, caller.tid).into_bytes()
        }))
    }

    fn at_proc_root(&self) -> Result<bool> {
        match self.top_state() {
            ProcState::Process | ProcState::TaskList => Ok(false),
            ProcState::Outside => {
                let stat = fs::fstat(self.top())?;
                Ok(stat.st_ino == PROC_ROOT_INO && fs::fs_type(self.top())? == PROC_SUPER_MAGIC)
            }
        }
    }

    /// Refuses procfs pid and tid directories of processes outside the sandbox.
    fn check_membership(&self, name: &[u8]) -> Result<Option<ProcState>> {
        let numeric = !name.is_empty() && name.iter().all(u8::is_ascii_digit);
        let state = self.top_state();
        if state == ProcState::TaskList {
            return self.member_state(name, numeric);
        }
        if state == ProcState::Process {
            return Ok(Some(if name == b"task" { ProcState::TaskList } else { ProcState::Process }));
        }
        if numeric && self.at_proc_root()? {
            return self.member_state(name, true);
        }
        Ok(None)
    }

    fn member_state(&self, name: &[u8], numeric: bool) -> Result<Option<ProcState>> {
        let pid = std::str::from_utf8(name).ok().and_then(|n| n.parse::<libc::pid_t>().ok());
        match pid {
            Some(pid) if numeric && self.members.contains(pid) => Ok(Some(ProcState::Process)),
            _ => Err(Failure::Errno(libc::ENOENT)),
        }
    }

    /// Enters directory `name`. Returns `Ok(false)` when `name` is a symlink (not entered).
    fn enter_directory(&mut self, name: &[u8], final_component: bool) -> Result<bool> {
        if name.len() > NAME_MAX {
            return Err(Failure::Errno(libc::ENAMETOOLONG));
        }
        self.check_hidden(name, final_component)?;
        let proc = self.check_membership(name)?;
        let c_name = to_cstring(name)?;
        let opened = fs::openat(self.top(), &c_name, libc::O_PATH | libc::O_NOFOLLOW | libc::O_DIRECTORY | libc::O_CLOEXEC, 0);
        let fd = match opened {
            Ok(fd) => fd,
            Err(error) if error.raw_os_error() == Some(libc::ENOTDIR) => {
                let stat = fs::lstatat(self.top(), &c_name)?;
                match stat.st_mode & libc::S_IFMT {
                    libc::S_IFLNK => return Ok(false),
                    libc::S_IFDIR => return Err(Failure::Raced),
                    _ => return Err(Failure::Errno(libc::ENOTDIR)),
                }
            }
            Err(error) => return Err(error.into()),
        };
        // Device numbers are only needed for RESOLVE_NO_XDEV; skipping the fstat otherwise
        // saves a system call per component on the hot path.
        let parent_dev = self.stack.last().map(|dir| dir.dev).unwrap_or(0);
        let dev = if self.options.resolve & RESOLVE_NO_XDEV != 0 {
            let dev = fs::fstat(fd.as_fd())?.st_dev;
            if dev != parent_dev {
                // NOTE: compares device numbers, so a bind mount within one file system is
                // not detected as a mount crossing.
                return Err(Failure::Errno(libc::EXDEV));
            }
            dev
        } else {
            parent_dev
        };
        // A procfs root is recognised lazily (`at_proc_root`) when a pid-like name follows.
        let proc = proc.unwrap_or(ProcState::Outside);
        self.path = self.child_path(name);
        self.stack.push(Dir { fd: DirFd::Owned(fd), detached: false, path_len: self.path.len(), proc, dev, plain: false });
        Ok(true)
    }

    /// A component with more path after it: must be a directory or a symlink to follow.
    /// Returns the link text to follow, or `None` after entering the directory.
    fn middle_component(&mut self, name: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(substitute) = self.opener_dependent(name)? {
            self.check_hidden(name, false)?;
            self.symlinks += 1;
            return Ok(Some(substitute));
        }
        if self.enter_directory(name, false)? {
            return Ok(None);
        }
        let c_name = to_cstring(name)?;
        if self.top_state() == ProcState::Process {
            let (_object, text, stat) = self.magic_link(&c_name)?;
            if stat.st_mode & libc::S_IFMT != libc::S_IFDIR {
                return Err(Failure::Errno(libc::ENOTDIR));
            }
            // NOTE: a directory without a name in the caller's view (deleted, or outside its
            // root) cannot be judged by path rules, so walking through it is refused.
            if !self.walk_canonical(&text, &stat)? {
                return Err(Failure::Errno(libc::EACCES));
            }
            return Ok(None);
        }
        Ok(Some(read_link(self.top(), &c_name)?))
    }

    /// The last component: report it, or return a symlink's text to follow.
    fn final_component(&mut self, name: &[u8]) -> Result<Step> {
        if name.len() > NAME_MAX {
            return Err(Failure::Errno(libc::ENAMETOOLONG));
        }
        if let Some(substitute) = self.opener_dependent(name)? {
            self.check_hidden(name, true)?;
            if !self.options.follow_final {
                self.path = self.child_path(name);
                return Ok(Step::Done(Target::OpenerLink { name: to_cstring(name)?, text: substitute }));
            }
            self.symlinks += 1;
            return Ok(Step::Follow(substitute));
        }
        self.check_hidden(name, true)?;
        // A pid or tid directory may also be the final component.
        self.check_membership(name)?;
        let c_name = to_cstring(name)?;
        let stat = match fs::lstatat(self.top(), &c_name) {
            Ok(stat) => Some(stat),
            Err(error) if error.raw_os_error() == Some(libc::ENOENT) => None,
            Err(error) => return Err(error.into()),
        };
        let is_link = stat.is_some_and(|s| s.st_mode & libc::S_IFMT == libc::S_IFLNK);
        if is_link && self.options.follow_final {
            if self.top_state() == ProcState::Process {
                let (fd, text, stat) = self.magic_link(&c_name)?;
                // Read after opening the object, and only trusted for the same inode: the fd
                // number may be reused for another file at any moment.
                let held = self.held_file(&c_name).filter(|held| held.ino == stat.st_ino);
                let path = self.name_object(&text, &stat)?;
                return Ok(Step::Done(Target::Object { fd, path, held }));
            }
            return Ok(Step::Follow(read_link(self.top(), &c_name)?));
        }
        self.path = self.child_path(name);
        Ok(Step::Done(Target::Entry { name: c_name, stat }))
    }

    /// Describes open file `name` when the top is a member's `/proc/PID/fd` directory: its
    /// process, number and access mode (from the sibling `fdinfo`).
    fn held_file(&self, name: &CString) -> Option<Held> {
        if self.top_state() != ProcState::Process {
            return None;
        }
        let parent = self.path.strip_suffix(b"/fd")?;
        let pid = parent.rsplit(|&b| b == b'/').next().and_then(|pid| std::str::from_utf8(pid).ok()?.parse().ok())?;
        let fd = std::str::from_utf8(name.as_bytes()).ok()?.parse().ok()?;
        let info = CString::new([b"../fdinfo/".as_slice(), name.as_bytes()].concat()).ok()?;
        let file = fs::openat(self.top(), &info, libc::O_RDONLY | libc::O_CLOEXEC, 0).ok()?;
        let mut buffer = [0u8; 512];
        let count = cordon_sys::process::read_fd(file.as_fd(), &mut buffer).ok()?;
        let text = std::str::from_utf8(&buffer[..count]).ok()?;
        let field = |name: &str| text.lines().find_map(|line| line.strip_prefix(name)).map(str::trim);
        let mode = i32::from_str_radix(field("flags:")?, 8).ok()? & libc::O_ACCMODE;
        let ino = field("ino:")?.parse().ok()?;
        Some(Held { pid, fd, mode, ino })
    }

    /// Opens the caller's open file `fd` (`execveat` and `fchdir` act on one) and names it
    /// like the object of a magic link.
    pub fn fd_object(&mut self, fd: i32) -> Result<(OwnedFd, Vec<u8>, libc::stat)> {
        if fd < 0 {
            return Err(Failure::Errno(libc::EBADF));
        }
        let link = CString::new(format!("fd/{fd}")).map_err(|_| Failure::Errno(libc::EBADF))?;
        let proc_dir = self.caller.proc_dir.as_fd();
        let object = match fs::openat(proc_dir, &link, libc::O_PATH | libc::O_CLOEXEC, 0) {
            Ok(object) => object,
            Err(error) if error.raw_os_error() == Some(libc::ENOENT) => return Err(Failure::Errno(libc::EBADF)),
            Err(error) => return Err(error.into()),
        };
        let text = fs::readlinkat(proc_dir, &link)?;
        let stat = fs::fstat(object.as_fd())?;
        let path = self.name_object(&text, &stat).or_else(|failure| unlinked_meanwhile(object.as_fd(), failure))?;
        Ok((object, path, stat))
    }

    /// Names the object of one of the supervisor's own fds (a duplicate of a caller's fd) like
    /// the object of a magic link.
    pub fn name_fd(&mut self, fd: BorrowedFd<'_>) -> Result<Vec<u8>> {
        let text = match OWN_FDS.get() {
            Some(own_fds) => fs::readlinkat(own_fds.as_fd(), &to_cstring(fd.as_raw_fd().to_string().as_bytes())?)?,
            None => fs::readlinkat(fs::cwd(), &to_cstring(format!("/proc/self/fd/{}", fd.as_raw_fd()).as_bytes())?)?,
        };
        let stat = fs::fstat(fd)?;
        let directory = stat.st_mode & libc::S_IFMT == libc::S_IFDIR;
        if directory && self.options.resolve == 0 && STARTS.contains(stat.st_dev, stat.st_ino, &text) {
            return Ok(text);
        }
        let named = self.name_object(&text, &stat).or_else(|failure| unlinked_meanwhile(fd, failure))?;
        if directory && named == text && self.stack.last().is_some_and(|dir| dir.plain && dir.detached) {
            // Named by a one-step walk, as a start directory would be.
            STARTS.remember(stat.st_dev, stat.st_ino, &named);
        }
        Ok(named)
    }

    /// Names an object the kernel described by path text and identity (a line of
    /// `/proc/PID/maps`), like the object of a magic link.
    pub fn name_path(&mut self, text: &[u8], stat: &libc::stat) -> Result<Vec<u8>> {
        self.name_object(text, stat)
    }

    /// Opens a procfs magic link (`/proc/PID/cwd`, `fd/N`, `exe`, ...) of a member: the
    /// object it points to, as an `O_PATH` fd, and the kernel's text for it.
    fn magic_link(&mut self, name: &CString) -> Result<(OwnedFd, Vec<u8>, libc::stat)> {
        if self.options.resolve & RESOLVE_NO_MAGICLINKS != 0 {
            return Err(Failure::Errno(libc::ELOOP));
        }
        self.symlinks += 1;
        let object = fs::openat(self.top(), name, libc::O_PATH | libc::O_CLOEXEC, 0)?;
        let text = fs::readlinkat(self.top(), name)?;
        let stat = fs::fstat(object.as_fd())?;
        Ok((object, text, stat))
    }

    /// Names the object of a magic link: its path when a walk from the caller's root reaches
    /// the same inode, else a reserved form such as `pipe:[123]` or `anon:...` that no
    /// absolute pattern matches.
    fn name_object(&mut self, text: &[u8], stat: &libc::stat) -> Result<Vec<u8>> {
        let named = if stat.st_mode & libc::S_IFMT == libc::S_IFDIR {
            self.walk_fast(text, stat)? || self.walk_canonical(text, stat)?
        } else {
            self.walk_entry(text, stat)?
        };
        if named {
            return Ok(self.path.clone());
        }
        // A file or directory that still has a name somewhere, but not one the walk can
        // reach (a directory on the way made unsearchable, a path outside the caller's
        // root), cannot be judged by path rules: refuse rather than give it a name that no
        // deny rule matches.
        // Pipes, sockets and anonymous inodes have link text without a leading '/'.
        let has_path = text.first() == Some(&b'/') && !text.starts_with(b"/memfd:");
        if has_path && stat.st_nlink > 0 {
            return Err(Failure::Errno(libc::EACCES));
        }
        Ok(reserved_name(text))
    }

    /// Walks to the entry `text` names and reports whether it is the object `stat`
    /// describes. A hidden entry is a hide failure, never a name.
    fn walk_entry(&mut self, text: &[u8], stat: &libc::stat) -> Result<bool> {
        let Some(slash) = text.iter().rposition(|&b| b == b'/') else { return Ok(false) };
        let (parent, name) = (&text[..slash], &text[slash + 1..]);
        let parent = if parent.is_empty() { b"/".as_slice() } else { parent };
        if name.is_empty() || !(self.enter_parent_fast(parent) || self.walk_plain(parent)?) {
            return Ok(false);
        }
        let child = self.child_path(name);
        if self.policy.has_hide_rules() && self.policy.hidden(&child).is_some() {
            return Err(Failure::Hidden { path: child, final_component: true });
        }
        let c_name = to_cstring(name)?;
        let same = matches!(fs::lstatat(self.top(), &c_name),
            Ok(entry) if entry.st_dev == stat.st_dev && entry.st_ino == stat.st_ino);
        if same {
            self.path = child;
        }
        Ok(same)
    }
}

/// Names a file that lost its last link while the walk looked for its name, which the walk
/// refuses with `EACCES` when the status it started from still counted a link.
fn unlinked_meanwhile(fd: BorrowedFd<'_>, failure: Failure) -> Result<Vec<u8>> {
    match failure {
        Failure::Errno(libc::EACCES) if fs::fstat(fd).is_ok_and(|stat| stat.st_nlink == 0) => Ok(b"anon:[deleted]".to_vec()),
        failure => Err(failure),
    }
}

enum Step {
    Done(Target),
    Follow(Vec<u8>),
}

/// Pushes the components of `path` so that popping yields them in order.
fn push_components(pending: &mut Vec<Vec<u8>>, path: &[u8]) {
    for component in path.split(|&b| b == b'/').filter(|c| !c.is_empty()).rev() {
        pending.push(component.to_vec());
    }
}

/// Reads a symlink the walk just saw; `EINVAL` means it was replaced by a non-link meanwhile.
fn read_link(dir: BorrowedFd<'_>, name: &CString) -> Result<Vec<u8>> {
    match fs::readlinkat(dir, name) {
        Ok(target) => Ok(target),
        Err(error) if matches!(error.raw_os_error(), Some(libc::EINVAL | libc::ENOENT)) => Err(Failure::Raced),
        Err(error) => Err(error.into()),
    }
}

fn to_cstring(name: &[u8]) -> Result<CString> {
    CString::new(name).map_err(|_| Failure::Errno(libc::EINVAL))
}

/// Names an object without a reachable path for the policy: the kernel's link text for
/// pipes and sockets, `anon:[TYPE]` for anonymous inodes, `memfd:NAME` for memfds and
/// `anon:[deleted]` for deleted files. None of them starts with `/`.
fn reserved_name(text: &[u8]) -> Vec<u8> {
    if text.starts_with(b"pipe:") || text.starts_with(b"socket:") {
        return text.to_vec();
    }
    if let Some(rest) = text.strip_prefix(b"anon_inode:") {
        return [b"anon:".as_slice(), rest].concat();
    }
    if let Some(rest) = text.strip_prefix(b"/memfd:") {
        // The name is the caller's choice: a '/' in it would keep `memfd:*` from matching.
        let name: Vec<u8> = rest.strip_suffix(b" (deleted)").unwrap_or(rest).iter().map(|&b| if b == b'/' { b'_' } else { b }).collect();
        return [b"memfd:".as_slice(), &name].concat();
    }
    // A deleted file: the policy cannot rely on its former path.
    if text.first() == Some(&b'/') {
        return b"anon:[deleted]".to_vec();
    }
    [b"anon:".as_slice(), text].concat()
}

/// Renders a path for messages (lossy; the audit log keeps the exact bytes).
pub fn display(path: &[u8]) -> String {
    OsStr::from_bytes(path).to_string_lossy().into_owned()
}
