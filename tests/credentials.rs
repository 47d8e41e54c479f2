//! A sandboxed process that changed its credentials keeps exactly those credentials for the
//! opens cordon performs on its behalf. cordon runs as root here, so a supervisor that
//! opened files with its own credentials would fail these tests by reading or writing what
//! the kernel forbids the child.

mod common;

use std::fs;
use std::os::unix::fs::{chown, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::sandbox::{
    log_str, path_str, program_stderr, read_audit_log, stdout_text, Launch, PYTHON, PY_ATTEMPT,
};
use common::{describe, is_root, user_ids, Identity, Scratch, TEST_USER};

/// Returns false, after saying why, when the suite is not running as root.
fn running_as_root(test: &str) -> bool {
    if !is_root() {
        eprintln!("skipped {test}: changing to another user or dropping capabilities needs root");
        return false;
    }
    common::identities(); // creates the test user when it is missing
    true
}

/// Returns `setpriv` arguments that switch to the test user with its groups.
fn as_test_user() -> Vec<String> {
    strings![
        "setpriv",
        format!("--reuid={TEST_USER}"),
        format!("--regid={TEST_USER}"),
        "--init-groups",
        "--"
    ]
}

/// Returns `setpriv` arguments that keep uid 0 but remove `caps` (names such as
/// `dac_override`) from the inheritable and bounding sets. For uid 0 the kernel computes
/// the permitted and effective sets after exec as inheritable | bounding, so the program
/// that setpriv executes runs without those capabilities. The scripts confirm this by
/// printing CapEff from /proc/self/status.
fn without_caps(caps: &[&str]) -> Vec<String> {
    let removed: Vec<String> = caps.iter().map(|cap| format!("-{cap}")).collect();
    let removed = removed.join(",");
    strings![
        "setpriv",
        format!("--inh-caps={removed}"),
        format!("--bounding-set={removed}"),
        "--"
    ]
}

/// Python prelude that prints whether CAP_DAC_OVERRIDE (bit 1) and CAP_DAC_READ_SEARCH
/// (bit 2) are in the effective set.
const PY_PRINT_DAC_CAPS: &str = r#"
with open("/proc/self/status") as status:
    effective = next(int(line.split()[1], 16) for line in status if line.startswith("CapEff:"))
print("dac_override", bool(effective & 1 << 1), "dac_read_search", bool(effective & 1 << 2))
"#;

/// Writes `name` in `dir` with `contents`, mode 0600, owned by `uid`.
fn private_file(dir: &Scratch, name: &str, contents: &[u8], uid: u32, gid: u32) -> String {
    let file = dir.write(Identity::Invoker, name, contents);
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).expect("chmod 0600");
    chown(&file, Some(uid), Some(gid)).expect("chown private file");
    path_str(&file)
}

/// An audit log in a directory of its own, and a policy that audits every read, write and
/// create below a scratch directory. An audited open must reach the supervisor, which logs
/// it and performs it itself. Without such rules cordon may let the kernel check an open
/// directly, which would test the kernel instead of cordon's use of the child's credentials.
struct AuditedRun {
    _logs: Scratch,
    log: PathBuf,
    policy: Vec<String>,
}

impl AuditedRun {
    fn new(dir: &Scratch) -> AuditedRun {
        let logs = Scratch::new(Identity::Invoker, "creds-log");
        let log = logs.join("audit.jsonl");
        let tree = format!("{}/**", path_str(&dir.path));
        let policy = strings![
            "--log",
            path_str(&log),
            "--audit-read",
            tree,
            "--audit-write",
            tree,
            "--audit-create",
            tree
        ];
        AuditedRun {
            _logs: logs,
            log,
            policy,
        }
    }

    /// Asserts that the supervisor logged an audited open of `path`.
    fn assert_audited(&self, path: &str, what: &str) {
        let records = read_audit_log(&self.log);
        let audited = records.iter().any(|record| {
            log_str(record, "path") == Some(path) && log_str(record, "action") == Some("audit")
        });
        assert!(
            audited,
            "{what}: no audit record for {path}, log:\n{records:#?}"
        );
    }
}

fn python(body: &str, args: &[&str]) -> Vec<String> {
    let mut command = strings![PYTHON, "-c", format!("{PY_ATTEMPT}\n{body}")];
    command.extend(args.iter().map(ToString::to_string));
    command
}

