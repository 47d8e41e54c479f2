//! Helpers for the file-system call tests. They provide a scratch directory on a second file
//! system, the policy that traps every file-system category with audit rules, a Python
//! prelude for raw system calls, native and sandboxed runs, tree snapshots and diffs.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::sandbox::{log_str, path_str, read_audit_log, stdout_text, Launch, LogRecord, PYTHON};
use super::{describe, user_ids, Identity, Scratch};

/// Returns the policy that allows every file-system access and still makes cordon check and
/// emulate each one: an audit rule for every category on every path, and `-q`.
pub fn trap_everything() -> Vec<String> {
    let mut policy = vec!["-q".to_owned()];
    for category in [
        "stat", "delete", "rename", "attr", "create", "write", "read",
    ] {
        policy.push(format!("--audit-{category}"));
        policy.push("/**".to_owned());
    }
    policy
}

/// A scratch directory on /dev/shm (tmpfs), a different file system from the /tmp scratch
/// directories, for EXDEV cases. Owned by the identity and removed when dropped.
pub struct OtherFsScratch {
    pub path: PathBuf,
}

impl OtherFsScratch {
    /// Creates the directory, or returns None when /dev/shm is missing or on the same file
    /// system as /tmp.
    pub fn new(who: Identity, name: &str) -> Option<OtherFsScratch> {
        use std::os::unix::fs::MetadataExt;
        let shm = fs::metadata("/dev/shm").ok()?;
        if shm.dev() == fs::metadata("/tmp").ok()?.dev() {
            return None;
        }
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = PathBuf::from(format!(
            "/dev/shm/cordon-test-{}-{name}-{n}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).ok()?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
            .expect("chmod /dev/shm scratch");
        if who == Identity::Unprivileged {
            let (uid, gid) = user_ids().expect("test user exists");
            chown(&path, Some(uid), Some(gid)).expect("chown /dev/shm scratch");
        }
        Some(OtherFsScratch { path })
    }
}

impl Drop for OtherFsScratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Returns `diff -u` of a native run's output and a run's under cordon, for assertion
/// messages.
pub fn unified_diff(native: &str, sandboxed: &str) -> String {
    labelled_diff(native, sandboxed, "native", "cordon")
}

/// Returns `diff -u` of two texts labelled `old_label` and `new_label`.
pub fn labelled_diff(old: &str, new: &str, old_label: &str, new_label: &str) -> String {
    let dir = Scratch::new(Identity::Invoker, "diff");
    let old_file = dir.join("old");
    let new_file = dir.join("new");
    fs::write(&old_file, old).expect("write the first text");
    fs::write(&new_file, new).expect("write the second text");
    let output = Command::new("diff")
        .args(["-u", "--label", old_label, "--label", new_label])
        .arg(&old_file)
        .arg(&new_file)
        .output()
        .expect("run diff");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Python prelude for the route and denial scripts. It defines `sys_call(NAME, *args)`, which
/// makes the raw x86_64 system call NAME through ctypes and raises OSError on failure, and
/// `attempt(label, function)`, which prints `label ok RESULT` or `label ERRNO_NAME`.
/// `d` is the scratch directory, `sys.argv[1]`.
pub const PY_SYSCALLS: &str = r#"
import ctypes, errno, os, struct, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = {"stat": 4, "lstat": 6, "access": 21, "rename": 82, "mkdir": 83, "rmdir": 84,
      "link": 86, "unlink": 87, "symlink": 88, "readlink": 89, "chmod": 90, "mknod": 133,
      "statfs": 137, "getxattr": 191, "lgetxattr": 192, "listxattr": 194,
      "getdents64": 217, "inotify_add_watch": 254, "newfstatat": 262, "unlinkat": 263, "renameat2": 316,
      "statx": 332, "open_tree": 428, "faccessat2": 439, "getxattrat": 464, "file_getattr": 468}
AT_FDCWD = -100
def arg(value):
    if value is None: return ctypes.c_void_p(None)
    if isinstance(value, int): return ctypes.c_long(value)
    if isinstance(value, str): return value.encode()
    return value
def sys_call(name, *args):
    result = libc.syscall(ctypes.c_long(NR[name]), *[arg(a) for a in args])
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result
def attempt(label, function):
    try:
        result = function()
    except OSError as error:
        print(label, errno.errorcode[error.errno], flush=True)
    else:
        print(label, "ok", result, flush=True)
def buffer(size):
    return ctypes.create_string_buffer(size)
def getdents_names(path, size):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    names, calls, data = [], 0, buffer(size)
    while True:
        length = sys_call("getdents64", fd, data, size)
        calls += 1
        if length == 0:
            break
        offset = 0
        while offset < length:
            reclen = struct.unpack_from("H", data, offset + 16)[0]
            names.append(data.raw[offset + 19:offset + reclen].split(b"\0", 1)[0].decode())
            offset += reclen
    os.close(fd)
    return names, calls
d = sys.argv[1]
"#;

/// Builds the command `python3 -c PRELUDE+BODY DIR`.
pub fn python_command(dir: &Path, body: &str) -> Vec<String> {
    vec![
        PYTHON.to_owned(),
        "-c".to_owned(),
        format!("{PY_SYSCALLS}\n{body}"),
        path_str(dir),
    ]
}

/// Runs `command` as `who` in `dir` under `cordon run POLICY -- COMMAND`.
pub fn run_sandboxed(who: Identity, dir: &Path, policy: &[String], command: &[String]) -> Output {
    Launch::new(who, dir)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LC_ALL", "C")
        .sandboxed(policy, command)
}

/// Runs `command` as `who` in `dir` without cordon.
pub fn run_native(who: Identity, dir: &Path, command: &[String]) -> Output {
    Launch::new(who, dir)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LC_ALL", "C")
        .native(command)
}

/// Returns stdout split into lines.
pub fn stdout_lines(output: &Output) -> Vec<String> {
    stdout_text(output).lines().map(str::to_owned).collect()
}

/// Asserts that stdout is exactly `expected`, one line per entry, with a diff on failure.
pub fn assert_lines(output: &Output, expected: &[&str], context: &str) {
    let got = stdout_text(output);
    let wanted: String = expected.iter().map(|line| format!("{line}\n")).collect();
    assert!(
        got == wanted,
        "{context}: unexpected output\n{}\n{}",
        labelled_diff(&wanted, &got, "expected", "got"),
        describe(output)
    );
}

/// Returns the audit log records, or an empty list when cordon wrote no log file.
pub fn log_records(log: &Path) -> Vec<LogRecord> {
    if log.exists() {
        read_audit_log(log)
    } else {
        Vec::new()
    }
}

/// Returns the syscall names of the log's records.
pub fn logged_syscalls(records: &[LogRecord]) -> BTreeSet<String> {
    records
        .iter()
        .filter_map(|record| log_str(record, "syscall").map(str::to_owned))
        .collect()
}

/// Formats log records one per line for assertion messages.
pub fn format_records(records: &[LogRecord]) -> String {
    records
        .iter()
        .map(|record| {
            let fields: Vec<String> = record
                .iter()
                .map(|(key, (_, value))| format!("{key}={value}"))
                .collect();
            fields.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Returns a text listing of every entry below `root` (type, mode, owner, size, modification
/// time of non-directories, link target, contents and extended attribute names), to compare the tree before
/// and after a denied call.
pub fn snapshot(root: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let mut lines = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        let metadata = fs::symlink_metadata(&path).expect("lstat while taking a snapshot");
        let mut line = format!(
            "{} mode={:o} uid={} gid={}",
            path.strip_prefix(root).expect("below root").display(),
            metadata.mode(),
            metadata.uid(),
            metadata.gid()
        );
        // A directory's times change when entries come and go, so only the times of other
        // files are compared.
        if !metadata.is_dir() {
            line.push_str(&format!(
                " mtime={}.{:09}",
                metadata.mtime(),
                metadata.mtime_nsec()
            ));
        }
        if metadata.file_type().is_symlink() {
            let target = fs::read_link(&path).expect("readlink while taking a snapshot");
            line.push_str(&format!(" -> {}", target.display()));
        } else if metadata.is_file() {
            let bytes = fs::read(&path).expect("read while taking a snapshot");
            line.push_str(&format!(
                " size={} contents={:?}",
                bytes.len(),
                String::from_utf8_lossy(&bytes)
            ));
        } else if metadata.is_dir() {
            let mut entries: Vec<PathBuf> = fs::read_dir(&path)
                .expect("list while taking a snapshot")
                .map(|entry| entry.expect("directory entry").path())
                .collect();
            entries.sort();
            pending.extend(entries.into_iter().rev());
        }
        line.push_str(&format!(" xattrs={:?}", xattr_names(&path)));
        lines.push(line);
    }
    lines.join("\n")
}

/// Returns the extended attribute names of `path` itself (not following a symbolic link).
fn xattr_names(path: &Path) -> Vec<String> {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("path without NUL");
    let mut buffer = vec![0u8; 4096];
    // SAFETY: `name` is a NUL-terminated string and `buffer` is writable for its length.
    let length =
        unsafe { libc::llistxattr(name.as_ptr(), buffer.as_mut_ptr().cast(), buffer.len()) };
    if length < 0 {
        return vec![format!("error {}", std::io::Error::last_os_error())];
    }
    let mut names: Vec<String> = buffer[..length as usize]
        .split(|byte| *byte == 0)
        .filter(|part| !part.is_empty())
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect();
    names.sort();
    names
}

/// Changes the owner of every entry below `root` (and `root`) to the test user when `who`
/// is the unprivileged identity, without following symbolic links.
pub fn give_tree_to(who: Identity, root: &Path) {
    if who != Identity::Unprivileged {
        return;
    }
    let status = Command::new("chown")
        .args(["-R", "-h", super::TEST_USER])
        .arg(root)
        .status()
        .expect("run chown");
    assert!(status.success(), "chown -R {} failed", root.display());
}
