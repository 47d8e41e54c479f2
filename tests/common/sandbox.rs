//! Helpers for tests that run one command natively and under `cordon run` and compare the
//! two: launching with a working directory, environment and stdin, Python snippets that
//! print errno names, and a reader for cordon's JSON-lines audit log.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::{command_as, cordon_bin, Identity};

/// Debian's interpreter. The pyenv interpreter under /root is not reachable for the test user.
pub const PYTHON: &str = "/usr/bin/python3";

/// Python prelude that defines `attempt(label, function)`: it calls `function()` and prints
/// `label ok RESULT`, or `label ERRNO_NAME` (`EACCES`, `ENOENT`, ...) when it raises OSError.
pub const PY_ATTEMPT: &str = r#"
import errno, os, sys
def attempt(label, function):
    try:
        result = function()
    except OSError as error:
        print(label, errno.errorcode[error.errno], flush=True)
    else:
        print(label, "ok", result, flush=True)
"#;

/// Builds a `Vec<String>` from string-like items, for argument lists that mix literals and
/// formatted paths.
#[macro_export]
macro_rules! strings {
    ($($item:expr),* $(,)?) => {
        ::std::vec::Vec::<String>::from([$(::std::string::ToString::to_string(&$item)),*])
    };
}

/// Returns a path as a `String`. Every scratch path the tests build is valid UTF-8.
pub fn path_str(path: &Path) -> String {
    path.to_str().expect("scratch paths are UTF-8").to_owned()
}

/// One way of starting a command: the identity, working directory, extra environment and
/// stdin bytes shared by the native run and the sandboxed run being compared.
pub struct Launch {
    who: Identity,
    cwd: std::path::PathBuf,
    env: Vec<(String, String)>,
    removed_env: Vec<String>,
    stdin: Vec<u8>,
}

