//! Helpers for the exec and chdir tests: the counts the race programs in
//! `tests/exec_attacks` print, scratch directories with copies of the marker program,
//! and counting cordon's post-validation kills in an output.

use std::fmt;
use std::fs;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use super::c_programs::{parse_counts, CProgram};
use super::{user_ids, Identity, Scratch};

/// The message cordon prints when the file a process executed is not the one it checked.
pub const EXEC_KILL_MESSAGE: &str = "executed a file other than the one checked; killed it";

/// The message cordon prints when a chdir landed in a directory other than the checked one.
pub const CHDIR_KILL_MESSAGE: &str = "changed to a directory other than the one checked; killed it";

/// The counts a race program in `tests/exec_attacks` prints:
/// `allowed=N denied=M other=K swaps=S killed=X`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecCounts {
    /// Attempts that reached the allowed file or directory.
    pub allowed: u64,
    /// Attempts that reached the denied (or hidden) file or directory.
    pub denied: u64,
    /// Attempts that failed.
    pub other: u64,
    /// Changes the racing thread made to the path buffer or the file system.
    pub swaps: u64,
    /// Attempts whose process died of SIGKILL: under cordon, post-validation kills.
    pub killed: u64,
}

impl ExecCounts {
    /// Parses the last line of a race program's stdout, panicking with the whole output
    /// when it is missing or malformed.
    pub fn parse(output: &Output) -> ExecCounts {
        let [allowed, denied, other, swaps, killed] =
            parse_counts(output, ["allowed", "denied", "other", "swaps", "killed"]);
        ExecCounts {
            allowed,
            denied,
            other,
            swaps,
            killed,
        }
    }
}

impl fmt::Display for ExecCounts {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "allowed={} denied={} other={} swaps={} killed={}",
            self.allowed, self.denied, self.other, self.swaps, self.killed
        )
    }
}

/// Returns how many lines of an output's stderr report a post-validation kill, of an exec
/// or of a chdir.
pub fn post_validation_kills(output: &Output) -> usize {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.contains(EXEC_KILL_MESSAGE) || line.contains(CHDIR_KILL_MESSAGE))
        .count()
}

/// A scratch directory owned by `who` with `allowed` and `denied` (copies of the marker
/// program) and an empty `markers` directory, for tests that run the marker directly.
pub struct MarkerLayout {
    pub scratch: Scratch,
    pub allowed: String,
    pub denied: String,
    pub markers: PathBuf,
}

impl MarkerLayout {
    pub fn new(who: Identity, name: &str, marker: &CProgram) -> MarkerLayout {
        let scratch = Scratch::new(who, name);
        let copy = |name: &str| {
            let bytes = fs::read(marker.path()).expect("read the marker program");
            let path = scratch.write(who, name, &bytes);
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
                .expect("chmod marker copy");
            path.display().to_string()
        };
        let allowed = copy("allowed");
        let denied = copy("denied");
        let markers = scratch.join("markers");
        fs::create_dir(&markers).expect("create markers directory");
        give_to(who, &markers);
        MarkerLayout {
            scratch,
            allowed,
            denied,
            markers,
        }
    }

    pub fn markers_string(&self) -> String {
        self.markers.display().to_string()
    }

    /// Returns the names of the marker files written so far, sorted.
    pub fn marker_names(&self) -> Vec<String> {
        marker_names(&self.markers)
    }
}

/// Returns the names of the files in a markers directory, sorted.
pub fn marker_names(markers: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(markers)
        .unwrap_or_else(|error| panic!("list {}: {error}", markers.display()))
        .map(|entry| {
            entry
                .expect("read markers directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Returns the number of lines in a marker file, 0 when it does not exist.
pub fn marker_lines(markers: &Path, name: &str) -> u64 {
    match fs::read(markers.join(name)) {
        Ok(bytes) => bytes.iter().filter(|&&byte| byte == b'\n').count() as u64,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => 0,
        Err(error) => panic!("read marker {name} in {}: {error}", markers.display()),
    }
}

/// Hands a file or directory to `who`.
pub fn give_to(who: Identity, path: &Path) {
    if who == Identity::Unprivileged {
        let (uid, gid) = user_ids().expect("test user exists");
        chown(path, Some(uid), Some(gid)).expect("chown to the test user");
    }
}
