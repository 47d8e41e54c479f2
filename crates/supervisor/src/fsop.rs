//! The file-system calls other than opens, performed by the supervisor: the path is resolved
//! in the caller's view by the resolver, the policy is checked against the canonical path,
//! and the call runs on the resolver's fds (`fstatat(parent, name, AT_SYMLINK_NOFOLLOW)`,
//! `unlinkat(parent, name)`, `renameat2(parent, name, parent, name)`), so the object checked
//! is the object changed. Results are copied into the caller's memory; the call is never
//! continued.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use cordon_policy::{Action, Category};
use cordon_sys::fs;
use cordon_sys::fsops::{self, At};

use crate::caller::{self, Caller, Credentials, Own};
use crate::context::Context;
use crate::fscall::{FsRequest, Op, PathArg, Subject};
use crate::open::{hide_rule, judge, report, Reply};
use crate::report::Outcome;
use crate::resolve::{Failure, Held, Options, Target, Walk};

/// Attempts before a path that keeps changing under the resolver fails with `EAGAIN`.
const MAX_RETRIES: u32 = 16;

const RENAME_NOREPLACE: u32 = 1;
const RENAME_EXCHANGE: u32 = 2;

/// The outcome of one attempt.
enum Attempt {
    Done(Reply),
    /// An entry changed type between the check and the call; resolve again.
    Raced,
}

impl From<Result<Reply, i32>> for Attempt {
    fn from(result: Result<Reply, i32>) -> Attempt {
        Attempt::Done(result.unwrap_or_else(Reply::Errno))
    }
}

fn errno(error: std::io::Error) -> i32 {
    cordon_sys::errno_of(&error)
}

/// Handles one decoded call for `caller`.
pub fn handle(context: &Context, caller: &Caller, own: &mut Own, request: &FsRequest) -> Reply {
    let credentials = match request.op {
        Op::Access { effective: false, .. } => real_ids(&caller.credentials),
        _ => caller.credentials.clone(),
    };
    let _identity = match caller::adopt(own, &credentials) {
        Ok(adopted) => adopted,
        Err(error) => {
            tracing::debug!(tid = caller.tid, %error, "cannot act with the caller's credentials");
            return Reply::Errno(libc::EACCES);
        }
    };
    for _ in 0..MAX_RETRIES {
        let attempt = match &request.subject {
            Subject::Fd(fd) => fd_call(context, caller, request, fd.as_fd()),
            Subject::Path(path) => match &request.op {
                Op::Rename { to, flags } => rename(context, caller, request.syscall, path, to, *flags),
                Op::Link { to } => link_path(context, caller, request.syscall, path, to),
                _ => path_call(context, caller, request, path),
            },
        };
        match attempt {
            Attempt::Done(reply) => return reply,
            Attempt::Raced => continue,
        }
    }
    Reply::Errno(libc::EAGAIN)
}

/// `access` without `AT_EACCESS` checks with the real ids, and without capabilities unless
/// the real uid is root, as the kernel's `access_override_creds` does.
fn real_ids(credentials: &Credentials) -> Credentials {
    let mut real = credentials.clone();
    real.fsuid = credentials.ruid;
    real.fsgid = credentials.rgid;
    if credentials.ruid != 0 {
        real.effective_caps = 0;
    }
    real
}

fn walk<'a>(context: &'a Context, caller: &'a Caller, path: &PathArg, follow: bool) -> Result<Walk<'a>, Failure> {
    let options = Options { follow_final: follow, resolve: 0 };
    Walk::new(caller, &context.policy, &context.members, path.start, &path.path, options)
}

/// Maps a failed resolution to the call's errno, reporting a hidden path. `creates` marks a
/// name the call would create, which is refused with `EACCES` when hidden.
fn failure(context: &Context, caller: &Caller, syscall: &'static str, category: Category, creates: bool, failure: Failure) -> Attempt {
    match failure {
        Failure::Errno(errno) => Attempt::Done(Reply::Errno(errno)),
        Failure::Raced => Attempt::Raced,
        Failure::Hidden { path, final_component } => {
            report(context, caller, syscall, category, &path, Outcome::Hide, hide_rule(context, &path));
            Attempt::Done(Reply::Errno(if creates && final_component { libc::EACCES } else { libc::ENOENT }))
        }
    }
}

/// Removes trailing slashes from a path that names a directory entry, and returns whether
/// there were any (the entry must then be a directory). "/" and "" stay as they are.
fn strip_slashes(path: &[u8]) -> (Vec<u8>, bool) {
    let end = path.iter().rposition(|&b| b != b'/').map_or(0, |last| last + 1);
    if end == 0 || end == path.len() {
        return (path.to_vec(), false);
    }
    (path[..end].to_vec(), true)
}

fn is_type(stat: &libc::stat, kind: u32) -> bool {
    stat.st_mode & libc::S_IFMT == kind
}

