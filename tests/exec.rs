//! Real programs that exec and change directory, under a policy that checks both. Each runs
//! natively and under cordon, as every test identity, in a scratch directory it may write.
//! It must print the same bytes and exit with the same status both ways. No run may trigger
//! a post-validation kill, which would mean that cordon checked one file or directory and
//! the kernel used another without any attacker. The last tests check exec and chdir
//! denials: the errno the program sees, cordon's stderr lines and the audit log.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use common::exec_support::{give_to, post_validation_kills};
use common::sandbox::{
    log_int, log_str, path_str, program_stderr, read_audit_log, stderr_text, stdout_text, Launch,
    PYTHON, PY_ATTEMPT,
};
use common::{describe, identities, native, Identity, Scratch};

/// The command search path of every run. A PATH entry the test user cannot enter (such as
/// /root/.cargo/bin) would change which program a name finds depending on the identity.
const SEARCH_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Stands for a run's scratch directory in compared output, because the native run and
/// the sandboxed run use different directories.
const SCRATCH_PLACEHOLDER: &str = "SCRATCH";

/// Returns the policy these tests run under: the built-in defaults (read, stat, exec and
/// chdir allowed everywhere), plus writing and creating inside the scratch directory.
fn scratch_policy(scratch: &Scratch) -> Vec<String> {
    let tree = format!("{}/**", path_str(&scratch.path));
    strings!["--allow-write", tree, "--allow-modify", tree]
}

/// Starts commands as `who` in the scratch directory, with a fixed PATH and with HOME and
/// TMPDIR inside the scratch directory, where the policy allows writing.
fn launch(who: Identity, scratch: &Scratch) -> Launch {
    let dir = path_str(&scratch.path);
    Launch::new(who, &scratch.path)
        .env("PATH", SEARCH_PATH)
        .env("HOME", &dir)
        .env("TMPDIR", &dir)
}

/// Returns stdout with the scratch directory's path replaced by `SCRATCH_PLACEHOLDER`.
fn normalized_stdout(output: &Output, scratch: &Scratch) -> String {
    stdout_text(output).replace(&path_str(&scratch.path), SCRATCH_PLACEHOLDER)
}

/// Asserts that a sandboxed run had no process killed by cordon's post-validation.
fn assert_no_kill(who: Identity, what: &str, sandboxed: &Output) {
    assert_eq!(
        post_validation_kills(sandboxed),
        0,
        "{what} as {who:?}: cordon killed a process after an exec or chdir\n{}",
        describe(sandboxed)
    );
}

/// The two runs of one comparison and the scratch directories they ran in.
struct Comparison {
    native: Output,
    sandboxed: Output,
    sandbox_dir: Scratch,
}

/// Runs `command` natively in one fresh scratch directory and under cordon in another,
/// both prepared by `setup`. Asserts that the native run succeeds, that both print the
/// same stdout (with each run's scratch path replaced) and exit with the same status, and
/// that cordon killed nothing.
fn compare(who: Identity, what: &str, setup: impl Fn(&Scratch), command: &[String]) -> Comparison {
    compare_with_env(who, what, setup, command, &[])
}

/// Does what `compare` does, with extra environment variables `env` in both runs.
fn compare_with_env(
    who: Identity,
    what: &str,
    setup: impl Fn(&Scratch),
    command: &[String],
    env: &[(&str, &str)],
) -> Comparison {
    let launch = |dir: &Scratch| {
        env.iter().fold(launch(who, dir), |launch, (key, value)| {
            launch.env(key, value)
        })
    };
    let native_dir = Scratch::new(who, "native");
    setup(&native_dir);
    let native = launch(&native_dir).native(command);
    assert!(
        native.status.success(),
        "{what} as {who:?} fails natively:\n{}",
        describe(&native)
    );

    let sandbox_dir = Scratch::new(who, "sandboxed");
    setup(&sandbox_dir);
    let sandboxed = launch(&sandbox_dir).sandboxed(&scratch_policy(&sandbox_dir), command);
    assert_eq!(
        normalized_stdout(&sandboxed, &sandbox_dir),
        normalized_stdout(&native, &native_dir),
        "{what} as {who:?}: stdout under cordon differs from native\n--- native\n{}\n--- cordon\n{}",
        describe(&native),
        describe(&sandboxed)
    );
    assert_eq!(
        sandboxed.status.code(),
        native.status.code(),
        "{what} as {who:?}: exit status under cordon differs from native\n--- native\n{}\n--- cordon\n{}",
        describe(&native),
        describe(&sandboxed)
    );
    assert_no_kill(who, what, &sandboxed);
    Comparison {
        native,
        sandboxed,
        sandbox_dir,
    }
}

