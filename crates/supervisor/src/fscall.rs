//! Decoding of the file-system calls other than opens: each decoder copies the path strings
//! and structure arguments out of the caller exactly once, takes the open files the call names
//! (duplicated with `pidfd_getfd` while the notification is still unanswered), and validates
//! flags as the kernel does before any lookup.

use std::ffi::CString;
use std::os::fd::OwnedFd;

use cordon_policy::Category;
use cordon_sys::process;

use crate::caller::{self, Caller, CopyError};
use crate::resolve::Start;

/// The largest extended attribute value and name list (`XATTR_SIZE_MAX`).
const XATTR_SIZE_MAX: u64 = 65536;
/// The longest extended attribute name (`XATTR_NAME_MAX`).
const XATTR_NAME_MAX: usize = 255;
/// Size of `struct xattr_args` version 0.
const XATTR_ARGS_SIZE: u64 = 16;
/// `file_getattr` and `file_setattr` refuse a structure larger than a page with `E2BIG`.
const FILE_ATTR_MAX: u64 = 4096;
/// Bytes of directory entries read per `getdents` round.
const LISTING_CHUNK: u64 = 65536;

const AT_STATX_SYNC_TYPE: i32 = 0x6000;
const STATX_RESERVED: u32 = 0x8000_0000;
const IN_DONT_FOLLOW: u32 = 0x0200_0000;
const FAN_MARK_DONT_FOLLOW: u32 = 0x04;
pub const FAN_MARK_FLUSH: u32 = 0x80;
/// `FAN_MARK_MOUNT`, `FAN_MARK_FILESYSTEM` and `FAN_MARK_MNTNS`: marks on a whole mount or
/// file system, which would report events of hidden files.
const FAN_MARK_WIDE: u32 = 0x10 | 0x100;
const RENAME_NOREPLACE: u32 = 1;
const RENAME_EXCHANGE: u32 = 2;
const RENAME_WHITEOUT: u32 = 4;

/// A path argument: where a relative path starts, the path, and whether a final symlink is followed.
#[derive(Clone, Debug)]
pub struct PathArg {
    pub start: Start,
    pub path: Vec<u8>,
    pub follow: bool,
}

/// The object of a call.
pub enum Subject {
    /// A path, resolved by the supervisor in the caller's view.
    Path(PathArg),
    /// An open file of the caller (fd-only calls and `AT_EMPTY_PATH`), duplicated.
    Fd(OwnedFd),
}

/// The operation of a call, with its decoded arguments. Addresses are in the caller's memory.
pub enum Op {
    Stat { buffer: u64 },
    Statx { flags: i32, mask: u32, buffer: u64 },
    Statfs { buffer: u64 },
    /// `access` with the real ids, or the effective ones with `AT_EACCESS`.
    Access { mode: i32, effective: bool },
    Readlink { buffer: u64, size: usize },
    GetXattr { name: CString, buffer: u64, size: usize },
    ListXattr { buffer: u64, size: usize },
    GetAttr { buffer: u64, size: usize },
    Watch { instance: OwnedFd, mask: u32 },
    Mark { instance: OwnedFd, flags: u32, mask: u64 },
    Listing { buffer: u64, size: usize, wide: bool },
    Mkdir { mode: u32 },
    Mknod { mode: u32, dev: u32 },
    Symlink { target: CString },
    Unlink { flags: i32 },
    Chmod { mode: u32 },
    Chown { uid: u32, gid: u32 },
    Utimes { times: Option<[libc::timespec; 2]> },
    Truncate { length: i64 },
    SetXattr { name: CString, value: Vec<u8>, flags: u32 },
    RemoveXattr { name: CString },
    SetAttr { attr: Vec<u8> },
    Rename { to: PathArg, flags: u32 },
    Link { to: PathArg },
}

impl Op {
    /// Returns the policy category that decides the call.
    pub fn category(&self) -> Category {
        match self {
            Op::Stat { .. }
            | Op::Statx { .. }
            | Op::Statfs { .. }
            | Op::Access { .. }
            | Op::Readlink { .. }
            | Op::GetXattr { .. }
            | Op::ListXattr { .. }
            | Op::GetAttr { .. }
            | Op::Watch { .. }
            | Op::Mark { .. }
            | Op::Listing { .. } => Category::Stat,
            Op::Mkdir { .. } | Op::Mknod { .. } | Op::Symlink { .. } => Category::Create,
            Op::Unlink { .. } => Category::Delete,
            Op::Rename { .. } | Op::Link { .. } => Category::Rename,
            Op::Chmod { .. }
            | Op::Chown { .. }
            | Op::Utimes { .. }
            | Op::Truncate { .. }
            | Op::SetXattr { .. }
            | Op::RemoveXattr { .. }
            | Op::SetAttr { .. } => Category::Attr,
        }
    }

