//! File-system operations the supervisor performs on behalf of a sandboxed thread, on the fds
//! its resolver holds: the stat family, access, links, renames, attributes and listings.
//!
//! Each call names its object as an [`At`]: an entry of a directory that is never followed
//! when it is a symlink, or an fd itself (`AT_EMPTY_PATH`).

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use crate::{check, check_int};

/// The object of an `*at` call: `name` in `dir` with `flags` (`AT_SYMLINK_NOFOLLOW` for a
/// directory entry, `AT_EMPTY_PATH` with an empty name for an fd).
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub dir: BorrowedFd<'a>,
    pub name: &'a CStr,
    pub flags: i32,
}

impl<'a> At<'a> {
    /// Names the entry `name` of `dir`, never following a final symlink.
    pub fn entry(dir: BorrowedFd<'a>, name: &'a CStr) -> At<'a> {
        At { dir, name, flags: libc::AT_SYMLINK_NOFOLLOW }
    }

    /// Names the object `fd` refers to.
    pub fn fd(fd: BorrowedFd<'a>) -> At<'a> {
        At { dir: fd, name: c"", flags: libc::AT_EMPTY_PATH }
    }
}

/// Returns the bytes of a `struct stat`, for copying it into a sandboxed thread's memory.
pub fn stat_bytes(stat: &libc::stat) -> Vec<u8> {
    bytes_of(stat)
}

/// Returns the bytes of a plain C struct, for copying it into a sandboxed thread's memory.
fn bytes_of<T: Copy>(value: &T) -> Vec<u8> {
    // SAFETY: T is a plain C struct (stat, statfs) read as bytes; the slice covers exactly it.
    unsafe { std::slice::from_raw_parts((value as *const T).cast::<u8>(), std::mem::size_of::<T>()) }.to_vec()
}

/// `fstatat`: the object's `struct stat` as bytes, and the struct.
pub fn stat(at: At<'_>) -> io::Result<(libc::stat, Vec<u8>)> {
    let mut stat = crate::fs::empty_stat();
    // SAFETY: name is NUL-terminated; the kernel writes one struct stat into our buffer.
    check_int(unsafe { libc::fstatat(at.dir.as_raw_fd(), at.name.as_ptr(), &mut stat, at.flags) })?;
    Ok((stat, bytes_of(&stat)))
}

/// Size of `struct statx`.
pub const STATX_SIZE: usize = 256;

/// `statx`: the object's `struct statx` as bytes. `flags` adds `AT_STATX_*` and
/// `AT_NO_AUTOMOUNT` to the object's own flags.
pub fn statx(at: At<'_>, flags: i32, mask: u32) -> io::Result<Vec<u8>> {
    let mut buffer = vec![0u8; STATX_SIZE];
    // SAFETY: name is NUL-terminated; the kernel writes at most one struct statx (256 bytes)
    // into the buffer we own.
    check(unsafe {
        libc::syscall(libc::SYS_statx, at.dir.as_raw_fd(), at.name.as_ptr(), at.flags | flags, mask, buffer.as_mut_ptr())
    })?;
    Ok(buffer)
}

/// `fstatfs` (O_PATH fds are accepted): the `struct statfs` as bytes.
pub fn statfs(fd: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
    // SAFETY: statfs is plain data, overwritten by the kernel.
    let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: the kernel writes one struct statfs into the buffer we own.
    check_int(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut stat) })?;
    Ok(bytes_of(&stat))
}

/// `faccessat2` with the object's flags plus `flags` (`AT_EACCESS`).
pub fn access(at: At<'_>, mode: i32, flags: i32) -> io::Result<()> {
    // SAFETY: name is NUL-terminated; integers otherwise.
    check(unsafe { libc::syscall(libc::SYS_faccessat2, at.dir.as_raw_fd(), at.name.as_ptr(), mode, at.flags | flags) })?;
    Ok(())
}

/// `mkdirat`.
pub fn mkdir(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: name is NUL-terminated.
    check_int(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) })?;
    Ok(())
}

/// `mknodat`.
pub fn mknod(dir: BorrowedFd<'_>, name: &CStr, mode: u32, dev: u32) -> io::Result<()> {
    // SAFETY: name is NUL-terminated; the device number is passed as the kernel's u32.
    check(unsafe { libc::syscall(libc::SYS_mknodat, dir.as_raw_fd(), name.as_ptr(), mode, dev) })?;
    Ok(())
}

/// `symlinkat`.
pub fn symlink(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: both strings are NUL-terminated.
    check_int(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) })?;
    Ok(())
}

