//! Classic BPF for seccomp: instruction constructors, the `struct seccomp_data` layout, seccomp
//! return values, and the `seccomp(SECCOMP_SET_MODE_FILTER)` system call.

use std::io;
use std::mem::offset_of;

pub use libc::{sock_filter, sock_fprog};
pub use libc::{
    SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW, SECCOMP_RET_DATA, SECCOMP_RET_ERRNO,
    SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_LOG, SECCOMP_RET_TRACE, SECCOMP_RET_TRAP,
    SECCOMP_RET_USER_NOTIF,
};

// The argument offsets below point at the low half of each 64-bit argument, which comes first
// only on little-endian machines.
#[cfg(not(target_endian = "little"))]
compile_error!("seccomp argument offsets assume a little-endian target");

/// `BPF_LD | BPF_W | BPF_ABS`: loads the 32-bit word at offset `k` of `seccomp_data` into A.
pub const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
/// `BPF_JMP | BPF_JA`: jumps forward by `k`, a 32-bit offset.
pub const JA: u16 = (libc::BPF_JMP | libc::BPF_JA) as u16;
/// `BPF_JMP | BPF_JEQ | BPF_K`: jumps by `jt` if `A == k`, else by `jf`.
pub const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
/// `BPF_JMP | BPF_JGE | BPF_K`: jumps by `jt` if `A >= k` (unsigned), else by `jf`.
pub const JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
/// `BPF_JMP | BPF_JGT | BPF_K`: jumps by `jt` if `A > k` (unsigned), else by `jf`.
pub const JGT_K: u16 = (libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K) as u16;
/// `BPF_JMP | BPF_JSET | BPF_K`: jumps by `jt` if `A & k != 0`, else by `jf`.
pub const JSET_K: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
/// `BPF_RET | BPF_K`: ends the filter with the seccomp return value `k`.
pub const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

/// The maximum number of instructions the kernel accepts in one filter (`BPF_MAXINSNS`).
pub const MAX_INSTRUCTIONS: usize = libc::BPF_MAXINSNS as usize;

/// Offset of `nr`, the system call number, in `struct seccomp_data`.
pub const DATA_NR_OFFSET: u32 = offset_of!(libc::seccomp_data, nr) as u32;
/// Offset of `arch`, the `AUDIT_ARCH_*` value of the calling convention, in `struct seccomp_data`.
pub const DATA_ARCH_OFFSET: u32 = offset_of!(libc::seccomp_data, arch) as u32;
const DATA_ARGS_OFFSET: u32 = offset_of!(libc::seccomp_data, args) as u32;

/// Returns the offset of the low 32 bits of system call argument `index` (0 to 5) in
/// `struct seccomp_data`, the part the kernel reads for `int` and `unsigned int` arguments.
pub const fn arg_low_offset(index: u32) -> u32 {
    assert!(index < 6, "system calls have six arguments");
    DATA_ARGS_OFFSET + 8 * index
}

/// `AUDIT_ARCH_X86_64`: `seccomp_data.arch` for the 64-bit `syscall` instruction.
pub const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
/// `AUDIT_ARCH_I386`: `seccomp_data.arch` for 32-bit entries such as `int 0x80`.
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// `__X32_SYSCALL_BIT`: set in `nr` for x32 system calls, which report `AUDIT_ARCH_X86_64`.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Makes `seccomp` return a listener fd for `SECCOMP_RET_USER_NOTIF` notifications.
pub const SECCOMP_FILTER_FLAG_NEW_LISTENER: u32 = 1 << 3;
/// Lets only fatal signals interrupt a caller whose notification the supervisor has received.
pub const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: u32 = 1 << 5;