    /// Whether the call creates its final name (it must not exist; hidden means `EACCES`).
    pub fn creates(&self) -> bool {
        matches!(self, Op::Mkdir { .. } | Op::Mknod { .. } | Op::Symlink { .. })
    }

    /// Returns whether the call acts on a directory entry (its parent and name) rather than on
    /// the object a path leads to. Trailing slashes then name a directory entry too.
    pub fn acts_on_entry(&self) -> bool {
        self.creates() || matches!(self, Op::Unlink { .. } | Op::Rename { .. } | Op::Link { .. })
    }
}

/// One decoded call.
pub struct FsRequest {
    pub syscall: &'static str,
    pub subject: Subject,
    pub op: Op,
}

/// A decoder: reads a call's arguments out of the caller.
pub type FsDecoder = fn(&'static str, &Caller, &[u64; 6]) -> Result<FsRequest, i32>;

/// Maps a failed copy out of the caller to the errno of the call.
pub fn copy_errno(error: CopyError) -> i32 {
    match error {
        CopyError::Fault => libc::EFAULT,
        CopyError::TooLong => libc::ENAMETOOLONG,
        CopyError::Denied(error) => {
            tracing::debug!(%error, "cannot read the caller's memory");
            libc::EACCES
        }
    }
}

/// Copies a path argument out of the caller, once.
pub fn read_path(caller: &Caller, address: u64) -> Result<Vec<u8>, i32> {
    caller::read_path(caller.tid, address).map_err(copy_errno)
}

fn read_bytes(caller: &Caller, address: u64, length: usize) -> Result<Vec<u8>, i32> {
    if length == 0 {
        return Ok(Vec::new());
    }
    caller::read_struct(caller.tid, address, length).map_err(copy_errno)
}

fn to_cstring(bytes: Vec<u8>) -> Result<CString, i32> {
    CString::new(bytes).map_err(|_| libc::EINVAL)
}

/// Reads an extended attribute name: empty or longer than `XATTR_NAME_MAX` is `ERANGE`.
fn read_xattr_name(caller: &Caller, address: u64) -> Result<CString, i32> {
    let name = read_path(caller, address).map_err(|errno| if errno == libc::ENAMETOOLONG { libc::ERANGE } else { errno })?;
    if name.is_empty() || name.len() > XATTR_NAME_MAX {
        return Err(libc::ERANGE);
    }
    to_cstring(name)
}

/// Duplicates the caller's fd `fd` into the supervisor. The duplicate shares the open file
/// description (offset, flags) with the caller's fd, so acting on it is acting on the caller's file.
pub fn take_fd(caller: &Caller, fd: u64) -> Result<OwnedFd, i32> {
    let fd = fd as u32 as i32;
    if fd < 0 {
        return Err(libc::EBADF);
    }
    let pidfd = caller.proc_dir.pidfd().map_err(|_| libc::EBADF)?;
    process::pidfd_getfd(pidfd, fd).map_err(|error| match error.raw_os_error() {
        Some(libc::EBADF) => libc::EBADF,
        _ => {
            tracing::debug!(%error, fd, "cannot duplicate the caller's fd");
            libc::EBADF
        }
    })
}

fn start_of(dirfd: u64) -> Start {
    let dirfd = dirfd as u32 as i32;
    if dirfd == libc::AT_FDCWD {
        Start::Cwd
    } else {
        Start::Fd(dirfd)
    }
}

fn path_at(caller: &Caller, dirfd: u64, address: u64, follow: bool) -> Result<Subject, i32> {
    Ok(Subject::Path(PathArg { start: start_of(dirfd), path: read_path(caller, address)?, follow }))
}

/// Returns the subject of an `*at` call that accepts `AT_EMPTY_PATH`: the fd itself for an
/// empty path with the flag (the current directory for `AT_FDCWD`), else the path.
fn empty_path_at(caller: &Caller, dirfd: u64, address: u64, flags: i32) -> Result<Subject, i32> {
    let follow = flags & libc::AT_SYMLINK_NOFOLLOW == 0;
    let path = read_path(caller, address)?;
    subject_of(caller, dirfd, path, follow, flags & libc::AT_EMPTY_PATH != 0)
}

/// Like [`empty_path_at`], for calls that also take a null path as empty with
/// `AT_EMPTY_PATH` (`newfstatat` and `statx`, since Linux 6.11).
fn null_or_empty_path_at(caller: &Caller, dirfd: u64, address: u64, flags: i32) -> Result<Subject, i32> {
    let follow = flags & libc::AT_SYMLINK_NOFOLLOW == 0;
    let empty_path = flags & libc::AT_EMPTY_PATH != 0;
    let path = if address == 0 && empty_path { Vec::new() } else { read_path(caller, address)? };
    subject_of(caller, dirfd, path, follow, flags & libc::AT_EMPTY_PATH != 0)
}

fn subject_of(caller: &Caller, dirfd: u64, path: Vec<u8>, follow: bool, empty_path: bool) -> Result<Subject, i32> {
    if path.is_empty() && empty_path {
        if dirfd as u32 as i32 == libc::AT_FDCWD {
            return Ok(Subject::Path(PathArg { start: Start::Cwd, path: b".".to_vec(), follow: true }));
        }
        return Ok(Subject::Fd(take_fd(caller, dirfd)?));
    }
    Ok(Subject::Path(PathArg { start: start_of(dirfd), path, follow }))
}

fn check_flags(flags: i32, valid: i32) -> Result<i32, i32> {
    if flags & !valid != 0 {
        return Err(libc::EINVAL);
    }
    Ok(flags)
}

fn request(syscall: &'static str, subject: Subject, op: Op) -> Result<FsRequest, i32> {
    Ok(FsRequest { syscall, subject, op })
}

pub fn decode_stat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], true)?, Op::Stat { buffer: args[1] })
}