/// `unlinkat`.
pub fn unlink(dir: BorrowedFd<'_>, name: &CStr, flags: i32) -> io::Result<()> {
    // SAFETY: name is NUL-terminated.
    check_int(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) })?;
    Ok(())
}

/// `renameat2`.
pub fn rename(from_dir: BorrowedFd<'_>, from: &CStr, to_dir: BorrowedFd<'_>, to: &CStr, flags: u32) -> io::Result<()> {
    // SAFETY: both names are NUL-terminated.
    check(unsafe { libc::syscall(libc::SYS_renameat2, from_dir.as_raw_fd(), from.as_ptr(), to_dir.as_raw_fd(), to.as_ptr(), flags) })?;
    Ok(())
}

/// `linkat`.
pub fn link(from_dir: BorrowedFd<'_>, from: &CStr, to_dir: BorrowedFd<'_>, to: &CStr, flags: i32) -> io::Result<()> {
    // SAFETY: both names are NUL-terminated.
    check_int(unsafe { libc::linkat(from_dir.as_raw_fd(), from.as_ptr(), to_dir.as_raw_fd(), to.as_ptr(), flags) })?;
    Ok(())
}

/// `fchmodat2`.
pub fn chmod(at: At<'_>, mode: u32) -> io::Result<()> {
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::syscall(libc::SYS_fchmodat2, at.dir.as_raw_fd(), at.name.as_ptr(), mode, at.flags) })?;
    Ok(())
}

/// `fchownat`; `u32::MAX` leaves an id unchanged.
pub fn chown(at: At<'_>, uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: name is NUL-terminated.
    check_int(unsafe { libc::fchownat(at.dir.as_raw_fd(), at.name.as_ptr(), uid, gid, at.flags) })?;
    Ok(())
}

/// `utimensat`; `None` sets both times to now.
pub fn utimens(at: At<'_>, times: Option<&[libc::timespec; 2]>) -> io::Result<()> {
    let pointer = times.map_or(std::ptr::null(), |times| times.as_ptr());
    // SAFETY: name is NUL-terminated; times is null or two timespecs we own.
    check_int(unsafe { libc::utimensat(at.dir.as_raw_fd(), at.name.as_ptr(), pointer, at.flags) })?;
    Ok(())
}

/// `truncate` of a path (the supervisor passes `/proc/self/fd/N`).
pub fn truncate(path: &CStr, length: i64) -> io::Result<()> {
    // SAFETY: path is NUL-terminated.
    check_int(unsafe { libc::truncate(path.as_ptr(), length) })?;
    Ok(())
}

/// `ftruncate`.
pub fn ftruncate(fd: BorrowedFd<'_>, length: i64) -> io::Result<()> {
    // SAFETY: integers only.
    check_int(unsafe { libc::ftruncate(fd.as_raw_fd(), length) })?;
    Ok(())
}

/// `fchmod`.
pub fn fchmod(fd: BorrowedFd<'_>, mode: u32) -> io::Result<()> {
    // SAFETY: integers only.
    check_int(unsafe { libc::fchmod(fd.as_raw_fd(), mode) })?;
    Ok(())
}

/// `fchown`.
pub fn fchown(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: integers only.
    check_int(unsafe { libc::fchown(fd.as_raw_fd(), uid, gid) })?;
    Ok(())
}

/// System call numbers of Linux 6.13 to 6.17 that libc lacks.
const SYS_SETXATTRAT: libc::c_long = 463;
const SYS_GETXATTRAT: libc::c_long = 464;
const SYS_LISTXATTRAT: libc::c_long = 465;
const SYS_REMOVEXATTRAT: libc::c_long = 466;
const SYS_FILE_GETATTR: libc::c_long = 468;
const SYS_FILE_SETATTR: libc::c_long = 469;

/// `struct xattr_args` of `linux/xattr.h`.
#[repr(C)]
struct XattrArgs {
    value: u64,
    size: u32,
    flags: u32,
}

/// `getxattrat`: reads at most `size` bytes of attribute `name` (`size` 0 requests the length).
/// Returns the length and the bytes read.
pub fn get_xattr(at: At<'_>, name: &CStr, size: usize) -> io::Result<(usize, Vec<u8>)> {
    let mut value = vec![0u8; size];
    let mut args = XattrArgs { value: value.as_mut_ptr() as u64, size: size as u32, flags: 0 };
    // SAFETY: strings are NUL-terminated; the kernel writes at most `size` bytes into `value`,
    // which outlives the call, and reads one xattr_args.
    let count = check(unsafe {
        libc::syscall(SYS_GETXATTRAT, at.dir.as_raw_fd(), at.name.as_ptr(), at.flags, name.as_ptr(), &mut args as *mut XattrArgs, std::mem::size_of::<XattrArgs>())
    })? as usize;
    value.truncate(count.min(size));
    Ok((count, value))
}