#[test]
fn dropped_user_cannot_read_root_file() {
    if !running_as_root("dropped_user_cannot_read_root_file") {
        return;
    }
    let (uid, gid) = user_ids().expect("test user exists");
    let dir = Scratch::new(Identity::Invoker, "creds-read");
    let root_file = private_file(&dir, "root-only.txt", b"root secret\n", 0, 0);
    let user_file = private_file(&dir, "user-own.txt", b"user data\n", uid, gid);
    let body = r#"
attempt("root-only", lambda: open(sys.argv[1]).read().strip())
attempt("own", lambda: open(sys.argv[2]).read().strip())
"#;
    let mut command = as_test_user();
    command.extend(python(body, &[&root_file, &user_file]));
    let launch = Launch::new(Identity::Invoker, &dir.path);

    let native = launch.native(&command);
    assert_eq!(
        stdout_text(&native),
        "root-only EACCES\nown ok user data\n",
        "native run:\n{}",
        describe(&native)
    );

    let audited = AuditedRun::new(&dir);
    let sandboxed = launch.sandboxed(&audited.policy, &command);
    assert_eq!(
        sandboxed.stdout,
        native.stdout,
        "cordon differs from native:\n{}",
        describe(&sandboxed)
    );
    audited.assert_audited(&root_file, "the test user's open of a root-only file");
    audited.assert_audited(&user_file, "the test user's open of its own file");
}

#[test]
fn dropped_user_cat_gets_permission_denied() {
    if !running_as_root("dropped_user_cat_gets_permission_denied") {
        return;
    }
    let dir = Scratch::new(Identity::Invoker, "creds-cat");
    let root_file = private_file(&dir, "root-only.txt", b"root secret\n", 0, 0);
    let mut command = as_test_user();
    command.extend(strings!["cat", root_file]);

    let audited = AuditedRun::new(&dir);
    let output = Launch::new(Identity::Invoker, &dir.path).sandboxed(&audited.policy, &command);
    assert_eq!(
        output.stdout,
        b"",
        "cat printed a root-only file:\n{}",
        describe(&output)
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "cat exit status:\n{}",
        describe(&output)
    );
    assert!(
        program_stderr(&output).contains("Permission denied"),
        "cat did not report EACCES:\n{}",
        describe(&output)
    );
    audited.assert_audited(&root_file, "cat's open of a root-only file");
}

#[test]
fn root_without_dac_caps_cannot_read() {
    if !running_as_root("root_without_dac_caps_cannot_read") {
        return;
    }
    let (uid, gid) = user_ids().expect("test user exists");
    let dir = Scratch::new(Identity::Invoker, "creds-caps");
    // Root reads another user's 0600 file only through CAP_DAC_OVERRIDE or
    // CAP_DAC_READ_SEARCH, so both are removed.
    let file = private_file(&dir, "other-user.txt", b"not for root\n", uid, gid);
    let body =
        format!("{PY_PRINT_DAC_CAPS}\nattempt(\"read\", lambda: open(sys.argv[1]).read().strip())");
    let full_root = python(&body, &[&file]);
    let mut dropped = without_caps(&["dac_override", "dac_read_search"]);
    dropped.extend(python(&body, &[&file]));
    let launch = Launch::new(Identity::Invoker, &dir.path);

    let native_full = launch.native(&full_root);
    assert_eq!(
        stdout_text(&native_full),
        "dac_override True dac_read_search True\nread ok not for root\n",
        "native root run:\n{}",
        describe(&native_full)
    );
    let native_dropped = launch.native(&dropped);
    assert_eq!(
        stdout_text(&native_dropped),
        "dac_override False dac_read_search False\nread EACCES\n",
        "native run without the capabilities:\n{}",
        describe(&native_dropped)
    );

    let audited_full = AuditedRun::new(&dir);
    let sandboxed_full = launch.sandboxed(&audited_full.policy, &full_root);
    assert_eq!(
        sandboxed_full.stdout,
        native_full.stdout,
        "root under cordon:\n{}",
        describe(&sandboxed_full)
    );
    audited_full.assert_audited(&file, "root's open with all capabilities");
    let audited_dropped = AuditedRun::new(&dir);
    let sandboxed_dropped = launch.sandboxed(&audited_dropped.policy, &dropped);
    assert_eq!(
        sandboxed_dropped.stdout,
        native_dropped.stdout,
        "root without the capabilities under cordon:\n{}",
        describe(&sandboxed_dropped)
    );
    audited_dropped.assert_audited(&file, "root's open without the capabilities");
}