pub fn decode_lstat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], false)?, Op::Stat { buffer: args[1] })
}

pub fn decode_fstat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, Subject::Fd(take_fd(caller, args[0])?), Op::Stat { buffer: args[1] })
}

/// `newfstatat(dirfd, path, buf, flags)`.
pub fn decode_newfstatat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let flags = check_flags(args[3] as i32, libc::AT_SYMLINK_NOFOLLOW | libc::AT_NO_AUTOMOUNT | libc::AT_EMPTY_PATH)?;
    request(syscall, null_or_empty_path_at(caller, args[0], args[1], flags)?, Op::Stat { buffer: args[2] })
}

/// `statx(dirfd, path, flags, mask, buf)`: a null path with `AT_EMPTY_PATH` names the fd.
pub fn decode_statx(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let flags = check_flags(args[2] as i32, libc::AT_SYMLINK_NOFOLLOW | libc::AT_NO_AUTOMOUNT | libc::AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)?;
    let mask = args[3] as u32;
    if flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE || mask & STATX_RESERVED != 0 {
        return Err(libc::EINVAL);
    }
    let subject = null_or_empty_path_at(caller, args[0], args[1], flags)?;
    request(syscall, subject, Op::Statx { flags: flags & (AT_STATX_SYNC_TYPE | libc::AT_NO_AUTOMOUNT), mask, buffer: args[4] })
}

pub fn decode_statfs(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], true)?, Op::Statfs { buffer: args[1] })
}

pub fn decode_fstatfs(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, Subject::Fd(take_fd(caller, args[0])?), Op::Statfs { buffer: args[1] })
}

fn access_mode(mode: u64) -> Result<i32, i32> {
    let mode = mode as u32 as i32;
    if mode & !(libc::R_OK | libc::W_OK | libc::X_OK) != 0 {
        return Err(libc::EINVAL);
    }
    Ok(mode)
}

pub fn decode_access(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let mode = access_mode(args[1])?;
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], true)?, Op::Access { mode, effective: false })
}

pub fn decode_faccessat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let mode = access_mode(args[2])?;
    request(syscall, path_at(caller, args[0], args[1], true)?, Op::Access { mode, effective: false })
}

pub fn decode_faccessat2(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let flags = check_flags(args[3] as i32, libc::AT_EACCESS | libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH)?;
    let mode = access_mode(args[2])?;
    request(syscall, empty_path_at(caller, args[0], args[1], flags)?, Op::Access { mode, effective: flags & libc::AT_EACCESS != 0 })
}