/// Copies `bytes` to the caller's memory at `address`.
/// NOTE: the thread is addressed by tid after the notification was validated; if it were
/// killed and its tid reused by another process in between, which needs the kernel to cycle
/// through every pid, the bytes would land in that process.
fn copy_out(caller: &Caller, address: u64, bytes: &[u8]) -> Result<(), i32> {
    if bytes.is_empty() {
        return Ok(());
    }
    match cordon_sys::process::write_memory(caller.tid, address, bytes) {
        Ok(count) if count == bytes.len() => Ok(()),
        Ok(_) => Err(libc::EFAULT),
        Err(error) if error.raw_os_error() == Some(libc::EFAULT) => Err(libc::EFAULT),
        Err(error) => {
            tracing::debug!(%error, "cannot write the caller's memory");
            Err(libc::EFAULT)
        }
    }
}

/// The location of a resolved object: an entry of a held directory, or an fd of the object.
#[derive(Clone, Copy)]
enum Place<'a> {
    Entry { dir: BorrowedFd<'a>, name: &'a CStr },
    Object(BorrowedFd<'a>),
}

impl<'a> Place<'a> {
    fn at(self) -> At<'a> {
        match self {
            Place::Entry { dir, name } => At::entry(dir, name),
            Place::Object(fd) => At::fd(fd),
        }
    }

    /// Returns an fd of the object, opening an entry without following it. A symlink where one
    /// was to be followed means the entry was swapped after the check.
    fn object(self, follow: bool) -> Result<OwnedFd, Flow> {
        match self {
            Place::Object(fd) => fd.try_clone_to_owned().map_err(|e| Flow::Errno(errno(e))),
            Place::Entry { dir, name } => {
                let fd = fs::openat(dir, name, libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC, 0).map_err(|e| Flow::Errno(errno(e)))?;
                let stat = fs::fstat(fd.as_fd()).map_err(|e| Flow::Errno(errno(e)))?;
                if follow && is_type(&stat, libc::S_IFLNK) {
                    return Err(Flow::Raced);
                }
                Ok(fd)
            }
        }
    }
}

/// Control flow out of an operation.
enum Flow {
    Errno(i32),
    Raced,
}

impl From<i32> for Flow {
    fn from(errno: i32) -> Flow {
        Flow::Errno(errno)
    }
}

fn flow_attempt(result: Result<Reply, Flow>) -> Attempt {
    match result {
        Ok(reply) => Attempt::Done(reply),
        Err(Flow::Errno(errno)) => Attempt::Done(Reply::Errno(errno)),
        Err(Flow::Raced) => Attempt::Raced,
    }
}

/// `/proc/self/fd/N` of one of the supervisor's fds: calls without an `*at` form reach the
/// object through it (the kernel follows the magic link to the object itself).
fn proc_path(fd: BorrowedFd<'_>) -> CString {
    CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap_or_default()
}

/// Performs a call on one path.
fn path_call(context: &Context, caller: &Caller, request: &FsRequest, arg: &PathArg) -> Attempt {
    let op = &request.op;
    let category = op.category();
    if arg.path.is_empty() {
        return Attempt::Done(Reply::Errno(libc::ENOENT));
    }
    let (path, trailing) = if op.acts_on_entry() { strip_slashes(&arg.path) } else { (arg.path.clone(), false) };
    let mut walk = match walk(context, caller, arg, arg.follow) {
        Ok(walk) => walk,
        Err(error) => return failure(context, caller, request.syscall, category, op.creates(), error),
    };
    let target = match walk.resolve(&path) {
        Ok(target) => target,
        Err(error) => return failure(context, caller, request.syscall, category, op.creates(), error),
    };
    let canonical = walk.path().to_vec();
    match target {
        Target::Entry { name, stat: None } => {
            // Only mkdir accepts trailing slashes on a name it creates.
            if !op.creates() || trailing && !matches!(op, Op::Mkdir { .. }) {
                return Attempt::Done(Reply::Errno(libc::ENOENT));
            }
            if let Err(errno) = judge(context, caller, request.syscall, &[Category::Create], &canonical) {
                return Attempt::Done(Reply::Errno(errno));
            }
            create(caller, op, walk.parent(), &name).into()
        }
        Target::Entry { name, stat: Some(stat) } => {
            if op.creates() {
                return Attempt::Done(Reply::Errno(libc::EEXIST));
            }
            if trailing && !is_type(&stat, libc::S_IFDIR) {
                return Attempt::Done(Reply::Errno(libc::ENOTDIR));
            }
            if let Err(errno) = judge(context, caller, request.syscall, &[category], &canonical) {
                return Attempt::Done(Reply::Errno(errno));
            }
            let place = Place::Entry { dir: walk.parent(), name: &name };
            flow_attempt(perform(context, caller, op, place, Some(&stat), arg.follow, &canonical))
        }
        Target::OpenerLink { name, text } => {
            if op.creates() {
                return Attempt::Done(Reply::Errno(libc::EEXIST));
            }
            if let Err(errno) = judge(context, caller, request.syscall, &[category], &canonical) {
                return Attempt::Done(Reply::Errno(errno));
            }
            if let Op::Readlink { buffer, size } = op {
                return readlink_reply(caller, text, *buffer, *size).into();
            }
            let place = Place::Entry { dir: walk.parent(), name: &name };
            flow_attempt(perform(context, caller, op, place, None, false, &canonical))
        }
        Target::Directory => {
            if op.creates() {
                return Attempt::Done(Reply::Errno(libc::EEXIST));
            }
            if let Op::Unlink { flags } = op {
                let errno = if flags & libc::AT_REMOVEDIR == 0 {
                    libc::EISDIR
                } else if path.ends_with(b"/.") || path == b"." {
                    libc::EINVAL
                } else if path.ends_with(b"/..") || path == b".." {
                    libc::ENOTEMPTY
                } else {
                    libc::EBUSY
                };
                return Attempt::Done(Reply::Errno(errno));
            }
            if let Err(errno) = judge(context, caller, request.syscall, &[category], &canonical) {
                return Attempt::Done(Reply::Errno(errno));
            }
            let directory = match fs::openat(walk.parent(), c".", libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0) {
                Ok(fd) => fd,
                Err(error) => return Attempt::Done(Reply::Errno(errno(error))),
            };
            flow_attempt(perform(context, caller, op, Place::Object(directory.as_fd()), None, true, &canonical))
        }
        Target::Object { fd, path: object_path, .. } => {
            if op.creates() {
                return Attempt::Done(Reply::Errno(libc::EEXIST));
            }
            if let Err(errno) = judge(context, caller, request.syscall, &[category], &object_path) {
                return Attempt::Done(Reply::Errno(errno));
            }
            flow_attempt(perform(context, caller, op, Place::Object(fd.as_fd()), None, true, &object_path))
        }
    }
}