/// Writes an executable file into the scratch directory, owned by `who`.
fn write_executable(who: Identity, scratch: &Scratch, name: &str, contents: &[u8]) -> String {
    let path = scratch.write(who, name, contents);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod executable");
    path_str(&path)
}

/// Creates a directory in the scratch directory, owned by `who`.
fn make_dir(who: Identity, scratch: &Scratch, name: &str) -> String {
    let path = scratch.join(name);
    fs::create_dir(&path).expect("create scratch subdirectory");
    give_to(who, &path);
    path_str(&path)
}

#[test]
fn sh_pipelines_match_native() {
    // Every stage is a separate exec: sort, tr, head, cat, wc, seq, awk, find, xargs, sed,
    // a nested sh, env and grep, and finally `exec` replacing the shell itself.
    let script = r#"
set -e
mkdir -p d/e
printf 'pear\napple\nfig\n' > d/fruits.txt
sort d/fruits.txt | tr a-z A-Z | head -n 2
printf 'x\ny\n' | cat - d/fruits.txt | wc -l
seq 1 100 | awk '{ s += $1 } END { print "sum", s }'
find . -name '*.txt' | sort | xargs cat | sed -n '2p'
echo "nested $(echo inner | tr a-z A-Z) $(ls d | wc -l)"
(cd d/e && pwd -P | sed 's,.*/,,')
sh -c 'exit 3' || echo "child status $?"
env | grep -c '^PATH='
exec echo replaced by exec
"#;
    for who in identities() {
        let run = compare(who, "sh pipelines", |_| {}, &strings!["sh", "-c", script]);
        assert!(
            stdout_text(&run.native).ends_with("replaced by exec\n"),
            "native sh as {who:?}:\n{}",
            describe(&run.native)
        );
    }
}

/// Writes a C project whose top-level Makefile builds a static library with a recursive
/// `make -C lib`, so make changes directory and starts the compiler, the assembler, the
/// linker and ar.
fn write_recursive_c_project(who: Identity, dir: &Scratch) {
    make_dir(who, dir, "lib");
    dir.write(
        who,
        "lib/greet.h",
        b"int add(int a, int b);\nconst char *greeting(void);\n",
    );
    dir.write(
        who,
        "lib/greet.c",
        b"#include \"greet.h\"\nint add(int a, int b) { return a + b; }\nconst char *greeting(void) { return \"hello from make\"; }\n",
    );
    dir.write(
        who,
        "lib/Makefile",
        b"libgreet.a: greet.o\n\tar rcs libgreet.a greet.o\n\ngreet.o: greet.c greet.h\n\tcc -c -o greet.o greet.c\n",
    );
    dir.write(
        who,
        "main.c",
        b"#include <stdio.h>\n#include \"greet.h\"\nint main(void) { printf(\"%s: %d\\n\", greeting(), add(40, 2)); return 0; }\n",
    );
    dir.write(
        who,
        "Makefile",
        b"prog: main.o lib/libgreet.a\n\tcc -o prog main.o lib/libgreet.a\n\nlib/libgreet.a:\n\t$(MAKE) -C lib\n\nmain.o: main.c lib/greet.h\n\tcc -Ilib -c -o main.o main.c\n",
    );
}

#[test]
fn make_recursive_c_project() {
    let command = strings!["sh", "-c", "make -s --no-print-directory && ./prog"];
    for who in identities() {
        let run = compare(
            who,
            "make with make -C lib",
            |dir| write_recursive_c_project(who, dir),
            &command,
        );
        assert_eq!(
            stdout_text(&run.native),
            "hello from make: 42\n",
            "native make as {who:?}:\n{}",
            describe(&run.native)
        );
        assert!(
            run.sandbox_dir.join("lib/libgreet.a").exists(),
            "make under cordon as {who:?} built no library:\n{}",
            describe(&run.sandboxed)
        );
    }
}

/// Returns whether Debian's interpreter has the venv and ensurepip modules, which Debian
/// ships in the separate python3-venv package.
fn python_has_venv() -> bool {
    let output = native(Identity::Invoker, PYTHON, &["-c", "import ensurepip, venv"]);
    output.status.success()
}