fn readlink_size(size: u64) -> Result<usize, i32> {
    let size = size as u32 as i32;
    if size <= 0 {
        return Err(libc::EINVAL);
    }
    Ok(size as usize)
}

pub fn decode_readlink(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let size = readlink_size(args[2])?;
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], false)?, Op::Readlink { buffer: args[1], size })
}

/// `readlinkat(dirfd, path, buf, size)`. An empty path would name an `O_PATH` fd of a
/// symlink, which the sandbox cannot hold (its `O_PATH` opens are emulated by real opens), so
/// it fails with `ENOENT` like an empty path on any other fd.
pub fn decode_readlinkat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let size = readlink_size(args[3])?;
    request(syscall, path_at(caller, args[0], args[1], false)?, Op::Readlink { buffer: args[2], size })
}

fn xattr_size(size: u64) -> usize {
    size.min(XATTR_SIZE_MAX) as usize
}

fn get_xattr(syscall: &'static str, caller: &Caller, subject: Subject, name: u64, buffer: u64, size: u64) -> Result<FsRequest, i32> {
    let name = read_xattr_name(caller, name)?;
    request(syscall, subject, Op::GetXattr { name, buffer, size: xattr_size(size) })
}

pub fn decode_getxattr(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let subject = path_at(caller, libc::AT_FDCWD as u64, args[0], true)?;
    get_xattr(syscall, caller, subject, args[1], args[2], args[3])
}

pub fn decode_lgetxattr(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let subject = path_at(caller, libc::AT_FDCWD as u64, args[0], false)?;
    get_xattr(syscall, caller, subject, args[1], args[2], args[3])
}

pub fn decode_fgetxattr(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let subject = Subject::Fd(take_fd(caller, args[0])?);
    get_xattr(syscall, caller, subject, args[1], args[2], args[3])
}

/// Reads a `struct xattr_args` (value address, size, flags) of the `*xattrat` calls.
fn read_xattr_args(caller: &Caller, address: u64, size: u64) -> Result<(u64, u32, u32), i32> {
    if size < XATTR_ARGS_SIZE {
        return Err(libc::EINVAL);
    }
    if size > 4096 {
        return Err(libc::E2BIG);
    }
    let bytes = read_bytes(caller, address, size as usize)?;
    if bytes[XATTR_ARGS_SIZE as usize..].iter().any(|&b| b != 0) {
        return Err(libc::E2BIG);
    }
    let value = u64::from_ne_bytes(bytes[0..8].try_into().map_err(|_| libc::EINVAL)?);
    let length = u32::from_ne_bytes(bytes[8..12].try_into().map_err(|_| libc::EINVAL)?);
    let flags = u32::from_ne_bytes(bytes[12..16].try_into().map_err(|_| libc::EINVAL)?);
    Ok((value, length, flags))
}

/// `getxattrat(dirfd, path, at_flags, name, args, size)`.
pub fn decode_getxattrat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let flags = check_flags(args[2] as i32, libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH)?;
    let (value, length, xattr_flags) = read_xattr_args(caller, args[4], args[5])?;
    if xattr_flags != 0 {
        return Err(libc::EINVAL);
    }
    let subject = empty_path_at(caller, args[0], args[1], flags)?;
    get_xattr(syscall, caller, subject, args[3], value, u64::from(length))
}

fn list_xattr(syscall: &'static str, subject: Subject, buffer: u64, size: u64) -> Result<FsRequest, i32> {
    request(syscall, subject, Op::ListXattr { buffer, size: xattr_size(size) })
}

pub fn decode_listxattr(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    list_xattr(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], true)?, args[1], args[2])
}

pub fn decode_llistxattr(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    list_xattr(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], false)?, args[1], args[2])
}

pub fn decode_flistxattr(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    list_xattr(syscall, Subject::Fd(take_fd(caller, args[0])?), args[1], args[2])
}

/// `listxattrat(dirfd, path, at_flags, list, size)`.
pub fn decode_listxattrat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let flags = check_flags(args[2] as i32, libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH)?;
    list_xattr(syscall, empty_path_at(caller, args[0], args[1], flags)?, args[3], args[4])
}

fn file_attr_size(size: u64) -> Result<usize, i32> {
    if size > FILE_ATTR_MAX {
        return Err(libc::E2BIG);
    }
    Ok(size as usize)
}

