//! Building and running the C programs in `tests/attacks`: the race programs (prepare a
//! layout, race for a given time, print counts) and the escape programs (print `CALL=RESULT`
//! lines).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::{describe, Identity, Scratch};

/// A program from `tests/attacks`, compiled into a scratch directory that every user can
/// read, so the unprivileged test user can run it too. Removed when dropped.
pub struct Program {
    path: PathBuf,
    _scratch: Scratch,
}

impl Program {
    /// Compiles `tests/attacks/NAME.c` with `cc -O2 -pthread`.
    pub fn build(name: &str) -> Program {
        let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/attacks");
        let source = sources.join(format!("{name}.c"));
        let scratch = Scratch::new(Identity::Invoker, &format!("build-{name}"));
        let path = scratch.join(name);
        let output = Command::new("cc")
            .args(["-O2", "-pthread", "-Wall", "-Wextra", "-o"])
            .arg(&path)
            .arg(&source)
            .output()
            .expect("run cc: the attack tests need a C compiler");
        assert!(
            output.status.success(),
            "compiling {} failed\n{}",
            source.display(),
            describe(&output)
        );
        Program {
            path,
            _scratch: scratch,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Runs `command` with stdin closed, capturing stdout and stderr, and kills it when it
/// runs longer than `limit`, so a hanging sandbox fails the test instead of blocking it.
pub fn output_within(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start command");
    let stdout = collect(child.stdout.take().expect("stdout is piped"));
    let stderr = collect(child.stderr.take().expect("stderr is piped"));

    let deadline = Instant::now() + limit;
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for command") {
            break status;
        }
        if Instant::now() >= deadline {
            timed_out = true;
            child.kill().expect("kill command that timed out");
            break child.wait().expect("wait for killed command");
        }
        thread::sleep(Duration::from_millis(20));
    };

    let output = Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    };
    assert!(
        !timed_out,
        "{command:?} timed out after {limit:?}\n{}",
        describe(&output)
    );
    output
}

fn collect(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes).expect("read pipe");
        bytes
    })
}

/// The counts a race program prints: `allowed=N denied=M other=K swaps=S`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RaceCounts {
    /// Opens that returned the PUBLIC file.
    pub allowed: u64,
    /// Opens that returned the SECRET file.
    pub denied: u64,
    /// Opens that failed.
    pub other: u64,
    /// Changes the racing thread made to the path buffer or the file system.
    pub swaps: u64,
}

impl RaceCounts {
    /// Parses the last line of a race program's stdout, panicking with the whole output
    /// when it is missing or malformed.
    pub fn parse(output: &Output) -> RaceCounts {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout.lines().last().unwrap_or("");
        let mut counts = RaceCounts::default();
        let mut seen = 0;
        for field in line.split_whitespace() {
            let Some((key, value)) = field.split_once('=') else {
                continue;
            };
            let slot = match key {
                "allowed" => &mut counts.allowed,
                "denied" => &mut counts.denied,
                "other" => &mut counts.other,
                "swaps" => &mut counts.swaps,
                _ => continue,
            };
            *slot = value
                .parse()
                .unwrap_or_else(|_| panic!("invalid count {field:?}\n{}", describe(output)));
            seen += 1;
        }
        assert_eq!(
            seen,
            4,
            "race program printed no count line\n{}",
            describe(output)
        );
        counts
    }
}

impl fmt::Display for RaceCounts {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "allowed={} denied={} other={} swaps={}",
            self.allowed, self.denied, self.other, self.swaps
        )
    }
}

/// Returns the result an escape program printed for `call` (`ok` or an errno name such as
/// `ENOSYS`), or `None` when it printed no line for that call.
pub fn reported(output: &Output, call: &str) -> Option<String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let prefix = format!("{call}=");
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
}

/// Returns whether `needle` occurs anywhere in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
