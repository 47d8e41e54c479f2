//! Hardening tests. The sandbox cannot change files outside its write roots (cordon checks
//! each change, and Landlock bounds them as well). It cannot signal, trace, read,
//! renice or limit the supervisor or a host process. It cannot push input into a terminal,
//! and a seccomp filter of its own cannot weaken the supervisor.
//!
//! The attack programs live in `tests/hardening`. Each sandboxed run ends with a probe in
//! the same sandbox: a denied open still fails with EACCES and an allowed open still works,
//! which shows that the supervisor survived the attack. Each attack also runs natively,
//! where it must work, so that a rejection under cordon comes from cordon.

mod common;

use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::attack_programs::{output_within, reported};
use common::c_programs::CProgram;
use common::hardening_support::{
    assert_probes, assert_reported, make_dir, native_identity, open_files_limit, proc_stat,
    proc_status, test_user_uid, HostProcess, ProbeFiles, Running,
};
use common::sandbox::{run_args, stderr_text, stdout_text};
use common::{command_as, cordon, cordon_bin, describe, identities, is_root, Identity, Scratch};

/// Limit for one run, after which the run counts as hung.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Limit for a program to print a line the test waits for.
const LINE_TIMEOUT: Duration = Duration::from_secs(30);

// Changes outside the write roots.

/// Runs each change on its own file below `$1` and prints `NAME=ok`, or `NAME=failed: ` and
/// the last line of the tool's message. Then it reads `$2` (denied) and `$3` (allowed).
/// Under cordon the supervisor checks each of these changes, and Landlock bounds them too
/// (the unit test `kernel_refuses_write_outside_bound` shows Landlock alone refusing them).
const CHANGE_SCRIPT: &str = r#"
d=$1
attempt() {
    name=$1
    shift
    if message=$("$@" 2>&1); then
        echo "$name=ok"
    else
        echo "$name=failed: $(printf '%s\n' "$message" | tail -n 1)"
    fi
}
attempt rm rm "$d/rm-target"
attempt mv mv "$d/mv-target" "$d/moved"
attempt ln ln "$d/ln-target" "$d/hardlink"
attempt truncate truncate -s 0 "$d/truncate-target"
attempt truncate_syscall /usr/bin/python3 -c 'import os, sys; os.truncate(sys.argv[1], 0)' "$d/syscall-target"
attempt mkdir mkdir "$d/dir/sub"
attempt cat_denied cat "$2"
attempt cat_allowed cat "$3"
"#;

/// The changes `CHANGE_SCRIPT` makes. `truncate` opens the file for writing (write), while
/// `truncate_syscall` calls truncate(2) (attr).
const CHANGES: &[&str] = &["rm", "mv", "ln", "truncate", "truncate_syscall", "mkdir"];

/// The files `CHANGE_SCRIPT` changes, each with its own contents.
const CHANGE_TARGETS: &[&str] = &[
    "rm-target",
    "mv-target",
    "ln-target",
    "truncate-target",
    "syscall-target",
];

fn original_contents(name: &str) -> String {
    format!("original contents of {name}\n")
}

/// Creates the files and the directory `CHANGE_SCRIPT` changes, owned by `who`.
fn change_layout(who: Identity, name: &str) -> Scratch {
    let scratch = Scratch::new(who, name);
    for target in CHANGE_TARGETS {
        scratch.write(who, target, original_contents(target).as_bytes());
    }
    make_dir(who, &scratch.join("dir"));
    scratch
}

fn change_command(dir: &Path, files: &ProbeFiles) -> Vec<String> {
    strings![
        "sh",
        "-c",
        CHANGE_SCRIPT,
        "sh",
        dir.display(),
        files.secret,
        files.public
    ]
}

fn assert_unchanged(dir: &Path, context: &str) {
    for target in CHANGE_TARGETS {
        let contents = fs::read_to_string(dir.join(target)).unwrap_or_default();
        assert_eq!(
            contents,
            original_contents(target),
            "{target} changed {context}"
        );
    }
    for created in ["moved", "hardlink", "dir/sub"] {
        assert!(
            !dir.join(created).exists(),
            "{created} was created {context}"
        );
    }
}

