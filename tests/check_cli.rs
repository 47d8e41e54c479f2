//! `cordon check` and profile errors: a valid profile passes, and each kind of mistake is
//! reported as `FILE:LINE:COLUMN: message` naming what is wrong, both by `cordon check` and
//! by `cordon run --profile`, which then exits 125 without running the command.

mod common;

use std::process::Output;

use common::sandbox::{path_str, stderr_text, Launch};
use common::{describe, identities, Identity, Scratch};

/// Exit status of `cordon run` when cordon itself fails, for example on a profile error.
const CORDON_FAILURE: i32 = 125;

/// A profile mistake: the file's text, where the error is, and the text the message must
/// contain to tell the user what to fix.
struct Mistake {
    name: &'static str,
    text: &'static str,
    line: usize,
    /// The 1-based columns the reported position may take: the offending key, or any
    /// character of the offending string literal.
    columns: std::ops::RangeInclusive<usize>,
    culprit: &'static str,
}

const MISTAKES: [Mistake; 3] = [
    Mistake {
        name: "unknown-key",
        text: "[defaults]\nread = \"allow\"\nreed = \"deny\"\n",
        line: 3,
        columns: 1..=1,
        culprit: "reed",
    },
    Mistake {
        name: "invalid-glob",
        text: "[[rule]]\naction = \"deny\"\naccess = [\"read\"]\npaths = [\"/tmp/[unclosed\"]\n",
        line: 4,
        // `"/tmp/[unclosed"` spans columns 10 to 25.
        columns: 10..=25,
        culprit: "/tmp/[unclosed",
    },
    Mistake {
        name: "unset-variable",
        text: "[[rule]]\naction = \"allow\"\naccess = [\"read\"]\npaths = [\"${CORDON_SURELY_UNSET}/data\"]\n",
        line: 4,
        // `"${CORDON_SURELY_UNSET}/data"` spans columns 10 to 38.
        columns: 10..=38,
        culprit: "CORDON_SURELY_UNSET",
    },
];

/// A launch in `dir` that guarantees the variable the unset-variable case relies on is unset.
fn launch(who: Identity, dir: &Scratch) -> Launch {
    Launch::new(who, &dir.path).env_remove("CORDON_SURELY_UNSET")
}

/// Returns the stderr line that starts with `FILE:`, with the line and column parsed, or
/// fails with the whole output.
fn located_error(output: &Output, file: &str) -> (String, usize, usize) {
    let stderr = stderr_text(output);
    let prefix = format!("{file}:");
    let line = stderr
        .lines()
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix} on stderr:\n{}", describe(output)));
    let mut parts = line[prefix.len()..].splitn(3, ':');
    let number = |part: Option<&str>| part.and_then(|text| text.parse::<usize>().ok());
    let (Some(line_number), Some(column)) = (number(parts.next()), number(parts.next())) else {
        panic!("{line:?} does not continue as LINE:COLUMN:\n{}", describe(output));
    };
    (line.to_owned(), line_number, column)
}

#[test]
fn good_profile_passes_check() {
    for who in identities() {
        let dir = Scratch::new(who, "check-good");
        let profile = good_profile(who, &dir);

        let output = launch(who, &dir).cordon(&strings!["check", profile]);
        assert_eq!(output.status.code(), Some(0), "cordon check as {who:?}:\n{}", describe(&output));
    }
}

#[test]
fn good_profile_runs_command() {
    for who in identities() {
        let dir = Scratch::new(who, "run-good");
        let profile = good_profile(who, &dir);

        let output = launch(who, &dir).cordon(&strings!["run", "--profile", profile, "--", "sh", "-c", "echo ran"]);
        assert_eq!(output.status.code(), Some(0), "cordon run as {who:?}:\n{}", describe(&output));
        assert_eq!(output.stdout, b"ran\n", "cordon run as {who:?}:\n{}", describe(&output));
    }
}

/// Writes a profile that uses every part of the format and returns its path.
fn good_profile(who: Identity, dir: &Scratch) -> String {
    let secret = path_str(&dir.write(who, "secret", b"hidden\n"));
    let text = format!(
        r#"include = ["builtin:default"]
hide = ["{secret}"]

[defaults]
read = "allow"
write = "deny"

[[rule]]
action = "allow"
access = ["write", "create"]
paths = ["${{CWD}}/**"]

[[rule]]
action = "audit"
access = ["read"]
paths = ["${{TMPDIR}}/cordon-audit-*", "/etc/*.conf"]
"#
    );
    path_str(&dir.write(who, "good.toml", text.as_bytes()))
}

#[test]
fn check_reports_location_and_culprit() {
    for who in identities() {
        for mistake in &MISTAKES {
            let dir = Scratch::new(who, mistake.name);
            let file = path_str(&dir.write(who, &format!("{}.toml", mistake.name), mistake.text.as_bytes()));
            let what = format!("cordon check {} as {who:?}", mistake.name);

            let output = launch(who, &dir).cordon(&strings!["check", file]);
            let code = output.status.code();
            assert!(code == Some(1) || code == Some(CORDON_FAILURE), "{what} exit status:\n{}", describe(&output));

            let (error, line, column) = located_error(&output, &file);
            assert_eq!(line, mistake.line, "{what} reports the wrong line: {error}");
            assert!(mistake.columns.contains(&column), "{what} reports column {column}, expected {:?}: {error}", mistake.columns);
            assert!(error.contains(mistake.culprit), "{what} does not name {}: {error}", mistake.culprit);
        }
    }
}

#[test]
fn run_with_broken_profile_exits_125() {
    for who in identities() {
        for mistake in &MISTAKES {
            let dir = Scratch::new(who, mistake.name);
            let file = path_str(&dir.write(who, &format!("{}.toml", mistake.name), mistake.text.as_bytes()));
            let what = format!("cordon run --profile {} as {who:?}", mistake.name);

            let check = launch(who, &dir).cordon(&strings!["check", file]);
            let (check_error, _, _) = located_error(&check, &file);

            let run = launch(who, &dir).cordon(&strings!["run", "--profile", file, "--", "echo", "ran"]);
            assert_eq!(run.status.code(), Some(CORDON_FAILURE), "{what}:\n{}", describe(&run));
            let (run_error, _, _) = located_error(&run, &file);
            assert_eq!(run_error, check_error, "{what} reports the error differently from cordon check");
            assert_eq!(run.stdout, b"", "{what} ran the command despite the error:\n{}", describe(&run));
        }
    }
}