/// `file_getattr(dirfd, path, attr, size, at_flags)`.
pub fn decode_file_getattr(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let flags = check_flags(args[4] as i32, libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH)?;
    let size = file_attr_size(args[3])?;
    request(syscall, empty_path_at(caller, args[0], args[1], flags)?, Op::GetAttr { buffer: args[2], size })
}

/// `file_setattr(dirfd, path, attr, size, at_flags)`.
pub fn decode_file_setattr(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let flags = check_flags(args[4] as i32, libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH)?;
    let size = file_attr_size(args[3])?;
    let attr = read_bytes(caller, args[2], size)?;
    request(syscall, empty_path_at(caller, args[0], args[1], flags)?, Op::SetAttr { attr })
}

/// `inotify_add_watch(fd, path, mask)`: the watch is added to the caller's instance.
pub fn decode_inotify_add_watch(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let mask = args[2] as u32;
    let instance = take_fd(caller, args[0])?;
    let subject = path_at(caller, libc::AT_FDCWD as u64, args[1], mask & IN_DONT_FOLLOW == 0)?;
    request(syscall, subject, Op::Watch { instance, mask: mask & !IN_DONT_FOLLOW })
}

/// `fanotify_mark(fd, flags, mask, dirfd, path)`: marks on one object only. A null path marks
/// `dirfd` itself. Mount and file-system marks fail with `EPERM`.
pub fn decode_fanotify_mark(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let flags = args[1] as u32;
    if flags & FAN_MARK_WIDE != 0 {
        return Err(libc::EPERM);
    }
    let instance = take_fd(caller, args[0])?;
    let mask = args[2];
    if flags & FAN_MARK_FLUSH != 0 {
        let subject = Subject::Fd(instance.try_clone().map_err(|_| libc::EBADF)?);
        return request(syscall, subject, Op::Mark { instance, flags, mask });
    }
    let follow = flags & FAN_MARK_DONT_FOLLOW == 0;
    let subject = if args[4] == 0 {
        subject_of(caller, args[3], Vec::new(), follow, true)?
    } else {
        path_at(caller, args[3], args[4], follow)?
    };
    request(syscall, subject, Op::Mark { instance, flags: flags & !FAN_MARK_DONT_FOLLOW, mask })
}

/// `getdents(fd, buf, count)` and `getdents64`.
pub fn decode_getdents(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let size = u64::from(args[2] as u32).min(LISTING_CHUNK) as usize;
    let wide = syscall == "getdents64";
    request(syscall, Subject::Fd(take_fd(caller, args[0])?), Op::Listing { buffer: args[1], size, wide })
}

pub fn decode_mkdir(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], false)?, Op::Mkdir { mode: args[1] as u32 & 0o7777 })
}

pub fn decode_mkdirat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, path_at(caller, args[0], args[1], false)?, Op::Mkdir { mode: args[2] as u32 & 0o7777 })
}

pub fn decode_mknod(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], false)?, Op::Mknod { mode: args[1] as u32, dev: args[2] as u32 })
}

pub fn decode_mknodat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, path_at(caller, args[0], args[1], false)?, Op::Mknod { mode: args[2] as u32, dev: args[3] as u32 })
}

pub fn decode_symlink(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let target = to_cstring(read_path(caller, args[0])?)?;
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[1], false)?, Op::Symlink { target })
}

pub fn decode_symlinkat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let target = to_cstring(read_path(caller, args[0])?)?;
    request(syscall, path_at(caller, args[1], args[2], false)?, Op::Symlink { target })
}

pub fn decode_unlink(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], false)?, Op::Unlink { flags: 0 })
}

pub fn decode_rmdir(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], false)?, Op::Unlink { flags: libc::AT_REMOVEDIR })
}

pub fn decode_unlinkat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let flags = check_flags(args[2] as i32, libc::AT_REMOVEDIR)?;
    request(syscall, path_at(caller, args[0], args[1], false)?, Op::Unlink { flags })
}

fn rename(syscall: &'static str, caller: &Caller, from: (u64, u64), to: (u64, u64), flags: u32) -> Result<FsRequest, i32> {
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0 {
        return Err(libc::EINVAL);
    }
    if flags & RENAME_EXCHANGE != 0 && flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0 {
        return Err(libc::EINVAL);
    }
    let subject = path_at(caller, from.0, from.1, false)?;
    let to = PathArg { start: start_of(to.0), path: read_path(caller, to.1)?, follow: false };
    request(syscall, subject, Op::Rename { to, flags })
}