/// Performs a call on an open file of the caller. The object is judged by its name only where
/// the category has rules of its own, because otherwise the static filter lets the fd-only
/// form run unchecked.
fn fd_call(context: &Context, caller: &Caller, request: &FsRequest, fd: BorrowedFd<'_>) -> Attempt {
    let op = &request.op;
    let category = op.category();
    let listing = matches!(op, Op::Listing { .. });
    let needs_name = context.policy.has_rules(category) || (listing && context.policy.has_hide_rules());
    let mut name = Vec::new();
    if needs_name || matches!(op, Op::Link { .. }) {
        let arg = PathArg { start: crate::resolve::Start::Cwd, path: Vec::new(), follow: true };
        let mut walk = match walk(context, caller, &arg, true) {
            Ok(walk) => walk,
            Err(error) => return failure(context, caller, request.syscall, category, false, error),
        };
        name = match walk.name_fd(fd) {
            Ok(name) => name,
            Err(error) => return failure(context, caller, request.syscall, category, false, error),
        };
        // An object without a path (a pipe, socket, memfd, anonymous or deleted file) is the
        // program's own: only a rule written for its reserved name decides, not the default.
        let judged = name.first() == Some(&b'/') || context.policy.decide_by_rule(category, &name).is_some();
        if context.policy.has_rules(category) && judged && !matches!(op, Op::Link { .. }) {
            if let Err(errno) = judge(context, caller, request.syscall, &[category], &name) {
                return Attempt::Done(Reply::Errno(errno));
            }
        }
    }
    match op {
        Op::Listing { buffer, size, wide } => listing_reply(context, caller, fd, &name, *buffer, *size, *wide).into(),
        Op::Link { to } => link_object(context, caller, request.syscall, LinkSource::Fd(fd), &name, None, to),
        Op::Truncate { length } => Attempt::Done(done(fsops::ftruncate(fd, *length))),
        Op::Chmod { mode } if request.syscall == "fchmod" => {
            let directory = fs::fstat(fd).is_ok_and(|stat| is_type(&stat, libc::S_IFDIR));
            if sets_privilege_bits(caller, *mode, directory) {
                return Attempt::Done(Reply::Errno(libc::EPERM));
            }
            Attempt::Done(done(fsops::fchmod(fd, *mode)))
        }
        Op::Chown { uid, gid } if request.syscall == "fchown" => Attempt::Done(done(fsops::fchown(fd, *uid, *gid))),
        Op::Mark { instance, flags, mask } if flags & crate::fscall::FAN_MARK_FLUSH != 0 => Attempt::Done(done(fsops::fanotify_mark(instance.as_fd(), *flags, *mask, None))),
        _ => flow_attempt(perform(context, caller, op, Place::Object(fd), None, true, &name)),
    }
}

fn done(result: std::io::Result<()>) -> Reply {
    match result {
        Ok(()) => Reply::Value(0),
        Err(error) => Reply::Errno(errno(error)),
    }
}

/// The extended attribute that gives a program file capabilities when it is executed.
const FILE_CAPABILITIES: &[u8] = b"security.capability";

