//! Real programs under a real policy: each runs natively and under cordon, as every test
//! identity, in a scratch directory it may write, and must print the same bytes and exit
//! with the same status both ways. The last tests check cordon's exit-status rules.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::process::Output;

use common::sandbox::{path_str, program_stderr, Launch, PYTHON, PY_ATTEMPT};
use common::{describe, identities, Identity, Scratch};

/// Returns the policy these tests run under: read allowed everywhere (builtin:default),
/// writing and creating allowed only inside the scratch directory.
fn scratch_policy(scratch: &Scratch) -> Vec<String> {
    let tree = format!("{}/**", path_str(&scratch.path));
    strings!["--allow-write", tree, "--allow-modify", tree]
}

/// Asserts that a sandboxed run printed the same stdout and exited with the same status as
/// the native run.
fn assert_same_as_native(who: Identity, what: &str, native: &Output, sandboxed: &Output) {
    assert_eq!(
        sandboxed.stdout,
        native.stdout,
        "{what} as {who:?}: stdout under cordon differs from native\n--- native\n{}\n--- cordon\n{}",
        describe(native),
        describe(sandboxed)
    );
    assert_eq!(
        sandboxed.status.code(),
        native.status.code(),
        "{what} as {who:?}: exit status under cordon differs from native\n--- native\n{}\n--- cordon\n{}",
        describe(native),
        describe(sandboxed)
    );
}

/// Runs `command` natively in one fresh scratch directory and under cordon in another,
/// both prepared by `setup`, so neither run sees what the other wrote. The command must
/// not print the scratch path, which differs between the two runs.
fn compare(
    who: Identity,
    what: &str,
    setup: impl Fn(&Scratch),
    command: &[String],
) -> (Output, Output) {
    let native_dir = Scratch::new(who, "native");
    setup(&native_dir);
    let native = Launch::new(who, &native_dir.path).native(command);
    assert!(
        native.status.success(),
        "{what} as {who:?} fails natively:\n{}",
        describe(&native)
    );

    let sandbox_dir = Scratch::new(who, "sandboxed");
    setup(&sandbox_dir);
    let sandboxed =
        Launch::new(who, &sandbox_dir.path).sandboxed(&scratch_policy(&sandbox_dir), command);
    assert_same_as_native(who, what, &native, &sandboxed);
    (native, sandboxed)
}

#[test]
fn cat_prints_file() {
    for who in identities() {
        let contents = b"first line\nsecond line\n\x00binary\xff tail";
        let setup = |dir: &Scratch| {
            dir.write(who, "input.txt", contents);
        };
        let (native, _) = compare(who, "cat input.txt", setup, &strings!["cat", "input.txt"]);
        assert_eq!(
            native.stdout, contents,
            "native cat as {who:?} printed the wrong bytes"
        );
    }
}

#[test]
fn shell_redirections_in_scratch() {
    // `>` creates and truncates, `>>` appends, `<` reads, and `2>` sends a real error
    // message to a file. The script then prints every file, so stdout shows each result.
    let script = r#"
echo one > out.txt
echo two >> out.txt
echo replaced > trunc.txt
echo again > trunc.txt
cat < out.txt
ls does-not-exist 2> err.txt
echo "ls status $?"
cat trunc.txt
cat err.txt
wc -l < out.txt
"#;
    for who in identities() {
        compare(
            who,
            "sh redirections",
            |_| {},
            &strings!["sh", "-c", script],
        );
    }
}

