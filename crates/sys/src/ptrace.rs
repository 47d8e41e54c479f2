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
