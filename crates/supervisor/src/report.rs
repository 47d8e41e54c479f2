//! Reporting of decisions: one escaped line on stderr per denial (rate-limited) and, with
//! `--log`, one JSON line per deny, audit or hide decision.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use cordon_policy::Category;

/// The decision reported for one access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Deny,
    Audit,
    Hide,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Deny => "deny",
            Outcome::Audit => "audit",
            Outcome::Hide => "hide",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Outcome::Deny => "denied",
            Outcome::Audit => "audit",
            Outcome::Hide => "hid",
        }
    }
}

/// One decision to report.
pub struct Event<'a> {
    pub pid: libc::pid_t,
    pub tid: libc::pid_t,
    pub syscall: &'static str,
    pub category: Category,
    pub path: &'a [u8],
    pub outcome: Outcome,
    pub rule: String,
}

/// Stderr lines allowed per second before further lines are only counted.
const STDERR_LINES_PER_SECOND: u32 = 20;
/// Size of the JSON log beyond which repeated decisions are counted instead of written.
const LOG_SIZE_CAP: u64 = 64 * 1024 * 1024;

pub struct Reporter {
    quiet: bool,
    stderr: Mutex<RateLimit>,
    log: Option<Mutex<Log>>,
}

struct RateLimit {
    window_start: Instant,
    lines: u32,
    suppressed: u64,
}

struct Log {
    file: File,
    written: u64,
    /// Decisions not written because the log reached its cap, by (category, path, outcome).
    repeats: HashMap<(Category, Vec<u8>, Outcome), u64>,
}

impl Reporter {
    pub fn new(quiet: bool, log: Option<File>) -> Reporter {
        Reporter {
            quiet,
            stderr: Mutex::new(RateLimit { window_start: Instant::now(), lines: 0, suppressed: 0 }),
            log: log.map(|file| Mutex::new(Log { file, written: 0, repeats: HashMap::new() })),
        }
    }

    pub fn report(&self, event: &Event<'_>) {
        tracing::debug!(pid = event.pid, syscall = event.syscall, category = event.category.name(), outcome = event.outcome.name(), path = %escape(event.path), "decision");
        if !self.quiet {
            self.print(event);
        }
        if let Some(log) = &self.log {
            let mut log = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Err(error) = log.append(event) {
                tracing::warn!(%error, "could not write the audit log");
            }
        }
    }

    fn print(&self, event: &Event<'_>) {
        let mut limit = self.stderr.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if limit.window_start.elapsed().as_secs() >= 1 {
            if limit.suppressed > 0 {
                eprintln!("cordon: {} more denial lines suppressed", limit.suppressed);
            }
            *limit = RateLimit { window_start: Instant::now(), lines: 0, suppressed: 0 };
        }
        if limit.lines >= STDERR_LINES_PER_SECOND {
            limit.suppressed += 1;
            return;
        }
        limit.lines += 1;
        eprintln!(
            "cordon: {} {} of \"{}\" ({}, pid {}, rule {})",
            event.outcome.verb(),
            event.category.name(),
            escape(event.path),
            event.syscall,
            event.pid,
            event.rule
        );
    }

    /// Writes the counts of decisions that the size cap kept out of the log.
    pub fn finish(&self) {
        let Some(log) = &self.log else { return };
        let mut log = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let repeats = std::mem::take(&mut log.repeats);
        for ((category, path, outcome), count) in repeats {
            let mut line = serde_json::json!({
                "time": timestamp(), "category": category.name(), "action": outcome.name(), "repeats": count,
            });
            add_path(&mut line, &path);
            let _ = writeln!(log.file, "{line}");
        }
        let _ = log.file.flush();
    }
}

impl Log {
    fn append(&mut self, event: &Event<'_>) -> io::Result<()> {
        if self.written >= LOG_SIZE_CAP {
            *self.repeats.entry((event.category, event.path.to_vec(), event.outcome)).or_insert(0) += 1;
            return Ok(());
        }
        let mut line = serde_json::json!({
            "time": timestamp(),
            "pid": event.pid,
            "tid": event.tid,
            "syscall": event.syscall,
            "category": event.category.name(),
            "action": event.outcome.name(),
            "rule": event.rule,
        });
        add_path(&mut line, event.path);
        let text = format!("{line}\n");
        self.file.write_all(text.as_bytes())?;
        self.written += text.len() as u64;
        Ok(())
    }
}

/// Stores the path as `path`, or as `path_b64` when it is not valid UTF-8.
fn add_path(line: &mut serde_json::Value, path: &[u8]) {
    match std::str::from_utf8(path) {
        Ok(text) => line["path"] = text.into(),
        Err(_) => line["path_b64"] = base64::engine::general_purpose::STANDARD.encode(path).into(),
    }
}

/// Escapes a path for a terminal: control characters, backslashes, quotes and invalid UTF-8
/// become `\xNN`, so a hostile file name cannot forge lines or terminal sequences.
pub fn escape(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for chunk in path.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() || c == '\\' || c == '"' {
                let mut buffer = [0u8; 4];
                for byte in c.encode_utf8(&mut buffer).bytes() {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
            } else {
                out.push(c);
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// Formats the current time as RFC 3339 UTC with milliseconds.
fn timestamp() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = now.as_secs() as i64;
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        now.subsec_millis()
    )
}

/// Converts days since 1970-01-01 to a (year, month, day) date in the proleptic Gregorian
/// calendar (Howard Hinnant's days-to-civil algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_control_and_invalid_bytes() {
        assert_eq!(escape(b"/tmp/a\nb"), "/tmp/a\\x0ab");
        assert_eq!(escape(b"/tmp/\xff"), "/tmp/\\xff");
        assert_eq!(escape(b"/tmp/\x1b[31m"), "/tmp/\\x1b[31m");
        assert_eq!(escape("/tmp/é".as_bytes()), "/tmp/é");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_426), (2025, 12, 4));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