#[test]
fn root_without_dac_override_cannot_write() {
    if !running_as_root("root_without_dac_override_cannot_write") {
        return;
    }
    let (uid, gid) = user_ids().expect("test user exists");
    let dir = Scratch::new(Identity::Invoker, "creds-write");
    // CAP_DAC_READ_SEARCH does not cover writing, so removing CAP_DAC_OVERRIDE alone is
    // enough here.
    let file = private_file(&dir, "other-user.txt", b"original\n", uid, gid);
    let body = format!("{PY_PRINT_DAC_CAPS}\nattempt(\"write\", lambda: open(sys.argv[1], \"a\").write(\"appended\\n\"))");
    let mut dropped = without_caps(&["dac_override"]);
    dropped.extend(python(&body, &[&file]));
    let launch = Launch::new(Identity::Invoker, &dir.path);

    let native = launch.native(&dropped);
    assert_eq!(
        stdout_text(&native),
        "dac_override False dac_read_search True\nwrite EACCES\n",
        "native run without CAP_DAC_OVERRIDE:\n{}",
        describe(&native)
    );

    let audited = AuditedRun::new(&dir);
    let sandboxed = launch.sandboxed(&audited.policy, &dropped);
    assert_eq!(
        sandboxed.stdout,
        native.stdout,
        "cordon differs from native:\n{}",
        describe(&sandboxed)
    );
    assert_eq!(
        fs::read(&file).expect("read back"),
        b"original\n",
        "the file was written through cordon"
    );
    audited.assert_audited(&file, "root's open for writing without CAP_DAC_OVERRIDE");
}

/// Runs a shell script as the test user, with cordon (running as root) in between when
/// `sandboxed`, and returns the scratch directory it wrote in.
fn create_as_test_user(sandboxed: bool) -> Scratch {
    let dir = Scratch::new(
        Identity::Unprivileged,
        if sandboxed {
            "creds-umask-cordon"
        } else {
            "creds-umask-native"
        },
    );
    let script = "umask 077; echo private > private.txt; umask 002; echo shared > shared.txt";
    let mut command = as_test_user();
    command.extend(strings!["sh", "-c", script]);
    let launch = Launch::new(Identity::Invoker, &dir.path);
    if !sandboxed {
        let output = launch.native(&command);
        assert!(
            output.status.success(),
            "creating files natively:\n{}",
            describe(&output)
        );
        return dir;
    }

    let audited = AuditedRun::new(&dir);
    let output = launch.sandboxed(&audited.policy, &command);
    assert!(
        output.status.success(),
        "creating files under cordon:\n{}",
        describe(&output)
    );
    for name in ["private.txt", "shared.txt"] {
        audited.assert_audited(&path_str(&dir.join(name)), "the test user's create");
    }
    dir
}

fn mode_and_owner(file: &Path) -> (u32, u32, u32) {
    let metadata =
        fs::metadata(file).unwrap_or_else(|error| panic!("stat {}: {error}", file.display()));
    (metadata.mode() & 0o7777, metadata.uid(), metadata.gid())
}

#[test]
fn created_files_owned_by_dropped_user() {
    if !running_as_root("created_files_owned_by_dropped_user") {
        return;
    }
    let (uid, gid) = user_ids().expect("test user exists");
    let native = create_as_test_user(false);
    let sandboxed = create_as_test_user(true);

    for (name, mode) in [("private.txt", 0o600), ("shared.txt", 0o664)] {
        assert_eq!(
            mode_and_owner(&native.join(name)),
            (mode, uid, gid),
            "native {name}: mode, uid, gid"
        );
        let (actual_mode, actual_uid, actual_gid) = mode_and_owner(&sandboxed.join(name));
        assert_eq!(
            actual_uid, uid,
            "{name} created through cordon is not owned by {TEST_USER}"
        );
        assert_eq!(
            actual_gid, gid,
            "{name} created through cordon has the wrong group"
        );
        assert_eq!(
            actual_mode, mode,
            "{name} created through cordon ignores the umask: mode {actual_mode:o}"
        );
    }
}