/// Returns whether a privileged caller (uid 0 for files, or any effective capability) would
/// set the set-user-ID bit, or the set-group-ID bit of a file that is not a directory. A
/// sandbox run as root could otherwise leave a set-user-ID root program in a tree it may
/// change, for users outside the sandbox to run. Unprivileged callers may set the bits on
/// their own files, which grants nothing beyond their own ids.
pub(crate) fn sets_privilege_bits(caller: &Caller, mode: u32, directory: bool) -> bool {
    let privileged = caller.credentials.fsuid == 0 || caller.credentials.effective_caps != 0;
    let special = if directory { libc::S_ISUID } else { libc::S_ISUID | libc::S_ISGID };
    privileged && mode & special != 0
}

/// Returns the mode a privileged caller's new file gets: without the set-user-ID and
/// set-group-ID bits (see [`sets_privilege_bits`]).
pub(crate) fn creation_mode(caller: &Caller, mode: u32) -> u32 {
    if sets_privilege_bits(caller, mode, false) {
        mode & !(libc::S_ISUID | libc::S_ISGID)
    } else {
        mode
    }
}

/// Creates the entry `name` in `dir` (the name did not exist when resolved).
fn create(caller: &Caller, op: &Op, dir: BorrowedFd<'_>, name: &CStr) -> Result<Reply, i32> {
    let result = match op {
        Op::Mkdir { mode } => fsops::mkdir(dir, name, *mode),
        // A device node opens whatever device it names, a whole disk included, under a path
        // the policy lets the sandbox write. So creating one is rejected, as it is natively
        // for unprivileged processes.
        Op::Mknod { mode, .. } if matches!(mode & libc::S_IFMT, libc::S_IFCHR | libc::S_IFBLK) => return Err(libc::EPERM),
        Op::Mknod { mode, dev } => fsops::mknod(dir, name, creation_mode(caller, *mode), *dev),
        Op::Symlink { target } => fsops::symlink(target, dir, name),
        _ => return Err(libc::EINVAL),
    };
    result.map(|()| Reply::Value(0)).map_err(errno)
}

