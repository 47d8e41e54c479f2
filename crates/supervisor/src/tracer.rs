//! The tracer: the thread that seized the first sandboxed process. Every descendant is
//! attached automatically (fork, vfork and clone tracing) with `PTRACE_O_EXITKILL`, so the
//! death of the supervisor kills the whole sandbox. The tracer keeps the member set, delivers
//! signals, parks group stops with `PTRACE_LISTEN`, and ends the sandbox when COMMAND exits.

use std::collections::HashSet;
use std::io;

use cordon_sys::{process, ptrace};

use crate::caller::Own;
use crate::context::Context;
use crate::exec;

/// The way the first sandboxed process ended.
#[derive(Clone, Copy, Debug)]
pub enum Ending {
    Exited(i32),
    Signaled(i32),
}

impl Ending {
    /// Returns the exit status cordon reports: the code, or 128 + the signal number.
    pub fn code(self) -> i32 {
        match self {
            Ending::Exited(code) => code,
            Ending::Signaled(signal) => 128 + signal,
        }
    }
}

/// Serves ptrace stops until every tracee is gone; returns how `main` ended.
pub fn trace(context: &Context, main: libc::pid_t) -> io::Result<Ending> {
    let mut ending = None;
    let mut processes = Processes::new(main);
    let mut pins = exec::Pins::default();
    // The tracer resolves exec and chdir targets with the caller's credentials, like a worker.
    let mut own = Own::capture()?;
    loop {
        let status = match process::wait_any() {
            Ok(status) => status,
            Err(error) if error.raw_os_error() == Some(libc::ECHILD) => break,
            Err(error) => return Err(error),
        };
        let (pid, raw) = (status.pid, status.status);
        context.stats.count_tracer_stop();
        if libc::WIFEXITED(raw) || libc::WIFSIGNALED(raw) {
            context.members.remove(pid);
            context.proc_dirs.forget(pid);
            if processes.leaders.remove(&pid) {
                processes.exited.insert(pid);
            }
            processes.announced.remove(&pid);
            pins.forget(pid);
            if pid == main {
                ending = Some(if libc::WIFEXITED(raw) { Ending::Exited(libc::WEXITSTATUS(raw)) } else { Ending::Signaled(libc::WTERMSIG(raw)) });
                // The sandbox ends with COMMAND: remaining descendants are killed.
                context.kill_sandbox();
            }
            continue;
        }
        if !libc::WIFSTOPPED(raw) {
            continue;
        }
        if !processes.announced.contains(&pid) {
            // A new task's first stop can arrive before its parent's fork event. It stays
            // stopped until that event has counted it against the process limit.
            context.members.insert(pid);
            processes.parked.insert(pid);
            continue;
        }
        if ending.is_some() {
            let _ = process::kill(pid, libc::SIGKILL);
        }
        let mut state = TraceState { processes: &mut processes, pins: &mut pins, own: &mut own };
        handle_stop(context, &mut state, pid, raw);
    }
    ending.ok_or_else(|| io::Error::other("the sandboxed command was never reported as exited"))
}

/// The thread-group leaders alive in the sandbox, for `--max-processes`.
struct Processes {
    leaders: HashSet<libc::pid_t>,
    /// Leaders that exited but may still be zombies waiting for their parent: they hold a
    /// pid, so they count against the limit until they are reaped.
    exited: HashSet<libc::pid_t>,
    /// Tasks whose creation the tracer has seen (the parent's fork, vfork or clone event).
    announced: HashSet<libc::pid_t>,
    /// New tasks whose first stop came before their parent's event, kept stopped until the
    /// event has counted them.
    parked: HashSet<libc::pid_t>,
    /// Whether the limit message was printed (once per run).
    reported: bool,
}

impl Processes {
    fn new(main: libc::pid_t) -> Processes {
        Processes {
            leaders: HashSet::from([main]),
            exited: HashSet::new(),
            announced: HashSet::from([main]),
            parked: HashSet::new(),
            reported: false,
        }
    }

    /// Counts the processes holding a pid: live leaders and unreaped zombies.
    fn count(&mut self) -> usize {
        self.exited.retain(|&pid| holds_pid(pid));
        self.leaders.len() + self.exited.len()
    }

    fn report_limit(&mut self, limit: usize) {
        if !self.reported {
            eprintln!("cordon: process limit of {limit} reached; fork fails with EAGAIN and processes created past the limit are killed");
            self.reported = true;
        }
    }
}

/// Returns whether `pid` is still in use (a zombie not yet reaped by its parent, or a
/// killed process not yet a zombie).
/// NOTE: after the reap, the pid may be reused by another process before the next count;
/// the count is then too high for a moment, which only refuses a fork too early.
fn holds_pid(pid: libc::pid_t) -> bool {
    std::fs::symlink_metadata(format!("/proc/{pid}")).is_ok()
}

/// The tracer's state across stops.
struct TraceState<'a> {
    processes: &'a mut Processes,
    pins: &'a mut exec::Pins,
    own: &'a mut Own,
}

