//! The kernel interface of cordon. Every `unsafe` block of the project lives in this crate, one
//! system call per wrapper, each returning `std::io::Result` and taking owned or borrowed fds.

pub mod bpf;
pub mod creds;
pub mod fs;
pub mod fsops;
pub mod notify;
pub mod process;
pub mod ptrace;

use std::io;

/// Converts a raw syscall return value into a `Result`, reading `errno` on -1.
pub(crate) fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Like [`check`], for the `c_int` returns of libc wrappers.
pub(crate) fn check_int(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Returns the errno of a system call error, `EIO` for errors that carry none.
pub fn errno_of(error: &io::Error) -> i32 {
    error.raw_os_error().unwrap_or(libc::EIO)
}
