//! The checked file-system calls outside the open family.
//!
//! The first test runs `tests/fixtures/fs_cases.py`, which makes each call of every family
//! with success and error cases. It runs natively and under a policy that allows everything
//! but audits every category, so cordon checks and performs each call itself. Both runs must
//! print the same lines, and the audit log must show that cordon handled every call.
//!
//! The other tests deny one category at a time and run real programs. The denied call fails
//! with EACCES, leaves the file system as it was and is logged once, and the allowed sibling
//! works.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Output;

use common::fs_support::{
    assert_lines, format_records, give_tree_to, log_records, logged_syscalls, python_command,
    run_native, run_sandboxed, snapshot, stdout_lines, trap_everything, unified_diff,
    OtherFsScratch,
};
use common::sandbox::{log_str, path_str, program_stderr, stdout_text, LogRecord, PYTHON};
use common::{describe, identities, Identity, Scratch};

const CASES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/fs_cases.py"
);

/// Every system call the fixture makes that cordon must check, with the category its audit
/// record must name. The fd-only calls are included because every category has a rule.
const TRAPPED_CALLS: &[(&str, &str)] = &[
    ("stat", "stat"),
    ("lstat", "stat"),
    ("newfstatat", "stat"),
    ("statx", "stat"),
    ("statfs", "stat"),
    ("access", "stat"),
    ("faccessat", "stat"),
    ("faccessat2", "stat"),
    ("readlink", "stat"),
    ("readlinkat", "stat"),
    ("getdents", "stat"),
    ("getdents64", "stat"),
    ("inotify_add_watch", "stat"),
    ("mkdir", "create"),
    ("mkdirat", "create"),
    ("mknod", "create"),
    ("mknodat", "create"),
    ("symlink", "create"),
    ("symlinkat", "create"),
    ("unlink", "delete"),
    ("unlinkat", "delete"),
    ("rmdir", "delete"),
    ("rename", "rename"),
    ("renameat", "rename"),
    ("renameat2", "rename"),
    ("link", "rename"),
    ("linkat", "rename"),
    ("chmod", "attr"),
    ("fchmodat", "attr"),
    ("fchmodat2", "attr"),
    ("chown", "attr"),
    ("lchown", "attr"),
    ("fchownat", "attr"),
    ("utime", "attr"),
    ("utimes", "attr"),
    ("utimensat", "attr"),
    ("futimesat", "attr"),
    ("truncate", "attr"),
    ("fstat", "stat"),
    ("fstatfs", "stat"),
    ("fchmod", "attr"),
    ("fchown", "attr"),
    ("ftruncate", "attr"),
];

/// The extended attribute calls the fixture makes when the scratch file system supports
/// user.* attributes.
const TRAPPED_XATTR_CALLS: &[(&str, &str)] = &[
    ("getxattr", "stat"),
    ("lgetxattr", "stat"),
    ("listxattr", "stat"),
    ("llistxattr", "stat"),
    ("getxattrat", "stat"),
    ("listxattrat", "stat"),
    ("file_getattr", "stat"),
    ("setxattr", "attr"),
    ("lsetxattr", "attr"),
    ("removexattr", "attr"),
    ("lremovexattr", "attr"),
    ("setxattrat", "attr"),
    ("removexattrat", "attr"),
    ("file_setattr", "attr"),
    ("fgetxattr", "stat"),
    ("flistxattr", "stat"),
    ("fsetxattr", "attr"),
    ("fremovexattr", "attr"),
];

/// Runs the fixture as `who` in a fresh scratch directory, under `cordon run POLICY` when
/// `policy` is given. Returns the output.
fn run_cases(who: Identity, policy: Option<&[String]>) -> Output {
    let scratch = Scratch::new(who, "fs-cases");
    let other = OtherFsScratch::new(who, "fs-cases");
    let other_arg = other
        .as_ref()
        .map_or("-".to_owned(), |dir| path_str(&dir.path));
    let command = vec![
        PYTHON.to_owned(),
        CASES.to_owned(),
        path_str(&scratch.path),
        other_arg,
    ];
    match policy {
        None => run_native(who, &scratch.path, &command),
        Some(policy) => run_sandboxed(who, &scratch.path, policy, &command),
    }
}

#[test]
fn fs_cases_match_native() {
    for who in identities() {
        let native = run_cases(who, None);
        assert!(
            native.status.success(),
            "native fixture as {who:?}:\n{}",
            describe(&native)
        );
        let native_text = stdout_text(&native);
        let native_lines = stdout_lines(&native);
        assert!(
            native_lines.len() >= 1500,
            "native run as {who:?} printed only {} lines",
            native_lines.len()
        );
        assert_eq!(
            native_lines.last().map(String::as_str),
            Some("done"),
            "native run as {who:?} did not finish"
        );

        let logs = Scratch::new(who, "fs-cases-log");
        let log = logs.join("audit.jsonl");
        let mut policy = trap_everything();
        policy.extend(["--log".to_owned(), path_str(&log)]);
        let sandboxed = run_cases(who, Some(&policy));
        let sandboxed_text = stdout_text(&sandboxed);
        assert!(
            native_text == sandboxed_text,
            "fs_cases.py as {who:?} differs under cordon ({} native lines, {} under cordon)\n{}\n--- cordon stderr\n{}",
            native_lines.len(),
            stdout_lines(&sandboxed).len(),
            unified_diff(&native_text, &sandboxed_text),
            String::from_utf8_lossy(&sandboxed.stderr)
        );
        assert!(
            sandboxed.status.success(),
            "fixture under cordon as {who:?}:\n{}",
            describe(&sandboxed)
        );

        let mut expected: Vec<(&str, &str)> = TRAPPED_CALLS.to_vec();
        if let Some(skip) = native_lines
            .iter()
            .find(|line| line.starts_with("xattr skip"))
        {
            eprintln!("as {who:?}: the scratch file system has no user.* attributes ({skip}); xattr calls not required in the log");
        } else {
            expected.extend_from_slice(TRAPPED_XATTR_CALLS);
        }
        let records = log_records(&log);
        let missing: Vec<String> = expected
            .iter()
            .filter(|(call, category)| {
                !records.iter().any(|record| {
                    log_str(record, "syscall") == Some(*call)
                        && log_str(record, "category") == Some(*category)
                })
            })
            .map(|(call, category)| format!("{call} ({category})"))
            .collect();
        assert!(
            missing.is_empty(),
            "as {who:?}, the audit log has no record of these calls, so cordon did not check them: {missing:?}\nlogged syscalls: {:?}",
            logged_syscalls(&records)
        );
    }
}