/// `setxattrat`.
pub fn set_xattr(at: At<'_>, name: &CStr, value: &[u8], flags: u32) -> io::Result<()> {
    let args = XattrArgs { value: value.as_ptr() as u64, size: value.len() as u32, flags };
    // SAFETY: strings are NUL-terminated; the kernel reads `value` through args, both ours.
    check(unsafe {
        libc::syscall(SYS_SETXATTRAT, at.dir.as_raw_fd(), at.name.as_ptr(), at.flags, name.as_ptr(), &args as *const XattrArgs, std::mem::size_of::<XattrArgs>())
    })?;
    Ok(())
}

/// `listxattrat`: reads at most `size` bytes of the name list (`size` 0 requests the length).
pub fn list_xattr(at: At<'_>, size: usize) -> io::Result<(usize, Vec<u8>)> {
    let mut list = vec![0u8; size];
    // SAFETY: name is NUL-terminated; the kernel writes at most `size` bytes into `list`.
    let count = check(unsafe {
        libc::syscall(SYS_LISTXATTRAT, at.dir.as_raw_fd(), at.name.as_ptr(), at.flags, list.as_mut_ptr(), size)
    })? as usize;
    list.truncate(count.min(size));
    Ok((count, list))
}

/// `removexattrat`.
pub fn remove_xattr(at: At<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: strings are NUL-terminated.
    check(unsafe { libc::syscall(SYS_REMOVEXATTRAT, at.dir.as_raw_fd(), at.name.as_ptr(), at.flags, name.as_ptr()) })?;
    Ok(())
}


/// `file_getattr` into a buffer of `size` bytes.
pub fn file_getattr(at: At<'_>, size: usize) -> io::Result<Vec<u8>> {
    let mut buffer = vec![0u8; size];
    // SAFETY: name is NUL-terminated; the kernel writes at most `size` bytes into our buffer.
    check(unsafe { libc::syscall(SYS_FILE_GETATTR, at.dir.as_raw_fd(), at.name.as_ptr(), buffer.as_mut_ptr(), size, at.flags) })?;
    Ok(buffer)
}

/// `file_setattr` from `attr`.
pub fn file_setattr(at: At<'_>, attr: &[u8]) -> io::Result<()> {
    // SAFETY: name is NUL-terminated; the kernel reads attr.len() bytes of our buffer.
    check(unsafe { libc::syscall(SYS_FILE_SETATTR, at.dir.as_raw_fd(), at.name.as_ptr(), attr.as_ptr(), attr.len(), at.flags) })?;
    Ok(())
}

/// `getdents64` (`wide`) or the old `getdents` into `buffer`; returns the byte count.
pub fn getdents(fd: BorrowedFd<'_>, buffer: &mut [u8], wide: bool) -> io::Result<usize> {
    let number = if wide { libc::SYS_getdents64 } else { libc::SYS_getdents };
    // SAFETY: the kernel writes at most buffer.len() bytes into the buffer we own.
    let count = check(unsafe { libc::syscall(number, fd.as_raw_fd(), buffer.as_mut_ptr(), buffer.len()) })?;
    Ok(count as usize)
}

/// `inotify_add_watch`: returns the watch descriptor.
pub fn inotify_add_watch(instance: BorrowedFd<'_>, path: &CStr, mask: u32) -> io::Result<i32> {
    // SAFETY: path is NUL-terminated.
    check_int(unsafe { libc::inotify_add_watch(instance.as_raw_fd(), path.as_ptr(), mask) })
}

/// `fanotify_mark` of the object `object` (no path), or with no object for flushes.
pub fn fanotify_mark(instance: BorrowedFd<'_>, flags: u32, mask: u64, object: Option<BorrowedFd<'_>>) -> io::Result<()> {
    let dir = object.map_or(libc::AT_FDCWD, |fd| fd.as_raw_fd());
    // SAFETY: a null path makes the kernel mark `dir` itself; integers otherwise.
    check(unsafe { libc::syscall(libc::SYS_fanotify_mark, instance.as_raw_fd(), flags, mask, dir, std::ptr::null::<libc::c_char>()) })?;
    Ok(())
}