#[test]
fn python_reads_and_writes_files() {
    let script = format!(
        "{PY_ATTEMPT}{}",
        r#"
with open("data.txt", "w") as f:
    f.write("alpha\n")
with open("data.txt", "a") as f:
    f.write("beta\n")
with open("data.txt", "r+") as f:
    f.seek(0)
    f.write("ALPHA")
with open("data.txt") as f:
    print(repr(f.read()))
fd = os.open("raw.bin", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, bytes(range(256)))
os.close(fd)
with open("raw.bin", "rb") as f:
    print(f.read() == bytes(range(256)))
print(os.stat("raw.bin").st_size)
attempt("exclusive create again", lambda: os.open("raw.bin", os.O_WRONLY | os.O_CREAT | os.O_EXCL))
attempt("read missing", lambda: open("missing.txt").read())
print(sorted(os.listdir(".")))
"#
    );
    for who in identities() {
        let (native, _) = compare(
            who,
            "python file I/O",
            |_| {},
            &strings![PYTHON, "-c", script],
        );
        let text = String::from_utf8_lossy(&native.stdout);
        assert!(
            text.contains("exclusive create again EEXIST"),
            "native python as {who:?}:\n{}",
            describe(&native)
        );
    }
}

#[test]
fn git_commit_in_scratch_repository() {
    // Fixed dates make the commit hash, which the script prints, identical in both runs.
    let script = r#"
set -e
git init -q -b main repo
cd repo
printf 'tracked\n' > a.txt
mkdir sub
printf 'nested\n' > sub/b.txt
git add a.txt sub/b.txt
git -c user.name=t -c user.email=t@example.invalid commit -q -m first
printf 'changed\n' > a.txt
printf 'new\n' > untracked.txt
git status --porcelain
git log --format='%H %s'
git rev-parse HEAD:sub/b.txt
"#;
    for who in identities() {
        let native_dir = Scratch::new(who, "git-native");
        let sandbox_dir = Scratch::new(who, "git-sandboxed");
        let launch = |dir: &Scratch| {
            let home = path_str(&dir.path);
            Launch::new(who, &dir.path)
                .env("HOME", &home)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
                .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        };
        let command = strings!["sh", "-c", script];

        let native = launch(&native_dir).native(&command);
        assert!(
            native.status.success(),
            "git natively as {who:?}:\n{}",
            describe(&native)
        );
        let sandboxed = launch(&sandbox_dir).sandboxed(&scratch_policy(&sandbox_dir), &command);
        assert_same_as_native(who, "git init/add/commit/status", &native, &sandboxed);
    }
}

/// Writes a C project with two translation units, a shared header and a Makefile.
fn write_c_project(who: Identity, dir: &Scratch) {
    dir.write(
        who,
        "greet.h",
        b"int add(int a, int b);\nconst char *greeting(void);\n",
    );
    dir.write(
        who,
        "greet.c",
        b"#include \"greet.h\"\nint add(int a, int b) { return a + b; }\nconst char *greeting(void) { return \"hello from make\"; }\n",
    );
    dir.write(
        who,
        "main.c",
        b"#include <stdio.h>\n#include \"greet.h\"\nint main(void) { printf(\"%s: %d\\n\", greeting(), add(40, 2)); return 0; }\n",
    );
    dir.write(
        who,
        "Makefile",
        b"prog: main.o greet.o\n\tcc -o prog main.o greet.o\n\n%.o: %.c greet.h\n\tcc -c -o $@ $<\n",
    );
}

#[test]
fn make_builds_and_runs_c_project() {
    for who in identities() {
        let native_dir = Scratch::new(who, "make-native");
        let sandbox_dir = Scratch::new(who, "make-sandboxed");
        // The compiler's temporary files go to TMPDIR, which must lie inside the writable
        // scratch directory.
        let launch =
            |dir: &Scratch| Launch::new(who, &dir.path).env("TMPDIR", &path_str(&dir.path));
        let command = strings!["sh", "-c", "make -s && ./prog"];

        write_c_project(who, &native_dir);
        let native = launch(&native_dir).native(&command);
        assert_eq!(
            native.stdout,
            b"hello from make: 42\n",
            "native make as {who:?}:\n{}",
            describe(&native)
        );

        write_c_project(who, &sandbox_dir);
        let sandboxed = launch(&sandbox_dir).sandboxed(&scratch_policy(&sandbox_dir), &command);
        assert_same_as_native(who, "make && ./prog", &native, &sandboxed);
        assert!(
            sandbox_dir.join("prog").exists(),
            "make under cordon as {who:?} left no binary:\n{}",
            describe(&sandboxed)
        );
    }
}