pub fn decode_rename(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let cwd = libc::AT_FDCWD as u64;
    rename(syscall, caller, (cwd, args[0]), (cwd, args[1]), 0)
}

pub fn decode_renameat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    rename(syscall, caller, (args[0], args[1]), (args[2], args[3]), 0)
}

pub fn decode_renameat2(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    rename(syscall, caller, (args[0], args[1]), (args[2], args[3]), args[4] as u32)
}

fn link(syscall: &'static str, caller: &Caller, from: (u64, u64), to: (u64, u64), flags: i32) -> Result<FsRequest, i32> {
    let flags = check_flags(flags, libc::AT_SYMLINK_FOLLOW | libc::AT_EMPTY_PATH)?;
    let path = read_path(caller, from.1)?;
    let subject = subject_of(caller, from.0, path, flags & libc::AT_SYMLINK_FOLLOW != 0, flags & libc::AT_EMPTY_PATH != 0)?;
    let to = PathArg { start: start_of(to.0), path: read_path(caller, to.1)?, follow: false };
    request(syscall, subject, Op::Link { to })
}

pub fn decode_link(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let cwd = libc::AT_FDCWD as u64;
    link(syscall, caller, (cwd, args[0]), (cwd, args[1]), 0)
}

pub fn decode_linkat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    link(syscall, caller, (args[0], args[1]), (args[2], args[3]), args[4] as i32)
}

pub fn decode_chmod(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], true)?, Op::Chmod { mode: args[1] as u32 & 0o7777 })
}

pub fn decode_fchmod(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, Subject::Fd(take_fd(caller, args[0])?), Op::Chmod { mode: args[1] as u32 & 0o7777 })
}

pub fn decode_fchmodat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, path_at(caller, args[0], args[1], true)?, Op::Chmod { mode: args[2] as u32 & 0o7777 })
}

pub fn decode_fchmodat2(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let flags = check_flags(args[3] as i32, libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH)?;
    request(syscall, empty_path_at(caller, args[0], args[1], flags)?, Op::Chmod { mode: args[2] as u32 & 0o7777 })
}

pub fn decode_chown(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], true)?, Op::Chown { uid: args[1] as u32, gid: args[2] as u32 })
}

pub fn decode_lchown(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], false)?, Op::Chown { uid: args[1] as u32, gid: args[2] as u32 })
}

pub fn decode_fchown(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    request(syscall, Subject::Fd(take_fd(caller, args[0])?), Op::Chown { uid: args[1] as u32, gid: args[2] as u32 })
}

pub fn decode_fchownat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let flags = check_flags(args[4] as i32, libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH)?;
    request(syscall, empty_path_at(caller, args[0], args[1], flags)?, Op::Chown { uid: args[2] as u32, gid: args[3] as u32 })
}

fn long_at(bytes: &[u8], index: usize) -> i64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[index * 8..index * 8 + 8]);
    i64::from_ne_bytes(word)
}

/// Reads two `struct timeval` (`utimes`, `futimesat`); microseconds outside 0..1000000 are `EINVAL`.
fn read_timevals(caller: &Caller, address: u64) -> Result<Option<[libc::timespec; 2]>, i32> {
    if address == 0 {
        return Ok(None);
    }
    let bytes = read_bytes(caller, address, 32)?;
    let mut times = [libc::timespec { tv_sec: 0, tv_nsec: 0 }; 2];
    for (index, time) in times.iter_mut().enumerate() {
        let micros = long_at(&bytes, index * 2 + 1);
        if !(0..1_000_000).contains(&micros) {
            return Err(libc::EINVAL);
        }
        *time = libc::timespec { tv_sec: long_at(&bytes, index * 2), tv_nsec: micros * 1000 };
    }
    Ok(Some(times))
}

/// `utime(path, times)`: `struct utimbuf` contains the access and modification seconds.
pub fn decode_utime(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let times = if args[1] == 0 {
        None
    } else {
        let bytes = read_bytes(caller, args[1], 16)?;
        Some([libc::timespec { tv_sec: long_at(&bytes, 0), tv_nsec: 0 }, libc::timespec { tv_sec: long_at(&bytes, 1), tv_nsec: 0 }])
    };
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], true)?, Op::Utimes { times })
}

pub fn decode_utimes(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let times = read_timevals(caller, args[1])?;
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], true)?, Op::Utimes { times })
}

pub fn decode_futimesat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let times = read_timevals(caller, args[2])?;
    request(syscall, path_at(caller, args[0], args[1], true)?, Op::Utimes { times })
}