fn assert_changed(dir: &Path, context: &str) {
    assert!(
        !dir.join("rm-target").exists(),
        "rm-target remains {context}"
    );
    assert!(
        !dir.join("mv-target").exists(),
        "mv-target remains {context}"
    );
    assert!(dir.join("moved").exists(), "moved is missing {context}");
    assert!(
        dir.join("hardlink").exists(),
        "hardlink is missing {context}"
    );
    for truncated in ["truncate-target", "syscall-target"] {
        let length = fs::metadata(dir.join(truncated)).map(|meta| meta.len());
        assert_eq!(
            length.ok(),
            Some(0),
            "{truncated} was not truncated {context}"
        );
    }
    assert!(dir.join("dir/sub").is_dir(), "dir/sub is missing {context}");
}

/// Asserts that every change in `CHANGE_SCRIPT` reported `ok`.
fn assert_changes_succeeded(output: &Output, context: &str) {
    for change in CHANGES {
        assert_reported(output, change, "ok", context);
    }
}

#[test]
fn changes_outside_write_roots_are_refused() {
    for who in identities() {
        let files = ProbeFiles::new(who, "bound-probe");
        // The write rules name another scratch directory, so the outside one is outside
        // every write root.
        let write_dir = Scratch::new(who, "bound-write-root");
        let write_root = format!("{}/**", write_dir.path.display());
        let mut options = strings!["--allow-write", write_root, "--allow-create", write_root];
        options.extend(files.deny_secret());

        let native = change_layout(who, "bound-native");
        let output = output_within(
            command_as(who, "sh", &change_command(&native.path, &files)[1..]),
            RUN_TIMEOUT,
        );
        assert_changes_succeeded(&output, &format!("natively as {who:?}"));
        assert_changed(&native.path, &format!("natively as {who:?}"));

        let outside = change_layout(who, "bound-outside");
        let command = change_command(&outside.path, &files);
        let output = cordon(who, &run_args(&options, &command));
        let context = format!("outside the write roots under cordon as {who:?}");
        eprintln!("{context}:\n{}", stdout_text(&output));
        for change in CHANGES {
            let result = reported(&output, change).unwrap_or_default();
            assert!(
                result.contains("Permission denied") || result.contains("Operation not permitted"),
                "{change} {context} gave {result:?}\n{}",
                describe(&output)
            );
        }
        assert_unchanged(&outside.path, &context);
        let denied = reported(&output, "cat_denied").unwrap_or_default();
        assert!(
            denied.ends_with("Permission denied"),
            "cat of the denied file {context} gave {denied:?}\n{}",
            describe(&output)
        );
        assert_reported(&output, "cat_allowed", "ok", &context);

        let inside = change_layout(who, "bound-inside");
        let inside_root = format!("{}/**", inside.path.display());
        let mut inside_options =
            strings!["--allow-write", inside_root, "--allow-modify", inside_root];
        inside_options.extend(files.deny_secret());
        let command = change_command(&inside.path, &files);
        let output = cordon(who, &run_args(&inside_options, &command));
        let context = format!("inside the write roots under cordon as {who:?}");
        assert_changes_succeeded(&output, &context);
        assert_changed(&inside.path, &context);
    }
}