/// Performs a checked call on the object at `place`. `stat` is the entry's status when it was
/// resolved, and `follow` is whether a symlink there would have been followed.
fn perform(context: &Context, caller: &Caller, op: &Op, place: Place<'_>, stat: Option<&libc::stat>, follow: bool, path: &[u8]) -> Result<Reply, Flow> {
    let at = place.at();
    match op {
        Op::Stat { buffer } => {
            // The resolver's lstat of the entry, taken with the caller's credentials, is the
            // result unless the entry is a symlink to follow.
            if let Some(known) = stat.filter(|known| !is_type(known, libc::S_IFLNK)) {
                copy_out(caller, *buffer, &fsops::stat_bytes(known))?;
                return Ok(Reply::Value(0));
            }
            let (stat, bytes) = fsops::stat(at).map_err(errno)?;
            if follow && matches!(place, Place::Entry { .. }) && is_type(&stat, libc::S_IFLNK) {
                return Err(Flow::Raced);
            }
            copy_out(caller, *buffer, &bytes)?;
            Ok(Reply::Value(0))
        }
        Op::Statx { flags, mask, buffer } => {
            let bytes = fsops::statx(at, *flags, *mask).map_err(errno)?;
            // stx_mode is the u16 at offset 0x1c of struct statx.
            let mode = u32::from(u16::from_ne_bytes([bytes[0x1c], bytes[0x1d]]));
            if follow && matches!(place, Place::Entry { .. }) && mode & libc::S_IFMT == libc::S_IFLNK {
                return Err(Flow::Raced);
            }
            copy_out(caller, *buffer, &bytes)?;
            Ok(Reply::Value(0))
        }
        Op::Statfs { buffer } => {
            let object = place.object(follow)?;
            let bytes = fsops::statfs(object.as_fd()).map_err(errno)?;
            copy_out(caller, *buffer, &bytes)?;
            Ok(Reply::Value(0))
        }
        Op::Access { mode, .. } => {
            fsops::access(at, *mode, libc::AT_EACCESS).map_err(errno)?;
            let directory = stat.is_some_and(|s| is_type(s, libc::S_IFDIR)) || matches!(place, Place::Object(_)) && fs::fstat(at.dir).is_ok_and(|s| is_type(&s, libc::S_IFDIR));
            if !policy_grants(context, *mode, directory, path) {
                return Err(Flow::Errno(libc::EACCES));
            }
            Ok(Reply::Value(0))
        }
        Op::Readlink { buffer, size } => {
            let text = fs::readlinkat(at.dir, at.name).map_err(|error| match error.raw_os_error() {
                // readlinkat on an fd that is no symlink
                Some(libc::ENOENT) if matches!(place, Place::Object(_)) => libc::EINVAL,
                _ => errno(error),
            })?;
            Ok(readlink_reply(caller, text, *buffer, *size)?)
        }
        Op::GetXattr { name, buffer, size } => {
            let object = xattr_object(place)?;
            let (count, value) = fsops::get_xattr(object.at(), name, *size).map_err(errno)?;
            if *size > 0 {
                copy_out(caller, *buffer, &value)?;
            }
            Ok(Reply::Value(count as i64))
        }
        Op::ListXattr { buffer, size } => {
            let object = xattr_object(place)?;
            let (count, list) = fsops::list_xattr(object.at(), *size).map_err(errno)?;
            if *size > 0 {
                copy_out(caller, *buffer, &list)?;
            }
            Ok(Reply::Value(count as i64))
        }
        Op::GetAttr { buffer, size } => {
            let bytes = fsops::file_getattr(at, *size).map_err(errno)?;
            copy_out(caller, *buffer, &bytes)?;
            Ok(Reply::Value(0))
        }
        Op::Watch { instance, mask } => {
            let object = place.object(follow)?;
            let watch = fsops::inotify_add_watch(instance.as_fd(), &proc_path(object.as_fd()), *mask).map_err(errno)?;
            Ok(Reply::Value(i64::from(watch)))
        }
        Op::Mark { instance, flags, mask } => {
            let object = place.object(follow)?;
            fsops::fanotify_mark(instance.as_fd(), *flags, *mask, Some(object.as_fd())).map_err(errno)?;
            Ok(Reply::Value(0))
        }
        Op::Unlink { flags } => match place {
            Place::Entry { dir, name } => {
                fsops::unlink(dir, name, *flags).map_err(errno)?;
                Ok(Reply::Value(0))
            }
            Place::Object(_) => Err(Flow::Errno(libc::EBUSY)),
        },
        Op::Chmod { mode } => {
            let directory = match stat {
                Some(stat) => is_type(stat, libc::S_IFDIR),
                None => fs::fstat(at.dir).is_ok_and(|stat| is_type(&stat, libc::S_IFDIR)),
            };
            if sets_privilege_bits(caller, *mode, directory) {
                return Err(Flow::Errno(libc::EPERM));
            }
            match fsops::chmod(at, *mode) {
                Ok(()) => Ok(Reply::Value(0)),
                // fchmodat2 refuses to change a symlink; one that appeared where a file was
                // resolved was swapped in after the check.
                Err(error) if follow && error.raw_os_error() == Some(libc::EOPNOTSUPP) && matches!(place, Place::Entry { .. }) => Err(Flow::Raced),
                Err(error) => Err(Flow::Errno(errno(error))),
            }
        }
        Op::Chown { uid, gid } => {
            fsops::chown(at, *uid, *gid).map_err(errno)?;
            Ok(Reply::Value(0))
        }
        Op::Utimes { times } => {
            fsops::utimens(at, times.as_ref()).map_err(errno)?;
            Ok(Reply::Value(0))
        }
        Op::Truncate { length } => {
            let object = place.object(true)?;
            fsops::truncate(&proc_path(object.as_fd()), *length).map_err(errno)?;
            Ok(Reply::Value(0))
        }
        Op::SetXattr { name, value, flags } => {
            if name.as_bytes() == FILE_CAPABILITIES {
                return Err(Flow::Errno(libc::EPERM));
            }
            let object = xattr_object(place)?;
            fsops::set_xattr(object.at(), name, value, *flags).map_err(errno)?;
            Ok(Reply::Value(0))
        }
        Op::RemoveXattr { name } => {
            let object = xattr_object(place)?;
            fsops::remove_xattr(object.at(), name).map_err(errno)?;
            Ok(Reply::Value(0))
        }
        Op::SetAttr { attr } => {
            fsops::file_setattr(at, attr).map_err(errno)?;
            Ok(Reply::Value(0))
        }
        Op::Mkdir { .. } | Op::Mknod { .. } | Op::Symlink { .. } => Err(Flow::Errno(libc::EEXIST)),
        Op::Listing { .. } | Op::Rename { .. } | Op::Link { .. } => Err(Flow::Errno(libc::EINVAL)),
    }
}

/// The object of an extended attribute call: an entry is named in its directory without
/// following it; an fd is named by its `/proc/self/fd` path, because the `*xattrat` calls do
/// not accept `O_PATH` fds with `AT_EMPTY_PATH`.
enum XattrObject<'a> {
    Entry(At<'a>),
    Proc(CString),
}

impl XattrObject<'_> {
    fn at(&self) -> At<'_> {
        match self {
            XattrObject::Entry(at) => *at,
            XattrObject::Proc(path) => At { dir: fs::cwd(), name: path, flags: 0 },
        }
    }
}

