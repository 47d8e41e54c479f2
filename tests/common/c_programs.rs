//! Building the C programs below `tests/` and parsing the `name=value` count line their
//! races print.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{describe, Identity, Scratch};

/// A C program from a folder below `tests/`, compiled into a scratch directory that every
/// user can read, so the unprivileged test user can run it too. Removed when dropped.
pub struct CProgram {
    path: PathBuf,
    _scratch: Scratch,
}

impl CProgram {
    /// Compiles `tests/FOLDER/NAME.c` with `cc -O2 -pthread -Wall -Wextra`, panicking with
    /// the compiler's output when compiling fails.
    pub fn build(folder: &str, name: &str) -> CProgram {
        let sources = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests")
            .join(folder);
        let source = sources.join(format!("{name}.c"));
        let scratch = Scratch::new(Identity::Invoker, &format!("build-{name}"));
        let path = scratch.join(name);
        let output = Command::new("cc")
            .args(["-O2", "-pthread", "-Wall", "-Wextra", "-o"])
            .arg(&path)
            .arg(&source)
            .output()
            .unwrap_or_else(|error| {
                panic!("run cc: the tests in tests/{folder} need a C compiler: {error}")
            });
        assert!(
            output.status.success(),
            "compiling {} failed\n{}",
            source.display(),
            describe(&output)
        );
        CProgram {
            path,
            _scratch: scratch,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn path_string(&self) -> String {
        self.path.display().to_string()
    }
}

/// Parses the counts named `keys` from the last line of a race program's stdout
/// (`key=N key=N ...`) and returns them in the order of `keys`. Fields with other keys are
/// skipped. Panics with the whole output when a value is not a number or when the number
/// of fields with these keys differs from `N`.
pub fn parse_counts<const N: usize>(output: &Output, keys: [&str; N]) -> [u64; N] {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or("");
    let mut counts = [0; N];
    let mut seen = 0;
    for field in line.split_whitespace() {
        let Some((key, value)) = field.split_once('=') else {
            continue;
        };
        let Some(index) = keys.iter().position(|&name| name == key) else {
            continue;
        };
        counts[index] = value
            .parse()
            .unwrap_or_else(|_| panic!("invalid count {field:?}\n{}", describe(output)));
        seen += 1;
    }
    assert_eq!(
        seen,
        N,
        "race program printed no count line\n{}",
        describe(output)
    );
    counts
}
