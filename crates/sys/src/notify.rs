//! The seccomp user-notification listener: receive, validate, reply and install fds.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use crate::check_int;

pub use libc::seccomp_notif as Notification;

/// Sets `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`, which makes the kernel wake the receiving worker
/// on the caller's CPU.
pub fn set_sync_wake_up(listener: BorrowedFd<'_>) -> io::Result<()> {
    let flags: u64 = 1; // SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
    // SAFETY: the ioctl reads one u64 flag word by value; the listener fd is borrowed and open.
    check_int(unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) })?;
    Ok(())
}

/// Blocks until the next notification arrives. `EINTR` and `ENOENT` (the caller died before
/// it could be received) are returned to the caller, which retries.
pub fn receive(listener: BorrowedFd<'_>) -> io::Result<Notification> {
    // SAFETY: seccomp_notif is plain old data; the kernel requires it zeroed before RECV.
    let mut notification: Notification = unsafe { std::mem::zeroed() };
    // SAFETY: the kernel writes exactly one seccomp_notif into the buffer we own.
    check_int(unsafe {
        libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut notification)
    })?;
    Ok(notification)
}

/// Returns whether the notification `id` is still pending, which proves that the calling
/// thread is alive and its pid has not been recycled since the notification was received.
pub fn id_valid(listener: BorrowedFd<'_>, id: u64) -> bool {
    // SAFETY: the ioctl reads one u64 through the pointer, which stays valid for the call.
    unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 }
}

/// Completes a notification with a return value (`error == 0`) or a negative errno.
pub fn respond(listener: BorrowedFd<'_>, id: u64, value: i64, errno: i32) -> io::Result<()> {
    let response = libc::seccomp_notif_resp { id, val: value, error: -errno, flags: 0 };
    // SAFETY: the kernel reads one seccomp_notif_resp from the pointer we own.
    check_int(unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_SEND, &response) })?;
    Ok(())
}

/// Installs `fd` in the caller's fd table and completes the notification with the new fd
/// number as the syscall's return value, atomically (`SECCOMP_ADDFD_FLAG_SEND`).
pub fn add_fd_and_respond(listener: BorrowedFd<'_>, id: u64, fd: BorrowedFd<'_>, cloexec: bool) -> io::Result<i32> {
    let add = libc::seccomp_notif_addfd {
        id,
        flags: libc::SECCOMP_ADDFD_FLAG_SEND as u32,
        srcfd: fd.as_raw_fd() as u32,
        newfd: 0,
        newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
    };
    // SAFETY: the kernel reads one seccomp_notif_addfd; srcfd is a borrowed open fd.
    check_int(unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_ADDFD, &add) })
}

/// Installs `fd` in the caller's fd table without completing the notification, and returns
/// the new fd number. The caller completes the notification afterwards with [`respond`].
pub fn add_fd(listener: BorrowedFd<'_>, id: u64, fd: BorrowedFd<'_>, cloexec: bool) -> io::Result<i32> {
    let add = libc::seccomp_notif_addfd {
        id,
        flags: 0,
        srcfd: fd.as_raw_fd() as u32,
        newfd: 0,
        newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
    };
    // SAFETY: the kernel reads one seccomp_notif_addfd; srcfd is a borrowed open fd.
    check_int(unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_ADDFD, &add) })
}

/// Waits until the listener has a notification or no process uses the filter any more.
/// Returns `true` in the second case (`POLLHUP`), because then no notification can come.
pub fn wait_for_notification(listener: BorrowedFd<'_>) -> io::Result<bool> {
    let mut poll = libc::pollfd { fd: listener.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: the kernel reads and writes one pollfd we own.
    check_int(unsafe { libc::poll(&mut poll, 1, -1) })?;
    Ok(poll.revents & libc::POLLHUP != 0 && poll.revents & libc::POLLIN == 0)
}

/// Lets the kernel run the call as the caller made it (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`).
/// Only for calls whose checked arguments are registers, which no other thread can change.
pub fn continue_call(listener: BorrowedFd<'_>, id: u64) -> io::Result<()> {
    let response = libc::seccomp_notif_resp { id, val: 0, error: 0, flags: libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32 };
    // SAFETY: the kernel reads one seccomp_notif_resp from the pointer we own.
    check_int(unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_SEND, &response) })?;
    Ok(())
}