#[test]
fn python_venv_runs_pip() {
    if !python_has_venv() {
        eprintln!(
            "skipped: {PYTHON} lacks the venv or ensurepip module; install Debian's python3-venv"
        );
        return;
    }
    // Creating the venv runs ensurepip in a child interpreter started through the venv's
    // python symlink. pip then starts through a `#!SCRATCH/venv/bin/python3` line.
    let command = strings![
        "sh",
        "-c",
        format!("{PYTHON} -m venv venv && venv/bin/pip --version && venv/bin/python -c 'import sys; print(sys.prefix != sys.base_prefix)'")
    ];
    for who in identities() {
        let run = compare(who, "python3 -m venv, then pip --version", |_| {}, &command);
        let stdout = stdout_text(&run.sandboxed);
        assert!(
            stdout.starts_with("pip ") && stdout.ends_with("True\n"),
            "pip under cordon as {who:?}:\n{}",
            describe(&run.sandboxed)
        );
    }
}

#[test]
fn git_post_commit_hook_runs() {
    // The hook is a `#!/bin/sh` script that git starts after the commit, and its marker
    // file proves that it ran. Fixed dates make the commit hash identical in both runs.
    let script = r#"
set -e
git init -q -b main repo
cd repo
printf '#!/bin/sh\necho "post-commit ran in $(basename "$(pwd)") at $(git rev-parse --short HEAD)" > ../hook-marker.txt\n' > .git/hooks/post-commit
chmod +x .git/hooks/post-commit
printf 'tracked\n' > a.txt
git add a.txt
git -c user.name=t -c user.email=t@example.invalid commit -q -m first
git log --format='%H %s'
cat ../hook-marker.txt
"#;
    let env = [
        ("GIT_CONFIG_NOSYSTEM", "1"),
        ("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z"),
        ("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z"),
    ];
    for who in identities() {
        let run = compare_with_env(
            who,
            "git commit with a post-commit hook",
            |_| {},
            &strings!["sh", "-c", script],
            &env,
        );
        let marker_path = run.sandbox_dir.join("hook-marker.txt");
        let marker = fs::read_to_string(&marker_path).unwrap_or_else(|error| {
            panic!(
                "the post-commit hook left no marker under cordon as {who:?}: {error}\n{}",
                describe(&run.sandboxed)
            )
        });
        assert!(
            marker.starts_with("post-commit ran in repo at "),
            "hook marker under cordon as {who:?}: {marker:?}"
        );
    }
}

#[test]
fn env_python3_script_runs() {
    // The kernel starts /usr/bin/env for the `#!` line, and env execs python3 from PATH.
    let script = br#"#!/usr/bin/env python3
import os, sys
print("argv", sys.argv[1:])
print("script", os.path.basename(sys.argv[0]))
with open("data.txt") as f:
    print("read", f.read().strip())
with open("out.txt", "w") as f:
    f.write("written\n")
print(sorted(os.listdir(".")))
"#;
    for who in identities() {
        let setup = |dir: &Scratch| {
            write_executable(who, dir, "tool.py", script);
            dir.write(who, "data.txt", b"input data\n");
        };
        let run = compare(
            who,
            "#!/usr/bin/env python3 script",
            setup,
            &strings!["sh", "-c", "./tool.py one two && cat out.txt"],
        );
        assert!(
            stdout_text(&run.native).contains("argv ['one', 'two']"),
            "native script as {who:?}:\n{}",
            describe(&run.native)
        );
    }
}

#[test]
fn bash_cd_and_relative_paths() {
    // Relative opens after each cd must resolve against the directory bash changed into,
    // and bash's logical and physical paths must agree with the native run.
    let script = r#"
set -e
start=$PWD
mkdir -p a/b/c
cd a
echo top > top.txt
cd b/c
echo deep > deep.txt
cat ../../top.txt
echo "in ${PWD#$start}"
cd ..
cat c/deep.txt
echo "in ${PWD#$start}"
cd ../..
echo "in ${PWD#$start}"
pushd a/b > /dev/null
echo "pushd ${PWD#$start}"
popd > /dev/null
echo "popd ${PWD#$start}"
ln -s a/b linkdir
cd linkdir
echo "logical ${PWD#$start} $(pwd -P | sed "s,^$start,,")"
cd -P .
echo "physical ${PWD#$start}"
cd "$start"
(cd a/b/c && cat deep.txt && echo "subshell ${PWD#$start}")
echo "after subshell ${PWD#$start}"
for d in a a/b a/b/c; do (cd "$d" && echo "$d: $(ls | tr '\n' ' ')"); done
"#;
    for who in identities() {
        let run = compare(who, "bash cd", |_| {}, &strings!["bash", "-c", script]);
        assert!(
            stdout_text(&run.native).contains("physical /a/b\n"),
            "native bash as {who:?}:\n{}",
            describe(&run.native)
        );
    }
}