fn xattr_object(place: Place<'_>) -> Result<XattrObject<'_>, Flow> {
    Ok(match place {
        Place::Entry { dir, name } => XattrObject::Entry(At::entry(dir, name)),
        Place::Object(fd) => XattrObject::Proc(proc_path(fd)),
    })
}

/// Returns whether the policy grants the accesses in an `access` mode: read, write, and exec
/// for files (search permission on a directory is not an exec).
fn policy_grants(context: &Context, mode: i32, directory: bool, path: &[u8]) -> bool {
    let allows = |category| matches!(context.policy.decide(category, path).action, Action::Allow | Action::Audit);
    (mode & libc::R_OK == 0 || allows(Category::Read))
        && (mode & libc::W_OK == 0 || allows(Category::Write))
        && (mode & libc::X_OK == 0 || directory || allows(Category::Exec))
}

/// Copies at most `size` bytes of a link's text to the caller and returns the count.
fn readlink_reply(caller: &Caller, mut text: Vec<u8>, buffer: u64, size: usize) -> Result<Reply, i32> {
    text.truncate(size);
    copy_out(caller, buffer, &text)?;
    Ok(Reply::Value(text.len() as i64))
}

/// Reads directory entries from the caller's directory (the duplicate shares its offset) and
/// leaves out hidden ones. When a whole round of entries is hidden, it reads on until an
/// entry is visible or the directory ends, so an empty result always means the end.
fn listing_reply(context: &Context, caller: &Caller, fd: BorrowedFd<'_>, directory: &[u8], buffer: u64, size: usize, wide: bool) -> Result<Reply, i32> {
    LISTING.with(|chunk| {
        let mut chunk = chunk.borrow_mut();
        if chunk.len() < size {
            chunk.resize(size, 0);
        }
        let chunk = &mut chunk[..size];
        loop {
            let count = fsops::getdents(fd, chunk, wide).map_err(errno)?;
            if count == 0 {
                return Ok(Reply::Value(0));
            }
            let visible = visible_entries(context, &chunk[..count], directory, wide);
            if !visible.is_empty() {
                copy_out(caller, buffer, &visible)?;
                return Ok(Reply::Value(visible.len() as i64));
            }
        }
    })
}

thread_local! {
    /// A worker's buffer for directory listings, reused so that no call zeroes a new one.
    static LISTING: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Returns the records of `entries` whose names are not hidden below `directory`.
/// `linux_dirent64` has the name at offset 19; the old `linux_dirent` at offset 18.
fn visible_entries<'a>(context: &Context, entries: &'a [u8], directory: &[u8], wide: bool) -> std::borrow::Cow<'a, [u8]> {
    if !context.policy.has_hide_rules() || directory.first() != Some(&b'/') {
        return std::borrow::Cow::Borrowed(entries);
    }
    let name_offset = if wide { 19 } else { 18 };
    let mut visible = Vec::with_capacity(entries.len());
    let mut offset = 0;
    while offset + name_offset <= entries.len() {
        let length = usize::from(u16::from_ne_bytes([entries[offset + 16], entries[offset + 17]]));
        if length == 0 || offset + length > entries.len() {
            break;
        }
        let record = &entries[offset..offset + length];
        let name_bytes = &record[name_offset..];
        let name = &name_bytes[..name_bytes.iter().position(|&b| b == 0).unwrap_or(name_bytes.len())];
        let mut child = directory.to_vec();
        if child.last() != Some(&b'/') {
            child.push(b'/');
        }
        child.extend_from_slice(name);
        let hidden = name != b"." && name != b".." && context.policy.hidden(&child).is_some();
        if !hidden {
            visible.extend_from_slice(record);
        }
        offset += length;
    }
    std::borrow::Cow::Owned(visible)
}

/// One end of a rename or link: a resolved entry.
struct End<'a> {
    walk: Walk<'a>,
    name: CString,
    stat: Option<libc::stat>,
    path: Vec<u8>,
    /// The path ended in slashes, so it must name a directory.
    trailing: bool,
}

/// Resolves one end of a rename or link to a directory entry. `creates` marks the destination,
/// for which a hidden name is refused with `EACCES`.
fn resolve_end<'a>(context: &'a Context, caller: &'a Caller, syscall: &'static str, arg: &PathArg, creates: bool) -> Result<End<'a>, Attempt> {
    if arg.path.is_empty() {
        return Err(Attempt::Done(Reply::Errno(libc::ENOENT)));
    }
    let (path, trailing) = strip_slashes(&arg.path);
    let mut walk = walk(context, caller, arg, arg.follow).map_err(|error| failure(context, caller, syscall, Category::Rename, creates, error))?;
    let target = walk.resolve(&path).map_err(|error| failure(context, caller, syscall, Category::Rename, creates, error))?;
    let (name, stat) = match target {
        Target::Entry { name, stat } => (name, stat),
        Target::OpenerLink { name, .. } => {
            let stat = fs::lstatat(walk.parent(), &name).ok();
            (name, stat)
        }
        // ".", ".." and "/" cannot be renamed or linked.
        Target::Directory => return Err(Attempt::Done(Reply::Errno(libc::EBUSY))),
        Target::Object { .. } => return Err(Attempt::Done(Reply::Errno(libc::EXDEV))),
    };
    if trailing && stat.is_some_and(|s| !is_type(&s, libc::S_IFDIR)) {
        return Err(Attempt::Done(Reply::Errno(libc::ENOTDIR)));
    }
    let path = walk.path().to_vec();
    Ok(End { walk, name, stat, path, trailing })
}

