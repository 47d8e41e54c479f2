//! Helpers for the hardening and limits tests. They create the secret and public files every
//! hardening program probes at its end, and start host processes for the sandbox to attack.
//! `Running` reads a command's stdout line by line while it runs, and the `/proc` readers
//! return the fields the tests compare before and after an attack.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::chown;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use super::attack_programs::{contains_bytes, reported};
use super::{command_as, describe, is_root, user_ids, Identity, Scratch};

/// Contents of the file the sandbox may not read. No output of a sandboxed run may contain it.
pub const SECRET: &str = "SECRET-bytes-no-attack-may-print";
/// Contents of the file the sandbox may read.
pub const PUBLIC: &str = "PUBLIC-bytes";

/// Returns the identity of the native control runs: the unprivileged test user when the
/// suite runs as root, so that a control run cannot touch root's processes, and otherwise
/// the invoking user.
pub fn native_identity() -> Identity {
    if is_root() {
        Identity::Unprivileged
    } else {
        Identity::Invoker
    }
}

/// A scratch directory with the secret and the public file, owned by one identity.
pub struct ProbeFiles {
    pub scratch: Scratch,
    pub secret: String,
    pub public: String,
}

impl ProbeFiles {
    pub fn new(who: Identity, name: &str) -> ProbeFiles {
        let scratch = Scratch::new(who, name);
        let secret = scratch.write(who, "secret", SECRET.as_bytes());
        let public = scratch.write(who, "public", PUBLIC.as_bytes());
        ProbeFiles {
            secret: secret.display().to_string(),
            public: public.display().to_string(),
            scratch,
        }
    }

    /// Returns the cordon option that denies reading the secret.
    pub fn deny_secret(&self) -> Vec<String> {
        vec!["--deny-read".to_owned(), self.secret.clone()]
    }
}

/// Asserts that a hardening program's closing probe found the supervisor still working: the
/// secret's open failed with EACCES, the public file's open worked, and the secret's bytes
/// appear nowhere in stdout.
pub fn assert_probes(output: &Output, context: &str) {
    assert!(
        !contains_bytes(&output.stdout, SECRET.as_bytes()),
        "the secret was read {context}\n{}",
        describe(output)
    );
    assert_eq!(
        reported(output, "probe_denied").as_deref(),
        Some("EACCES"),
        "the denied open after the attack {context}\n{}",
        describe(output)
    );
    assert_eq!(
        reported(output, "probe_allowed").as_deref(),
        Some("ok"),
        "the allowed open after the attack {context}\n{}",
        describe(output)
    );
    assert!(
        contains_bytes(&output.stdout, PUBLIC.as_bytes()),
        "the allowed open returned other bytes {context}\n{}",
        describe(output)
    );
}

/// Asserts that the program reported `expected` for `call`.
pub fn assert_reported(output: &Output, call: &str, expected: &str, context: &str) {
    assert_eq!(
        reported(output, call).as_deref(),
        Some(expected),
        "{call} {context}\n{}",
        describe(output)
    );
}

/// A `sleep 1000` started by the test in a session and process group of its own, as `who`.
/// Dropping it kills it by pid.
pub struct HostProcess {
    child: Child,
}

