//! Denied, hidden and audited opens: the exact errno the program sees, that a denied create
//! leaves nothing behind, the stderr line for each decision and the `--log` JSON records.

mod common;

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Output;

use common::sandbox::{
    base64, is_log_time, log_int, log_str, path_str, program_stderr, read_audit_log, stderr_text,
    stdout_text, Launch, LogRecord, PYTHON, PY_ATTEMPT,
};
use common::{describe, identities, Scratch};

/// Runs a Python script with `PY_ATTEMPT` defined and the scratch directory as `sys.argv[1]`.
fn python(dir: &Scratch, body: &str) -> Vec<String> {
    strings![
        PYTHON,
        "-c",
        format!("{PY_ATTEMPT}\nd = sys.argv[1]\n{body}"),
        path_str(&dir.path)
    ]
}

/// Returns the stderr lines cordon wrote for its decisions.
fn decision_lines(output: &Output) -> Vec<String> {
    stderr_text(output)
        .lines()
        .filter(|line| line.starts_with("cordon: "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn denied_read_gives_eacces() {
    for who in identities() {
        let dir = Scratch::new(who, "deny-read");
        let secret = dir.write(who, "secret.txt", b"top secret\n");
        let command = python(
            &dir,
            r#"attempt("read", lambda: open(os.path.join(d, "secret.txt")).read().strip())"#,
        );
        let launch = Launch::new(who, &dir.path);

        let native = launch.native(&command);
        assert_eq!(
            stdout_text(&native),
            "read ok top secret\n",
            "native run as {who:?}:\n{}",
            describe(&native)
        );

        let policy = strings!["--deny-read", path_str(&secret)];
        let sandboxed = launch.sandboxed(&policy, &command);
        assert_eq!(
            stdout_text(&sandboxed),
            "read EACCES\n",
            "cordon as {who:?}:\n{}",
            describe(&sandboxed)
        );
        assert_eq!(
            sandboxed.status.code(),
            Some(0),
            "python as {who:?} should exit 0:\n{}",
            describe(&sandboxed)
        );
    }
}

#[test]
fn denied_read_prints_one_stderr_line() {
    for who in identities() {
        let dir = Scratch::new(who, "deny-line");
        let secret = path_str(&dir.write(who, "secret.txt", b"top secret\n"));
        let command = python(
            &dir,
            r#"attempt("read", lambda: open(os.path.join(d, "secret.txt")).read())
print(os.getpid())"#,
        );

        let sandboxed =
            Launch::new(who, &dir.path).sandboxed(&strings!["--deny-read", secret], &command);
        let pid = stdout_text(&sandboxed)
            .lines()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let expected = format!(
            "cordon: denied read of \"{secret}\" (openat, pid {pid}, rule --deny-read {secret})"
        );
        assert_eq!(
            decision_lines(&sandboxed),
            vec![expected],
            "stderr as {who:?}:\n{}",
            describe(&sandboxed)
        );
    }
}

#[test]
fn quiet_suppresses_denial_line() {
    for who in identities() {
        let dir = Scratch::new(who, "quiet");
        let secret = path_str(&dir.write(who, "secret.txt", b"top secret\n"));
        let command = python(
            &dir,
            r#"attempt("read", lambda: open(os.path.join(d, "secret.txt")).read())"#,
        );

        let sandboxed = Launch::new(who, &dir.path)
            .sandboxed(&strings!["--quiet", "--deny-read", secret], &command);
        assert_eq!(
            stdout_text(&sandboxed),
            "read EACCES\n",
            "cordon --quiet as {who:?}:\n{}",
            describe(&sandboxed)
        );
        assert!(
            sandboxed.stderr.is_empty(),
            "cordon --quiet as {who:?} wrote to stderr:\n{}",
            describe(&sandboxed)
        );
    }
}

#[test]
fn hidden_file_looks_nonexistent() {
    // Python prints the exception type, errno name and strerror but not the file name, so
    // the hidden and the missing names must give identical lines.
    let body = r#"
for name in ("hidden.txt", "missing.txt", "hidden-dir/inner.txt"):
    try:
        open(os.path.join(d, name))
    except OSError as error:
        print(type(error).__name__, errno.errorcode[error.errno], error.strerror)
    else:
        print("opened")
"#;
    for who in identities() {
        let dir = Scratch::new(who, "hide");
        let hidden = dir.write(who, "hidden.txt", b"invisible\n");
        fs::create_dir(dir.join("hidden-dir")).expect("create hidden-dir");
        dir.write(who, "hidden-dir/inner.txt", b"also invisible\n");
        let launch = Launch::new(who, &dir.path);
        let command = python(&dir, body);
        let policy = strings![
            "--hide",
            path_str(&hidden),
            "--hide",
            path_str(&dir.join("hidden-dir"))
        ];

        let native = launch.native(&command);
        assert_eq!(
            stdout_text(&native),
            "opened\nFileNotFoundError ENOENT No such file or directory\nopened\n",
            "native run as {who:?}:\n{}",
            describe(&native)
        );

        let sandboxed = launch.sandboxed(&policy, &command);
        let missing = "FileNotFoundError ENOENT No such file or directory\n";
        assert_eq!(
            stdout_text(&sandboxed),
            missing.repeat(3),
            "python under cordon as {who:?}:\n{}",
            describe(&sandboxed)
        );
    }
}

#[test]
fn hidden_file_cat_message_matches_missing() {
    for who in identities() {
        let dir = Scratch::new(who, "hide-cat");
        let hidden = dir.write(who, "same-name", b"invisible\n");
        let launch = Launch::new(who, &dir.path);
        let policy = strings!["--quiet", "--hide", path_str(&hidden)];

        let hidden_run = launch.sandboxed(&policy, &strings!["cat", "same-name"]);
        fs::remove_file(&hidden).expect("remove the hidden file");
        let missing_run = launch.sandboxed(&strings!["--quiet"], &strings!["cat", "same-name"]);
        let native_missing = launch.native(&strings!["cat", "same-name"]);

        assert_eq!(
            hidden_run.stdout,
            b"",
            "cat printed a hidden file as {who:?}:\n{}",
            describe(&hidden_run)
        );
        assert_eq!(
            hidden_run.stderr,
            missing_run.stderr,
            "cat's message for a hidden file differs from a missing one as {who:?}\n--- hidden\n{}\n--- missing\n{}",
            describe(&hidden_run),
            describe(&missing_run)
        );
        assert_eq!(
            missing_run.stderr,
            native_missing.stderr,
            "cat's message for a missing file differs from native as {who:?}\n--- cordon\n{}\n--- native\n{}",
            describe(&missing_run),
            describe(&native_missing)
        );
        assert_eq!(
            hidden_run.status.code(),
            native_missing.status.code(),
            "cat status as {who:?}:\n{}",
            describe(&hidden_run)
        );
    }
}

#[test]
fn hidden_file_logs_hid_line() {
    for who in identities() {
        let dir = Scratch::new(who, "hide-line");
        let hidden = path_str(&dir.write(who, "hidden.txt", b"invisible\n"));
        let output = Launch::new(who, &dir.path)
            .sandboxed(&strings!["--hide", hidden], &strings!["cat", hidden]);

        let lines = decision_lines(&output);
        assert_eq!(
            lines.len(),
            1,
            "expected one decision line as {who:?}:\n{}",
            describe(&output)
        );
        assert!(
            lines[0].starts_with(&format!("cordon: hid read of \"{hidden}\" (openat, pid ")),
            "hide line as {who:?}: {}",
            lines[0]
        );
        assert!(
            lines[0].ends_with(&format!(", rule --hide {hidden})")),
            "hide line as {who:?}: {}",
            lines[0]
        );
    }
}

#[test]
fn denied_create_creates_nothing() {
    let body = r#"
attempt("create", lambda: os.open(os.path.join(d, "new.txt"), os.O_WRONLY | os.O_CREAT, 0o644))
print("exists", os.path.exists(os.path.join(d, "new.txt")))
"#;
    for who in identities() {
        let dir = Scratch::new(who, "deny-create");
        let new_file = dir.join("new.txt");
        let tree = format!("{}/**", path_str(&dir.path));
        // A glob, because a deny rule's literal prefix must exist when the policy loads.
        let denied = format!("{}/new.*", path_str(&dir.path));
        let policy = strings![
            "--allow-write",
            tree,
            "--allow-modify",
            tree,
            "--deny-create",
            denied
        ];

        let output = Launch::new(who, &dir.path).sandboxed(&policy, &python(&dir, body));
        assert_eq!(
            stdout_text(&output),
            "create EACCES\nexists False\n",
            "cordon as {who:?}:\n{}",
            describe(&output)
        );
        assert!(
            !new_file.exists(),
            "a denied O_CREAT left {} behind as {who:?}",
            new_file.display()
        );
    }
}

#[test]
fn o_creat_of_existing_file_needs_no_create() {
    // O_CREAT on a file that exists creates nothing, so only the write rule applies.
    let body = r#"
def write_existing():
    fd = os.open(os.path.join(d, "existing.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    return os.write(fd, b"rewritten\n")
attempt("open existing", write_existing)
"#;
    for who in identities() {
        let dir = Scratch::new(who, "creat-existing");
        let existing = dir.write(who, "existing.txt", b"original\n");
        let tree = format!("{}/**", path_str(&dir.path));
        let policy = strings!["--allow-write", tree, "--deny-create", tree];

        let output = Launch::new(who, &dir.path).sandboxed(&policy, &python(&dir, body));
        assert_eq!(
            stdout_text(&output),
            "open existing ok 10\n",
            "cordon as {who:?}:\n{}",
            describe(&output)
        );
        assert_eq!(
            fs::read(&existing).expect("read existing.txt"),
            b"rewritten\n",
            "file contents as {who:?}"
        );
    }
}

#[test]
fn exclusive_create_on_hidden_name_gives_eacces() {
    let body = r#"
flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
attempt("existing", lambda: os.open(os.path.join(d, "hidden-existing"), flags, 0o644))
attempt("absent", lambda: os.open(os.path.join(d, "hidden-absent"), flags, 0o644))
"#;
    for who in identities() {
        // Natively the same calls give EEXIST and success, so EACCES under cordon is cordon's.
        let native_dir = Scratch::new(who, "hide-excl-native");
        native_dir.write(who, "hidden-existing", b"keep\n");
        let native = Launch::new(who, &native_dir.path).native(&python(&native_dir, body));
        assert!(
            stdout_text(&native).starts_with("existing EEXIST\nabsent ok "),
            "native as {who:?}:\n{}",
            describe(&native)
        );

        let dir = Scratch::new(who, "hide-excl");
        let existing = dir.write(who, "hidden-existing", b"keep\n");
        let absent = dir.join("hidden-absent");
        let tree = format!("{}/**", path_str(&dir.path));
        // One glob covers both names, because a hide rule's literal prefix must exist when
        // the policy loads.
        let hidden = format!("{}/hidden-*", path_str(&dir.path));
        let policy = strings![
            "--allow-write",
            tree,
            "--allow-modify",
            tree,
            "--hide",
            hidden
        ];

        let sandboxed = Launch::new(who, &dir.path).sandboxed(&policy, &python(&dir, body));
        assert_eq!(
            stdout_text(&sandboxed),
            "existing EACCES\nabsent EACCES\n",
            "cordon as {who:?}:\n{}",
            describe(&sandboxed)
        );
        assert!(
            !absent.exists(),
            "O_CREAT|O_EXCL on a hidden name created it as {who:?}"
        );
        assert_eq!(
            fs::read(&existing).expect("read hidden-existing"),
            b"keep\n",
            "hidden file changed as {who:?}"
        );
    }
}

/// Returns the single record whose `path` is `path`, failing with the whole log otherwise.
fn record_for<'a>(records: &'a [LogRecord], path: &str) -> &'a LogRecord {
    let matching: Vec<&LogRecord> = records
        .iter()
        .filter(|record| log_str(record, "path") == Some(path))
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "expected exactly one log record for {path}, log:\n{records:#?}"
    );
    matching[0]
}

#[test]
fn audit_log_records_each_decision_once() {
    let body = r#"
print(os.getpid())
attempt("read", lambda: open(os.path.join(d, "no-read.txt")).read())
attempt("write", lambda: open(os.path.join(d, "no-write.txt"), "w"))
attempt("hide", lambda: open(os.path.join(d, "hidden.txt")).read())
attempt("audit", lambda: open(os.path.join(d, "audited.txt")).read().strip())
attempt("allowed", lambda: open(os.path.join(d, "plain.txt")).read().strip())
"#;
    for who in identities() {
        let dir = Scratch::new(who, "log");
        let logs = Scratch::new(who, "log-file");
        let log = logs.join("audit.jsonl");
        let no_read = path_str(&dir.write(who, "no-read.txt", b"r\n"));
        let no_write = path_str(&dir.write(who, "no-write.txt", b"w\n"));
        let hidden = path_str(&dir.write(who, "hidden.txt", b"h\n"));
        let audited = path_str(&dir.write(who, "audited.txt", b"a\n"));
        let plain = path_str(&dir.write(who, "plain.txt", b"p\n"));
        let write_pattern = format!("{}/no-write.*", path_str(&dir.path));
        let policy = strings![
            "--log",
            path_str(&log),
            "--deny-read",
            no_read,
            "--deny-write",
            write_pattern,
            "--hide",
            hidden,
            "--audit-read",
            audited,
        ];

        let output = Launch::new(who, &dir.path).sandboxed(&policy, &python(&dir, body));
        let stdout = stdout_text(&output);
        let mut lines = stdout.lines();
        let pid: i64 = lines
            .next()
            .and_then(|line| line.parse().ok())
            .unwrap_or_else(|| panic!("no pid as {who:?}:\n{}", describe(&output)));
        assert_eq!(
            lines.collect::<Vec<_>>(),
            [
                "read EACCES",
                "write EACCES",
                "hide ENOENT",
                "audit ok a",
                "allowed ok p"
            ],
            "python under cordon as {who:?}:\n{}",
            describe(&output)
        );

        let records = read_audit_log(&log);
        assert_eq!(
            records.len(),
            4,
            "expected four decisions as {who:?}, log:\n{records:#?}"
        );
        let expected = [
            (&no_read, "read", "deny", format!("--deny-read {no_read}")),
            (
                &no_write,
                "write",
                "deny",
                format!("--deny-write {write_pattern}"),
            ),
            (&hidden, "read", "hide", format!("--hide {hidden}")),
            (&audited, "read", "audit", format!("--audit-read {audited}")),
        ];
        for (path, category, action, rule) in expected {
            let record = record_for(&records, path);
            let keys: Vec<&str> = record.keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                ["action", "category", "path", "pid", "rule", "syscall", "tid", "time"],
                "fields of {path}"
            );
            assert_eq!(
                log_str(record, "action"),
                Some(action),
                "action of {path}: {record:?}"
            );
            assert_eq!(
                log_str(record, "category"),
                Some(category),
                "category of {path}: {record:?}"
            );
            assert_eq!(
                log_str(record, "rule"),
                Some(rule.as_str()),
                "rule of {path}: {record:?}"
            );
            assert_eq!(
                log_str(record, "syscall"),
                Some("openat"),
                "syscall of {path}: {record:?}"
            );
            assert_eq!(
                log_int(record, "pid"),
                Some(pid),
                "pid of {path}: {record:?}"
            );
            assert_eq!(
                log_int(record, "tid"),
                Some(pid),
                "tid of {path} (single-threaded): {record:?}"
            );
            let time = log_str(record, "time").unwrap_or_default();
            assert!(
                is_log_time(time),
                "time of {path} is not YYYY-MM-DDTHH:MM:SS.mmmZ: {record:?}"
            );
        }
        assert!(
            records
                .iter()
                .all(|record| log_str(record, "path") != Some(plain.as_str())),
            "an allowed open was logged as {who:?}: {records:#?}"
        );
    }
}

#[test]
fn non_utf8_path_logged_as_base64() {
    let body = r#"
name = os.path.join(os.fsencode(d), b"bad\xff.txt")
attempt("read", lambda: open(name).read())
"#;
    for who in identities() {
        let dir = Scratch::new(who, "log-b64");
        let logs = Scratch::new(who, "log-b64-file");
        let log = logs.join("audit.jsonl");
        let mut name = dir.path.as_os_str().as_bytes().to_vec();
        name.extend_from_slice(b"/bad\xff.txt");
        let file = Path::new(std::ffi::OsStr::from_bytes(&name));
        fs::write(file, b"bytes\n").expect("write the non-UTF-8 file");
        if who == common::Identity::Unprivileged {
            let (uid, gid) = common::user_ids().expect("test user exists");
            std::os::unix::fs::chown(file, Some(uid), Some(gid)).expect("chown the non-UTF-8 file");
        }
        let pattern = format!("{}/bad*", path_str(&dir.path));
        let policy = strings!["--log", path_str(&log), "--deny-read", pattern];

        let output = Launch::new(who, &dir.path).sandboxed(&policy, &python(&dir, body));
        assert_eq!(
            stdout_text(&output),
            "read EACCES\n",
            "cordon as {who:?}:\n{}",
            describe(&output)
        );

        let records = read_audit_log(&log);
        assert_eq!(
            records.len(),
            1,
            "expected one decision as {who:?}: {records:#?}"
        );
        assert_eq!(
            log_str(&records[0], "path_b64"),
            Some(base64(&name).as_str()),
            "path_b64: {:?}",
            records[0]
        );
        assert!(
            !records[0].contains_key("path"),
            "a non-UTF-8 path also has a `path` field: {:?}",
            records[0]
        );
        assert_eq!(
            log_str(&records[0], "rule"),
            Some(format!("--deny-read {pattern}").as_str()),
            "rule: {:?}",
            records[0]
        );

        let escaped = format!("\"{}/bad\\xff.txt\"", path_str(&dir.path));
        let lines = decision_lines(&output);
        assert_eq!(
            lines.len(),
            1,
            "expected one denial line as {who:?}:\n{}",
            describe(&output)
        );
        assert!(
            lines[0]
                .to_ascii_lowercase()
                .contains(&escaped.to_ascii_lowercase()),
            "the line does not contain {escaped}: {}",
            lines[0]
        );
    }
}

#[test]
fn newline_in_path_escaped_on_stderr() {
    let body = r#"attempt("read", lambda: open(os.path.join(d, "new\nline.txt")).read())"#;
    for who in identities() {
        let dir = Scratch::new(who, "escape");
        dir.write(who, "new\nline.txt", b"text\n");
        let pattern = format!("{}/new*", path_str(&dir.path));

        let output = Launch::new(who, &dir.path)
            .sandboxed(&strings!["--deny-read", pattern], &python(&dir, body));
        assert_eq!(
            stdout_text(&output),
            "read EACCES\n",
            "cordon as {who:?}:\n{}",
            describe(&output)
        );

        let stderr = stderr_text(&output);
        let lines = decision_lines(&output);
        assert_eq!(
            lines.len(),
            1,
            "expected one denial line as {who:?}:\n{}",
            describe(&output)
        );
        let escaped = format!("\"{}/new\\x0aline.txt\"", path_str(&dir.path));
        assert!(
            lines[0]
                .to_ascii_lowercase()
                .contains(&escaped.to_ascii_lowercase()),
            "the line does not contain {escaped}: {:?}",
            lines[0]
        );
        assert!(
            !stderr.lines().any(|line| line.starts_with("line.txt")),
            "a raw newline split the denial line as {who:?}: {stderr:?}"
        );
        assert_eq!(
            program_stderr(&output),
            "",
            "unexpected program stderr as {who:?}:\n{}",
            describe(&output)
        );
    }
}