/// One denial test's scratch directory, its log file and the policy that allows every
/// change in the directory before the test's own rules.
struct DenialSetup {
    who: Identity,
    dir: Scratch,
    _logs: Scratch,
    log: std::path::PathBuf,
}

impl DenialSetup {
    fn new(who: Identity, name: &str) -> DenialSetup {
        let dir = Scratch::new(who, name);
        let logs = Scratch::new(who, &format!("{name}-log"));
        let log = logs.join("audit.jsonl");
        DenialSetup {
            who,
            dir,
            _logs: logs,
            log,
        }
    }

    fn path(&self, name: &str) -> String {
        path_str(&self.dir.join(name))
    }

    fn write(&self, name: &str, contents: &str) {
        self.dir.write(self.who, name, contents.as_bytes());
    }

    fn mkdir(&self, name: &str) {
        fs::create_dir_all(self.dir.join(name)).expect("create directory");
        give_tree_to(self.who, &self.dir.path);
    }

    /// Returns `--log LOG --allow-modify DIR/**` followed by `rules`.
    fn policy(&self, rules: &[String]) -> Vec<String> {
        let mut policy = strings![
            "-q",
            "--log",
            path_str(&self.log),
            "--allow-modify",
            format!("{}/**", path_str(&self.dir.path))
        ];
        policy.extend_from_slice(rules);
        policy
    }

    /// Runs `command` natively in the scratch directory.
    fn native(&self, command: &[String]) -> Output {
        run_native(self.who, &self.dir.path, command)
    }

    /// Runs `command` under cordon with `rules`, after removing an earlier log.
    fn sandboxed(&self, rules: &[String], command: &[String]) -> Output {
        let _ = fs::remove_file(&self.log);
        run_sandboxed(self.who, &self.dir.path, &self.policy(rules), command)
    }

    fn records(&self) -> Vec<LogRecord> {
        log_records(&self.log)
    }

    /// Asserts that the log has exactly one record, a deny of `category` on `path`.
    fn assert_one_denial(&self, category: &str, path: &str, context: &str) {
        let records = self.records();
        assert_eq!(
            records.len(),
            1,
            "{context} as {:?}: expected one log record, got:\n{}",
            self.who,
            format_records(&records)
        );
        let record = &records[0];
        assert_eq!(
            log_str(record, "category"),
            Some(category),
            "{context}: category of {}",
            format_records(&records)
        );
        assert_eq!(
            log_str(record, "action"),
            Some("deny"),
            "{context}: action of {}",
            format_records(&records)
        );
        assert_eq!(
            log_str(record, "path"),
            Some(path),
            "{context}: path of {}",
            format_records(&records)
        );
    }
}

/// Asserts that a command failed with exit status 1 and wrote `message` on stderr.
fn assert_failed_with(output: &Output, message: &str, context: &str) {
    assert!(
        program_stderr(output).contains(message),
        "{context}: stderr lacks {message:?}\n{}",
        describe(output)
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "{context}: exit status\n{}",
        describe(output)
    );
}

#[test]
fn stat_denied_for_coreutils_stat() {
    for who in identities() {
        let setup = DenialSetup::new(who, "deny-stat");
        setup.write("denied.txt", "denied\n");
        setup.write("allowed.txt", "allowed!\n");
        let command = strings!["stat", "-c", "%n %s", "denied.txt", "allowed.txt"];
        let rules = strings!["--deny-stat", setup.path("denied.txt")];

        let native = setup.native(&command);
        assert_lines(
            &native,
            &["denied.txt 7", "allowed.txt 9"],
            &format!("native stat as {who:?}"),
        );

        let sandboxed = setup.sandboxed(&rules, &command);
        assert_lines(
            &sandboxed,
            &["allowed.txt 9"],
            &format!("stat under cordon as {who:?}"),
        );
        assert_failed_with(
            &sandboxed,
            "stat: cannot statx 'denied.txt': Permission denied",
            "stat",
        );
        setup.assert_one_denial("stat", &setup.path("denied.txt"), "stat");
    }
}

