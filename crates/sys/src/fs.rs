//! File-system calls on fds: the resolver walks paths with these, one component at a time.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::{check, check_int};

/// `AT_FDCWD` as a borrowed fd for calls that accept it.
pub fn cwd() -> BorrowedFd<'static> {
    // SAFETY: AT_FDCWD is a sentinel the kernel interprets as the current directory; it is
    // never closed and is valid for the whole program.
    unsafe { BorrowedFd::borrow_raw(libc::AT_FDCWD) }
}

/// Opens `name` relative to `dir`.
pub fn openat(dir: BorrowedFd<'_>, name: &CStr, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    // SAFETY: name is NUL-terminated and outlives the call; the result is a new fd we own.
    let fd = check_int(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, mode) })?;
    // SAFETY: the kernel just returned this fd and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// File status of an fd.
pub fn fstat(fd: BorrowedFd<'_>) -> io::Result<libc::stat> {
    // SAFETY: stat is plain data, overwritten by the kernel.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: the kernel writes one struct stat into the buffer we own.
    check_int(unsafe { libc::fstat(fd.as_raw_fd(), &mut stat) })?;
    Ok(stat)
}

/// File status of `name` in `dir`, without following a final symlink.
pub fn lstatat(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<libc::stat> {
    // SAFETY: stat is plain data, overwritten by the kernel.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: name is NUL-terminated; the kernel writes one struct stat into our buffer.
    check_int(unsafe { libc::fstatat(dir.as_raw_fd(), name.as_ptr(), &mut stat, libc::AT_SYMLINK_NOFOLLOW) })?;
    Ok(stat)
}

/// Reads the target of the symlink `name` in `dir` (`name` may be empty for an O_PATH fd
/// of the link itself).
pub fn readlinkat(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Vec<u8>> {
    let mut buffer = vec![0u8; libc::PATH_MAX as usize + 1];
    // SAFETY: the kernel writes at most buffer.len() bytes into the buffer we own.
    let count = check(unsafe {
        libc::readlinkat(dir.as_raw_fd(), name.as_ptr(), buffer.as_mut_ptr().cast(), buffer.len())
    } as libc::c_long)? as usize;
    if count >= buffer.len() {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    buffer.truncate(count);
    Ok(buffer)
}

/// Returns the magic number of the file system that contains `fd`.
pub fn fs_type(fd: BorrowedFd<'_>) -> io::Result<i64> {
    // SAFETY: statfs is plain data, overwritten by the kernel.
    let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: the kernel writes one struct statfs into the buffer we own.
    check_int(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut stat) })?;
    Ok(stat.f_type as i64)
}

/// Returns the file status flags and access mode of an open file (`F_GETFL`).
pub fn status_flags(fd: BorrowedFd<'_>) -> io::Result<i32> {
    // SAFETY: F_GETFL takes no argument.
    check_int(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })
}

/// Sets the file status flags of an open file (`F_SETFL`).
pub fn set_status_flags(fd: BorrowedFd<'_>, flags: i32) -> io::Result<()> {
    // SAFETY: F_SETFL takes an integer argument.
    check_int(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags) })?;
    Ok(())
}

/// Reopens an open file through its `/proc/self/fd` entry with new flags, which the kernel
/// allows for the same object the fd refers to (pipes included).
pub fn reopen(fd: BorrowedFd<'_>, flags: i32) -> io::Result<OwnedFd> {
    let path = format!("/proc/self/fd/{}\0", fd.as_raw_fd());
    let path = CStr::from_bytes_with_nul(path.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    openat(cwd(), path, flags, 0)
}

/// Returns a borrowed fd for a raw number the caller guarantees is open for `'a`.
///
/// # Safety
/// `fd` must stay open for the lifetime of the returned value.
pub unsafe fn borrow_raw<'a>(fd: RawFd) -> BorrowedFd<'a> {
    // SAFETY: forwarded to the caller's contract.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// Returns the Landlock ABI version of the running kernel (`EOPNOTSUPP` or `ENOSYS` when
/// Landlock is disabled or absent).
pub fn landlock_abi() -> io::Result<i32> {
    const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1;
    // SAFETY: with the VERSION flag, the kernel reads no attribute struct (NULL, size 0).
    let abi = check(unsafe {
        libc::syscall(libc::SYS_landlock_create_ruleset, std::ptr::null::<u8>(), 0usize, LANDLOCK_CREATE_RULESET_VERSION)
    })?;
    Ok(abi as i32)
}

/// `openat2` with a resolve mask: the kernel walks `path` below `dir` itself.
pub fn openat2(dir: BorrowedFd<'_>, path: &CStr, flags: u64, resolve: u64) -> io::Result<OwnedFd> {
    // struct open_how of linux/openat2.h (libc's copy cannot be built outside libc).
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    let how = OpenHow { flags, mode: 0, resolve };
    // SAFETY: path is NUL-terminated; the kernel reads one open_how of the given size.
    let fd = check(unsafe {
        libc::syscall(libc::SYS_openat2, dir.as_raw_fd(), path.as_ptr(), &how as *const OpenHow, std::mem::size_of::<OpenHow>())
    })?;
    // SAFETY: the kernel just returned this fd and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Returns a `struct stat` with every field zero, for callers that fill in a few fields.
pub fn empty_stat() -> libc::stat {
    // SAFETY: struct stat is plain data for which all-zero bytes are a valid value.
    unsafe { std::mem::zeroed() }
}