/// Builds a non-jump instruction.
pub const fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// Builds a jump instruction. `jt` and `jf` count instructions after the next one.
pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// Installs `program` as a seccomp filter on the calling thread (`seccomp(2)` with
/// `SECCOMP_SET_MODE_FILTER`). Returns the listener fd when `flags` contain
/// [`SECCOMP_FILTER_FLAG_NEW_LISTENER`], otherwise 0.
///
/// The caller must have set `PR_SET_NO_NEW_PRIVS` or hold `CAP_SYS_ADMIN`. This function does
/// not allocate, so a forked child of a multi-threaded process may call it before `execve`.
pub fn seccomp_set_mode_filter(program: &[sock_filter], flags: u32) -> io::Result<libc::c_int> {
    // `sock_fprog.len` is 16 bits wide: a longer program would be silently truncated.
    let Ok(len) = u16::try_from(program.len()) else {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    };
    let fprog = sock_fprog {
        len,
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: `fprog` points at `len` initialized instructions that outlive the call, and the
    // kernel only reads them (it copies the program before returning).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::c_ulong::from(flags),
            &fprog as *const sock_fprog,
        )
    };
    let fd = crate::check(ret)?;
    // The kernel returns an fd number or 0, both of which fit in a c_int.
    Ok(fd as libc::c_int)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcodes_match_linux_filter_h() {
        assert_eq!(LD_W_ABS, 0x20);
        assert_eq!(JA, 0x05);
        assert_eq!(JEQ_K, 0x15);
        assert_eq!(JGT_K, 0x25);
        assert_eq!(JGE_K, 0x35);
        assert_eq!(JSET_K, 0x45);
        assert_eq!(RET_K, 0x06);
    }

    #[test]
    fn seccomp_data_offsets() {
        assert_eq!(DATA_NR_OFFSET, 0);
        assert_eq!(DATA_ARCH_OFFSET, 4);
        assert_eq!(arg_low_offset(0), 16);
        assert_eq!(arg_low_offset(5), 56);
    }

    #[test]
    fn empty_program_is_invalid() {
        let error = seccomp_set_mode_filter(&[], 0).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EINVAL));
    }

    #[test]
    fn program_longer_than_u16_is_invalid() {
        // 65,537 instructions would wrap to a length of 1 if the length were truncated.
        let program = vec![stmt(RET_K, SECCOMP_RET_ALLOW); usize::from(u16::MAX) + 2];
        let error = seccomp_set_mode_filter(&program, 0).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EINVAL));
    }

    /// Installs a filter that fails `getppid` with `EPERM` and requests a listener, in a forked
    /// child, and returns the child's exit status.
    fn install_in_child() -> libc::c_int {
        let program = [
            stmt(LD_W_ABS, DATA_NR_OFFSET),
            jump(JEQ_K, libc::SYS_getppid as u32, 0, 1),
            stmt(RET_K, SECCOMP_RET_ERRNO | libc::EPERM as u32),
            stmt(RET_K, SECCOMP_RET_ALLOW),
        ];
        let flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;

        // SAFETY: the child only makes system calls and exits. It does not allocate or take
        // locks that another thread of the test process may hold.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed: {}", io::Error::last_os_error());
        if pid == 0 {
            // Each exit code names the step that failed.
            // SAFETY: prctl with integer arguments touches no memory of ours.
            if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                // SAFETY: _exit ends the child without running the parent's destructors.
                unsafe { libc::_exit(2) };
            }
            let code = match seccomp_set_mode_filter(&program, flags) {
                Err(_) => 3,
                // SAFETY: F_GETFD on an fd number reads no memory.
                Ok(fd) if fd <= 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 => 4,
                // The raw system call, because glibc's getppid does not set errno.
                // SAFETY: getppid takes no arguments.
                Ok(_) if unsafe { libc::syscall(libc::SYS_getppid) } != -1 => 5,
                Ok(_) if io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) => 6,
                Ok(_) => 0,
            };
            // SAFETY: as above.
            unsafe { libc::_exit(code) };
        }

        let mut status = 0;
        // SAFETY: waitpid writes the status of our own child into `status`.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(
            waited,
            pid,
            "waitpid failed: {}",
            io::Error::last_os_error()
        );
        status
    }

    #[test]
    fn filter_with_listener_installs() {
        let status = install_in_child();
        assert!(
            libc::WIFEXITED(status),
            "child ended abnormally, wait status {status:#x}"
        );
        // 2: prctl failed, 3: seccomp failed, 4: no valid listener fd, 5/6: getppid not denied.
        assert_eq!(libc::WEXITSTATUS(status), 0);
    }
}