#[test]
fn stat_denied_for_ls() {
    for who in identities() {
        let setup = DenialSetup::new(who, "deny-ls");
        setup.mkdir("denied-dir");
        setup.write("denied-dir/inside", "x");
        setup.mkdir("allowed-dir");
        setup.write("allowed-dir/inside", "x");
        let rules = strings!["--deny-stat", setup.path("denied-dir")];
        let command = strings!["ls", "denied-dir", "allowed-dir"];

        let native = setup.native(&command);
        assert_lines(
            &native,
            &["allowed-dir:", "inside", "", "denied-dir:", "inside"],
            &format!("native ls as {who:?}"),
        );

        let sandboxed = setup.sandboxed(&rules, &command);
        assert_lines(
            &sandboxed,
            &["allowed-dir:", "inside"],
            &format!("ls under cordon as {who:?}"),
        );
        assert!(
            program_stderr(&sandboxed).contains("'denied-dir': Permission denied"),
            "ls as {who:?}:\n{}",
            describe(&sandboxed)
        );
        assert_eq!(
            sandboxed.status.code(),
            Some(2),
            "ls exit status as {who:?}"
        );
        setup.assert_one_denial("stat", &setup.path("denied-dir"), "ls");
    }
}

#[test]
fn stat_family_denied_gives_eacces() {
    // Each call on a denied name fails with EACCES and is logged once, and the same call on
    // the allowed sibling works.
    let body = r#"
for name in ("denied", "allowed"):
    attempt(f"stat {name}", lambda: sys_call("stat", name, buffer(144)))
    attempt(f"lstat {name}", lambda: sys_call("lstat", name + "-link", buffer(144)))
    attempt(f"newfstatat {name}", lambda: sys_call("newfstatat", AT_FDCWD, name, buffer(144), 0))
    attempt(f"statx {name}", lambda: sys_call("statx", AT_FDCWD, name, 0, 0x7ff, buffer(256)))
    attempt(f"statfs {name}", lambda: sys_call("statfs", name, buffer(120)))
    attempt(f"access {name}", lambda: sys_call("access", name, os.F_OK))
    attempt(f"faccessat2 {name}", lambda: sys_call("faccessat2", AT_FDCWD, name, os.F_OK, 0x200))
    attempt(f"readlink {name}", lambda: sys_call("readlink", name + "-link", buffer(64), 64))
    attempt(f"getdents {name}", lambda: sorted(getdents_names(name + "-dir", 4096)[0]))
    attempt(f"getxattr {name}", lambda: os.getxattr(name, "user.tag"))
    attempt(f"listxattr {name}", lambda: os.listxattr(name))
    attempt(f"inotify {name}", lambda: sys_call("inotify_add_watch", libc.inotify_init1(0), name, 2))
"#;
    let calls = [
        "stat",
        "lstat",
        "newfstatat",
        "statx",
        "statfs",
        "access",
        "faccessat2",
        "readlink",
        "getdents64",
        "getxattr",
        "listxattr",
        "inotify_add_watch",
    ];
    for who in identities() {
        let setup = DenialSetup::new(who, "deny-stat-family");
        for name in ["denied", "allowed"] {
            setup.write(name, "x\n");
            symlink(name, setup.dir.join(&format!("{name}-link"))).expect("symlink");
            setup.mkdir(&format!("{name}-dir"));
            setup.write(&format!("{name}-dir/entry"), "");
            xattr_set(&setup.dir.join(name), "user.tag", b"v");
        }
        give_tree_to(who, &setup.dir.path);
        let rules = strings![
            "--deny-stat",
            format!("{}/denied*", path_str(&setup.dir.path))
        ];
        let command = python_command(&setup.dir.path, body);

        let native = setup.native(&command);
        let native_lines = stdout_lines(&native);
        assert_eq!(
            native_lines.len(),
            24,
            "native as {who:?}:\n{}",
            describe(&native)
        );
        assert!(
            native_lines.iter().all(|line| line.contains(" ok ")),
            "native as {who:?}:\n{}",
            describe(&native)
        );

        let sandboxed = setup.sandboxed(&rules, &command);
        let lines = stdout_lines(&sandboxed);
        assert_eq!(
            lines.len(),
            24,
            "cordon as {who:?}:\n{}",
            describe(&sandboxed)
        );
        for (index, line) in lines.iter().enumerate() {
            if index < 12 {
                assert!(
                    line.ends_with(" EACCES"),
                    "as {who:?}, the denied call gave {line:?}\n{}",
                    describe(&sandboxed)
                );
            } else {
                assert_eq!(
                    line, &native_lines[index],
                    "as {who:?}, the allowed sibling changed"
                );
            }
        }

        let records = setup.records();
        for call in calls {
            let matching: Vec<&LogRecord> = records
                .iter()
                .filter(|record| log_str(record, "syscall") == Some(call))
                .collect();
            assert_eq!(
                matching.len(),
                1,
                "as {who:?}, expected one log record of {call}:\n{}",
                format_records(&records)
            );
            assert_eq!(
                log_str(matching[0], "category"),
                Some("stat"),
                "category of {call}"
            );
            assert_eq!(
                log_str(matching[0], "action"),
                Some("deny"),
                "action of {call}"
            );
        }
        assert_eq!(
            records.len(),
            calls.len(),
            "as {who:?}, unexpected records:\n{}",
            format_records(&records)
        );
    }
}

