//! Process set-up: everything between parsing the policy and serving the first notification.

use std::ffi::{CString, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cordon_policy::{Action, Category, Policy};
use cordon_sys::{bpf, fs, notify, process, ptrace};

use crate::context::{Context, Terminal};
use crate::members::Members;
use crate::report::Reporter;
use crate::{filter, landlock, signals, tracer, worker};

/// The request of one `cordon run`: policy, command and options.
pub struct Config {
    pub policy: Policy,
    pub command: Vec<OsString>,
    pub log: Option<File>,
    pub quiet: bool,
    pub new_session: bool,
    pub keep_fds: Vec<i32>,
    pub clean_env: bool,
    /// Run without Landlock when the kernel cannot enforce it, instead of refusing to start.
    pub best_effort: bool,
    /// Kill the sandbox after this long.
    pub timeout: Option<std::time::Duration>,
    /// Processes the sandbox may have alive at once; further ones are killed at creation.
    pub max_processes: Option<usize>,
    /// `RLIMIT_DATA` of every sandboxed process, in bytes.
    pub memory: Option<u64>,
    /// Run without ptrace: exec is bounded by Landlock only, chdir and executable mappings
    /// are not checked, and a pid namespace ends the sandbox when cordon dies.
    pub without_ptrace: bool,
}

/// Exit status when `--timeout` expired (as with timeout(1)).
pub const EXIT_TIMED_OUT: i32 = 124;

/// Exit status for "command not found".
pub const EXIT_NOT_FOUND: i32 = 127;
/// Exit status for "command found but not executable".
pub const EXIT_CANNOT_EXECUTE: i32 = 126;
/// Worker threads serving notifications: one per core of the 2-core machines this was
/// measured on; blocking opens get threads of their own.
const WORKERS: usize = 2;
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot build the seccomp filter: {0}")]
    Filter(String),
    #[error("invalid command: {0}")]
    Command(String),
    #[error("{step} failed: {source}")]
    Step { step: &'static str, source: io::Error },
    #[error("installing the seccomp filter in the sandbox failed: {0}; cordon needs Linux 5.19 or later with seccomp user notification (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)")]
    Seccomp(io::Error),
    #[error("cannot attach to the sandbox with ptrace: {0}; ptrace may be forbidden here (a container's seccomp profile, Yama ptrace_scope=3, or another tracer). --without-ptrace runs without it, with exec bounded by Landlock only and chdir unchecked (see the documentation)")]
    Ptrace(io::Error),
    #[error("{0}")]
    Landlock(#[from] crate::landlock::LandlockError),
    #[error("cannot run {command}: {source}")]
    Exec { command: String, source: io::Error, code: i32 },
}

impl SetupError {
    /// Returns the exit status for the error (125 for cordon's own failures).
    pub fn exit_code(&self) -> i32 {
        match self {
            SetupError::Exec { code, .. } => *code,
            _ => 125,
        }
    }
}

fn step(step: &'static str) -> impl FnOnce(io::Error) -> SetupError {
    move |source| SetupError::Step { step, source }
}

/// The pieces of the exec the child performs, built before fork so the child never allocates.
struct Exec {
    candidates: Vec<CString>,
    _argv: Vec<CString>,
    argv_pointers: Vec<*const libc::c_char>,
    _envp: Vec<CString>,
    envp_pointers: Vec<*const libc::c_char>,
}

/// Runs the sandbox and returns the exit status cordon should exit with.
/// Returns whether `category` needs checks: it has rules, or its default is not a plain allow.
fn restricts(policy: &cordon_policy::Policy, category: Category) -> bool {
    policy.has_rules(category) || policy.default_action(category) != Action::Allow
}

/// Returns whether the file-system hot path can run in the kernel: the policy allows reading and
/// stat of everything, without audit, and hides nothing, so Landlock's bound (`/` for reads)
/// and the policy agree on every read-only open, stat and listing.
pub fn takes_kernel_path(policy: &cordon_policy::Policy) -> bool {
    !policy.has_hide_rules()
        && [Category::Read, Category::Stat]
            .into_iter()
            .all(|category| !policy.has_rules(category) && policy.default_action(category) == Action::Allow)
}

/// Returns whether an exec needs its entry check: the check applies the read and exec rules
/// and the hide rules to the executed file and its interpreters.
fn checks_exec(policy: &cordon_policy::Policy) -> bool {
    policy.has_hide_rules() || restricts(policy, Category::Read) || restricts(policy, Category::Exec)
}

pub fn run(config: Config) -> Result<i32, SetupError> {
    if config.without_ptrace && config.max_processes.is_some() {
        return Err(SetupError::Command("--max-processes is enforced by the tracer and cannot be combined with --without-ptrace".into()));
    }
    // Orphans of the sandbox are reparented to cordon, so they stay visible to the tracer.
    process::prctl(libc::PR_SET_CHILD_SUBREAPER, 1).map_err(step("PR_SET_CHILD_SUBREAPER"))?;
    let restricts_exec = config.policy.has_rules(Category::Exec) || config.policy.default_action(Category::Exec) != Action::Allow;
    let kernel_path = takes_kernel_path(&config.policy);
    if kernel_path {
        tracing::debug!("file-system path: kernel (read-only opens, the stat family, listings and access run in the kernel within Landlock's bound; other opens and changes go to the supervisor)");
    } else {
        tracing::debug!("file-system path: supervisor (every open, and the stat family when stat or hide rules exist, go to the supervisor)");
    }
    let (exec_unchecked, chdir_unchecked) = (!checks_exec(&config.policy), !config.policy.has_hide_rules() && !restricts(&config.policy, Category::Chdir));
    let on_off = |unchecked: bool| if unchecked { "off" } else { "on" };
    tracing::debug!("exec entry checks: {}; chdir checks: {}", on_off(exec_unchecked), on_off(chdir_unchecked));
    let options = filter::FilterOptions {
        trace_exec_mappings: restricts_exec && !config.without_ptrace,
        trace_process_creation: config.max_processes.is_some(),
        no_tracer: config.without_ptrace,
        trap_stat: config.policy.has_hide_rules() || restricts(&config.policy, Category::Stat),
        trap_access: !kernel_path,
        read_shortcut: kernel_path,
        trap_fd_stat: config.policy.has_rules(Category::Stat),
        trap_fd_attr: config.policy.has_rules(Category::Attr),
        trap_credential_changes: !config.without_ptrace,
        exec_unchecked,
        chdir_unchecked,
    };
    if config.without_ptrace {
        eprintln!(
            "cordon: running without ptrace: exec is bounded by Landlock's execute trees only, exec deny rules inside them, chdir rules and executable mappings are not checked"
        );
    }
    let program = filter::build_filter_with(options).map_err(|error| SetupError::Filter(error.to_string()))?;
    if restricts_exec && !config.quiet {
        warn_readable_exec_denials(&config.policy);
    }
    // Both rulesets are built before the supervisor restricts itself, and the supervisor is
    // restricted before the child exists, so the sandbox's domain nests inside it.
    let rulesets = landlock::build(&config.policy, config.best_effort, config.without_ptrace)?;
    tracing::info!("{}", rulesets.enforcement);
    if let Some(supervisor) = rulesets.supervisor {
        landlock::restrict_supervisor(supervisor)?;
    }
    let sandbox_ruleset = rulesets.sandbox;
    let exec = prepare_exec(&config)?;
    let terminal = find_terminal();
    let own_session = config.new_session || !is_terminal(0);

    let (ready_read, ready_write) = process::pipe().map_err(step("creating the start-up pipe"))?;
    let (go_read, go_write) = process::pipe().map_err(step("creating the start-up pipe"))?;
    let (error_read, error_write) = process::pipe().map_err(step("creating the exec error pipe"))?;
    // SAFETY: cordon is still single-threaded here (no thread is started before this point),
    // and the child only makes raw system calls on data prepared above until it execs.
    let forked = unsafe { process::fork() }.map_err(step("fork"))?;
    let main = match forked {
        process::Forked::Child => {
            drop((ready_read, go_write, error_read));
            let pipes = [ready_write, go_read, error_write];
            if config.without_ptrace {
                namespace_stub(&config, &program, &exec, sandbox_ruleset, own_session, pipes)
            }
            child(&config, &program, &exec, sandbox_ruleset, own_session, pipes)
        }
        process::Forked::Parent { pid } => pid,
    };
    drop((ready_write, go_read, error_write));

    // Without ptrace, `main` is a stub whose child is cordon's init of the pid namespace, and
    // the command runs in the init's child.
    let init = if config.without_ptrace { Some(first_child_of(main)?) } else { None };
    let command_pid = match init {
        Some(init) => first_child_of(init)?,
        None => main,
    };
    let listener = take_listener(command_pid, &ready_read)?;
    if !config.without_ptrace {
        ptrace::seize(main, ptrace::OPTIONS).map_err(SetupError::Ptrace)?;
    }
    // Only now, because pidfd_getfd above needs the child (forked from this process) to be
    // dumpable. A non-dumpable supervisor keeps same-user processes from reading its memory
    // and its procfs entries; the sandbox itself is dumpable again after exec.
    process::prctl(libc::PR_SET_DUMPABLE, 0).map_err(step("PR_SET_DUMPABLE"))?;
    if let Err(error) = notify::set_sync_wake_up(listener.as_fd()) {
        tracing::debug!(%error, "SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP unavailable");
    }
    let members = if config.without_ptrace {
        let init = init.unwrap_or(main);
        let link = std::fs::read_link(format!("/proc/{init}/ns/pid")).map_err(step("reading the sandbox's pid namespace"))?;
        Members::of_namespace(std::os::unix::ffi::OsStrExt::as_bytes(link.as_os_str()).to_vec(), init)
    } else {
        Members::default()
    };
    let exec_checked = checks_exec(&config.policy);
    let context = Arc::new(Context {
        exec_checked,
        policy: config.policy,
        members,
        reporter: Reporter::new(config.quiet, config.log),
        terminal,
        max_processes: config.max_processes,
        timed_out: std::sync::atomic::AtomicBool::new(false),
        post_validation_kills: std::sync::atomic::AtomicUsize::new(0),
        namespace_init: init,
        stats: crate::context::Stats::default(),
        proc_dirs: crate::caller::ProcDirs::new(!config.without_ptrace),
    });
    context.members.insert(main);

    // Threads inherit the mask: only the forwarding thread receives these signals.
    process::mask_signals(signals::FORWARDED, true).map_err(step("blocking forwarded signals"))?;
    crate::resolve::share_root().map_err(step("opening the root directory"))?;
    start_threads(&context, listener, command_pid, own_session)?;
    if let Some(timeout) = config.timeout {
        start_timer(&context, timeout)?;
    }
    process::write_fd(go_write.as_fd(), b"g").map_err(step("starting the sandboxed command"))?;
    drop(go_write);

    let ending = if config.without_ptrace {
        wait_for_init(&context, main).map_err(step("waiting for the sandbox"))?
    } else {
        tracer::trace(&context, main).map_err(step("tracing the sandbox"))?
    };
    context.reporter.finish();
    tracing::info!("{}", context.stats.summary());
    if let Some(error) = exec_error(&error_read) {
        let command = config.command[0].to_string_lossy().into_owned();
        let code = if error.raw_os_error() == Some(libc::ENOENT) { EXIT_NOT_FOUND } else { EXIT_CANNOT_EXECUTE };
        return Err(SetupError::Exec { command, source: error, code });
    }
    if context.timed_out.load(std::sync::atomic::Ordering::SeqCst) {
        return Ok(EXIT_TIMED_OUT);
    }
    Ok(ending.code())
}

fn creds_euid() -> u32 {
    cordon_sys::creds::ids().1
}

/// Returns the first child of `parent` (from `/proc/PID/task/PID/children`), waiting briefly
/// for it to appear.
fn first_child_of(parent: libc::pid_t) -> Result<libc::pid_t, SetupError> {
    let path = format!("/proc/{parent}/task/{parent}/children");
    for _ in 0..2000 {
        let text = std::fs::read_to_string(&path).map_err(step("finding the sandboxed command"))?;
        if let Some(pid) = text.split_whitespace().next().and_then(|pid| pid.parse().ok()) {
            return Ok(pid);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    Err(SetupError::Step { step: "finding the sandboxed command", source: io::Error::other("the namespace's init started no command") })
}

/// Waits for the stub of the pid namespace, which exits with the command's status.
fn wait_for_init(context: &Context, init: libc::pid_t) -> io::Result<tracer::Ending> {
    loop {
        let status = process::wait_any()?;
        if status.pid != init {
            continue;
        }
        if libc::WIFEXITED(status.status) {
            return Ok(tracer::Ending::Exited(libc::WEXITSTATUS(status.status)));
        }
        if libc::WIFSIGNALED(status.status) {
            context.kill_sandbox();
            return Ok(tracer::Ending::Signaled(libc::WTERMSIG(status.status)));
        }
    }
}

/// Runs cordon's child in `--without-ptrace` mode: creates the sandbox's pid namespace (with a
/// user namespace mapping the caller's own ids when unprivileged) and starts its init.
/// Each of the two dies with its parent (`PR_SET_PDEATHSIG`) and never changes credentials,
/// which would clear that setting. So cordon's death kills the stub, the stub's death kills
/// the init, and the init's death makes the kernel kill every process in the namespace.
fn namespace_stub(
    config: &Config,
    program: &[libc::sock_filter],
    exec: &Exec,
    ruleset: Option<::landlock::RulesetCreated>,
    own_session: bool,
    pipes: [OwnedFd; 3],
) -> ! {
    // If cordon died before this prctl, the command never gets the start byte and exits,
    // and so do the init and this stub.
    let _ = process::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
    let unprivileged = creds_euid() != 0;
    if process::unshare_pid_namespace(unprivileged).is_err() {
        process::exit_now(125);
    }
    fork_then_wait(move || namespace_init(config, program, exec, ruleset, own_session, pipes))
}

/// Runs as pid 1 of the sandbox's pid namespace: starts the command in a child, reaps
/// orphans, and exits with the command's status.
fn namespace_init(
    config: &Config,
    program: &[libc::sock_filter],
    exec: &Exec,
    ruleset: Option<::landlock::RulesetCreated>,
    own_session: bool,
    pipes: [OwnedFd; 3],
) -> ! {
    let _ = process::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
    fork_then_wait(move || child(config, program, exec, ruleset, own_session, pipes))
}

/// Forks: the child runs `body`, and this process drops what `body` owns (the start-up pipe
/// ends), reaps children until that child exits, then exits with its status.
/// `body` never returns (it execs or exits); if it did, the child exits with 125.
fn fork_then_wait(body: impl FnOnce()) -> ! {
    // SAFETY: this process is single-threaded (a fork of the single-threaded supervisor).
    let pid = match unsafe { process::fork() } {
        Ok(process::Forked::Child) => {
            body();
            process::exit_now(125)
        }
        Ok(process::Forked::Parent { pid }) => pid,
        Err(_) => process::exit_now(125),
    };
    drop(body);
    exit_with_child(pid)
}

/// Reaps children until `pid` exits, then exits with its status (128 + signal when killed).
fn exit_with_child(pid: libc::pid_t) -> ! {
    loop {
        match process::wait_child() {
            Ok(status) if status.pid == pid => {
                let code = if libc::WIFEXITED(status.status) {
                    libc::WEXITSTATUS(status.status)
                } else {
                    128 + libc::WTERMSIG(status.status)
                };
                process::exit_now(code);
            }
            Ok(_) => {}
            Err(_) => process::exit_now(125),
        }
    }
}

/// Says at start-up which exec denials are advisory: a program that may read a file can load
/// its code without exec. cordon kills a process that maps such code executable, but the
/// program can still read the file's bytes and interpret them itself.
fn warn_readable_exec_denials(policy: &Policy) {
    // A pattern `/dir/**` compiles to two globs with the same root, so notes are deduplicated.
    let mut noted: Vec<(String, String)> = Vec::new();
    for (root, origin) in policy.denied_roots(Category::Exec) {
        let note = (root, origin.to_string());
        if noted.contains(&note) || policy.decide(Category::Read, note.0.as_bytes()).action == Action::Deny {
            continue;
        }
        eprintln!(
            "cordon: note: {} denies exec of files below {} that the sandbox may still read; a matching read deny makes it binding",
            note.1, note.0
        );
        noted.push(note);
    }
}

/// Kills the sandbox when `timeout` expires.
fn start_timer(context: &Arc<Context>, timeout: std::time::Duration) -> Result<(), SetupError> {
    let context = Arc::clone(context);
    std::thread::Builder::new()
        .name("cordon-timeout".into())
        .spawn(move || {
            std::thread::sleep(timeout);
            context.timed_out.store(true, std::sync::atomic::Ordering::SeqCst);
            eprintln!("cordon: timed out after {:.1} s; killing the sandbox", timeout.as_secs_f64());
            context.kill_sandbox();
        })
        .map_err(step("starting the timeout thread"))?;
    Ok(())
}

fn start_threads(context: &Arc<Context>, listener: OwnedFd, main: libc::pid_t, own_session: bool) -> Result<(), SetupError> {
    let listener = Arc::new(listener);
    for index in 0..WORKERS {
        let (context, listener) = (Arc::clone(context), Arc::clone(&listener));
        std::thread::Builder::new()
            .name(format!("cordon-worker-{index}"))
            .spawn(move || worker::run(context, listener))
            .map_err(step("starting a notification worker"))?;
    }
    let forwarding = Arc::clone(context);
    std::thread::Builder::new()
        .name("cordon-signals".into())
        .spawn(move || signals::forward(forwarding, main, own_session))
        .map_err(step("starting the signal thread"))?;
    Ok(())
}

/// Receives the number of the child's listener fd and copies the listener with pidfd_getfd.
fn take_listener(main: libc::pid_t, ready: &OwnedFd) -> Result<OwnedFd, SetupError> {
    let pidfd = process::pidfd_open(main, 0).map_err(step("pidfd_open of the sandbox"))?;
    let mut message = [0u8; 4];
    let count = process::read_fd(ready.as_fd(), &mut message).map_err(step("reading the listener fd number"))?;
    if count != message.len() {
        return Err(SetupError::Step { step: "starting the sandbox", source: io::Error::other("the child exited before installing its filter") });
    }
    let number = i32::from_ne_bytes(message);
    if number < 0 {
        return Err(SetupError::Seccomp(io::Error::from_raw_os_error(-number)));
    }
    process::pidfd_getfd(pidfd.as_fd(), number).map_err(step("pidfd_getfd of the seccomp listener"))
}

/// Reads the errno the child reports when its exec failed; empty when exec succeeded.
fn exec_error(error_read: &OwnedFd) -> Option<io::Error> {
    let mut message = [0u8; 4];
    match process::read_fd(error_read.as_fd(), &mut message) {
        Ok(4) => Some(io::Error::from_raw_os_error(i32::from_ne_bytes(message))),
        _ => None,
    }
}

/// Runs the child between fork and exec. Only raw system calls on prepared data: no allocation,
/// no locks, because the parent's memory is a snapshot.
fn child(
    config: &Config,
    program: &[libc::sock_filter],
    exec: &Exec,
    ruleset: Option<::landlock::RulesetCreated>,
    own_session: bool,
    [ready, go, error]: [OwnedFd; 3],
) -> ! {
    // Rust ignores SIGPIPE in its own processes; the command must start with the default.
    process::reset_signal_defaults(&[libc::SIGPIPE]);
    if own_session {
        let _ = process::setsid();
    }
    // Until the tracer has seized this process, die with the parent.
    let _ = process::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
    if close_inherited_fds(&config.keep_fds).is_err() {
        process::exit_now(125);
    }
    if let Some(bytes) = config.memory {
        // Both limits: without CAP_SYS_RESOURCE a process cannot raise its hard limit again.
        // RLIMIT_AS would break runtimes that reserve address space.
        if process::set_rlimit(libc::RLIMIT_DATA, bytes, bytes).is_err() {
            process::exit_now(125);
        }
    }
    // Landlock before seccomp: the filter would otherwise have to allow the Landlock calls.
    // restrict_self also sets PR_SET_NO_NEW_PRIVS, which the filter needs anyway.
    if let Some(ruleset) = ruleset {
        if ruleset.restrict_self().is_err() {
            let _ = process::write_fd(ready.as_fd(), &(-libc::EPERM).to_ne_bytes());
            process::exit_now(125);
        }
    }
    let listener = match install_filter(program) {
        Ok(listener) => listener,
        Err(errno) => {
            let _ = process::write_fd(ready.as_fd(), &(-errno).to_ne_bytes());
            process::exit_now(125);
        }
    };
    if process::write_fd(ready.as_fd(), &listener.to_ne_bytes()).is_err() {
        process::exit_now(125);
    }
    // Wait until the supervisor has the listener, traces this process and serves
    // notifications. The filter does not trap read(2), so this wait needs no supervisor.
    let mut byte = [0u8; 1];
    if !matches!(process::read_fd(go.as_fd(), &mut byte), Ok(1)) {
        process::exit_now(125);
    }
    let _ = process::close_raw(listener);
    let mut last_error = libc::ENOENT;
    for candidate in &exec.candidates {
        let failure = process::execve(candidate, &exec.argv_pointers, &exec.envp_pointers);
        let errno = cordon_sys::errno_of(&failure);
        if errno != libc::ENOENT && errno != libc::ENOTDIR {
            last_error = errno;
        }
        if !matches!(errno, libc::ENOENT | libc::ENOTDIR | libc::EACCES) {
            break;
        }
    }
    let _ = process::write_fd(error.as_fd(), &last_error.to_ne_bytes());
    process::exit_now(if last_error == libc::ENOENT { EXIT_NOT_FOUND } else { EXIT_CANNOT_EXECUTE })
}

/// Installs the filter: the static allowlist and the notification verdicts in one program.
/// `WAIT_KILLABLE_RECV` keeps a non-fatal signal from withdrawing a notification the
/// supervisor is already handling, so an emulated call cannot run twice.
fn install_filter(program: &[libc::sock_filter]) -> Result<i32, i32> {
    process::prctl(libc::PR_SET_NO_NEW_PRIVS, 1).map_err(|e| cordon_sys::errno_of(&e))?;
    let flags = bpf::SECCOMP_FILTER_FLAG_NEW_LISTENER | bpf::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    bpf::seccomp_set_mode_filter(program, flags).map_err(|e| cordon_sys::errno_of(&e))
}

/// Marks every inherited fd above 2 close-on-exec, except those named with `--keep-fd`.
fn close_inherited_fds(keep: &[i32]) -> io::Result<()> {
    let mut first = 3u32;
    for &fd in keep {
        let fd = fd as u32;
        if fd > first {
            process::cloexec_range(first, fd - 1)?;
        }
        first = first.max(fd + 1);
    }
    process::cloexec_range(first, u32::MAX)
}

fn prepare_exec(config: &Config) -> Result<Exec, SetupError> {
    let command = config.command.first().ok_or_else(|| SetupError::Command("no command given".into()))?;
    let to_c = |value: &[u8]| CString::new(value).map_err(|_| SetupError::Command(format!("{:?} contains a NUL byte", String::from_utf8_lossy(value))));
    let argv: Vec<CString> = config.command.iter().map(|arg| to_c(arg.as_bytes())).collect::<Result<_, _>>()?;
    let envp: Vec<CString> = if config.clean_env {
        Vec::new()
    } else {
        std::env::vars_os()
            .map(|(key, value)| to_c(&[key.as_bytes(), b"=", value.as_bytes()].concat()))
            .collect::<Result<_, _>>()?
    };
    let path_var = if config.clean_env { None } else { std::env::var_os("PATH") };
    let candidates = search_path(Path::new(command), path_var.as_deref().map(|p| p.as_bytes()).unwrap_or(DEFAULT_PATH.as_bytes()))
        .iter()
        .map(|candidate| to_c(candidate.as_os_str().as_bytes()))
        .collect::<Result<_, _>>()?;
    let pointers = |strings: &[CString]| strings.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect();
    Ok(Exec { candidates, argv_pointers: pointers(&argv), _argv: argv, envp_pointers: pointers(&envp), _envp: envp })
}

/// Lists the files execvp would try for `command`, in order.
fn search_path(command: &Path, path_var: &[u8]) -> Vec<PathBuf> {
    if command.as_os_str().as_bytes().contains(&b'/') {
        return vec![command.to_path_buf()];
    }
    path_var
        .split(|&b| b == b':')
        .map(|dir| if dir.is_empty() { PathBuf::from(".") } else { PathBuf::from(std::ffi::OsStr::from_bytes(dir)) })
        .map(|dir| dir.join(command))
        .collect()
}

fn is_terminal(fd: i32) -> bool {
    // SAFETY: fd is borrowed only for the duration of isatty inside; invalid fds return false.
    let fd = unsafe { fs::borrow_raw(fd) };
    std::io::IsTerminal::is_terminal(&fd)
}

/// Finds the terminal on cordon's stdin, stdout or stderr, kept so `/dev/tty` can be reopened.
fn find_terminal() -> Option<Terminal> {
    (0..=2).find(|&fd| is_terminal(fd)).and_then(|fd| {
        // SAFETY: fds 0-2 stay open for cordon's whole life; the borrow ends in this block.
        let borrowed = unsafe { fs::borrow_raw(fd) };
        let stat = fs::fstat(borrowed).ok()?;
        let fd = borrowed.try_clone_to_owned().ok()?;
        Some(Terminal { rdev: stat.st_rdev, fd })
    })
}