/// `rename`, `renameat`, `renameat2`: both names need `rename`, a replaced destination also
/// needs `delete`, and the moved object must not become readable, writable or executable under
/// its new name when its old name denied that ([`check_alias`]).
fn rename(context: &Context, caller: &Caller, syscall: &'static str, from: &PathArg, to: &PathArg, flags: u32) -> Attempt {
    let source = match resolve_end(context, caller, syscall, from, false) {
        Ok(end) => end,
        Err(attempt) => return attempt,
    };
    let Some(source_stat) = source.stat else {
        return Attempt::Done(Reply::Errno(libc::ENOENT));
    };
    let target = match resolve_end(context, caller, syscall, to, true) {
        Ok(end) => end,
        Err(attempt) => return attempt,
    };
    if flags & RENAME_EXCHANGE != 0 && target.stat.is_none() {
        return Attempt::Done(Reply::Errno(libc::ENOENT));
    }
    // A destination with trailing slashes must end up a directory.
    if target.trailing && !is_type(&source_stat, libc::S_IFDIR) {
        return Attempt::Done(Reply::Errno(libc::ENOTDIR));
    }
    if flags & RENAME_NOREPLACE != 0 && target.stat.is_some() {
        return Attempt::Done(Reply::Errno(libc::EEXIST));
    }
    // Like Landlock's rights for a rename: the old name is removed and the new one made, so
    // beyond rename on both names the source needs delete and the destination create; a
    // replaced destination is deleted, and an exchange removes and makes both names.
    let mut checks = vec![
        (Category::Rename, &source.path),
        (Category::Rename, &target.path),
        (Category::Delete, &source.path),
        (Category::Create, &target.path),
    ];
    if target.stat.is_some() {
        checks.push((Category::Delete, &target.path));
    }
    if flags & RENAME_EXCHANGE != 0 {
        checks.push((Category::Create, &source.path));
    }
    for (category, path) in checks {
        if let Err(errno) = judge(context, caller, syscall, &[category], path) {
            return Attempt::Done(Reply::Errno(errno));
        }
    }
    let source_dir = is_type(&source_stat, libc::S_IFDIR);
    if let Err(errno) = check_alias(context, caller, syscall, &source.path, &target.path, source_dir) {
        return Attempt::Done(Reply::Errno(errno));
    }
    if flags & RENAME_EXCHANGE != 0 {
        let target_dir = target.stat.is_some_and(|s| is_type(&s, libc::S_IFDIR));
        if let Err(errno) = check_alias(context, caller, syscall, &target.path, &source.path, target_dir) {
            return Attempt::Done(Reply::Errno(errno));
        }
    }
    Attempt::Done(done(fsops::rename(source.walk.parent(), &source.name, target.walk.parent(), &target.name, flags)))
}

/// The categories that describe what may be done to an object under its name; a new name
/// must not allow any of them where the old name denied it.
const ALIAS_CATEGORIES: [Category; 5] = [Category::Read, Category::Write, Category::Exec, Category::Stat, Category::Attr];

/// Refuses to give an object at `from` the name `to` when `to` would allow read, write, exec,
/// stat or attr that `from` denies: a hard link or a rename must not turn a protected file into
/// an accessible alias. For a directory, everything below it moves too, so a rule that may
/// protect something below `from` refuses the move ([`cordon_policy::Policy::restricted_below`]).
fn check_alias(context: &Context, caller: &Caller, syscall: &'static str, from: &[u8], to: &[u8], directory: bool) -> Result<(), i32> {
    let policy = &context.policy;
    for category in ALIAS_CATEGORIES {
        let old = policy.decide(category, from);
        let new = policy.decide(category, to);
        let allowed = |action| matches!(action, Action::Allow | Action::Audit);
        if allowed(new.action) && !allowed(old.action) {
            report(context, caller, syscall, category, to, Outcome::Deny, old.origin.to_string());
            return Err(libc::EACCES);
        }
    }
    if directory {
        if let Some(origin) = policy.restricted_below(from) {
            report(context, caller, syscall, Category::Rename, from, Outcome::Deny, origin.to_string());
            return Err(libc::EACCES);
        }
    }
    Ok(())
}

