//! Errno parity of the emulated open family. The same edge cases (symlinks, loops, trailing
//! slashes, O_CREAT/O_EXCL, O_TMPFILE, dirfds, FIFOs, bad pointers, long paths and the openat2
//! size, flag and RESOLVE_* checks) must give the same result natively and under cordon when
//! the policy allows everything.

mod common;

use std::os::unix::fs::symlink;
use std::process::Command;

use common::{command_as, describe, identities, Identity, Scratch};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/open_cases.py");

fn prepare(who: Identity) -> Scratch {
    let scratch = Scratch::new(who, "open-parity");
    let dir = scratch.join("d");
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    std::fs::write(dir.join("f"), b"hi\n").expect("write f");
    symlink("f", dir.join("l")).expect("symlink l");
    symlink("/nonexistent-cordon-target", dir.join("dangling")).expect("symlink dangling");
    symlink("loop1", dir.join("loop2")).expect("symlink loop2");
    symlink("loop2", dir.join("loop1")).expect("symlink loop1");
    let status = Command::new("mkfifo").arg(dir.join("fifo")).status().expect("mkfifo");
    assert!(status.success());
    if who == Identity::Unprivileged {
        let status = Command::new("chown").args(["-R", common::TEST_USER]).arg(&scratch.path).status().expect("chown");
        assert!(status.success());
    }
    scratch
}

#[test]
fn open_edge_cases_match_native() {
    for who in identities() {
        let scratch = prepare(who);
        let dir = scratch.join("d").to_string_lossy().into_owned();
        let native = command_as(who, "/usr/bin/python3", &[CASES, &dir]).output().expect("run natively");
        assert!(native.status.success(), "{who:?}: {}", describe(&native));

        let sandboxed = command_as(
            who,
            common::cordon_bin(),
            &["run", "-q", "--allow-write", "/**", "--allow-modify", "/**", "--", "/usr/bin/python3", CASES, &dir],
        )
        .output()
        .expect("run under cordon");
        assert!(sandboxed.status.success(), "{who:?}: {}", describe(&sandboxed));

        let native_lines: Vec<String> = String::from_utf8_lossy(&native.stdout).lines().map(str::to_owned).collect();
        let sandboxed_lines: Vec<String> = String::from_utf8_lossy(&sandboxed.stdout).lines().map(str::to_owned).collect();
        assert_eq!(native_lines.len(), sandboxed_lines.len(), "{who:?}: case count differs\n{}", describe(&sandboxed));
        assert!(native_lines.len() >= 40, "{who:?}: only {} cases ran", native_lines.len());
        for (native_line, sandboxed_line) in native_lines.iter().zip(&sandboxed_lines) {
            if native_line.starts_with("openat2 cached") {
                // A cached-only lookup may fail with EAGAIN; cordon's always does.
                assert_eq!(sandboxed_line, "openat2 cached EEAGAIN", "{who:?}");
                continue;
            }
            assert_eq!(native_line, sandboxed_line, "{who:?}: case differs under cordon");
        }
    }
}