/// `utimensat(dirfd, path, times, flags)`: a null path names `dirfd` itself (`futimens`).
pub fn decode_utimensat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let flags = check_flags(args[3] as i32, libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH)?;
    let times = if args[2] == 0 {
        None
    } else {
        let bytes = read_bytes(caller, args[2], 32)?;
        Some([
            libc::timespec { tv_sec: long_at(&bytes, 0), tv_nsec: long_at(&bytes, 1) },
            libc::timespec { tv_sec: long_at(&bytes, 2), tv_nsec: long_at(&bytes, 3) },
        ])
    };
    let subject = if args[1] == 0 {
        if args[0] as u32 as i32 == libc::AT_FDCWD {
            return Err(libc::EFAULT);
        }
        Subject::Fd(take_fd(caller, args[0])?)
    } else {
        empty_path_at(caller, args[0], args[1], flags)?
    };
    request(syscall, subject, Op::Utimes { times })
}

pub fn decode_truncate(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let length = args[1] as i64;
    if length < 0 {
        return Err(libc::EINVAL);
    }
    request(syscall, path_at(caller, libc::AT_FDCWD as u64, args[0], true)?, Op::Truncate { length })
}

pub fn decode_ftruncate(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let length = args[1] as i64;
    if length < 0 {
        return Err(libc::EINVAL);
    }
    request(syscall, Subject::Fd(take_fd(caller, args[0])?), Op::Truncate { length })
}

fn set_xattr(syscall: &'static str, caller: &Caller, subject: Subject, name: u64, value: u64, size: u64, flags: u64) -> Result<FsRequest, i32> {
    let flags = flags as u32;
    if flags & !(libc::XATTR_CREATE | libc::XATTR_REPLACE) as u32 != 0 {
        return Err(libc::EINVAL);
    }
    let name = read_xattr_name(caller, name)?;
    if size > XATTR_SIZE_MAX {
        return Err(libc::E2BIG);
    }
    let value = read_bytes(caller, value, size as usize)?;
    request(syscall, subject, Op::SetXattr { name, value, flags })
}

pub fn decode_setxattr(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let subject = path_at(caller, libc::AT_FDCWD as u64, args[0], true)?;
    set_xattr(syscall, caller, subject, args[1], args[2], args[3], args[4])
}

pub fn decode_lsetxattr(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let subject = path_at(caller, libc::AT_FDCWD as u64, args[0], false)?;
    set_xattr(syscall, caller, subject, args[1], args[2], args[3], args[4])
}

pub fn decode_fsetxattr(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let subject = Subject::Fd(take_fd(caller, args[0])?);
    set_xattr(syscall, caller, subject, args[1], args[2], args[3], args[4])
}

/// `setxattrat(dirfd, path, at_flags, name, args, size)`.
pub fn decode_setxattrat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let flags = check_flags(args[2] as i32, libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH)?;
    let (value, length, xattr_flags) = read_xattr_args(caller, args[4], args[5])?;
    let subject = empty_path_at(caller, args[0], args[1], flags)?;
    set_xattr(syscall, caller, subject, args[3], value, u64::from(length), u64::from(xattr_flags))
}

fn remove_xattr(syscall: &'static str, caller: &Caller, subject: Subject, name: u64) -> Result<FsRequest, i32> {
    let name = read_xattr_name(caller, name)?;
    request(syscall, subject, Op::RemoveXattr { name })
}

pub fn decode_removexattr(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let subject = path_at(caller, libc::AT_FDCWD as u64, args[0], true)?;
    remove_xattr(syscall, caller, subject, args[1])
}

pub fn decode_lremovexattr(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let subject = path_at(caller, libc::AT_FDCWD as u64, args[0], false)?;
    remove_xattr(syscall, caller, subject, args[1])
}

pub fn decode_fremovexattr(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let subject = Subject::Fd(take_fd(caller, args[0])?);
    remove_xattr(syscall, caller, subject, args[1])
}

/// `removexattrat(dirfd, path, at_flags, name)`.
pub fn decode_removexattrat(syscall: &'static str, caller: &Caller, args: &[u64; 6]) -> Result<FsRequest, i32> {
    let flags = check_flags(args[2] as i32, libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH)?;
    let subject = empty_path_at(caller, args[0], args[1], flags)?;
    remove_xattr(syscall, caller, subject, args[3])
}
