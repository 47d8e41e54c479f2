//! `--without-ptrace`: the weaker mode for places where ptrace is forbidden. Opens are still
//! checked by the supervisor, exec is bounded by Landlock, and a pid namespace ends the
//! sandbox when cordon dies.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{cordon, cordon_bin, describe, identities, Identity, Scratch};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn runs_command_with_exit_status() {
    for who in identities() {
        let output = cordon(who, &["run", "--without-ptrace", "--", "/bin/sh", "-c", "echo hi; exit 3"]);
        assert_eq!(output.status.code(), Some(3), "{who:?}: {}", describe(&output));
        assert_eq!(output.stdout, b"hi\n", "{who:?}");
        assert!(stderr(&output).contains("running without ptrace"), "{who:?}: no warning\n{}", describe(&output));
    }
}

#[test]
fn opens_still_checked() {
    for who in identities() {
        let scratch = Scratch::new(who, "noptrace-open");
        let secret = scratch.write(who, "secret", b"SECRET");
        let public = scratch.write(who, "public", b"PUBLIC");
        let script = format!("cat {} ; cat {} ; cat /proc/1/status", public.display(), secret.display());
        let secret_arg = secret.to_string_lossy().into_owned();
        let output = cordon(who, &["run", "--without-ptrace", "--deny-read", &secret_arg, "--", "/bin/sh", "-c", &script]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(stdout, "PUBLIC", "{who:?}: {}", describe(&output));
        assert!(stderr(&output).contains("Permission denied"), "{who:?}: {}", describe(&output));
        // The host's init is outside the sandbox's pid namespace.
        assert!(stderr(&output).contains("/proc/1/status: No such file or directory"), "{who:?}: {}", describe(&output));
    }
}

#[test]
fn exec_bounded_by_landlock() {
    for who in identities() {
        let scratch = Scratch::new(who, "noptrace-exec");
        let tool = scratch.write(who, "tool.sh", b"#!/bin/sh\necho tool-ran\n");
        std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        let script = format!("{}; echo status=$?; /usr/bin/true && echo true-ran", tool.display());
        let output = cordon(
            who,
            &["run", "--without-ptrace", "--default", "exec=deny", "--allow-exec", "/usr/**", "--", "/bin/sh", "-c", &script],
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!stdout.contains("tool-ran"), "{who:?}: the tool outside the exec tree ran\n{}", describe(&output));
        assert!(stdout.contains("status=126"), "{who:?}: {}", describe(&output));
        assert!(stdout.contains("true-ran"), "{who:?}: {}", describe(&output));
    }
}

/// Counts processes whose command line is exactly `sleep ARG`.
fn count_sleeps(arg: &str) -> usize {
    let wanted = format!("sleep\0{arg}\0");
    std::fs::read_dir("/proc")
        .expect("list /proc")
        .filter_map(|entry| std::fs::read(entry.ok()?.path().join("cmdline")).ok())
        .filter(|cmdline| cmdline == wanted.as_bytes())
        .count()
}

#[test]
fn supervisor_death_kills_namespace() {
    for who in identities() {
        let marker = format!("{}", 7000 + std::process::id() % 1000 + if who == Identity::Invoker { 0 } else { 1 });
        let script = format!("sleep {marker} & setsid sh -c 'sleep {marker} & sleep {marker}' & sleep {marker}");
        let mut cordon = common::command_as(who, cordon_bin(), &["run", "--without-ptrace", "--", "/bin/sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cordon");
        let mut started = 0;
        for _ in 0..100 {
            started = count_sleeps(&marker);
            if started >= 4 {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(started, 4, "{who:?}: the sandbox did not start its four sleeps");
        cordon.kill().expect("SIGKILL cordon");
        let _ = cordon.wait();
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(count_sleeps(&marker), 0, "{who:?}: sandboxed processes survived cordon's death");
    }
}

#[test]
fn max_processes_needs_ptrace() {
    let output = cordon(Identity::Invoker, &["run", "--without-ptrace", "--max-processes", "5", "--", "true"]);
    assert_eq!(output.status.code(), Some(125), "{}", describe(&output));
    assert!(stderr(&output).contains("--max-processes"), "{}", describe(&output));
}

/// Under another tracer cordon cannot attach: it refuses to start and names the option.
#[test]
fn refuses_under_another_tracer() {
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("skipped: strace is not installed (.ci/run installs it)");
        return;
    }
    let output = Command::new("strace")
        .args(["-f", "-o", "/dev/null"])
        .arg(cordon_bin())
        .args(["run", "--", "true"])
        .stdin(Stdio::null())
        .output()
        .expect("start strace");
    assert_eq!(output.status.code(), Some(125), "{}", describe(&output));
    assert!(stderr(&output).contains("--without-ptrace"), "{}", describe(&output));
}
