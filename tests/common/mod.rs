//! Shared helpers for the integration tests: locating the cordon binary, running it as root
//! and as the unprivileged test user, and scratch directories both identities can use.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Name of the unprivileged account the tests run cordon as when they run as root.
pub const TEST_USER: &str = "cordon-test";

/// The identity a test runs cordon (or the native comparison run) as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity {
    /// The user running the test suite (root in CI).
    Invoker,
    /// The unprivileged test account, reached through `setpriv` when the suite runs as root.
    Unprivileged,
}

/// Returns the identities every behaviour is tested as: root and the test user in CI, only the
/// invoking user when the suite itself runs unprivileged.
pub fn identities() -> Vec<Identity> {
    if is_root() {
        ensure_test_user();
        vec![Identity::Invoker, Identity::Unprivileged]
    } else {
        vec![Identity::Invoker]
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Creates the test account when the suite runs as root on a machine that lacks it.
fn ensure_test_user() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        if user_ids().is_some() {
            return;
        }
        let status = Command::new("useradd")
            .args(["--system", "--no-create-home", "--shell", "/bin/sh", TEST_USER])
            .status()
            .expect("run useradd");
        assert!(
            status.success() || user_ids().is_some(),
            "could not create the test user {TEST_USER}; create it with `useradd --system {TEST_USER}`"
        );
    });
}

/// Returns the uid and gid of the test account, if it exists.
pub fn user_ids() -> Option<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&TEST_USER)).then(|| (fields[2].parse().ok(), fields[3].parse().ok()))
            .and_then(|(uid, gid)| Some((uid?, gid?)))
    })
}

/// Returns a copy of the cordon binary in a directory every user can traverse, because the build
/// directory may sit below a home directory the test user cannot enter.
pub fn cordon_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let built = Path::new(env!("CARGO_BIN_EXE_cordon"));
        let dir = PathBuf::from(format!("/tmp/cordon-test-bin-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("create binary directory");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod binary directory");
        let copy = dir.join("cordon");
        fs::copy(built, &copy).expect("copy cordon binary");
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).expect("chmod cordon binary");
        copy
    })
}

/// A scratch directory owned by `who`, removed when dropped.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new(who: Identity, name: &str) -> Scratch {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = PathBuf::from(format!("/tmp/cordon-test-{}-{name}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create scratch directory");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod scratch");
        if who == Identity::Unprivileged {
            let (uid, gid) = user_ids().expect("test user exists");
            chown(&path, Some(uid), Some(gid)).expect("chown scratch");
        }
        Scratch { path }
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes a file and hands it to `who`.
    pub fn write(&self, who: Identity, name: &str, contents: &[u8]) -> PathBuf {
        let file = self.join(name);
        fs::write(&file, contents).expect("write scratch file");
        if who == Identity::Unprivileged {
            let (uid, gid) = user_ids().expect("test user exists");
            chown(&file, Some(uid), Some(gid)).expect("chown scratch file");
        }
        file
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Builds a command that runs `program args` as `who`.
pub fn command_as<S: AsRef<OsStr>>(who: Identity, program: impl AsRef<OsStr>, args: &[S]) -> Command {
    match who {
        Identity::Invoker => {
            let mut command = Command::new(program);
            command.args(args);
            command
        }
        Identity::Unprivileged => {
            let mut command = Command::new("setpriv");
            command
                .arg(format!("--reuid={TEST_USER}"))
                .arg(format!("--regid={TEST_USER}"))
                .arg("--init-groups")
                .arg("--")
                .arg(program)
                .args(args);
            command
        }
    }
}

/// Runs `cordon ARGS` as `who` with stdin closed and returns its output.
pub fn cordon<S: AsRef<OsStr>>(who: Identity, args: &[S]) -> Output {
    command_as(who, cordon_bin(), args)
        .stdin(Stdio::null())
        .output()
        .expect("start cordon")
}

/// Runs `program ARGS` natively as `who` with stdin closed.
pub fn native<S: AsRef<OsStr>>(who: Identity, program: &str, args: &[S]) -> Output {
    command_as(who, program, args)
        .stdin(Stdio::null())
        .output()
        .expect("start native command")
}

/// Formats an output for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
pub mod sandbox;
pub mod c_programs;
pub mod attack_programs;
pub mod hardening_support;
pub mod exec_support;
pub mod fs_support;