#[test]
fn denied_binary_exits_126() {
    for who in identities() {
        let dir = Scratch::new(who, "denied-binary");
        let tool_bytes = fs::read("/bin/echo").expect("read /bin/echo");
        let tool = write_executable(who, &dir, "tool", &tool_bytes);
        let command = strings!["sh", "-c", "./tool hi; echo \"status $?\""];

        let native = launch(who, &dir).native(&command);
        assert_eq!(
            stdout_text(&native),
            "hi\nstatus 0\n",
            "native copy of echo as {who:?}:\n{}",
            describe(&native)
        );

        let mut policy = scratch_policy(&dir);
        policy.extend(strings!["--deny-exec", tool]);
        let sandboxed = launch(who, &dir).sandboxed(&policy, &command);
        assert_eq!(
            stdout_text(&sandboxed),
            "status 126\n",
            "sh running the denied copy under cordon as {who:?}:\n{}",
            describe(&sandboxed)
        );
        let denial = format!("cordon: denied exec of \"{tool}\" (execve, pid ");
        let rule = format!("rule --deny-exec {tool})");
        let stderr = stderr_text(&sandboxed);
        assert!(
            stderr
                .lines()
                .any(|line| line.starts_with(&denial) && line.ends_with(&rule)),
            "no exec denial line naming {tool} as {who:?}:\n{}",
            describe(&sandboxed)
        );
        assert!(
            program_stderr(&sandboxed).contains("Permission denied"),
            "sh did not report EACCES as {who:?}:\n{}",
            describe(&sandboxed)
        );

        // The denied file as cordon's own command: its first exec is checked like any other.
        let direct = launch(who, &dir).sandboxed(&policy, &strings![tool, "hi"]);
        assert_eq!(
            direct.status.code(),
            Some(126),
            "cordon running the denied copy directly as {who:?}:\n{}",
            describe(&direct)
        );
        assert!(
            direct.stdout.is_empty(),
            "the denied copy ran as {who:?}:\n{}",
            describe(&direct)
        );
        assert_no_kill(who, "sh running a denied binary", &sandboxed);
        assert_no_kill(who, "cordon running a denied binary", &direct);
    }
}

/// Returns the canonical path of Debian's python3, after checking that the glob
/// `/usr/bin/python3*` matches it, so a rule with that glob denies the real interpreter.
fn canonical_python() -> String {
    let canonical = fs::canonicalize(PYTHON).expect("canonicalize /usr/bin/python3");
    let canonical = path_str(&canonical);
    let file_name = canonical
        .strip_prefix("/usr/bin/python3")
        .unwrap_or_else(|| panic!("{PYTHON} resolves to {canonical}, outside /usr/bin/python3*"));
    assert!(
        !file_name.contains('/'),
        "{PYTHON} resolves to {canonical}, which /usr/bin/python3* does not match"
    );
    canonical
}

#[test]
fn denied_interpreter_blocks_script() {
    let python = canonical_python();
    let command = strings![
        "sh",
        "-c",
        "./script.py; echo \"python script status $?\"; \
         /usr/bin/python3 -c 'print(1)'; echo \"python status $?\"; \
         ./script.sh; echo \"shell script status $?\""
    ];
    for who in identities() {
        let dir = Scratch::new(who, "denied-interpreter");
        write_executable(
            who,
            &dir,
            "script.py",
            b"#!/usr/bin/python3\nprint(\"python ran\")\n",
        );
        write_executable(who, &dir, "script.sh", b"#!/bin/sh\necho shell ran\n");

        let native = launch(who, &dir).native(&command);
        assert_eq!(
            stdout_text(&native),
            "python ran\npython script status 0\n1\npython status 0\nshell ran\nshell script status 0\n",
            "native scripts as {who:?}:\n{}",
            describe(&native)
        );

        let mut policy = scratch_policy(&dir);
        policy.extend(strings!["--deny-exec", "/usr/bin/python3*"]);
        let sandboxed = launch(who, &dir).sandboxed(&policy, &command);
        assert_eq!(
            stdout_text(&sandboxed),
            "python script status 126\npython status 126\nshell ran\nshell script status 0\n",
            "scripts under --deny-exec /usr/bin/python3* as {who:?}:\n{}",
            describe(&sandboxed)
        );
        let denial = format!("cordon: denied exec of \"{python}\" (execve, pid ");
        let denials = stderr_text(&sandboxed)
            .lines()
            .filter(|line| line.starts_with(&denial))
            .count();
        assert_eq!(
            denials,
            2,
            "expected one denial of {python} for the script and one for the direct run as {who:?}:\n{}",
            describe(&sandboxed)
        );
        assert_no_kill(who, "scripts under a denied interpreter", &sandboxed);
    }
}

