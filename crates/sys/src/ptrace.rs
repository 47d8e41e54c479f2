//! ptrace requests used by the tracer thread. The kernel ties each tracee to the thread that
//! attached it, so every request here must come from that one thread.

use std::io;

use crate::check;

/// Options set on every sandboxed process: follow every fork, vfork and clone, stop at exec,
/// and kill every tracee when the tracer exits (`PTRACE_O_EXITKILL`), which is what makes a
/// supervisor crash end the sandbox instead of releasing it.
pub const OPTIONS: libc::c_int = libc::PTRACE_O_TRACEFORK
    | libc::PTRACE_O_TRACEVFORK
    | libc::PTRACE_O_TRACECLONE
    | libc::PTRACE_O_TRACEEXEC
    | libc::PTRACE_O_TRACESECCOMP
    | libc::PTRACE_O_TRACESYSGOOD
    | libc::PTRACE_O_EXITKILL;

fn request(request: libc::c_uint, pid: libc::pid_t, addr: usize, data: usize) -> io::Result<libc::c_long> {
    // SAFETY: every request issued through this helper passes integers in addr and data, or
    // (PTRACE_GETEVENTMSG) a pointer to a c_ulong owned by the caller for the call's duration.
    check(unsafe { libc::ptrace(request, pid, addr, data) })
}

/// Attaches to `pid` without stopping it.
pub fn seize(pid: libc::pid_t, options: libc::c_int) -> io::Result<()> {
    request(libc::PTRACE_SEIZE, pid, 0, options as usize).map(drop)
}

/// Resumes a stopped tracee, delivering `signal` (0 for none).
pub fn cont(pid: libc::pid_t, signal: i32) -> io::Result<()> {
    request(libc::PTRACE_CONT, pid, 0, signal as usize).map(drop)
}

/// Leaves a tracee in its group stop while letting the tracer see the next event.
pub fn listen(pid: libc::pid_t) -> io::Result<()> {
    request(libc::PTRACE_LISTEN, pid, 0, 0).map(drop)
}

/// Returns the message of the last ptrace event (the new pid for fork events).
pub fn event_message(pid: libc::pid_t) -> io::Result<libc::c_ulong> {
    let mut message: libc::c_ulong = 0;
    request(libc::PTRACE_GETEVENTMSG, pid, 0, &mut message as *mut libc::c_ulong as usize)?;
    Ok(message)
}

/// Fills in the siginfo of a stopped tracee, to tell a group stop from a signal stop.
pub fn signal_info(pid: libc::pid_t) -> io::Result<libc::siginfo_t> {
    // SAFETY: siginfo_t is plain data that the kernel overwrites.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: the kernel writes one siginfo_t into the buffer we own.
    check(unsafe { libc::ptrace(libc::PTRACE_GETSIGINFO, pid, 0, &mut info as *mut libc::siginfo_t) })?;
    Ok(info)
}

/// Resumes a stopped tracee until its next syscall entry or exit (or other stop).
pub fn resume_to_syscall(pid: libc::pid_t, signal: i32) -> io::Result<()> {
    request(libc::PTRACE_SYSCALL, pid, 0, signal as usize).map(drop)
}

/// `PTRACE_GET_SYSCALL_INFO` operations.
pub const SYSCALL_INFO_SECCOMP: u8 = 3;
pub const SYSCALL_INFO_EXIT: u8 = 2;

/// The syscall a tracee is stopped in, from `PTRACE_GET_SYSCALL_INFO`.
#[derive(Clone, Copy, Debug)]
pub struct SyscallInfo {
    /// `SYSCALL_INFO_SECCOMP`, `SYSCALL_INFO_EXIT`, ...
    pub op: u8,
    pub arch: u32,
    /// The syscall number (entry and seccomp stops).
    pub nr: u64,
    pub args: [u64; 6],
    /// The return value (exit stops).
    pub return_value: i64,
}

/// `struct ptrace_syscall_info` of linux/ptrace.h, with the seccomp member of its union,
/// which is the largest (the entry member has the same layout without `ret_data`).
#[repr(C)]
#[derive(Default)]
struct RawSyscallInfo {
    op: u8,
    reserved: u8,
    flags: u16,
    arch: u32,
    instruction_pointer: u64,
    stack_pointer: u64,
    nr_or_rval: u64,
    args: [u64; 6],
    ret_data: u32,
    padding: u32,
}

/// Reads which syscall a stopped tracee is in, and its arguments or return value.
pub fn syscall_info(pid: libc::pid_t) -> io::Result<SyscallInfo> {
    let mut raw = RawSyscallInfo::default();
    const PTRACE_GET_SYSCALL_INFO: libc::c_uint = 0x420e;
    request(PTRACE_GET_SYSCALL_INFO, pid, std::mem::size_of::<RawSyscallInfo>(), &mut raw as *mut RawSyscallInfo as usize)?;
    Ok(SyscallInfo {
        op: raw.op,
        arch: raw.arch,
        nr: raw.nr_or_rval,
        args: raw.args,
        return_value: raw.nr_or_rval as i64,
    })
}

/// Makes the syscall a tracee is stopped in at a seccomp stop fail with `errno` without
/// running: the number becomes -1, which the kernel skips, and the return register is set.
pub fn fail_syscall(pid: libc::pid_t, errno: i32) -> io::Result<()> {
    // SAFETY: user_regs_struct is plain data, overwritten by the kernel.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    request(libc::PTRACE_GETREGS, pid, 0, &mut regs as *mut libc::user_regs_struct as usize)?;
    regs.orig_rax = u64::MAX;
    regs.rax = (-(errno as i64)) as u64;
    request(libc::PTRACE_SETREGS, pid, 0, &regs as *const libc::user_regs_struct as usize).map(drop)
}