#[test]
fn verbose_prints_landlock_abi() {
    for who in identities() {
        let output = cordon(who, &["run", "-v", "--", "true"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "as {who:?}\n{}",
            describe(&output)
        );
        assert!(
            stderr_text(&output).contains("Landlock ABI"),
            "cordon run -v as {who:?} did not print the Landlock ABI\n{}",
            describe(&output)
        );
    }
}

// Signals.

/// The routes of `signal_attack` that the native control runs, one victim each.
const SIGNAL_ROUTES: &[&str] = &[
    "kill_stop",
    "kill_term",
    "tkill",
    "tgkill",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "pidfd",
    "fsetown",
    "kill_pgrp",
    "kill_kill",
];

/// The calls of `signal_attack` that Landlock's signal scoping rejects with EPERM when the
/// target is outside the sandbox. `kill_pgrp` only runs against the host process.
const SIGNAL_CALLS: &[&str] = &[
    "kill_stop",
    "kill_term",
    "tkill",
    "tgkill",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "kill_kill",
];

/// The pidfd route: cordon opens pidfds for sandbox members only, so `pidfd_open` of an
/// outside process fails with ESRCH and `signal_attack` skips the signal call.
fn assert_pidfd_route_rejected(output: &Output, context: &str) {
    assert_reported(output, "pidfd_open", "ESRCH", context);
    assert_eq!(reported(output, "pidfd_send_signal"), None, "{context}");
}

#[test]
fn signal_routes_work_natively() {
    let program = CProgram::build("hardening", "signal_attack");
    let who = native_identity();
    let files = ProbeFiles::new(who, "signal-native");
    for route in SIGNAL_ROUTES {
        let mut victim = HostProcess::start(who);
        let pid = victim.pid().to_string();
        let operands = [&pid, &pid, *route, &files.secret, &files.public];
        let output = output_within(command_as(who, program.path(), &operands), RUN_TIMEOUT);
        assert!(
            output.status.success(),
            "signal_attack {route} failed natively\n{}",
            describe(&output)
        );
        eprintln!(
            "{route} natively: {}",
            stdout_text(&output).replace('\n', " ")
        );
        let reached = if *route == "kill_stop" {
            victim.wait_stopped(Duration::from_secs(5))
        } else {
            victim.wait_exit(Duration::from_secs(5))
        };
        assert!(
            reached,
            "route {route} did not reach the victim natively as {who:?}, so its rejection \
             under cordon would prove nothing\n{}",
            describe(&output)
        );
    }
}

#[test]
fn signals_to_supervisor_rejected() {
    let program = CProgram::build("hardening", "signal_attack");
    for who in identities() {
        let files = ProbeFiles::new(who, "signal-supervisor");
        let command = strings![
            program.path_string(),
            "parent",
            0,
            "all",
            files.secret,
            files.public
        ];
        let args = run_args(&files.deny_secret(), &command);
        let running = Running::start(command_as(who, cordon_bin(), &args));
        let supervisor = running.pid();
        let output = running.finish(RUN_TIMEOUT);
        let context = format!("against the supervisor as {who:?}");

        assert_eq!(
            output.status.code(),
            Some(0),
            "the run did not end normally {context}\n{}",
            describe(&output)
        );
        assert_reported(&output, "target", &supervisor.to_string(), &context);
        for call in SIGNAL_CALLS {
            assert_reported(&output, call, "EPERM", &context);
        }
        assert_pidfd_route_rejected(&output, &context);
        eprintln!("{context}: {}", stdout_text(&output).replace('\n', " "));
        assert_probes(&output, &context);
    }
}

#[test]
fn signals_to_host_process_rejected() {
    let program = CProgram::build("hardening", "signal_attack");
    for who in identities() {
        let files = ProbeFiles::new(who, "signal-host");
        let mut host = HostProcess::start(who);
        // kill(-1) runs only as the unprivileged user: as root, a failed protection would
        // kill every process of the machine.
        let routes = if who == Identity::Unprivileged {
            "all,kill_all"
        } else {
            "all"
        };
        let pid = host.pid().to_string();
        let command = strings![
            program.path_string(),
            pid,
            pid,
            routes,
            files.secret,
            files.public
        ];
        let args = run_args(&files.deny_secret(), &command);
        let output = output_within(command_as(who, cordon_bin(), &args), RUN_TIMEOUT);
        let context = format!("against a host process as {who:?}");
        eprintln!("{context}: {}", stdout_text(&output).replace('\n', " "));

        assert_eq!(
            output.status.code(),
            Some(0),
            "the run did not end normally {context}\n{}",
            describe(&output)
        );
        for call in SIGNAL_CALLS.iter().chain(&["kill_pgrp"]) {
            assert_reported(&output, call, "EPERM", &context);
        }
        assert_pidfd_route_rejected(&output, &context);
        assert!(
            host.is_running(),
            "the host process was killed or stopped {context}\n{}",
            describe(&output)
        );
        assert_probes(&output, &context);
    }
}

// Reaching into the supervisor without signals.

/// The calls of `supervisor_reach` on the target and the errno each must fail with under
/// cordon: procfs entries of processes outside the sandbox do not exist for it, and every
/// other call is rejected.
const REACH_REJECTED: &[(&str, &str)] = &[
    ("ptrace_attach", "EPERM"),
    ("process_vm_readv", "EPERM"),
    ("process_vm_writev", "EPERM"),
    ("proc_mem_write", "ENOENT"),
    ("proc_mem_read", "ENOENT"),
    ("proc_status", "ENOENT"),
    ("prlimit_get", "EPERM"),
    ("getpriority", "EPERM"),
    ("sched_getscheduler", "EPERM"),
    ("sched_getaffinity", "EPERM"),
    ("ioprio_get", "EPERM"),
    ("target_prlimit", "EPERM"),
    ("target_setpriority", "EPERM"),
    ("target_sched_setscheduler", "EPERM"),
    ("target_sched_setaffinity", "EPERM"),
    ("target_ioprio_set", "EPERM"),
];

/// The changing calls `supervisor_reach` makes on itself, with pid 0 and with its own pid.
const SELF_CALLS: &[&str] = &[
    "prlimit",
    "setpriority",
    "sched_setscheduler",
    "sched_setaffinity",
    "ioprio_set",
];

/// The open-file limit `supervisor_reach` sets, as `/proc/PID/limits` shows it.
const CHANGED_OPEN_FILES: &str = "Max open files 77 77 files";

/// `SCHED_IDLE`, the policy `supervisor_reach` sets.
const SCHED_IDLE: u32 = 5;

/// The settings of a process that `supervisor_reach` tries to change.
#[derive(Debug, PartialEq, Eq)]
struct Settings {
    open_files: String,
    nice: i64,
    policy: u32,
    cpus: String,
}

impl Settings {
    fn read(pid: u32) -> Settings {
        let stat = proc_stat(pid).unwrap_or_else(|| panic!("process {pid} is gone"));
        let status = proc_status(pid).unwrap_or_else(|| panic!("process {pid} is gone"));
        Settings {
            open_files: open_files_limit(pid).expect("read the open-file limit"),
            nice: stat.nice,
            policy: stat.policy,
            cpus: status.get("Cpus_allowed_list").cloned().unwrap_or_default(),
        }
    }
}

/// Returns the operand for `setpriority(PRIO_USER, USER, 19)`. As root it names the test
/// user, so that a failed protection renices that user's processes instead of root's, which
/// include the whole machine's services.
fn prio_user_operand(who: Identity) -> String {
    match who {
        Identity::Invoker if is_root() => test_user_uid().expect("test user exists").to_string(),
        _ => "0".to_owned(),
    }
}

/// The result of one `supervisor_reach` run.
struct ReachRun {
    output: Output,
    /// The pid of the started process: cordon, or the program in a native run.
    started: u32,
    target: u32,
    before: Settings,
    after: Settings,
}

/// Runs `supervisor_reach` through `command`, reading the target's settings once it names
/// its target and again once it is done.
fn run_reach(command: std::process::Command) -> ReachRun {
    let mut running = Running::start(command);
    let started = running.pid();
    let Some(target) = running.wait_for_line("target=", LINE_TIMEOUT) else {
        let output = running.finish(RUN_TIMEOUT);
        panic!("supervisor_reach named no target\n{}", describe(&output));
    };
    let target: u32 = target.parse().expect("target is a pid");
    let before = Settings::read(target);
    running.write_stdin(b"go\n");
    let done = running.wait_for_line("done", LINE_TIMEOUT);
    let after = Settings::read(target);
    let output = running.finish(RUN_TIMEOUT);
    assert!(
        done.is_some(),
        "supervisor_reach did not finish its calls\n{}",
        describe(&output)
    );
    ReachRun {
        output,
        started,
        target,
        before,
        after,
    }
}

#[test]
fn supervisor_reach_works_natively() {
    let program = CProgram::build("hardening", "supervisor_reach");
    let who = native_identity();
    let files = ProbeFiles::new(who, "reach-native");
    let victim = HostProcess::start(who);
    // As root the native run is the test user's, whose own processes PRIO_USER renices. A
    // non-root invoker skips it, so the test does not renice the developer's session.
    let user = if who == Identity::Unprivileged {
        "0"
    } else {
        "skip"
    };
    let operands = strings![victim.pid(), user, files.secret, files.public];
    let ReachRun {
        output,
        target,
        before,
        after,
        ..
    } = run_reach(command_as(who, program.path(), &operands));
    eprintln!("natively: {}", stdout_text(&output).replace('\n', " "));
    eprintln!("victim before {before:?}, after {after:?}");

    assert_eq!(target, victim.pid());
    for (call, _) in REACH_REJECTED {
        assert_reported(&output, call, "ok", "natively");
    }
    if user != "skip" {
        assert_reported(&output, "prio_user", "ok", "natively");
    }
    assert_eq!(after.open_files, CHANGED_OPEN_FILES, "natively");
    assert_eq!(after.nice, 19, "natively");
    assert_eq!(after.policy, SCHED_IDLE, "natively");
    assert_ne!(before, after, "natively the settings must change");
}

#[test]
fn supervisor_reach_rejected() {
    let program = CProgram::build("hardening", "supervisor_reach");
    for who in identities() {
        let files = ProbeFiles::new(who, "reach-supervisor");
        // The policy allows all of /proc, so only the membership check on procfs pids can
        // hide the supervisor's entries.
        let mut options = strings!["--allow-read", "/proc/**", "--allow-write", "/proc/**"];
        options.extend(files.deny_secret());
        let user = prio_user_operand(who);
        let command = strings![
            program.path_string(),
            "parent",
            user,
            files.secret,
            files.public
        ];
        let command = command_as(who, cordon_bin(), &run_args(&options, &command));
        let ReachRun {
            output,
            started: supervisor_pid,
            target,
            before,
            after,
        } = run_reach(command);
        let context = format!("against the supervisor as {who:?}");
        eprintln!("{context}: {}", stdout_text(&output).replace('\n', " "));
        eprintln!("supervisor before {before:?}, after {after:?}");

        assert_eq!(
            output.status.code(),
            Some(0),
            "{context}\n{}",
            describe(&output)
        );
        assert_eq!(
            target, supervisor_pid,
            "the program's parent is not cordon {context}"
        );
        for (call, errno) in REACH_REJECTED {
            assert_reported(&output, call, errno, &context);
        }
        assert_reported(&output, "prio_user", "EPERM", &context);
        for call in SELF_CALLS {
            assert_reported(&output, &format!("pid0_{call}"), "ok", &context);
            assert_reported(&output, &format!("own_pid_{call}"), "ok", &context);
        }
        assert_eq!(before, after, "the supervisor's settings changed {context}");
        assert_probes(&output, &context);
    }
}

// Terminal input.

const TTY_CALLS: &[&str] = &["tiocsti", "tiocsti_high", "tioclinux", "tioclinux_high"];

#[test]
fn tiocsti_high_bit_rejected() {
    let program = CProgram::build("hardening", "tty_inject");
    let native_files = ProbeFiles::new(native_identity(), "tty-native");
    let operands = [&native_files.secret, &native_files.public];
    let native = output_within(
        command_as(native_identity(), program.path(), &operands),
        RUN_TIMEOUT,
    );
    for call in TTY_CALLS {
        // stdin is /dev/null, so the terminal driver, if it is reached, returns ENOTTY.
        assert_reported(
            &native,
            call,
            "ENOTTY",
            "natively with stdin not a terminal",
        );
    }

    for who in identities() {
        let files = ProbeFiles::new(who, "tty-confined");
        let command = strings![program.path_string(), files.secret, files.public];
        let args = run_args(&files.deny_secret(), &command);
        let output = output_within(command_as(who, cordon_bin(), &args), RUN_TIMEOUT);
        let context = format!("under cordon as {who:?}");
        for call in TTY_CALLS {
            // EPERM instead of the driver's ENOTTY shows that the filter rejected the call
            // before the terminal driver saw it.
            assert_reported(&output, call, "EPERM", &context);
        }
        assert_probes(&output, &context);
    }
}

// Seccomp filters installed by the sandboxed program.

/// Runs `own_filter MODE` natively as the native identity and under cordon as `who`.
fn run_own_filter(program: &CProgram, mode: &str, who: Option<Identity>) -> Output {
    let runner = who.unwrap_or_else(native_identity);
    let files = ProbeFiles::new(runner, &format!("filter-{mode}"));
    let command = strings![program.path_string(), mode, files.secret, files.public];
    let command = match who {
        None => command_as(runner, &command[0], &command[1..]),
        Some(who) => command_as(who, cordon_bin(), &run_args(&files.deny_secret(), &command)),
    };
    let output = output_within(command, RUN_TIMEOUT);
    assert_eq!(
        output.status.code(),
        Some(0),
        "own_filter {mode} as {runner:?}\n{}",
        describe(&output)
    );
    eprintln!(
        "own_filter {mode} {}: {}",
        if who.is_some() {
            "under cordon"
        } else {
            "natively"
        },
        stdout_text(&output).replace('\n', " ")
    );
    output
}

#[test]
fn own_errno_filter_restricts_only_itself() {
    let program = CProgram::build("hardening", "own_filter");
    let native = run_own_filter(&program, "errno", None);
    assert_reported(&native, "install", "ok", "natively");
    assert_reported(&native, "openat_allowed", "EPERM", "natively");
    assert_reported(&native, "probe_denied", "ok", "natively");

    for who in identities() {
        let output = run_own_filter(&program, "errno", Some(who));
        let context = format!("under cordon as {who:?}");
        assert_reported(&output, "install", "ok", &context);
        assert_reported(&output, "openat_allowed", "EPERM", &context);
        assert_probes(&output, &context);
    }
}

#[test]
fn own_listener_filter_cannot_continue_open() {
    let program = CProgram::build("hardening", "own_filter");
    let native = run_own_filter(&program, "listener", None);
    assert_reported(&native, "install", "ok", "natively");
    assert_reported(&native, "open_denied", "ok", "natively");
    let handled = reported(&native, "notifications").unwrap_or_default();
    assert_ne!(
        handled, "0",
        "natively the listener must have replied to the opens"
    );

    for who in identities() {
        let output = run_own_filter(&program, "listener", Some(who));
        let context = format!("under cordon as {who:?}");
        // The kernel allows one listener per filter chain, and cordon's filter has one, so
        // the install fails with EBUSY. Either way the open must not get past the supervisor.
        eprintln!(
            "listener install {context}: {:?}",
            reported(&output, "install")
        );
        assert_reported(&output, "open_denied", "EACCES", &context);
        assert_reported(&output, "open_allowed", "ok", &context);
        assert_probes(&output, &context);
    }
}

#[test]
fn own_trace_filter_cannot_bypass_supervisor() {
    let program = CProgram::build("hardening", "own_filter");
    let native = run_own_filter(&program, "trace", None);
    assert_reported(&native, "install", "ok", "natively");
    // Without a tracer, the kernel fails a call whose filter returns SECCOMP_RET_TRACE.
    assert_reported(&native, "getppid", "ENOSYS", "natively");
    assert_reported(&native, "probe_allowed", "ENOSYS", "natively");

    for who in identities() {
        let output = run_own_filter(&program, "trace", Some(who));
        let context = format!("under cordon as {who:?}");
        assert_reported(&output, "install", "ok", &context);
        eprintln!("getppid {context}: {:?}", reported(&output, "getppid"));
        assert_probes(&output, &context);
    }
}

/// Calls that reach another process's memory without a signal: kcmp, move_pages and
/// migrate_pages (Landlock's ptrace scoping refuses them) and process_madvise through a
/// pidfd (cordon opens pidfds for sandbox members only). Natively, aimed at the parent
/// process, they succeed (process_madvise on an unmapped range gets ENOMEM, which proves the
/// permission check passed).
const MEMORY_ROUTES: &str = r#"
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
target = os.getppid()
def call(name, *args):
    ctypes.set_errno(0)
    result = libc.syscall(*args)
    print(name, "ok" if result >= 0 else errno.errorcode[ctypes.get_errno()], flush=True)
call("kcmp", 312, os.getpid(), target, 1, 0, 0)
call("move_pages", 279, target, 0, None, None, None, 0)
nodes = ctypes.c_ulong(1)
call("migrate_pages", 256, target, 64, ctypes.byref(nodes), ctypes.byref(nodes))
ctypes.set_errno(0)
pidfd = libc.syscall(434, target, 0)
print("pidfd_open", "ok" if pidfd >= 0 else errno.errorcode[ctypes.get_errno()], flush=True)
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
vector = iovec(0x400000, 4096)
call("process_madvise", 440, pidfd, ctypes.byref(vector), 1, 20, 0)
"#;

#[test]
fn memory_routes_to_supervisor_rejected() {
    let native = command_as(Identity::Invoker, "/usr/bin/python3", &["-c", MEMORY_ROUTES])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("start python");
    let native_text = stdout_text(&native);
    eprintln!("natively:\n{native_text}");
    assert!(native_text.contains("kcmp ok"), "{}", describe(&native));
    assert!(native_text.contains("move_pages ok"), "{}", describe(&native));
    assert!(native_text.contains("migrate_pages ok"), "{}", describe(&native));
    assert!(native_text.contains("pidfd_open ok"), "{}", describe(&native));

    for who in identities() {
        let output = cordon(who, &["run", "--", "/usr/bin/python3", "-c", MEMORY_ROUTES]);
        let text = stdout_text(&output);
        eprintln!("under cordon as {who:?}:\n{text}");
        assert!(output.status.success(), "as {who:?}\n{}", describe(&output));
        assert!(text.contains("kcmp EPERM"), "kcmp as {who:?}\n{text}");
        assert!(text.contains("move_pages EPERM"), "move_pages as {who:?}\n{text}");
        assert!(text.contains("migrate_pages EPERM"), "migrate_pages as {who:?}\n{text}");
        assert!(text.contains("pidfd_open ESRCH"), "pidfd_open as {who:?}\n{text}");
        assert!(text.contains("process_madvise EBADF"), "process_madvise as {who:?}\n{text}");
    }
}

/// pidfds of the sandbox's own processes still work (asyncio and subprocess use them).
#[test]
fn pidfd_open_of_members_works() {
    let script = "import os, subprocess\n\
        child = subprocess.Popen(['sleep', '0.2'])\n\
        print(os.pidfd_open(child.pid) > 0, os.pidfd_open(os.getpid()) > 0)\n\
        child.wait()";
    for who in identities() {
        let output = cordon(who, &["run", "--", "/usr/bin/python3", "-c", script]);
        assert!(output.status.success(), "as {who:?}\n{}", describe(&output));
        assert_eq!(stdout_text(&output), "True True\n", "as {who:?}");
    }
}