fn handle_stop(context: &Context, state: &mut TraceState<'_>, pid: libc::pid_t, raw: i32) {
    let signal = libc::WSTOPSIG(raw);
    let event = raw >> 16;
    let processes = &mut *state.processes;
    let result = match event {
        libc::PTRACE_EVENT_FORK | libc::PTRACE_EVENT_VFORK | libc::PTRACE_EVENT_CLONE => {
            match ptrace::event_message(pid) {
                Ok(child) => {
                    let child = child as libc::pid_t;
                    context.members.insert(child);
                    processes.announced.insert(child);
                    let allowed = account_new_task(context, processes, child, event);
                    if processes.parked.remove(&child) && allowed {
                        if let Err(error) = ptrace::cont(child, 0) {
                            tracing::debug!(child, %error, "could not resume a new task");
                        }
                    }
                }
                Err(error) => tracing::warn!(pid, %error, "could not read the new process id"),
            }
            ptrace::cont(pid, 0)
        }
        libc::PTRACE_EVENT_EXEC => {
            // A non-leader thread that execs takes over the thread-group id; its old tid is gone.
            let former = ptrace::event_message(pid).map(|former| former as libc::pid_t).unwrap_or(pid);
            if former != pid {
                context.members.remove(former);
                context.proc_dirs.forget(former);
            }
            context.proc_dirs.forget(pid);
            exec::validate_exec(context, state.pins, pid, former);
            resume(state, pid, 0)
        }
        libc::PTRACE_EVENT_SECCOMP => seccomp_stop(context, state, pid),
        0 if signal == SYSCALL_STOP => {
            match ptrace::syscall_info(pid) {
                Ok(info) => {
                    exec::validate_chdir(context, state.pins, pid, &info);
                    exec::validate_mapping(context, state.pins, pid, &info);
                }
                Err(error) => tracing::warn!(pid, %error, "could not read a syscall exit"),
            }
            resume(state, pid, 0)
        }
        PTRACE_EVENT_STOP => {
            if is_group_stop_signal(signal) {
                ptrace::listen(pid)
            } else {
                resume(state, pid, 0)
            }
        }
        _ => resume(state, pid, signal),
    };
    if let Err(error) = result {
        // ESRCH: the tracee was killed while stopped; its exit is reported next.
        if error.raw_os_error() != Some(libc::ESRCH) {
            tracing::warn!(pid, %error, "ptrace request failed");
        }
    }
}

const PTRACE_EVENT_STOP: i32 = 128;

/// Resumes a tracee, stopping it again at syscall boundaries while a call of it awaits its
/// validation at exit.
fn resume(state: &TraceState<'_>, pid: libc::pid_t, signal: i32) -> std::io::Result<()> {
    if state.pins.awaits_exit(pid) {
        ptrace::resume_to_syscall(pid, signal)
    } else {
        ptrace::cont(pid, signal)
    }
}
/// `WSTOPSIG` of a syscall stop with `PTRACE_O_TRACESYSGOOD`.
const SYSCALL_STOP: i32 = libc::SIGTRAP | 0x80;

/// Handles a `SECCOMP_RET_TRACE` stop. The call is identified by the syscall number in the
/// registers, never by the filter's data value, which a program's own filter could forge.
fn seccomp_stop(context: &Context, state: &mut TraceState<'_>, pid: libc::pid_t) -> std::io::Result<()> {
    let info = match ptrace::syscall_info(pid) {
        Ok(info) if info.op == ptrace::SYSCALL_INFO_SECCOMP => info,
        Ok(_) | Err(_) => {
            tracing::warn!(pid, "could not read the syscall of a trace stop; killing the process");
            let _ = process::kill(pid, libc::SIGKILL);
            return Ok(());
        }
    };
    if matches!(info.nr as i64, libc::SYS_fork | libc::SYS_vfork | libc::SYS_clone) {
        return limit_process_creation(context, state.processes, pid);
    }
    match exec::check(context, state.own, state.pins, pid, &info) {
        exec::Resume::ToExit => ptrace::resume_to_syscall(pid, 0),
        exec::Resume::Continue | exec::Resume::Failed => ptrace::cont(pid, 0),
    }
}

/// Counts a new task against `--max-processes` and kills it, before it runs, when it is a
/// process beyond the limit. Threads do not count. Returns whether the task may run.
/// This is the backstop: process creation is normally refused at syscall entry.
fn account_new_task(context: &Context, processes: &mut Processes, child: libc::pid_t, event: i32) -> bool {
    let Some(limit) = context.max_processes else { return true };
    // fork and vfork always create a process; clone creates a thread unless the new task
    // leads its own thread group.
    let is_process = event != libc::PTRACE_EVENT_CLONE || is_thread_group_leader(child);
    if !is_process {
        return true;
    }
    if processes.count() < limit {
        processes.leaders.insert(child);
        return true;
    }
    processes.report_limit(limit);
    let _ = process::kill(child, libc::SIGKILL);
    // Killed, it is still a zombie holding a pid until its parent reaps it: count it, so
    // that racing forks cannot pile up unreaped children.
    processes.exited.insert(child);
    false
}

/// Refuses a process-creating call at its entry when the limit is reached, so that no
/// process (and no zombie) is created.
fn limit_process_creation(context: &Context, processes: &mut Processes, pid: libc::pid_t) -> std::io::Result<()> {
    let at_limit = context.max_processes.is_some_and(|limit| processes.count() >= limit);
    if at_limit {
        if let Some(limit) = context.max_processes {
            processes.report_limit(limit);
        }
        ptrace::fail_syscall(pid, libc::EAGAIN)?;
    }
    ptrace::cont(pid, 0)
}

fn is_thread_group_leader(tid: libc::pid_t) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{tid}/status")) else { return true };
    let tgid = status.lines().find_map(|line| line.strip_prefix("Tgid:")).and_then(|v| v.trim().parse::<libc::pid_t>().ok());
    tgid.is_none_or(|tgid| tgid == tid)
}

fn is_group_stop_signal(signal: i32) -> bool {
    matches!(signal, libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU)
}