#[test]
fn denied_chdir_keeps_working_directory() {
    let fchdir = format!(
        "{PY_ATTEMPT}{}",
        r#"
fd = os.open("secret", os.O_RDONLY | os.O_DIRECTORY)
attempt("fchdir", lambda: os.fchdir(fd))
print(os.path.basename(os.getcwd()))
"#
    );
    for who in identities() {
        let dir = Scratch::new(who, "denied-chdir");
        let secret = make_dir(who, &dir, "secret");
        dir.write(who, "secret/inside.txt", b"listed\n");
        // Listing is reading, which the policy still allows.
        let listing = format!("cd secret; echo \"cd status $?\"; pwd; ls '{secret}'");
        let shell = strings!["bash", "-c", listing];

        let native = launch(who, &dir).native(&shell);
        assert_eq!(
            stdout_text(&native),
            format!("cd status 0\n{secret}\ninside.txt\n"),
            "native cd as {who:?}:\n{}",
            describe(&native)
        );

        let mut policy = scratch_policy(&dir);
        policy.extend(strings!["--deny-chdir", secret]);
        let sandboxed = launch(who, &dir).sandboxed(&policy, &shell);
        assert_eq!(
            stdout_text(&sandboxed),
            format!("cd status 1\n{}\ninside.txt\n", path_str(&dir.path)),
            "cd into the denied directory as {who:?}:\n{}",
            describe(&sandboxed)
        );
        assert!(
            program_stderr(&sandboxed).contains("cd: secret: Permission denied"),
            "bash did not report EACCES as {who:?}:\n{}",
            describe(&sandboxed)
        );
        let denial = format!("cordon: denied chdir of \"{secret}\" (chdir, pid ");
        assert!(
            stderr_text(&sandboxed)
                .lines()
                .any(|line| line.starts_with(&denial)),
            "no chdir denial line as {who:?}:\n{}",
            describe(&sandboxed)
        );

        let python = launch(who, &dir).sandboxed(&policy, &strings![PYTHON, "-c", fchdir]);
        let expected_cwd = dir
            .path
            .file_name()
            .expect("scratch has a name")
            .to_string_lossy();
        assert_eq!(
            stdout_text(&python),
            format!("fchdir EACCES\n{expected_cwd}\n"),
            "fchdir into the denied directory as {who:?}:\n{}",
            describe(&python)
        );
        let fchdir_denial = format!("cordon: denied chdir of \"{secret}\" (fchdir, pid ");
        assert!(
            stderr_text(&python)
                .lines()
                .any(|line| line.starts_with(&fchdir_denial)),
            "no fchdir denial line as {who:?}:\n{}",
            describe(&python)
        );
        assert_no_kill(who, "cd into a denied directory", &sandboxed);
        assert_no_kill(who, "fchdir into a denied directory", &python);
    }
}

#[test]
fn hidden_directory_cd_reports_missing() {
    for who in identities() {
        let dir = Scratch::new(who, "hidden-chdir");
        let hidden = make_dir(who, &dir, "hidden");
        let command = strings!["bash", "-c", "cd hidden; echo \"cd status $?\"; pwd"];

        let native = launch(who, &dir).native(&command);
        assert_eq!(
            stdout_text(&native),
            format!("cd status 0\n{hidden}\n"),
            "native cd as {who:?}:\n{}",
            describe(&native)
        );

        let mut policy = scratch_policy(&dir);
        policy.extend(strings!["--hide", hidden]);
        let sandboxed = launch(who, &dir).sandboxed(&policy, &command);
        assert_eq!(
            stdout_text(&sandboxed),
            format!("cd status 1\n{}\n", path_str(&dir.path)),
            "cd into the hidden directory as {who:?}:\n{}",
            describe(&sandboxed)
        );
        assert!(
            program_stderr(&sandboxed).contains("cd: hidden: No such file or directory"),
            "bash did not report ENOENT as {who:?}:\n{}",
            describe(&sandboxed)
        );
        let report = format!("cordon: hid chdir of \"{hidden}\" (chdir, pid ");
        assert!(
            stderr_text(&sandboxed)
                .lines()
                .any(|line| line.starts_with(&report)),
            "no hide line as {who:?}:\n{}",
            describe(&sandboxed)
        );
        assert_no_kill(who, "cd into a hidden directory", &sandboxed);
    }
}

