//! `cordon check` and profile errors: a valid profile passes, and each kind of mistake is
//! reported as `FILE:LINE:COLUMN: message` saying what is wrong, followed by a hint line,
//! both by `cordon check` and by `cordon run --profile`, which then exits 125 without
//! running the command.

mod common;

use std::process::Output;

use common::sandbox::{path_str, stderr_text, Launch};
use common::{describe, identities, Identity, Scratch};

/// Exit status of `cordon run` when cordon itself fails, for example on a profile error.
const CORDON_FAILURE: i32 = 125;

/// A profile mistake: the file's text, where the error is, and the text the message must
/// contain to say what is wrong.
struct Mistake {
    name: &'static str,
    text: &'static str,
    line: usize,
    /// The 1-based columns the reported position may take: the offending key, or any
    /// character of the offending string literal.
    columns: std::ops::RangeInclusive<usize>,
    must_contain: &'static str,
}

const MISTAKES: [Mistake; 3] = [
    Mistake {
        name: "unknown-key",
        text: "[defaults]\nread = \"allow\"\nreed = \"deny\"\n",
        line: 3,
        columns: 1..=1,
        must_contain: "reed",
    },
    Mistake {
        name: "invalid-glob",
        text: "[[rule]]\naction = \"deny\"\naccess = [\"read\"]\npaths = [\"/tmp/[unclosed\"]\n",
        line: 4,
        // `"/tmp/[unclosed"` spans columns 10 to 25.
        columns: 10..=25,
        // The position already points at the pattern, so the message need not repeat it.
        must_contain: "invalid glob",
    },
    Mistake {
        name: "unset-variable",
        text: "[[rule]]\naction = \"allow\"\naccess = [\"read\"]\npaths = [\"${CORDON_SURELY_UNSET}/data\"]\n",
        line: 4,
        // `"${CORDON_SURELY_UNSET}/data"` spans columns 10 to 38.
        columns: 10..=38,
        must_contain: "CORDON_SURELY_UNSET",
    },
];

/// Returns a launch in `dir` with the variable of the unset-variable case removed.
fn launch(who: Identity, dir: &Scratch) -> Launch {
    Launch::new(who, &dir.path).env_remove("CORDON_SURELY_UNSET")
}

/// A located profile error as cordon prints it on stderr.
struct ReportedError {
    /// The `FILE:LINE:COLUMN: message` line, without the `cordon: ` prefix that
    /// `cordon run` puts before its own errors.
    message: String,
    line: usize,
    column: usize,
    /// The indented `hint: ...` line that follows the message, if any.
    hint: Option<String>,
}

/// Finds the stderr line that starts with `FILE:` (after an optional `cordon: `) and parses
/// its line, column and the hint below it, failing with the whole output when it is absent.
fn located_error(output: &Output, file: &str) -> ReportedError {
    let stderr = stderr_text(output);
    let lines: Vec<&str> = stderr.lines().collect();
    let prefix = format!("{file}:");
    let without_program = |line: &str| line.strip_prefix("cordon: ").unwrap_or(line).to_owned();
    let Some(index) = lines
        .iter()
        .position(|line| without_program(line).starts_with(&prefix))
    else {
        panic!(
            "no line starting with {prefix} on stderr:\n{}",
            describe(output)
        );
    };
    let message = without_program(lines[index]);

    let mut parts = message[prefix.len()..].splitn(3, ':');
    let number = |part: Option<&str>| part.and_then(|text| text.parse::<usize>().ok());
    let (Some(line), Some(column)) = (number(parts.next()), number(parts.next())) else {
        panic!(
            "{message:?} does not continue as LINE:COLUMN:\n{}",
            describe(output)
        );
    };
    let hint = lines
        .get(index + 1)
        .map(|next| next.trim_start())
        .filter(|next| next.starts_with("hint: "))
        .map(str::to_owned);
    ReportedError {
        message,
        line,
        column,
        hint,
    }
}

#[test]
fn good_profile_passes_check() {
    for who in identities() {
        let dir = Scratch::new(who, "check-good");
        let profile = good_profile(who, &dir);

        let output = launch(who, &dir).cordon(&strings!["check", profile]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "cordon check as {who:?}:\n{}",
            describe(&output)
        );
    }
}

#[test]
fn good_profile_runs_command() {
    for who in identities() {
        let dir = Scratch::new(who, "run-good");
        let profile = good_profile(who, &dir);

        let output = launch(who, &dir).cordon(&strings![
            "run",
            "--profile",
            profile,
            "--",
            "sh",
            "-c",
            "echo ran"
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "cordon run as {who:?}:\n{}",
            describe(&output)
        );
        assert_eq!(
            output.stdout,
            b"ran\n",
            "cordon run as {who:?}:\n{}",
            describe(&output)
        );
    }
}

/// Writes a valid profile with an include, a hide list, defaults and rules, and returns
/// its path.
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
fn check_reports_location_and_hint() {
    for who in identities() {
        for mistake in &MISTAKES {
            let dir = Scratch::new(who, mistake.name);
            let file = path_str(&dir.write(
                who,
                &format!("{}.toml", mistake.name),
                mistake.text.as_bytes(),
            ));
            let what = format!("cordon check {} as {who:?}", mistake.name);

            let output = launch(who, &dir).cordon(&strings!["check", file]);
            let code = output.status.code();
            assert!(
                code == Some(1) || code == Some(CORDON_FAILURE),
                "{what} exit status:\n{}",
                describe(&output)
            );

            let error = located_error(&output, &file);
            let message = &error.message;
            assert_eq!(
                error.line, mistake.line,
                "{what} reports the wrong line: {message}"
            );
            assert!(
                mistake.columns.contains(&error.column),
                "{what} reports column {}, expected {:?}: {message}",
                error.column,
                mistake.columns
            );
            assert!(
                message.contains(mistake.must_contain),
                "{what} does not say {:?}: {message}",
                mistake.must_contain
            );
            assert!(
                error.hint.is_some(),
                "{what} prints no hint line:\n{}",
                describe(&output)
            );
        }
    }
}

#[test]
fn run_with_broken_profile_exits_125() {
    for who in identities() {
        for mistake in &MISTAKES {
            let dir = Scratch::new(who, mistake.name);
            let file = path_str(&dir.write(
                who,
                &format!("{}.toml", mistake.name),
                mistake.text.as_bytes(),
            ));
            let what = format!("cordon run --profile {} as {who:?}", mistake.name);

            let check = launch(who, &dir).cordon(&strings!["check", file]);
            let check_error = located_error(&check, &file);

            let run =
                launch(who, &dir).cordon(&strings!["run", "--profile", file, "--", "echo", "ran"]);
            assert_eq!(
                run.status.code(),
                Some(CORDON_FAILURE),
                "{what}:\n{}",
                describe(&run)
            );
            let run_error = located_error(&run, &file);
            assert_eq!(
                run_error.message, check_error.message,
                "{what} reports the error differently from cordon check"
            );
            assert_eq!(
                run_error.hint, check_error.hint,
                "{what} prints a different hint from cordon check"
            );
            assert_eq!(
                run.stdout,
                b"",
                "{what} ran the command despite the error:\n{}",
                describe(&run)
            );
        }
    }
}