#[test]
fn write_outside_scratch_denied() {
    // The control for the tests above: the same policy must stop a write elsewhere, so a
    // cordon that allowed everything would fail here.
    for who in identities() {
        let dir = Scratch::new(who, "policy");
        let outside = Scratch::new(who, "outside");
        let target = path_str(&outside.join("escaped.txt"));
        let script = format!("echo escaped > '{target}'; echo \"status $?\"");

        let output = Launch::new(who, &dir.path)
            .sandboxed(&scratch_policy(&dir), &strings!["sh", "-c", script]);
        assert_eq!(
            output.stdout,
            b"status 2\n",
            "sh redirection outside the scratch as {who:?}:\n{}",
            describe(&output)
        );
        assert!(
            program_stderr(&output).contains("Permission denied"),
            "sh as {who:?} did not report EACCES:\n{}",
            describe(&output)
        );
        assert!(
            !outside.join("escaped.txt").exists(),
            "cordon as {who:?} let sh create {target}"
        );
    }
}

#[test]
fn exit_code_passed_through() {
    for who in identities() {
        let dir = Scratch::new(who, "exit");
        let command = strings!["sh", "-c", "exit 7"];
        let native = Launch::new(who, &dir.path).native(&command);
        assert_eq!(
            native.status.code(),
            Some(7),
            "native sh as {who:?}:\n{}",
            describe(&native)
        );

        let sandboxed = Launch::new(who, &dir.path).sandboxed(&scratch_policy(&dir), &command);
        assert_eq!(
            sandboxed.status.code(),
            Some(7),
            "cordon as {who:?}:\n{}",
            describe(&sandboxed)
        );
    }
}

#[test]
fn signal_death_gives_128_plus_signal() {
    for who in identities() {
        let dir = Scratch::new(who, "signal");
        let command = strings!["sh", "-c", "kill -TERM $$"];
        let native = Launch::new(who, &dir.path).native(&command);
        assert_eq!(
            native.status.signal(),
            Some(libc::SIGTERM),
            "native sh as {who:?}:\n{}",
            describe(&native)
        );

        let sandboxed = Launch::new(who, &dir.path).sandboxed(&scratch_policy(&dir), &command);
        assert_eq!(
            sandboxed.status.code(),
            Some(128 + libc::SIGTERM),
            "cordon as {who:?}:\n{}",
            describe(&sandboxed)
        );
    }
}

#[test]
fn missing_command_gives_127() {
    for who in identities() {
        let dir = Scratch::new(who, "missing");
        let name = "cordon-no-such-command";
        // Only directories every user can search: a PATH entry the test user cannot enter
        // (such as /root/.cargo/bin) turns a failed search into EACCES, and so into 126.
        let launch = Launch::new(who, &dir.path).env("PATH", "/usr/local/bin:/usr/bin:/bin");
        let output = launch.sandboxed(&scratch_policy(&dir), &strings![name]);
        assert_eq!(
            output.status.code(),
            Some(127),
            "cordon as {who:?}:\n{}",
            describe(&output)
        );
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(name),
            "the error as {who:?} does not name the missing command:\n{}",
            describe(&output)
        );
    }
}

#[test]
fn non_executable_file_gives_126() {
    for who in identities() {
        let dir = Scratch::new(who, "noexec");
        let file = dir.write(who, "script.sh", b"#!/bin/sh\necho ran\n");
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).expect("chmod script");

        let output = Launch::new(who, &dir.path)
            .sandboxed(&scratch_policy(&dir), &strings![path_str(&file)]);
        assert_eq!(
            output.status.code(),
            Some(126),
            "cordon as {who:?}:\n{}",
            describe(&output)
        );
        assert!(
            output.stdout.is_empty(),
            "the non-executable script ran as {who:?}:\n{}",
            describe(&output)
        );
    }
}
