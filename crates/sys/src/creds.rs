//! Per-thread credentials, used by the workers to act with the credentials of the sandboxed
//! thread they serve. Every call here changes only the calling thread: the raw syscalls are
//! used on purpose, because glibc's wrappers for setgroups and friends change every thread.

use std::io;

use crate::{check, check_int};

/// Sets the calling thread's file-system uid and returns whether the kernel accepted it.
/// setfsuid reports no errors, so a second call reads the value back.
pub fn set_fsuid(uid: u32) -> bool {
    // SAFETY: setfsuid takes an integer and only changes this thread's credentials.
    unsafe { libc::syscall(libc::SYS_setfsuid, uid) };
    // SAFETY: an invalid uid (-1) changes nothing and returns the current fsuid.
    let current = unsafe { libc::syscall(libc::SYS_setfsuid, u32::MAX) } as u32;
    current == uid
}

/// Sets the calling thread's file-system gid and returns whether the kernel accepted it.
pub fn set_fsgid(gid: u32) -> bool {
    // SAFETY: setfsgid takes an integer and only changes this thread's credentials.
    unsafe { libc::syscall(libc::SYS_setfsgid, gid) };
    // SAFETY: an invalid gid (-1) changes nothing and returns the current fsgid.
    let current = unsafe { libc::syscall(libc::SYS_setfsgid, u32::MAX) } as u32;
    current == gid
}

/// Sets the calling thread's supplementary groups (raw syscall: this thread only).
pub fn set_groups(groups: &[u32]) -> io::Result<()> {
    // SAFETY: the kernel reads groups.len() gids from the slice we borrow.
    check(unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) })?;
    Ok(())
}

/// The three capability sets of a thread, as 64-bit masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// Reads the calling thread's capabilities.
pub fn capabilities() -> io::Result<Capabilities> {
    let mut header = CapHeader { version: CAPABILITY_VERSION_3, pid: 0 };
    let mut data = [CapData::default(); 2];
    // SAFETY: version 3 makes the kernel write exactly two CapData entries into our array.
    check(unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) })?;
    let join = |low: u32, high: u32| u64::from(low) | (u64::from(high) << 32);
    Ok(Capabilities {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// Sets the calling thread's capabilities (raw capset with pid 0: this thread only).
pub fn set_capabilities(caps: Capabilities) -> io::Result<()> {
    let mut header = CapHeader { version: CAPABILITY_VERSION_3, pid: 0 };
    let data = [
        CapData { effective: caps.effective as u32, permitted: caps.permitted as u32, inheritable: caps.inheritable as u32 },
        CapData {
            effective: (caps.effective >> 32) as u32,
            permitted: (caps.permitted >> 32) as u32,
            inheritable: (caps.inheritable >> 32) as u32,
        },
    ];
    // SAFETY: version 3 makes the kernel read exactly two CapData entries from our array.
    check(unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) })?;
    Ok(())
}

/// Sets the umask of the calling thread's fs_struct; after [`unshare_fs`] that is this
/// thread's alone.
pub fn set_umask(mask: u32) {
    // SAFETY: umask takes an integer and cannot fail.
    unsafe { libc::umask(mask as libc::mode_t) };
}

/// Returns the umask of the calling thread's fs_struct (umask(2) can only read by writing).
pub fn umask() -> u32 {
    // SAFETY: umask takes an integer and cannot fail; the second call restores the value.
    let current = unsafe { libc::umask(0) };
    // SAFETY: as above.
    unsafe { libc::umask(current) };
    current as u32
}

/// Gives the calling thread its own cwd, root and umask (`unshare(CLONE_FS)`).
pub fn unshare_fs() -> io::Result<()> {
    // SAFETY: unshare takes an integer flag word.
    check_int(unsafe { libc::unshare(libc::CLONE_FS) })?;
    Ok(())
}

/// Returns the calling thread's real and effective ids as (ruid, euid, rgid, egid).
pub fn ids() -> (u32, u32, u32, u32) {
    // SAFETY: these getters take no arguments and cannot fail.
    unsafe { (libc::getuid(), libc::geteuid(), libc::getgid(), libc::getegid()) }
}
