//! Running the C programs in `tests/attacks`: the race programs (prepare a layout, race for
//! a given time, print counts) and the escape programs (print `CALL=RESULT` lines). They
//! are built with `c_programs::CProgram`.

use std::fmt;
use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::c_programs::parse_counts;
use super::describe;

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
        let [allowed, denied, other, swaps] =
            parse_counts(output, ["allowed", "denied", "other", "swaps"]);
        RaceCounts {
            allowed,
            denied,
            other,
            swaps,
        }
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