impl HostProcess {
    pub fn start(who: Identity) -> HostProcess {
        let child = command_as(who, "setsid", &["sleep", "1000"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start setsid sleep");
        let host = HostProcess { child };
        host.wait_until_sleeping();
        host
    }

    /// Waits until `setpriv` and `setsid` have exec'd `sleep`, which runs in the same
    /// process, so that the process group is the sleep's own.
    fn wait_until_sleeping(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let comm = format!("/proc/{}/comm", self.pid());
        while fs::read_to_string(&comm).unwrap_or_default().trim() != "sleep" {
            assert!(Instant::now() < deadline, "the host sleep did not start");
            thread::sleep(Duration::from_millis(10));
        }
        let stat = proc_stat(self.pid()).expect("host sleep runs");
        assert_eq!(
            stat.process_group,
            self.pid(),
            "the host sleep must lead its own process group"
        );
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Returns whether the process still runs: it has not exited and is not stopped. A
    /// signal sent by the sandbox would be complete when the sandbox's call returned.
    pub fn is_running(&mut self) -> bool {
        if self.child.try_wait().expect("poll host sleep").is_some() {
            return false;
        }
        proc_stat(self.pid()).is_some_and(|stat| !matches!(stat.state, 'T' | 't' | 'Z'))
    }

    /// Waits up to `limit` for the process to exit and returns whether it did.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if self.child.try_wait().expect("poll host sleep").is_some() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits up to `limit` for the process to enter a stopped state and returns whether it did.
    pub fn wait_stopped(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if proc_stat(self.pid()).is_some_and(|stat| stat.state == 'T') {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A started command whose stdout is read line by line while it runs, so a test can wait
/// for a line, act, and write to its stdin.
pub struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stdout: Vec<String>,
    stderr: thread::JoinHandle<Vec<u8>>,
}

impl Running {
    /// Starts `command` with piped stdin, stdout and stderr.
    pub fn start(mut command: Command) -> Running {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("start {command:?}: {error}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stderr.read_to_end(&mut bytes);
            bytes
        });
        Running {
            child,
            stdin,
            lines,
            stdout: Vec::new(),
            stderr,
        }
    }

    /// Returns the pid of the started process. Through `setpriv`, which execs, it is
    /// cordon's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for a stdout line starting with `prefix` and returns the rest of
    /// it, or `None` when stdout ended or the time ran out.
    pub fn wait_for_line(&mut self, prefix: &str, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let rest = line.strip_prefix(prefix).map(str::to_owned);
                    self.stdout.push(line);
                    if rest.is_some() {
                        return rest;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    pub fn write_stdin(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is still open");
        stdin
            .write_all(bytes)
            .expect("write to the command's stdin");
    }

    /// Returns whether the command has exited.
    pub fn has_exited(&mut self) -> bool {
        self.child.try_wait().expect("poll command").is_some()
    }

    /// Closes stdin and waits up to `limit` for the command to exit. A command that runs
    /// longer is killed and fails the test, with everything it printed so far.
    pub fn finish(mut self, limit: Duration) -> Output {
        drop(self.stdin.take());
        let deadline = Instant::now() + limit;
        let mut timed_out = false;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("poll command") {
                break status;
            }
            if Instant::now() >= deadline {
                timed_out = true;
                let _ = self.child.kill();
                break self.child.wait().expect("wait for killed command");
            }
            thread::sleep(Duration::from_millis(20));
        };
        self.stdout.extend(self.lines.iter());
        let mut stdout = self.stdout.join("\n");
        stdout.push('\n');
        let output = Output {
            status,
            stdout: stdout.into_bytes(),
            stderr: self.stderr.join().expect("stderr reader"),
        };
        assert!(
            !timed_out,
            "the command ran longer than {limit:?}\n{}",
            describe(&output)
        );
        output
    }
}

/// The fields of `/proc/PID/stat` the tests use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcStat {
    pub state: char,
    pub parent: u32,
    pub process_group: u32,
    pub session: u32,
    /// Field 9, the kernel's `PF_*` flags of the process.
    pub flags: u32,
    /// Field 19, from -20 to 19.
    pub nice: i64,
    /// Field 22, in clock ticks since boot: with the pid it identifies one process.
    pub start_time: u64,
    /// Field 41, the scheduling policy (`SCHED_IDLE` is 5).
    pub policy: u32,
}

/// Reads `/proc/PID/stat`, or returns `None` when the process does not exist.
pub fn proc_stat(pid: u32) -> Option<ProcStat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name in parentheses may contain spaces and parentheses, so the fields are
    // counted from the last ')'. Index 0 of `fields` is field 3 of proc(5).
    let fields: Vec<&str> = text[text.rfind(')')? + 1..].split_whitespace().collect();
    let field = |number: usize| fields.get(number - 3).copied();
    Some(ProcStat {
        state: field(3)?.chars().next()?,
        parent: field(4)?.parse().ok()?,
        process_group: field(5)?.parse().ok()?,
        session: field(6)?.parse().ok()?,
        flags: field(9)?.parse().ok()?,
        nice: field(19)?.parse().ok()?,
        start_time: field(22)?.parse().ok()?,
        policy: field(41)?.parse().ok()?,
    })
}

/// Reads the `/proc/PID/status` lines as a map from key to the trimmed value.
pub fn proc_status(pid: u32) -> Option<BTreeMap<String, String>> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(
        text.lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(key, value)| (key.to_owned(), value.trim().to_owned()))
            .collect(),
    )
}

/// Returns the `Max open files` line of `/proc/PID/limits` (soft limit, hard limit, unit).
pub fn open_files_limit(pid: u32) -> Option<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = text
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    Some(line.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Returns the number of open file descriptors of a process.
pub fn fd_count(pid: u32) -> Option<usize> {
    Some(fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// Returns the resident set size of a process in KiB.
pub fn resident_kib(pid: u32) -> Option<u64> {
    let status = proc_status(pid)?;
    status.get("VmRSS")?.split_whitespace().next()?.parse().ok()
}

/// One process in a snapshot of `/proc`.
#[derive(Clone, Debug)]
pub struct ProcessEntry {
    pub pid: u32,
    pub parent: u32,
    /// The real uid, or `None` for a zombie, whose status the table does not read.
    pub uid: Option<u32>,
    pub session: u32,
    pub state: char,
    pub start_time: u64,
    /// SIGKILL is pending or the process is exiting (`PF_EXITING`): it runs no more code of
    /// its own.
    pub dying: bool,
}

/// Reads every process of the machine from `/proc`, skipping those that exit meanwhile.
pub fn process_table() -> Vec<ProcessEntry> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(process_entry)
        .collect()
}

/// The process flag set once a process has started to exit (`include/linux/sched.h`).
const PF_EXITING: u32 = 0x4;

fn process_entry(pid: u32) -> Option<ProcessEntry> {
    let stat = proc_stat(pid)?;
    // A fork bomb leaves thousands of zombies, and skipping their status keeps a sample of
    // the process table short.
    let (uid, killed) = if stat.state == 'Z' {
        (None, false)
    } else {
        let (uid, killed) = uid_and_killed(pid)?;
        (Some(uid), killed)
    };
    Some(ProcessEntry {
        pid,
        parent: stat.parent,
        uid,
        session: stat.session,
        state: stat.state,
        start_time: stat.start_time,
        dying: killed || stat.flags & PF_EXITING != 0,
    })
}

/// Reads the real uid of a process from `/proc/PID/status`, and whether SIGKILL is pending
/// for it.
fn uid_and_killed(pid: u32) -> Option<(u32, bool)> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mut uid = None;
    let mut pending = 0u64;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key {
            "Uid" => uid = value.split_whitespace().next()?.parse().ok(),
            "SigPnd" | "ShdPnd" => pending |= u64::from_str_radix(value.trim(), 16).ok()?,
            _ => {}
        }
    }
    let sigkill = 1u64 << (libc::SIGKILL - 1);
    Some((uid?, pending & sigkill != 0))
}

/// Returns the processes of `table` that descend from `root`, not counting `root` itself.
pub fn descendants(table: &[ProcessEntry], root: u32) -> Vec<ProcessEntry> {
    let parents: BTreeMap<u32, u32> = table
        .iter()
        .map(|entry| (entry.pid, entry.parent))
        .collect();
    let descends = |mut pid: u32| {
        // A parent chain ends at pid 1 or 0. The snapshot is not atomic, so reused pids can
        // form a cycle, and the walk stops after a fixed number of steps.
        for _ in 0..4096 {
            match parents.get(&pid) {
                Some(&parent) if parent == root => return true,
                Some(&parent) if parent > 1 => pid = parent,
                _ => return false,
            }
        }
        false
    };
    table
        .iter()
        .filter(|entry| descends(entry.pid))
        .cloned()
        .collect()
}

/// Makes a directory below a scratch directory and hands it to `who`.
pub fn make_dir(who: Identity, path: &Path) {
    fs::create_dir(path).expect("create directory");
    if who == Identity::Unprivileged {
        let (uid, gid) = user_ids().expect("test user exists");
        chown(path, Some(uid), Some(gid)).expect("chown directory");
    }
}

/// Returns the uid the unprivileged test user runs as, or `None` without one.
pub fn test_user_uid() -> Option<u32> {
    user_ids().map(|(uid, _)| uid)
}