impl Launch {
    /// Starts commands as `who` in `cwd`, with the test's environment and an empty stdin.
    pub fn new(who: Identity, cwd: &Path) -> Launch {
        Launch {
            who,
            cwd: cwd.to_owned(),
            env: Vec::new(),
            removed_env: Vec::new(),
            stdin: Vec::new(),
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Launch {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn env_remove(mut self, key: &str) -> Launch {
        self.removed_env.push(key.to_owned());
        self
    }

    /// Sets the bytes written to the command's stdin, which is a pipe closed after them.
    pub fn stdin(mut self, bytes: &[u8]) -> Launch {
        self.stdin = bytes.to_owned();
        self
    }

    /// Runs `command` (program and arguments) without cordon.
    pub fn native(&self, command: &[String]) -> Output {
        let (program, args) = command.split_first().expect("command has a program");
        self.output(command_as(self.who, program, args))
    }

    /// Runs `cordon run POLICY... -- COMMAND...`.
    pub fn sandboxed(&self, policy: &[String], command: &[String]) -> Output {
        self.cordon(&run_args(policy, command))
    }

    /// Runs `cordon ARGS...` with this launch's directory, environment and stdin.
    pub fn cordon(&self, args: &[String]) -> Output {
        self.output(command_as(self.who, cordon_bin(), args))
    }

    /// Starts `cordon ARGS...` as a child with piped stdin, stdout and stderr. The caller
    /// writes stdin and waits for the child.
    pub fn spawn_cordon(&self, args: &[String]) -> std::process::Child {
        let mut command = command_as(self.who, cordon_bin(), args);
        self.prepare(&mut command);
        command.spawn().expect("start cordon")
    }

    fn prepare(&self, command: &mut Command) {
        command
            .current_dir(&self.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        for key in &self.removed_env {
            command.env_remove(key);
        }
    }

    fn output(&self, mut command: Command) -> Output {
        self.prepare(&mut command);
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("start {command:?}: {error}"));
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let bytes = self.stdin.clone();
        // A separate thread writes stdin, so a command that does not read it cannot block
        // the test on a full pipe. A command that exits early makes the write fail with
        // EPIPE, which is not an error here.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&bytes);
        });
        let output = child.wait_with_output().expect("wait for command");
        writer.join().expect("stdin writer thread");
        output
    }
}

/// Builds `run POLICY... -- COMMAND...`.
pub fn run_args(policy: &[String], command: &[String]) -> Vec<String> {
    let mut args = vec!["run".to_owned()];
    args.extend_from_slice(policy);
    args.push("--".to_owned());
    args.extend_from_slice(command);
    args
}

/// Returns the stdout of a run as text, for assertion messages and line checks.
pub fn stdout_text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr_text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Returns stderr without cordon's own `cordon: ...` decision lines, leaving what the
/// sandboxed program itself wrote.
pub fn program_stderr(output: &Output) -> String {
    stderr_text(output)
        .lines()
        .filter(|line| !line.starts_with("cordon: "))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// One record of the audit log: each key mapped to its JSON type name as Python reports it
/// (`str`, `int`, ...) and its value as text. Python's `unicode_escape` has escaped
/// backslashes, control characters and non-ASCII characters in the value.
pub type LogRecord = BTreeMap<String, (String, String)>;

/// Parses cordon's JSON-lines audit log with Python's json module, one record per line.
/// Panics with the Python error when a line is not a JSON object.
pub fn read_audit_log(log: &Path) -> Vec<LogRecord> {
    // Each record comes back as lines `INDEX\tKEY\tTYPE\tVALUE`, with the value escaped by
    // `unicode_escape` so a newline or tab in it cannot break the format.
    const SCRIPT: &str = r#"
import json, sys
with open(sys.argv[1], "rb") as log:
    lines = log.read().split(b"\n")
if lines and lines[-1] == b"":
    lines.pop()
print(len(lines))
for index, line in enumerate(lines):
    record = json.loads(line)
    if not isinstance(record, dict):
        sys.exit(f"line {index + 1} is not a JSON object: {line!r}")
    for key, value in record.items():
        text = str(value).encode("unicode_escape").decode("ascii")
        print(index, key, type(value).__name__, text, sep="\t")
"#;
    let output = Command::new(PYTHON)
        .arg("-c")
        .arg(SCRIPT)
        .arg(log)
        .output()
        .expect("start python");
    assert!(
        output.status.success(),
        "audit log {} is not JSON lines:\n{}",
        log.display(),
        super::describe(&output)
    );

    let text = String::from_utf8(output.stdout).expect("parser output is ASCII");
    let mut lines = text.lines();
    let count: usize = lines
        .next()
        .expect("record count")
        .parse()
        .expect("record count is a number");
    let mut records = vec![LogRecord::new(); count];
    for line in lines {
        let fields: Vec<&str> = line.splitn(4, '\t').collect();
        let index: usize = fields[0].parse().expect("record index");
        records[index].insert(
            fields[1].to_owned(),
            (fields[2].to_owned(), fields[3].to_owned()),
        );
    }
    records
}

/// Returns the value of a string field of a log record, or None when it is missing or not
/// a string.
pub fn log_str<'a>(record: &'a LogRecord, key: &str) -> Option<&'a str> {
    match record.get(key) {
        Some((kind, value)) if kind == "str" => Some(value),
        _ => None,
    }
}

/// Returns the value of an integer field of a log record.
pub fn log_int(record: &LogRecord, key: &str) -> Option<i64> {
    match record.get(key) {
        Some((kind, value)) if kind == "int" => value.parse().ok(),
        _ => None,
    }
}

/// Checks the audit log's time format, `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds).
pub fn is_log_time(text: &str) -> bool {
    const SHAPE: &str = "dddd-dd-ddTdd:dd:dd.dddZ";
    text.len() == SHAPE.len()
        && text
            .chars()
            .zip(SHAPE.chars())
            .all(|(c, s)| if s == 'd' { c.is_ascii_digit() } else { c == s })
}

/// Encodes bytes as standard base64 with padding, the form of the log's `path_b64` field.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::new();
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0u32, |acc, (i, byte)| {
            acc | u32::from(*byte) << (16 - 8 * i)
        });
        for i in 0..4 {
            if i <= chunk.len() {
                encoded.push(ALPHABET[(group >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                encoded.push('=');
            }
        }
    }
    encoded
}