/// One expected audit log record: syscall, category, path, action and rule.
struct ExpectedRecord {
    syscall: &'static str,
    category: &'static str,
    path: String,
    action: &'static str,
    rule: String,
}

#[test]
fn log_records_each_exec_and_chdir_denial() {
    let python = canonical_python();
    // dash makes one chdir per cd and one execve per command with a slash, so each step
    // below is one checked call.
    let command = strings![
        "sh",
        "-c",
        "./tool hi; cd secret; cd hidden; ./script.py; echo done"
    ];
    for who in identities() {
        let dir = Scratch::new(who, "exec-log");
        let log_dir = Scratch::new(who, "exec-log-file");
        let log = log_dir.join("audit.jsonl");
        let tool_bytes = fs::read("/bin/echo").expect("read /bin/echo");
        let tool = write_executable(who, &dir, "tool", &tool_bytes);
        write_executable(
            who,
            &dir,
            "script.py",
            b"#!/usr/bin/python3\nprint(\"python ran\")\n",
        );
        let secret = make_dir(who, &dir, "secret");
        let hidden = make_dir(who, &dir, "hidden");

        let mut policy = scratch_policy(&dir);
        policy.extend(strings![
            "--log",
            path_str(&log),
            "--deny-exec",
            tool,
            "--deny-exec",
            "/usr/bin/python3*",
            "--deny-chdir",
            secret,
            "--hide",
            hidden,
        ]);
        let output = launch(who, &dir).sandboxed(&policy, &command);
        assert_eq!(
            stdout_text(&output),
            "done\n",
            "denied steps as {who:?}:\n{}",
            describe(&output)
        );

        let expected = [
            ExpectedRecord {
                syscall: "execve",
                category: "exec",
                path: tool.clone(),
                action: "deny",
                rule: format!("--deny-exec {tool}"),
            },
            ExpectedRecord {
                syscall: "chdir",
                category: "chdir",
                path: secret.clone(),
                action: "deny",
                rule: format!("--deny-chdir {secret}"),
            },
            ExpectedRecord {
                syscall: "chdir",
                category: "chdir",
                path: hidden.clone(),
                action: "hide",
                rule: format!("--hide {hidden}"),
            },
            ExpectedRecord {
                syscall: "execve",
                category: "exec",
                path: python.clone(),
                action: "deny",
                rule: "--deny-exec /usr/bin/python3*".to_owned(),
            },
        ];
        check_log(who, &log, &expected, &output);
        assert_no_kill(who, "denied exec and chdir steps", &output);
    }
}

fn check_log(who: Identity, log: &Path, expected: &[ExpectedRecord], output: &Output) {
    let records = read_audit_log(log);
    assert_eq!(
        records.len(),
        expected.len(),
        "audit log as {who:?} has {} records, expected one per denial: {records:?}\n{}",
        records.len(),
        describe(output)
    );
    for (index, (record, want)) in records.iter().zip(expected).enumerate() {
        let context = format!("record {index} as {who:?}: {record:?}");
        assert_eq!(log_str(record, "syscall"), Some(want.syscall), "{context}");
        assert_eq!(
            log_str(record, "category"),
            Some(want.category),
            "{context}"
        );
        assert_eq!(
            log_str(record, "path"),
            Some(want.path.as_str()),
            "{context}"
        );
        assert_eq!(log_str(record, "action"), Some(want.action), "{context}");
        assert_eq!(
            log_str(record, "rule"),
            Some(want.rule.as_str()),
            "{context}"
        );
        assert!(
            log_int(record, "pid").is_some_and(|pid| pid > 0),
            "{context}"
        );
        assert!(
            log_int(record, "tid").is_some_and(|tid| tid > 0),
            "{context}"
        );
    }
}