/// Python prelude defining `set_dac_caps(on)`, which adds CAP_DAC_OVERRIDE and
/// CAP_DAC_READ_SEARCH to the calling thread's effective set or removes them (raw `capset`,
/// this thread only), and `libc` for raw system calls.
const PY_SET_DAC_CAPS: &str = r#"
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
SYS_capget, SYS_capset = 125, 126

class Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
class Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

def set_dac_caps(on):
    header, data = Header(0x20080522, 0), (Data * 2)()
    assert libc.syscall(SYS_capget, ctypes.byref(header), data) == 0
    dac = 1 << 1 | 1 << 2  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
    data[0].effective = data[0].effective | dac if on else data[0].effective & ~dac
    assert libc.syscall(SYS_capset, ctypes.byref(header), data) == 0
"#;

/// The supervisor remembers a thread's credentials between its calls. A thread that changes
/// them without exec (raw per-thread calls, capset, and Python's process-wide setresuid) must
/// be served with the new ones at its next call, in both directions.
#[test]
fn credential_changes_apply_without_exec() {
    if !running_as_root("credential_changes_apply_without_exec") {
        return;
    }
    let (uid, gid) = user_ids().expect("test user exists");
    let dir = Scratch::new(Identity::Invoker, "creds-change");
    let root_file = private_file(&dir, "root-only.txt", b"root secret\n", 0, 0);
    let user_file = private_file(&dir, "user-own.txt", b"user data\n", uid, gid);
    let body = format!("{PY_SET_DAC_CAPS}{}", r#"
import threading
uid, gid = int(sys.argv[3]), int(sys.argv[4])
read = lambda path: (lambda: open(path).read().strip())
SYS_setresuid = 117

for round in range(3):
    attempt("root reads root file", read(sys.argv[1]))
    attempt("root reads user file", read(sys.argv[2]))
    set_dac_caps(False)
    attempt("without dac caps, user file", read(sys.argv[2]))
    set_dac_caps(True)
    attempt("with dac caps again, user file", read(sys.argv[2]))

def thread_body():
    attempt("thread as root", read(sys.argv[1]))
    assert libc.syscall(SYS_setresuid, uid, uid, 0) == 0  # this thread only
    attempt("thread as user, root file", read(sys.argv[1]))
    attempt("thread as user, own file", read(sys.argv[2]))
    assert libc.syscall(SYS_setresuid, 0, 0, 0) == 0
    attempt("thread back to root", read(sys.argv[1]))
    assert libc.syscall(SYS_setresuid, uid, uid, 0) == 0
    attempt("thread as user again", read(sys.argv[1]))
    # Back to root before it ends: Python's join can return while the thread still runs its
    # exit, and glibc's setresuid below would then have this thread make the call too, which
    # fails for a non-root thread and makes glibc abort the process.
    assert libc.syscall(SYS_setresuid, 0, 0, 0) == 0
thread = threading.Thread(target=thread_body)
thread.start()
thread.join()
attempt("main thread still root", read(sys.argv[1]))
os.setgroups([])
os.setresgid(gid, gid, gid)
os.setresuid(uid, uid, uid)
attempt("process as user, root file", read(sys.argv[1]))
attempt("process as user, own file", read(sys.argv[2]))
"#);
    let (uid_text, gid_text) = (uid.to_string(), gid.to_string());
    let command = python(&body, &[&root_file, &user_file, &uid_text, &gid_text]);
    let launch = Launch::new(Identity::Invoker, &dir.path);

    let native = launch.native(&command);
    let round = "root reads root file ok root secret\nroot reads user file ok user data\nwithout dac caps, user file EACCES\nwith dac caps again, user file ok user data\n";
    let expected = format!(
        "{}thread as root ok root secret\nthread as user, root file EACCES\nthread as user, own file ok user data\nthread back to root ok root secret\nthread as user again EACCES\nmain thread still root ok root secret\nprocess as user, root file EACCES\nprocess as user, own file ok user data\n",
        round.repeat(3)
    );
    assert_eq!(stdout_text(&native), expected, "native run:\n{}", describe(&native));

    let audited = AuditedRun::new(&dir);
    let sandboxed = launch.sandboxed(&audited.policy, &command);
    assert_eq!(sandboxed.stdout, native.stdout, "cordon differs from native:\n{}", describe(&sandboxed));
    audited.assert_audited(&root_file, "the opens of the root-only file");
}

/// Race of two threads of one process: thread A keeps its capabilities and reads a file of
/// another user without pause, while thread B drops and raises CAP_DAC_OVERRIDE and
/// CAP_DAC_READ_SEARCH around its own reads and changes the umask before each file it
/// creates. The supervisor keeps each thread's identity between calls, so neither thread may
/// ever be served with the other's capabilities or with an old umask.
#[test]
fn credential_race_between_threads() {
    if !running_as_root("credential_race_between_threads") {
        return;
    }
    let (uid, gid) = user_ids().expect("test user exists");
    let dir = Scratch::new(Identity::Invoker, "creds-race");
    let file = private_file(&dir, "other-user.txt", b"not for root\n", uid, gid);
    let created = dir.join("created");
    fs::create_dir(&created).expect("create directory");
    let denied = dir.join("denied");
    fs::create_dir(&denied).expect("create directory");
    let body = format!("{PY_SET_DAC_CAPS}{}", r#"
import threading, time
other, created, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])

def readable():
    try:
        open(other).close()
        return True
    except PermissionError:
        return False

counts = dict.fromkeys(["a_read", "a_wrong", "b_denied", "b_read", "b_wrong", "mode_right", "mode_wrong"], 0)
deadline = time.monotonic() + seconds

def thread_a():
    while time.monotonic() < deadline:
        counts["a_read" if readable() else "a_wrong"] += 1

def thread_b():
    round = 0
    while time.monotonic() < deadline:
        set_dac_caps(False)
        counts["b_wrong" if readable() else "b_denied"] += 1
        set_dac_caps(True)
        counts["b_read" if readable() else "b_wrong"] += 1
        mask = 0o077 if round % 2 else 0o022
        os.umask(mask)
        path = os.path.join(created, "file")
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        mode = os.fstat(fd).st_mode & 0o777
        os.close(fd)
        os.unlink(path)
        counts["mode_right" if mode == 0o666 & ~mask else "mode_wrong"] += 1
        round += 1

threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(" ".join(f"{key}={value}" for key, value in counts.items()))
"#);
    let created_text = path_str(&created);
    let command = python(&body, &[&file, &created_text, "2"]);
    let launch = Launch::new(Identity::Invoker, &dir.path);
    let counts = |output: &std::process::Output| -> std::collections::HashMap<String, u64> {
        let text = stdout_text(output);
        text.split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.parse().unwrap_or(0)))
            .collect()
    };

    let native = launch.native(&command);
    eprintln!("natively: {}", stdout_text(&native));
    let native_counts = counts(&native);
    assert_eq!(native_counts.get("a_wrong"), Some(&0), "native run:\n{}", describe(&native));
    assert_eq!(native_counts.get("b_wrong"), Some(&0), "native run:\n{}", describe(&native));
    assert_eq!(native_counts.get("mode_wrong"), Some(&0), "native run:\n{}", describe(&native));

    let tree = format!("{}/**", dir.path.display());
    let policy = strings![
        "-q",
        "--deny-read",
        format!("{}/**", denied.display()),
        "--allow-modify",
        tree
    ];
    let sandboxed = launch.sandboxed(&policy, &command);
    eprintln!("under cordon: {}", stdout_text(&sandboxed));
    let sandboxed_counts = counts(&sandboxed);
    let count = |key: &str| sandboxed_counts.get(key).copied().unwrap_or(0);
    assert_eq!(sandboxed.status.code(), Some(0), "{}", describe(&sandboxed));
    assert!(count("a_read") >= 100, "thread A read too rarely: {}", describe(&sandboxed));
    assert!(count("b_denied") >= 100, "thread B dropped its capabilities too rarely: {}", describe(&sandboxed));
    assert!(count("b_read") >= 100, "thread B raised its capabilities too rarely: {}", describe(&sandboxed));
    assert!(count("mode_right") >= 100, "thread B created too few files: {}", describe(&sandboxed));
    assert_eq!(count("a_wrong"), 0, "thread A was served without its capabilities: {}", describe(&sandboxed));
    assert_eq!(count("b_wrong"), 0, "thread B was served with the wrong capabilities: {}", describe(&sandboxed));
    assert_eq!(count("mode_wrong"), 0, "a file was created with an old umask: {}", describe(&sandboxed));
}
