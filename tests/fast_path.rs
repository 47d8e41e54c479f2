//! The kernel-only path: when the policy allows reading and stat of everything and hides
//! nothing, read-only opens, the stat family, listings and `access` run in the kernel within
//! Landlock's bound, and cordon logs that at start-up (debug level). These tests show that each
//! policy shape takes the expected path, that the path really leaves those calls untrapped,
//! and that the shortcut cannot carry a write, a truncation or a creation past the supervisor.

mod common;

use std::fs;

use common::{command_as, cordon, describe, identities, Identity, Scratch};

const KERNEL: &str = "file-system path: kernel";
const SUPERVISOR: &str = "file-system path: supervisor";
const FLAGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/open_flags.py");

/// Runs `cordon run ARGS -- true` with debug logging and returns its stderr.
fn startup_log(who: Identity, args: &[String]) -> String {
    let mut full = vec!["run".to_owned()];
    full.extend_from_slice(args);
    full.extend(["--".to_owned(), "true".to_owned()]);
    let output = command_as(who, common::cordon_bin(), &full).env("CORDON_LOG", "debug").output().expect("start cordon");
    assert_eq!(output.status.code(), Some(0), "cordon {full:?} as {who:?}\n{}", describe(&output));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn policy_shapes_choose_their_path() {
    for who in identities() {
        let dir = Scratch::new(who, "fast-shapes");
        let tree = format!("{}/**", dir.path.display());
        let secret = dir.write(who, "secret", b"s").display().to_string();
        let shapes: Vec<(&str, Vec<String>, &str)> = vec![
            ("no options", vec![], KERNEL),
            ("modify rules only", vec!["--allow-modify".into(), tree.clone()], KERNEL),
            ("write deny rule", vec!["--deny-write".into(), secret.clone()], KERNEL),
            ("exec deny rule", vec!["--deny-exec".into(), secret.clone()], KERNEL),
            ("read deny rule", vec!["--deny-read".into(), secret.clone()], SUPERVISOR),
            ("read allow rule", vec!["--allow-read".into(), tree.clone()], SUPERVISOR),
            ("read audit", vec!["--audit-read".into(), tree.clone()], SUPERVISOR),
            ("stat deny rule", vec!["--deny-stat".into(), secret.clone()], SUPERVISOR),
            ("hide rule", vec!["--hide".into(), secret.clone()], SUPERVISOR),
            ("read default deny", vec!["--default".into(), "read=deny".into(), "--allow-read".into(), "/**".into()], SUPERVISOR),
        ];
        for (shape, args, expected) in shapes {
            let log = startup_log(who, &args);
            assert!(log.contains(expected), "{shape} as {who:?} should take the path `{expected}`; log:\n{log}");
        }
    }
}

/// Exec and chdir stop for the tracer only when a rule could refuse them: exec needs read,
/// exec or hide rules (the check applies all three), chdir needs chdir or hide rules.
#[test]
fn exec_and_chdir_checks_follow_the_policy() {
    for who in identities() {
        let dir = Scratch::new(who, "fast-exec");
        let secret = dir.write(who, "secret", b"s").display().to_string();
        let shapes: Vec<(&str, Vec<String>, &str)> = vec![
            ("no options", vec![], "exec entry checks: off; chdir checks: off"),
            ("write deny rule", vec!["--deny-write".into(), secret.clone()], "exec entry checks: off; chdir checks: off"),
            ("exec deny rule", vec!["--deny-exec".into(), secret.clone()], "exec entry checks: on; chdir checks: off"),
            ("read deny rule", vec!["--deny-read".into(), secret.clone()], "exec entry checks: on; chdir checks: off"),
            ("chdir deny rule", vec!["--deny-chdir".into(), dir.path.display().to_string()], "exec entry checks: off; chdir checks: on"),
            ("hide rule", vec!["--hide".into(), secret.clone()], "exec entry checks: on; chdir checks: on"),
        ];
        for (shape, args, expected) in shapes {
            let log = startup_log(who, &args);
            assert!(log.contains(expected), "{shape} as {who:?} should log `{expected}`; log:\n{log}");
        }
    }
}

/// Runs cordon and returns the trapped-call summary that `--verbose` prints at the end.
fn trapped_summary(who: Identity, args: &[&str]) -> String {
    let output = cordon(who, args);
    assert_eq!(output.status.code(), Some(0), "cordon {args:?} as {who:?}\n{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    stderr.lines().find(|line| line.contains("trapped calls:")).unwrap_or_else(|| panic!("no summary in:\n{stderr}")).to_owned()
}

#[test]
fn kernel_path_traps_no_reads() {
    for who in identities() {
        let dir = Scratch::new(who, "fast-traps");
        let file = dir.write(who, "file", b"contents\n").display().to_string();
        let kernel = trapped_summary(who, &["run", "-v", "--", "sh", "-c", &format!("cat {file}; ls -l {file}; test -r {file}")]);
        for call in ["openat", "newfstatat", "statx", "getdents64", "access", "faccessat"] {
            assert!(!kernel.contains(&format!("{call} ")), "{call} trapped on the kernel path as {who:?}: {kernel}");
        }
        let supervised = trapped_summary(who, &["run", "-v", "--deny-read", "/etc/shadow", "--deny-stat", "/etc/shadow", "--", "cat", &file]);
        assert!(supervised.contains("openat "), "the supervisor path did not trap openat as {who:?}: {supervised}");
    }
}

#[test]
fn read_shortcut_cannot_carry_writes_or_creations() {
    for who in identities() {
        let dir = Scratch::new(who, "fast-flags");
        dir.write(who, "readable", b"r");
        let protected = dir.write(who, "protected", b"intact");
        let nodir = dir.join("nodir");
        fs::create_dir(&nodir).unwrap();
        if who == Identity::Unprivileged {
            let (uid, gid) = common::user_ids().unwrap();
            std::os::unix::fs::chown(&nodir, Some(uid), Some(gid)).unwrap();
        }
        // Natively every case succeeds (the files belong to the identity).
        let native = common::native(who, "/usr/bin/python3", &[FLAGS, &dir.path.display().to_string()]);
        let native_text = String::from_utf8_lossy(&native.stdout).into_owned();
        assert!(native_text.contains("write_high_bits=ok"), "native run as {who:?}\n{}", describe(&native));
        assert!(native_text.contains("read_creat=ok"), "native run as {who:?}\n{}", describe(&native));
        fs::write(&protected, b"intact").unwrap();
        for entry in fs::read_dir(&nodir).unwrap() {
            fs::remove_file(entry.unwrap().path()).unwrap();
        }
        let base = dir.path.display().to_string();
        // Reads are unrestricted, so the read shortcut is on: writes, truncation and creation
        // must still reach the supervisor, which denies them by default.
        let output = cordon(who, &["run", "-q", "--", "/usr/bin/python3", FLAGS, &base]);
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let expected = [
            "read=ok",
            "read_high_bits=ok",
            "write_high_bits=EACCES",
            "rdwr=EACCES",
            "accmode_3=EACCES",
            "read_trunc=EACCES",
            "read_creat=EACCES",
            "tmpfile=EACCES",
            "protected_bytes=intact",
            "created=",
        ];
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines, expected, "under cordon as {who:?}\n{}", describe(&output));
        // With a read rule the shortcut is off and the rule holds for every flag spelling.
        let output = cordon(who, &["run", "-q", "--deny-read", &format!("{base}/readable"), "--", "/usr/bin/python3", FLAGS, &base]);
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(text.starts_with("read=EACCES\nread_high_bits=EACCES\n"), "read rule as {who:?}\n{}", describe(&output));
    }
}