/// Sets the extended attribute `name` of `path` (following links).
fn xattr_set(path: &Path, name: &str, value: &[u8]) {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("path without NUL");
    let name = std::ffi::CString::new(name).expect("name without NUL");
    // SAFETY: both strings are NUL-terminated and `value` is readable for its length.
    let result = unsafe {
        libc::setxattr(
            path.as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    assert_eq!(result, 0, "setxattr: {}", std::io::Error::last_os_error());
}

#[test]
fn delete_denied_for_rm_and_rmdir() {
    for who in identities() {
        let setup = DenialSetup::new(who, "deny-delete");
        setup.write("denied.txt", "keep me\n");
        setup.write("allowed.txt", "remove me\n");
        setup.mkdir("denied-dir");
        setup.mkdir("allowed-dir");
        let rules = strings![
            "--deny-delete",
            format!("{}/denied*", path_str(&setup.dir.path))
        ];
        let before = snapshot(&setup.dir.join("denied.txt"));

        let removed = setup.sandboxed(&rules, &strings!["rm", "denied.txt", "allowed.txt"]);
        assert_failed_with(
            &removed,
            "rm: cannot remove 'denied.txt': Permission denied",
            &format!("rm as {who:?}"),
        );
        assert_eq!(
            snapshot(&setup.dir.join("denied.txt")),
            before,
            "rm changed the denied file as {who:?}"
        );
        assert!(
            !setup.dir.join("allowed.txt").exists(),
            "rm did not remove the allowed file as {who:?}"
        );
        setup.assert_one_denial("delete", &setup.path("denied.txt"), "rm");

        let rmdir = setup.sandboxed(&rules, &strings!["rmdir", "denied-dir", "allowed-dir"]);
        assert_failed_with(
            &rmdir,
            "rmdir: failed to remove 'denied-dir': Permission denied",
            &format!("rmdir as {who:?}"),
        );
        assert!(
            setup.dir.join("denied-dir").is_dir(),
            "rmdir removed the denied directory as {who:?}"
        );
        assert!(
            !setup.dir.join("allowed-dir").exists(),
            "rmdir kept the allowed directory as {who:?}"
        );
        setup.assert_one_denial("delete", &setup.path("denied-dir"), "rmdir");

        let body = r#"
attempt("unlink", lambda: sys_call("unlink", "denied.txt"))
attempt("unlinkat", lambda: sys_call("unlinkat", AT_FDCWD, "denied.txt", 0))
attempt("unlinkat removedir", lambda: sys_call("unlinkat", AT_FDCWD, "denied-dir", 0x200))
attempt("rmdir", lambda: sys_call("rmdir", "denied-dir"))
"#;
        let python = setup.sandboxed(&rules, &python_command(&setup.dir.path, body));
        assert_lines(
            &python,
            &[
                "unlink EACCES",
                "unlinkat EACCES",
                "unlinkat removedir EACCES",
                "rmdir EACCES",
            ],
            &format!("python as {who:?}"),
        );
        assert_eq!(
            snapshot(&setup.dir.join("denied.txt")),
            before,
            "python changed the denied file as {who:?}"
        );
        assert!(
            setup.dir.join("denied-dir").is_dir(),
            "python removed the denied directory as {who:?}"
        );
        assert_eq!(
            setup.records().len(),
            4,
            "as {who:?}:\n{}",
            format_records(&setup.records())
        );
    }
}

#[test]
fn create_denied_for_mkdir_ln_mkfifo_touch() {
    for who in identities() {
        let setup = DenialSetup::new(who, "deny-create");
        let rules = strings![
            "--deny-create",
            format!("{}/denied*", path_str(&setup.dir.path))
        ];
        let cases: [(&str, Vec<String>, &str); 4] = [
            (
                "mkdir",
                strings!["mkdir", "denied-new", "allowed-new"],
                "mkdir: cannot create directory 'denied-new': Permission denied",
            ),
            (
                "ln -s",
                strings!["ln", "-s", "target", "denied-new"],
                "ln: failed to create symbolic link 'denied-new': Permission denied",
            ),
            (
                "mkfifo",
                strings!["mkfifo", "denied-new"],
                "mkfifo: cannot create fifo 'denied-new': Permission denied",
            ),
            (
                "touch",
                strings!["touch", "denied-new"],
                "touch: cannot touch 'denied-new': Permission denied",
            ),
        ];
        for (name, command, message) in cases {
            let before = snapshot(&setup.dir.path);
            let output = setup.sandboxed(&rules, &command);
            assert_failed_with(&output, message, &format!("{name} as {who:?}"));
            let after = snapshot(&setup.dir.path);
            if name == "mkdir" {
                assert!(
                    setup.dir.join("allowed-new").is_dir(),
                    "mkdir did not create the allowed directory as {who:?}"
                );
                fs::remove_dir(setup.dir.join("allowed-new")).expect("remove allowed-new");
            } else {
                assert_eq!(after, before, "{name} changed the directory as {who:?}");
            }
            assert!(
                !setup.dir.join("denied-new").exists(),
                "{name} created the denied name as {who:?}"
            );
            setup.assert_one_denial("create", &setup.path("denied-new"), name);
        }

        let body = r#"
attempt("mknod", lambda: sys_call("mknod", "denied-node", 0o100644, 0))
attempt("mknod allowed", lambda: sys_call("mknod", "allowed-node", 0o100644, 0))
attempt("symlink", lambda: sys_call("symlink", "x", "denied-link"))
attempt("mkdir", lambda: sys_call("mkdir", "denied-dir", 0o755))
attempt("creat", lambda: os.open("denied-file", os.O_WRONLY | os.O_CREAT, 0o644))
"#;
        let python = setup.sandboxed(&rules, &python_command(&setup.dir.path, body));
        assert_lines(
            &python,
            &[
                "mknod EACCES",
                "mknod allowed ok 0",
                "symlink EACCES",
                "mkdir EACCES",
                "creat EACCES",
            ],
            &format!("python as {who:?}"),
        );
        for name in ["denied-node", "denied-link", "denied-dir", "denied-file"] {
            assert!(
                fs::symlink_metadata(setup.dir.join(name)).is_err(),
                "{name} was created as {who:?}"
            );
        }
        assert_eq!(
            setup.records().len(),
            4,
            "as {who:?}:\n{}",
            format_records(&setup.records())
        );
    }
}

#[test]
fn rename_denied_for_mv_and_ln() {
    for who in identities() {
        let setup = DenialSetup::new(who, "deny-rename");
        setup.write("denied.txt", "stay\n");
        setup.write("allowed.txt", "move\n");
        let rules = strings![
            "--deny-rename",
            format!("{}/denied*", path_str(&setup.dir.path))
        ];
        let before = snapshot(&setup.dir.join("denied.txt"));

        let moved = setup.sandboxed(&rules, &strings!["mv", "denied.txt", "moved.txt"]);
        assert_failed_with(
            &moved,
            "mv: cannot move 'denied.txt' to 'moved.txt': Permission denied",
            &format!("mv as {who:?}"),
        );
        assert_eq!(
            snapshot(&setup.dir.join("denied.txt")),
            before,
            "mv changed the denied file as {who:?}"
        );
        assert!(
            !setup.dir.join("moved.txt").exists(),
            "mv created moved.txt as {who:?}"
        );
        setup.assert_one_denial("rename", &setup.path("denied.txt"), "mv");

        let allowed = setup.sandboxed(&rules, &strings!["mv", "allowed.txt", "moved.txt"]);
        assert!(
            allowed.status.success(),
            "mv of the allowed file as {who:?}:\n{}",
            describe(&allowed)
        );
        assert_eq!(
            fs::read_to_string(setup.dir.join("moved.txt")).expect("read moved.txt"),
            "move\n"
        );

        let linked = setup.sandboxed(&rules, &strings!["ln", "denied.txt", "hard.txt"]);
        assert_failed_with(&linked, "Permission denied", &format!("ln as {who:?}"));
        assert!(
            !setup.dir.join("hard.txt").exists(),
            "ln created hard.txt as {who:?}"
        );
        assert_eq!(
            snapshot(&setup.dir.join("denied.txt")),
            before,
            "ln changed the denied file as {who:?}"
        );
        setup.assert_one_denial("rename", &setup.path("denied.txt"), "ln");

        let allowed_link = setup.sandboxed(&rules, &strings!["ln", "moved.txt", "hard.txt"]);
        assert!(
            allowed_link.status.success(),
            "ln of the allowed file as {who:?}:\n{}",
            describe(&allowed_link)
        );
        assert_eq!(
            fs::metadata(setup.dir.join("moved.txt"))
                .expect("stat")
                .nlink(),
            2
        );
    }
}

#[test]
fn rename_needs_both_ends() {
    let body = r#"
attempt("rename into closed", lambda: sys_call("rename", "open/a", "closed/a"))
attempt("rename out of closed", lambda: sys_call("rename", "closed/b", "open/b"))
attempt("renameat2 into closed", lambda: sys_call("renameat2", AT_FDCWD, "open/a", AT_FDCWD, "closed/new", 1))
attempt("exchange", lambda: sys_call("renameat2", AT_FDCWD, "open/a", AT_FDCWD, "closed/b", 2))
attempt("link into closed", lambda: sys_call("link", "open/a", "closed/a"))
attempt("link out of closed", lambda: sys_call("link", "closed/b", "open/b"))
attempt("rename within open", lambda: sys_call("rename", "open/a", "open/a2"))
attempt("link within open", lambda: sys_call("link", "open/a2", "open/a3"))
"#;
    let expected = [
        "rename into closed EACCES",
        "rename out of closed EACCES",
        "renameat2 into closed EACCES",
        "exchange EACCES",
        "link into closed EACCES",
        "link out of closed EACCES",
        "rename within open ok 0",
        "link within open ok 0",
    ];
    for who in identities() {
        let setup = DenialSetup::new(who, "rename-ends");
        setup.mkdir("open");
        setup.mkdir("closed");
        setup.write("open/a", "a\n");
        setup.write("closed/b", "b\n");
        let rules = strings![
            "--deny-rename",
            format!("{}/closed/**", path_str(&setup.dir.path))
        ];
        let closed_before = snapshot(&setup.dir.join("closed"));

        let output = setup.sandboxed(&rules, &python_command(&setup.dir.path, body));
        assert_lines(&output, &expected, &format!("python as {who:?}"));
        assert_eq!(
            snapshot(&setup.dir.join("closed")),
            closed_before,
            "the closed directory changed as {who:?}"
        );
        let records = setup.records();
        assert_eq!(
            records.len(),
            6,
            "as {who:?}:\n{}",
            format_records(&records)
        );
        assert!(
            records
                .iter()
                .all(|record| log_str(record, "category") == Some("rename")),
            "as {who:?}:\n{}",
            format_records(&records)
        );
    }
}

#[test]
fn alias_of_protected_file_denied() {
    // A hard link or rename must not give a read-, write- or exec-denied file a name where
    // that access is allowed. Rename and link are allowed everywhere in the directory.
    let body = r#"
for name in ("noread", "nowrite", "noexec"):
    attempt(f"link {name}", lambda: sys_call("link", f"{name}/file", f"pub/{name}"))
    attempt(f"rename {name}", lambda: sys_call("rename", f"{name}/file", f"pub/{name}"))
    attempt(f"exchange {name}", lambda: sys_call("renameat2", AT_FDCWD, "pub/other", AT_FDCWD, f"{name}/file", 2))
attempt("link within noread", lambda: sys_call("link", "noread/file", "noread/second"))
attempt("link pub", lambda: sys_call("link", "pub/other", "pub/other2"))
"#;
    for who in identities() {
        let setup = DenialSetup::new(who, "alias");
        for name in ["noread", "nowrite", "noexec", "pub"] {
            setup.mkdir(name);
        }
        for name in ["noread", "nowrite", "noexec"] {
            setup.write(&format!("{name}/file"), "#!/bin/sh\necho protected\n");
            fs::set_permissions(
                setup.dir.join(&format!("{name}/file")),
                fs::Permissions::from_mode(0o755),
            )
            .expect("chmod");
        }
        setup.write("pub/other", "#!/bin/sh\necho other\n");
        let root = path_str(&setup.dir.path);
        let rules = strings![
            "--deny-read",
            format!("{root}/noread/**"),
            "--deny-write",
            format!("{root}/nowrite/**"),
            "--deny-exec",
            format!("{root}/noexec/**"),
        ];
        let before = snapshot(&setup.dir.path);

        let native = setup.native(&python_command(&setup.dir.path, "attempt('link', lambda: sys_call('link', 'noread/file', 'pub/check'))\nos.unlink('pub/check')"));
        assert_lines(&native, &["link ok 0"], &format!("native link as {who:?}"));

        let output = setup.sandboxed(&rules, &python_command(&setup.dir.path, body));
        let mut expected = Vec::new();
        for name in ["noread", "nowrite", "noexec"] {
            expected.push(format!("link {name} EACCES"));
            expected.push(format!("rename {name} EACCES"));
            expected.push(format!("exchange {name} EACCES"));
        }
        expected.push("link within noread ok 0".to_owned());
        expected.push("link pub ok 0".to_owned());
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        assert_lines(&output, &expected, &format!("python as {who:?}"));
        fs::remove_file(setup.dir.join("noread/second")).expect("remove noread/second");
        fs::remove_file(setup.dir.join("pub/other2")).expect("remove pub/other2");
        assert_eq!(
            snapshot(&setup.dir.path),
            before,
            "the tree changed as {who:?}"
        );

        let ln = setup.sandboxed(&rules, &strings!["ln", "noread/file", "pub/file"]);
        assert_failed_with(&ln, "Permission denied", &format!("ln as {who:?}"));
        assert!(
            !setup.dir.join("pub/file").exists(),
            "ln created pub/file as {who:?}"
        );
    }
}

#[test]
fn replacing_destination_needs_delete() {
    for who in identities() {
        let setup = DenialSetup::new(who, "replace");
        setup.write("source.txt", "new contents\n");
        setup.write("target.txt", "old contents\n");
        let rules = strings!["--deny-delete", setup.path("target.txt")];
        let before = snapshot(&setup.dir.path);

        let mv = setup.sandboxed(&rules, &strings!["mv", "source.txt", "target.txt"]);
        assert_failed_with(&mv, "Permission denied", &format!("mv as {who:?}"));
        assert_eq!(
            snapshot(&setup.dir.path),
            before,
            "mv changed the tree as {who:?}"
        );
        let records = setup.records();
        let deletes: Vec<&LogRecord> = records
            .iter()
            .filter(|record| log_str(record, "category") == Some("delete"))
            .collect();
        assert_eq!(
            deletes.len(),
            1,
            "as {who:?}, expected one delete record:\n{}",
            format_records(&records)
        );
        assert_eq!(
            log_str(deletes[0], "path"),
            Some(setup.path("target.txt").as_str())
        );

        let body = r#"
attempt("rename replace", lambda: sys_call("rename", "source.txt", "target.txt"))
attempt("renameat2 noreplace", lambda: sys_call("renameat2", AT_FDCWD, "source.txt", AT_FDCWD, "target.txt", 1))
attempt("exchange", lambda: sys_call("renameat2", AT_FDCWD, "source.txt", AT_FDCWD, "target.txt", 2))
attempt("rename fresh", lambda: sys_call("rename", "source.txt", "fresh.txt"))
"#;
        let output = setup.sandboxed(&rules, &python_command(&setup.dir.path, body));
        assert_lines(
            &output,
            &[
                "rename replace EACCES",
                "renameat2 noreplace EEXIST",
                // An exchange moves the protected file to the other name, where it could be
                // deleted, so it needs delete on both names.
                "exchange EACCES",
                "rename fresh ok 0",
            ],
            &format!("python as {who:?}"),
        );
        assert_eq!(
            fs::read_to_string(setup.dir.join("source.txt")).ok(),
            None,
            "source.txt still exists as {who:?}"
        );
        assert_eq!(
            fs::read_to_string(setup.dir.join("fresh.txt")).expect("read fresh.txt"),
            "new contents\n"
        );
        assert_eq!(
            fs::read_to_string(setup.dir.join("target.txt")).expect("read target.txt"),
            "old contents\n"
        );
    }
}

#[test]
fn attr_denied_for_chmod_touch_truncate_chown_setfattr() {
    for who in identities() {
        let setup = DenialSetup::new(who, "deny-attr");
        setup.write("denied.txt", "unchanged\n");
        setup.write("allowed.txt", "changes\n");
        let rules = strings!["--deny-attr", setup.path("denied.txt")];
        let uid = fs::metadata(&setup.dir.path)
            .expect("stat scratch")
            .uid()
            .to_string();
        let cases: [(&str, &str, Vec<String>, String); 5] = [
            (
                "chmod",
                "fchmodat",
                strings!["chmod", "600"],
                "chmod: changing permissions of 'denied.txt': Permission denied".to_owned(),
            ),
            (
                "touch",
                "utimensat",
                strings!["touch", "-d", "@1000000000"],
                "touch: setting times of 'denied.txt': Permission denied".to_owned(),
            ),
            (
                "truncate",
                "ftruncate",
                strings!["truncate", "-s", "2"],
                "truncate: failed to truncate 'denied.txt' at 2 bytes: Permission denied"
                    .to_owned(),
            ),
            (
                "chown",
                "fchownat",
                strings!["chown", uid],
                "chown: changing ownership of 'denied.txt': Permission denied".to_owned(),
            ),
            (
                "setfattr",
                "setxattr",
                strings!["setfattr", "-n", "user.tag", "-v", "1"],
                "denied.txt: Permission denied".to_owned(),
            ),
        ];
        for (name, call, command, message) in cases {
            let before = snapshot(&setup.dir.join("denied.txt"));
            let allowed_before = snapshot(&setup.dir.join("allowed.txt"));
            let mut denied_command = command.clone();
            denied_command.push("denied.txt".to_owned());
            let output = setup.sandboxed(&rules, &denied_command);
            assert_failed_with(&output, &message, &format!("{name} as {who:?}"));
            assert_eq!(
                snapshot(&setup.dir.join("denied.txt")),
                before,
                "{name} changed the denied file as {who:?}"
            );
            setup.assert_one_denial("attr", &setup.path("denied.txt"), name);
            let records = setup.records();
            assert_eq!(
                log_str(&records[0], "syscall"),
                Some(call),
                "{name}: syscall of {}",
                format_records(&records)
            );

            let mut allowed_command = command.clone();
            allowed_command.push("allowed.txt".to_owned());
            let allowed = setup.sandboxed(&rules, &allowed_command);
            assert!(
                allowed.status.success(),
                "{name} on the allowed file as {who:?}:\n{}",
                describe(&allowed)
            );
            if name != "chown" {
                assert_ne!(
                    snapshot(&setup.dir.join("allowed.txt")),
                    allowed_before,
                    "{name} did not change the allowed file as {who:?}"
                );
            }
        }
    }
}

#[test]
fn access_modes_follow_read_write_exec_rules() {
    let body = r#"
for name in ("noread", "nowrite", "noexec", "plain"):
    for mode_name, mode in (("F", os.F_OK), ("R", os.R_OK), ("W", os.W_OK), ("X", os.X_OK)):
        attempt(f"access {name} {mode_name}", lambda: sys_call("access", name, mode))
        attempt(f"faccessat2 {name} {mode_name}", lambda: sys_call("faccessat2", AT_FDCWD, name, mode, 0x200))
for name in ("noread", "nowrite", "noexec"):
    flag = {"noread": "-r", "nowrite": "-w", "noexec": "-x"}[name]
    print("test", name, subprocess.run(["sh", "-c", f"test {flag} {name}"]).returncode, flush=True)
"#;
    for who in identities() {
        let setup = DenialSetup::new(who, "access-modes");
        for name in ["noread", "nowrite", "noexec", "plain"] {
            setup.write(name, "#!/bin/sh\n");
            fs::set_permissions(setup.dir.join(name), fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        let rules = strings![
            "--deny-read",
            setup.path("noread"),
            "--deny-write",
            setup.path("nowrite"),
            "--deny-exec",
            setup.path("noexec"),
        ];
        let command = python_command(&setup.dir.path, body);

        let mut expected_native = Vec::new();
        let mut expected = Vec::new();
        for name in ["noread", "nowrite", "noexec", "plain"] {
            for mode in ["F", "R", "W", "X"] {
                let denied = matches!(
                    (name, mode),
                    ("noread", "R") | ("nowrite", "W") | ("noexec", "X")
                );
                for call in ["access", "faccessat2"] {
                    expected_native.push(format!("{call} {name} {mode} ok 0"));
                    expected.push(format!(
                        "{call} {name} {mode} {}",
                        if denied { "EACCES" } else { "ok 0" }
                    ));
                }
            }
        }
        for name in ["noread", "nowrite", "noexec"] {
            expected_native.push(format!("test {name} 0"));
            expected.push(format!("test {name} 1"));
        }
        let native = setup.native(&command);
        assert_lines(
            &native,
            &expected_native
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            &format!("native as {who:?}"),
        );
        let output = setup.sandboxed(&rules, &command);
        assert_lines(
            &output,
            &expected.iter().map(String::as_str).collect::<Vec<_>>(),
            &format!("cordon as {who:?}"),
        );
        let records = setup.records();
        assert!(
            records.is_empty(),
            "as {who:?}, access answers were logged:\n{}",
            format_records(&records)
        );
    }
}

/// `open_tree` without `OPEN_TREE_CLONE` is an `O_PATH` open: it needs read and gives an fd
/// natively and under cordon; a clone needs a mount namespace and is refused with `EPERM`.
#[test]
fn open_tree_is_checked_like_open() {
    const OPEN_TREE_CLONE: u32 = 1;
    const OPEN_TREE_CLOEXEC: u32 = 0o2000000;
    for who in identities() {
        let dir = common::Scratch::new(who, "open-tree");
        dir.write(who, "readable", b"r");
        dir.write(who, "secret", b"s");
        let body = format!(
            r#"
attempt("readable", lambda: os.close(sys_call("open_tree", AT_FDCWD, d + "/readable", {OPEN_TREE_CLOEXEC})) or 0)
attempt("secret", lambda: os.close(sys_call("open_tree", AT_FDCWD, d + "/secret", {OPEN_TREE_CLOEXEC})) or 0)
attempt("missing", lambda: sys_call("open_tree", AT_FDCWD, d + "/missing", {OPEN_TREE_CLOEXEC}))
attempt("clone", lambda: sys_call("open_tree", AT_FDCWD, d + "/readable", {OPEN_TREE_CLONE}))
"#
        );
        let command = python_command(&dir.path, &body);
        let policy = strings!["-q", "--deny-read", dir.join("secret").display().to_string()];
        let output = run_sandboxed(who, &dir.path, &policy, &command);
        assert_lines(
            &output,
            &["readable ok 0", "secret EACCES", "missing ENOENT", "clone EPERM"],
            &format!("open_tree under cordon as {who:?}"),
        );
    }
}

/// Calls on an open file are checked against the file's name when their category has rules,
/// and run in the kernel when it has none.
#[test]
fn fd_forms_follow_category_rules() {
    let body = r#"
fd = os.open("target", os.O_RDWR)
attempt("fstat", lambda: os.fstat(fd).st_size)
attempt("ftruncate", lambda: os.ftruncate(fd, 1))
attempt("fchmod", lambda: os.fchmod(fd, 0o640))
"#;
    for who in identities() {
        let dir = common::Scratch::new(who, "fd-forms");
        let target = dir.write(who, "target", b"contents");
        let target_text = target.display().to_string();
        let command = python_command(&dir.path, body);
        let cases: [(Vec<String>, [&str; 3]); 3] = [
            (strings!["-q", "--allow-write", &target_text, "--deny-stat", &target_text], ["fstat EACCES", "ftruncate ok None", "fchmod ok None"]),
            (strings!["-q", "--allow-write", &target_text, "--deny-attr", &target_text], ["fstat ok 8", "ftruncate EACCES", "fchmod EACCES"]),
            // No attr rules: the fd-only calls run in the kernel, whatever attr's default.
            (strings!["-q", "--allow-write", &target_text], ["fstat ok 8", "ftruncate ok None", "fchmod ok None"]),
        ];
        for (policy, expected) in cases {
            std::fs::write(&target, b"contents").expect("reset target");
            let output = run_sandboxed(who, &dir.path, &policy, &command);
            assert_lines(&output, &expected, &format!("{policy:?} as {who:?}"));
        }
    }
}

/// Device nodes are never created, even by root in a tree where creating is allowed, while
/// FIFOs and sockets are.
#[test]
fn device_nodes_refused() {
    let body = r#"
attempt("char", lambda: sys_call("mknod", d + "/null-copy", 0o20666, os.makedev(1, 3)))
attempt("block", lambda: sys_call("mknod", d + "/disk", 0o60600, os.makedev(8, 0)))
attempt("fifo", lambda: sys_call("mknod", d + "/fifo", 0o10600, 0))
"#;
    for who in identities() {
        let dir = common::Scratch::new(who, "mknod-devices");
        let tree = format!("{}/**", dir.path.display());
        let command = python_command(&dir.path, body);
        let output = run_sandboxed(who, &dir.path, &strings!["-q", "--allow-modify", tree], &command);
        assert_lines(&output, &["char EPERM", "block EPERM", "fifo ok 0"], &format!("mknod under cordon as {who:?}"));
        assert!(!dir.join("null-copy").exists(), "a device node was created as {who:?}");
    }
}

/// A privileged sandbox cannot make set-user-ID programs or give files capabilities in a tree
/// it may change: chmod and fchmod with the bits give EPERM, a new file loses them, and
/// `security.capability` cannot be set. An unprivileged caller may set the bits on its own
/// files, as natively.
#[test]
fn privilege_bits_refused_to_root() {
    let body = r#"
open(d + "/prog", "w").close()
attempt("chmod", lambda: os.chmod(d + "/prog", 0o4755))
fd = os.open(d + "/prog", os.O_RDONLY)
attempt("fchmod", lambda: os.fchmod(fd, 0o2755))
attempt("plain chmod", lambda: os.chmod(d + "/prog", 0o755))
os.close(os.open(d + "/created", os.O_WRONLY | os.O_CREAT, 0o4755))
attempt("created mode", lambda: oct(os.stat(d + "/created").st_mode & 0o7777))
attempt("setcap", lambda: os.setxattr(d + "/prog", "security.capability", b"\x01\x00\x00\x02" + b"\x00" * 16))
"#;
    for who in identities() {
        let dir = common::Scratch::new(who, "privilege-bits");
        let tree = format!("{}/**", dir.path.display());
        let command = python_command(&dir.path, body);
        // Only the bits a privileged identity could misuse are refused.
        let expected: Vec<&str> = if who == Identity::Invoker && common::is_root() {
            vec!["chmod EPERM", "fchmod EPERM", "plain chmod ok None", "created mode ok 0o755", "setcap EPERM"]
        } else {
            vec!["chmod ok None", "fchmod ok None", "plain chmod ok None", "created mode ok 0o4755", "setcap EPERM"]
        };
        // With attr rules every chmod reaches the supervisor; without them fchmod of plain
        // modes runs in the kernel and only the special bits reach it.
        for policy in [strings!["-q", "--allow-modify", &tree], strings!["-q", "--allow-write", &tree, "--allow-create", &tree]] {
            let _ = std::fs::remove_file(dir.join("created"));
            let _ = std::fs::remove_file(dir.join("prog"));
            let output = run_sandboxed(who, &dir.path, &policy, &command);
            if policy.len() == 3 {
                assert_lines(&output, &expected, &format!("{policy:?} as {who:?}"));
            } else {
                // Without attr rules, chmod is denied by attr's default; fchmod is checked by
                // the supervisor only for the special bits.
                let fchmod = output_line(&output, "fchmod");
                assert_eq!(fchmod, expected[1], "{policy:?} as {who:?}\n{}", describe(&output));
            }
        }
    }
}

fn output_line(output: &std::process::Output, prefix: &str) -> String {
    String::from_utf8_lossy(&output.stdout).lines().find(|line| line.starts_with(&format!("{prefix} "))).unwrap_or_default().to_owned()
}