/// The source of a hard link that is not a plain directory entry.
enum LinkSource<'a> {
    /// The caller's open file (`linkat(fd, "", ..., AT_EMPTY_PATH)`).
    Fd(BorrowedFd<'a>),
    /// The object of a magic link (`/proc/self/fd/N` with `AT_SYMLINK_FOLLOW`).
    Object(BorrowedFd<'a>),
}

/// `link`, `linkat` with a path source.
fn link_path(context: &Context, caller: &Caller, syscall: &'static str, from: &PathArg, to: &PathArg) -> Attempt {
    if from.path.is_empty() {
        return Attempt::Done(Reply::Errno(libc::ENOENT));
    }
    let mut walk = match walk(context, caller, from, from.follow) {
        Ok(walk) => walk,
        Err(error) => return failure(context, caller, syscall, Category::Rename, false, error),
    };
    let (path, trailing) = strip_slashes(&from.path);
    let target = match walk.resolve(&path) {
        Ok(target) => target,
        Err(error) => return failure(context, caller, syscall, Category::Rename, false, error),
    };
    match target {
        Target::Entry { stat: None, .. } => Attempt::Done(Reply::Errno(libc::ENOENT)),
        Target::Directory => Attempt::Done(Reply::Errno(libc::EPERM)),
        Target::Entry { name, stat: Some(stat) } => {
            if is_type(&stat, libc::S_IFDIR) {
                return Attempt::Done(Reply::Errno(libc::EPERM));
            }
            if trailing {
                return Attempt::Done(Reply::Errno(libc::ENOTDIR));
            }
            let source = walk.path().to_vec();
            link_entry(context, caller, syscall, walk.parent(), &name, &source, to)
        }
        Target::OpenerLink { name, .. } => {
            let source = walk.path().to_vec();
            link_entry(context, caller, syscall, walk.parent(), &name, &source, to)
        }
        Target::Object { fd, path, held } => link_object(context, caller, syscall, LinkSource::Object(fd.as_fd()), &path, held, to),
    }
}

fn link_entry(context: &Context, caller: &Caller, syscall: &'static str, dir: BorrowedFd<'_>, name: &CStr, source: &[u8], to: &PathArg) -> Attempt {
    let target = match link_target(context, caller, syscall, to) {
        Ok(end) => end,
        Err(attempt) => return attempt,
    };
    let checks = [(Category::Rename, source), (Category::Rename, &target.path[..]), (Category::Create, &target.path[..])];
    for (category, path) in checks {
        if let Err(errno) = judge(context, caller, syscall, &[category], path) {
            return Attempt::Done(Reply::Errno(errno));
        }
    }
    if let Err(errno) = check_alias(context, caller, syscall, source, &target.path, false) {
        return Attempt::Done(Reply::Errno(errno));
    }
    Attempt::Done(done(fsops::link(dir, name, target.walk.parent(), &target.name, 0)))
}

/// Resolves the new name of a hard link, which must not exist and cannot be a directory.
fn link_target<'a>(context: &'a Context, caller: &'a Caller, syscall: &'static str, to: &PathArg) -> Result<End<'a>, Attempt> {
    let target = resolve_end(context, caller, syscall, to, true)?;
    if target.stat.is_some() {
        return Err(Attempt::Done(Reply::Errno(libc::EEXIST)));
    }
    if target.trailing {
        return Err(Attempt::Done(Reply::Errno(libc::ENOENT)));
    }
    Ok(target)
}

/// Links an open file or a magic link's object. A named object is checked like a path; an
/// object without a name (an `O_TMPFILE` file, a deleted file) may only get a name that grants
/// no access beyond what the caller's open file already has.
fn link_object(context: &Context, caller: &Caller, syscall: &'static str, source: LinkSource<'_>, name: &[u8], held: Option<Held>, to: &PathArg) -> Attempt {
    let target = match link_target(context, caller, syscall, to) {
        Ok(end) => end,
        Err(attempt) => return attempt,
    };
    let named = name.first() == Some(&b'/');
    let mut checks = vec![(Category::Rename, target.path.as_slice()), (Category::Create, target.path.as_slice())];
    if named {
        checks.push((Category::Rename, name));
    }
    for (category, path) in checks {
        if let Err(errno) = judge(context, caller, syscall, &[category], path) {
            return Attempt::Done(Reply::Errno(errno));
        }
    }
    if named {
        if let Err(errno) = check_alias(context, caller, syscall, name, &target.path, false) {
            return Attempt::Done(Reply::Errno(errno));
        }
    } else if let Err(errno) = check_nameless(context, caller, syscall, &source, held, &target.path) {
        return Attempt::Done(Reply::Errno(errno));
    }
    let result = match source {
        LinkSource::Fd(fd) => fsops::link(fd, c"", target.walk.parent(), &target.name, libc::AT_EMPTY_PATH),
        LinkSource::Object(fd) => fsops::link(fs::cwd(), &proc_path(fd), target.walk.parent(), &target.name, libc::AT_SYMLINK_FOLLOW),
    };
    Attempt::Done(done(result))
}

/// Checks that a nameless object may get the name `to`: every read or write access that `to`
/// allows must be one the caller's open file already has.
fn check_nameless(context: &Context, caller: &Caller, syscall: &'static str, source: &LinkSource<'_>, held: Option<Held>, to: &[u8]) -> Result<(), i32> {
    let mode = match source {
        LinkSource::Fd(fd) => fs::status_flags(*fd).map(|flags| flags & libc::O_ACCMODE).unwrap_or(-1),
        LinkSource::Object(_) => held.map_or(-1, |held| held.mode),
    };
    let can_read = mode == libc::O_RDONLY || mode == libc::O_RDWR;
    let can_write = mode == libc::O_WRONLY || mode == libc::O_RDWR;
    for (category, has) in [(Category::Read, can_read), (Category::Write, can_write)] {
        let decision = context.policy.decide(category, to);
        if matches!(decision.action, Action::Allow | Action::Audit) && !has {
            report(context, caller, syscall, category, to, Outcome::Deny, decision.origin.to_string());
            return Err(libc::EACCES);
        }
    }
    Ok(())
}
