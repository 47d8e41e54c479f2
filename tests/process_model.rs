//! The process model around the command: environment, inherited fds, sessions and signal
//! forwarding, each as root and as the unprivileged test user.

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{command_as, cordon, cordon_bin, describe, identities, Identity};

fn sh(script: &str) -> Vec<String> {
    ["run", "--", "/bin/sh", "-c", script].iter().map(|s| s.to_string()).collect()
}

#[test]
fn environment_kept_by_default() {
    for who in identities() {
        let output = command_as(who, cordon_bin(), &sh("printf %s \"$CORDON_TEST_MARK\""))
            .env("CORDON_TEST_MARK", "kept-value")
            .stdin(Stdio::null())
            .output()
            .expect("start cordon");
        assert!(output.status.success(), "{who:?}: {}", describe(&output));
        assert_eq!(output.stdout, b"kept-value", "{who:?}");
    }
}

#[test]
fn clean_env_starts_empty() {
    for who in identities() {
        let output = command_as(who, cordon_bin(), &["run", "--clean-env", "--", "/usr/bin/env"])
            .env("CORDON_TEST_MARK", "must-not-appear")
            .stdin(Stdio::null())
            .output()
            .expect("start cordon");
        assert!(output.status.success(), "{who:?}: {}", describe(&output));
        assert_eq!(output.stdout, b"", "{who:?}: env printed {:?}", String::from_utf8_lossy(&output.stdout));
    }
}

/// Runs cordon with fd 7 open on /etc/hostname in the cordon process.
fn with_fd_7(who: Identity, args: &[&str]) -> std::process::Output {
    let file = std::fs::File::open("/etc/hostname").expect("open /etc/hostname");
    let mut command = command_as(who, cordon_bin(), args);
    let raw = std::os::fd::AsRawFd::as_raw_fd(&file);
    // SAFETY: dup2 and fcntl are async-signal-safe; `raw` stays open until after spawn.
    unsafe {
        command.pre_exec(move || {
            if libc::dup2(raw, 7) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let output = command.stdin(Stdio::null()).output().expect("start cordon");
    drop(file);
    output
}

#[test]
fn inherited_fds_closed_unless_kept() {
    let hostname = std::fs::read("/etc/hostname").expect("read /etc/hostname");
    for who in identities() {
        let closed = with_fd_7(who, &["run", "--", "/bin/sh", "-c", "cat <&7"]);
        assert_eq!(closed.status.code(), Some(2), "{who:?}: fd 7 must be closed: {}", describe(&closed));
        assert_eq!(closed.stdout, b"", "{who:?}");

        let kept = with_fd_7(who, &["run", "--keep-fd", "7", "--", "/bin/sh", "-c", "cat <&7"]);
        assert!(kept.status.success(), "{who:?}: {}", describe(&kept));
        assert_eq!(kept.stdout, hostname, "{who:?}");
    }
}

#[test]
fn keep_fd_rejects_closed_fd() {
    let output = cordon(Identity::Invoker, &["run", "--keep-fd", "987", "--", "true"]);
    assert_eq!(output.status.code(), Some(125), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--keep-fd 987"), "{}", describe(&output));
}

/// The command leads its own session when stdin is not a terminal: its session id is its pid.
#[test]
fn new_session_without_terminal() {
    for who in identities() {
        let output = cordon(who, &["run", "--", "/usr/bin/python3", "-c", "import os; print(os.getsid(0) == os.getpid())"]);
        assert!(output.status.success(), "{who:?}: {}", describe(&output));
        assert_eq!(output.stdout, b"True\n", "{who:?}");
    }
}

/// SIGTERM sent to cordon reaches the command, which here exits by it: status 143.
#[test]
fn sigterm_forwarded_to_command() {
    for who in identities() {
        let mut child = command_as(who, cordon_bin(), &sh("echo started; exec sleep 30"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("start cordon");
        let mut started = [0u8; 8];
        std::io::Read::read_exact(child.stdout.as_mut().expect("stdout"), &mut started).expect("read start marker");
        let began = Instant::now();
        // SAFETY: kill takes integers only; the pid is our own child.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
        let status = child.wait().expect("wait for cordon");
        assert_eq!(status.code(), Some(143), "{who:?}: {status:?}");
        assert!(began.elapsed() < Duration::from_secs(5), "{who:?}: took {:?}", began.elapsed());
    }
}

/// The grace period: a command that ignores SIGTERM is killed a few seconds later.
#[test]
fn sigterm_ignored_then_killed() {
    let mut child = Command::new(cordon_bin())
        .args(sh("trap '' TERM; echo started; while :; do sleep 1; done"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cordon");
    let mut started = [0u8; 8];
    std::io::Read::read_exact(child.stdout.as_mut().expect("stdout"), &mut started).expect("read start marker");
    let began = Instant::now();
    // SAFETY: kill takes integers only; the pid is our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = child.wait().expect("wait for cordon");
    let elapsed = began.elapsed();
    assert_eq!(status.code(), Some(137), "{status:?}");
    assert!(elapsed >= Duration::from_secs(4), "killed before the grace period: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "grace period too long: {elapsed:?}");
}

/// A `--memory` too small for any process to start is rejected with a message instead of a
/// command that dies with SIGSEGV.
#[test]
fn memory_limit_too_small_rejected() {
    for size in ["100", "10K", "1M"] {
        let output = cordon(Identity::Invoker, &["run", "--memory", size, "--", "true"]);
        assert_eq!(output.status.code(), Some(125), "--memory {size}: {}", describe(&output));
        assert!(String::from_utf8_lossy(&output.stderr).contains("at least 4M"), "--memory {size}: {}", describe(&output));
    }
    let output = cordon(Identity::Invoker, &["run", "--memory", "64M", "--", "true"]);
    assert!(output.status.success(), "--memory 64M: {}", describe(&output));
}
