//! Attack tests for the checked file-system calls (delete, rename, link, attr and stat).
//! Some C programs in `tests/fs_attacks` race the supervisor with a second thread that
//! swaps a directory for a symbolic link or flips the path buffer. The others try to give a
//! read-denied file an allowed name with link, rename or RENAME_EXCHANGE.
//!
//! Every program counts both branches. Natively, as each identity, the denied branch must
//! win at least once, which shows the attack is real. Under cordon the allowed branch must
//! succeed at least `MIN_ALLOWED` times, the denied branch never, every refusal must be
//! `EACCES`, and the audit log must show cordon's own denial of the protected object.
//!
//! Most attacks run in two shapes of the policy. In the inside shape `--allow-modify` covers
//! the whole directory and a deny rule covers the protected part, so Landlock, which bounds
//! changes to the trees of allow rules, lets the call through and only cordon's check can
//! refuse it. In the outside shape the protected object lies outside every allowed tree.

mod common;

use std::fmt;
use std::path::Path;
use std::process::Output;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use common::attack_programs::output_within;
use common::c_programs::{parse_counts, CProgram};
use common::sandbox::{log_str, read_audit_log};
use common::{command_as, cordon_bin, describe, identities, Identity, Scratch};

/// Run time of one attack per identity, shared by its cases.
const RACE_MILLISECONDS: u64 = 2000;

/// Successes of the allowed branch each run under cordon must reach. On the 2-vCPU Linux
/// 6.18 test machine a case's share of 200 to 670 ms gave 469 to 22,000 under cordon.
const MIN_ALLOWED: u64 = 100;

/// Limit for one run, far above `RACE_MILLISECONDS`, after which the run counts as hung.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Serialises the attacks: run side by side on two cores they would slow each other down.
static SERIAL: Mutex<()> = Mutex::new(());

/// The counts an attack program prints on its last line.
#[derive(Clone, Copy, Debug)]
struct Counts {
    /// Calls that changed or returned the allowed object.
    allowed: u64,
    /// Times the protected object was changed, moved, observed or read.
    denied: u64,
    /// Failed calls with `EACCES`.
    refused: u64,
    /// Other failures and unexpected results.
    other: u64,
    /// Changes made by the racing thread.
    swaps: u64,
    /// Links, renames or exchanges that gave the protected file an allowed name.
    aliased: u64,
}

impl Counts {
    fn parse(output: &Output) -> Counts {
        let [allowed, denied, refused, other, swaps, aliased] = parse_counts(
            output,
            ["allowed", "denied", "refused", "other", "swaps", "aliased"],
        );
        Counts {
            allowed,
            denied,
            refused,
            other,
            swaps,
            aliased,
        }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "allowed={} denied={} refused={} other={} swaps={} aliased={}",
            self.allowed, self.denied, self.refused, self.other, self.swaps, self.aliased
        )
    }
}

/// One run of an attack program: its variant and the policy it runs under.
struct Case {
    variant: &'static str,
    /// Name of the policy in the case's label. With `inside` the protected object lies in
    /// a tree an allow rule covers and a deny rule covers the object. With `outside` it lies
    /// outside every tree an allow rule names. Other names name the pattern that protects it.
    policy: &'static str,
    /// `cordon run` options, each with a pattern relative to the attack's directory
    /// (`**` alone stands for `DIR/**`).
    rules: &'static [(&'static str, &'static str)],
    /// The category and the path, relative to the attack's directory, of the denial the
    /// audit log must contain.
    logged: (&'static str, &'static str),
}

struct Attack {
    /// Name of the C program in `tests/fs_attacks`.
    program: &'static str,
    /// Whether the program has a racing thread, which must have made changes.
    races: bool,
    /// Whether every failure under cordon must be `EACCES`. Not for the path flips: a copy
    /// of the path made with unaligned loads can mix the two names into one that does not
    /// exist, which fails with `ENOENT` natively too.
    only_eacces: bool,
    cases: Vec<Case>,
}

impl Attack {
    fn label(&self, case: &Case) -> String {
        format!("{}-{}-{}", self.program, case.variant, case.policy)
    }
}

/// Builds the inside and the outside case of each variant.
fn both_shapes(
    variants: &[&'static str],
    inside: &'static [(&'static str, &'static str)],
    outside: &'static [(&'static str, &'static str)],
    logged: (&'static str, &'static str),
) -> Vec<Case> {
    let mut cases = Vec::new();
    for &variant in variants {
        cases.push(Case {
            variant,
            policy: "inside",
            rules: inside,
            logged,
        });
        cases.push(Case {
            variant,
            policy: "outside",
            rules: outside,
            logged,
        });
    }
    cases
}

#[test]
fn symlink_swapped_under_unlink() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    check_attack(&Attack {
        program: "swap_unlink",
        races: true,
        only_eacces: true,
        cases: both_shapes(
            &["unlink", "unlinkat"],
            &[("--allow-modify", "**"), ("--deny-delete", "protected/**")],
            &[("--allow-modify", "work/**")],
            ("delete", "protected/victim"),
        ),
    });
}

#[test]
fn symlink_swapped_under_rename() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let inside = &[("--allow-modify", "**"), ("--deny-rename", "protected/**")];
    let outside = &[("--allow-modify", "work/**")];
    let mut cases = both_shapes(
        &["rename", "renameat2"],
        inside,
        outside,
        ("rename", "protected/x"),
    );
    cases.extend(both_shapes(
        &["destination"],
        inside,
        outside,
        ("rename", "protected/new"),
    ));
    check_attack(&Attack {
        program: "swap_rename",
        races: true,
        only_eacces: true,
        cases,
    });
}

#[test]
fn symlink_swapped_under_chmod() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    check_attack(&Attack {
        program: "swap_chmod",
        races: true,
        only_eacces: true,
        cases: both_shapes(
            &["chmod", "fchmodat", "fchmodat2"],
            &[("--allow-modify", "**"), ("--deny-attr", "protected/**")],
            &[("--allow-modify", "work/**")],
            ("attr", "protected/file"),
        ),
    });
}

#[test]
fn final_symlink_swapped() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let mut cases = both_shapes(
        &["chmod", "truncate"],
        &[("--allow-modify", "**"), ("--deny-attr", "protected/**")],
        &[("--allow-modify", "work/**")],
        ("attr", "protected/file"),
    );
    // The racing thread renames in DIR/work, which stat rules alone would not allow.
    cases.push(Case {
        variant: "statx",
        policy: "inside",
        rules: &[("--allow-modify", "**"), ("--deny-stat", "protected/**")],
        logged: ("stat", "protected/file"),
    });
    check_attack(&Attack {
        program: "swap_final",
        races: true,
        only_eacces: true,
        cases,
    });
}

#[test]
fn path_flipped_under_stat() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    // stat is allowed everywhere by default, so the secret always lies in an allowed tree.
    let cases = ["stat", "newfstatat", "statx"]
        .into_iter()
        .map(|variant| Case {
            variant,
            policy: "inside",
            rules: &[("--deny-stat", "secret/file")],
            logged: ("stat", "secret/file"),
        })
        .collect();
    check_attack(&Attack {
        program: "flip_path",
        races: true,
        only_eacces: false,
        cases,
    });
}

#[test]
fn path_flipped_under_rename() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    check_attack(&Attack {
        program: "flip_path",
        races: true,
        only_eacces: false,
        cases: both_shapes(
            &["rename"],
            &[("--allow-modify", "**"), ("--deny-rename", "secret/**")],
            &[("--allow-modify", "public/**")],
            ("rename", "secret/file"),
        ),
    });
}

#[test]
fn path_flipped_under_truncate() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    check_attack(&Attack {
        program: "flip_path",
        races: true,
        only_eacces: false,
        cases: both_shapes(
            &["truncate"],
            &[("--allow-modify", "**"), ("--deny-attr", "secret/**")],
            &[("--allow-modify", "public/**")],
            ("attr", "secret/file"),
        ),
    });
}

#[test]
fn hard_link_to_read_denied_file() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    // Inside, linking and renaming the secret is allowed, so only the rule that a new name
    // must not allow reading what the old name denies stops it. Outside, renaming the
    // secret is denied by default, and the fd routes get no fd to link.
    let mut cases = Vec::new();
    for variant in ["link", "linkat", "linkat_empty", "linkat_procfd", "rename"] {
        cases.push(Case {
            variant,
            policy: "inside",
            rules: &[
                ("--allow-modify", "**"),
                ("--deny-read", "protected/secret"),
            ],
            logged: ("read", "allowed/alias"),
        });
        let logged = if variant.starts_with("linkat_") {
            ("write", "protected/secret")
        } else {
            ("rename", "protected/secret")
        };
        cases.push(Case {
            variant,
            policy: "outside",
            rules: &[
                ("--allow-modify", "allowed/**"),
                ("--deny-read", "protected/**"),
            ],
            logged,
        });
    }
    check_attack(&Attack {
        program: "link_alias",
        races: false,
        only_eacces: true,
        cases,
    });
}

#[test]
fn rename_exchange_with_read_denied_file() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let mut cases = Vec::new();
    for variant in ["secret_first", "secret_second"] {
        cases.push(Case {
            variant,
            policy: "inside",
            rules: &[
                ("--allow-modify", "**"),
                ("--deny-read", "protected/secret"),
            ],
            logged: ("read", "allowed/c"),
        });
        cases.push(Case {
            variant,
            policy: "outside",
            rules: &[
                ("--allow-modify", "allowed/**"),
                ("--deny-read", "protected/**"),
            ],
            logged: ("rename", "protected/secret"),
        });
    }
    check_attack(&Attack {
        program: "exchange_alias",
        races: false,
        only_eacces: true,
        cases,
    });
}

#[test]
fn directory_rename_with_read_denied_file() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    // The secret's directory moves, so the secret's new path must be refused whenever the
    // old one is protected: by a literal pattern below the directory, by a glob whose
    // literal part ends above it, or by a hide pattern.
    let mut cases = Vec::new();
    for variant in ["rename", "exchange"] {
        cases.push(Case {
            variant,
            policy: "literal",
            rules: &[("--allow-modify", "**"), ("--deny-read", "ab/secret")],
            logged: ("rename", "ab"),
        });
        cases.push(Case {
            variant,
            policy: "glob",
            rules: &[("--allow-modify", "**"), ("--deny-read", "a*/secret")],
            logged: ("rename", "ab"),
        });
        cases.push(Case {
            variant,
            policy: "hide-glob",
            rules: &[("--allow-modify", "**"), ("--hide", "a*/secret")],
            logged: ("rename", "ab"),
        });
    }
    check_attack(&Attack {
        program: "dir_alias",
        races: false,
        only_eacces: true,
        cases,
    });
}

fn check_attack(attack: &Attack) {
    let program = CProgram::build("fs_attacks", attack.program);
    let milliseconds = RACE_MILLISECONDS / attack.cases.len() as u64;
    for case in &attack.cases {
        for who in identities() {
            check_native(attack, case, &program, who, milliseconds);
            check_under_cordon(attack, case, &program, who, milliseconds);
        }
    }
}

fn check_native(
    attack: &Attack,
    case: &Case,
    program: &CProgram,
    who: Identity,
    milliseconds: u64,
) {
    let label = attack.label(case);
    let scratch = prepare(&label, program, who);
    let operands = run_operands(case, &scratch, milliseconds);
    let output = output_within(command_as(who, program.path(), &operands), RUN_TIMEOUT);
    assert!(
        output.status.success(),
        "{label} failed natively as {who:?}\n{}",
        describe(&output)
    );

    let counts = Counts::parse(&output);
    eprintln!("{label} natively as {who:?}: {counts}");
    assert!(
        counts.denied > 0,
        "{label} never reached the protected file natively as {who:?}, so its run under \
         cordon would prove nothing: {counts}\n{}",
        describe(&output)
    );
}

fn check_under_cordon(
    attack: &Attack,
    case: &Case,
    program: &CProgram,
    who: Identity,
    milliseconds: u64,
) {
    let label = attack.label(case);
    let scratch = prepare(&label, program, who);
    let logs = Scratch::new(who, &format!("{label}-log"));
    let log = logs.join("audit.jsonl");
    let mut args = cordon_options(case, &scratch, &log);
    args.push("--".to_owned());
    args.push(program.path_string());
    args.extend(run_operands(case, &scratch, milliseconds));
    let output = output_within(command_as(who, cordon_bin(), &args), RUN_TIMEOUT);
    assert!(
        output.status.success(),
        "{label} failed under cordon as {who:?}\n{}",
        describe(&output)
    );

    let counts = Counts::parse(&output);
    eprintln!("{label} under cordon as {who:?}: {counts}");
    assert_eq!(
        counts.denied,
        0,
        "{label} reached the protected file under cordon as {who:?}: {counts}\n{}",
        describe(&output)
    );
    assert_eq!(
        counts.aliased, 0,
        "{label} gave the protected file an allowed name under cordon as {who:?}: {counts}"
    );
    assert!(
        counts.allowed >= MIN_ALLOWED,
        "{label} succeeded fewer than {MIN_ALLOWED} times under cordon as {who:?}: {counts}\n{}",
        describe(&output)
    );
    assert!(
        counts.refused > 0,
        "{label} never had the protected file refused under cordon as {who:?}, so it never \
         reached the denied branch: {counts}"
    );
    if attack.only_eacces {
        assert_eq!(
            counts.other,
            0,
            "{label} had failures other than EACCES under cordon as {who:?}: {counts}\n{}",
            describe(&output)
        );
    }
    if attack.races {
        assert!(
            counts.swaps > 0,
            "the racing thread of {label} changed nothing under cordon as {who:?}: {counts}"
        );
    }
    assert_denial_logged(&label, case, &scratch.path, &log, who);
}

/// Asserts that the audit log contains a denial of the case's category for its protected
/// path, which shows that cordon's check refused the call.
fn assert_denial_logged(label: &str, case: &Case, dir: &Path, log: &Path, who: Identity) {
    let (category, relative) = case.logged;
    let path = format!("{}/{relative}", dir.display());
    let records = read_audit_log(log);
    let found = records.iter().any(|record| {
        log_str(record, "action") == Some("deny")
            && log_str(record, "category") == Some(category)
            && log_str(record, "path") == Some(path.as_str())
    });
    assert!(
        found,
        "{label} under cordon as {who:?}: the audit log has no {category} denial of {path} \
         among its {} records",
        records.len()
    );
}

/// Creates the attack's directory and files, owned by `who`.
fn prepare(label: &str, program: &CProgram, who: Identity) -> Scratch {
    let scratch = Scratch::new(who, label);
    let dir = scratch.path.display().to_string();
    let output = output_within(
        command_as(who, program.path(), &["prepare", &dir]),
        RUN_TIMEOUT,
    );
    assert!(
        output.status.success(),
        "{label} prepare {dir} failed as {who:?}\n{}",
        describe(&output)
    );
    scratch
}

fn run_operands(case: &Case, scratch: &Scratch, milliseconds: u64) -> Vec<String> {
    vec![
        "run".to_owned(),
        scratch.path.display().to_string(),
        milliseconds.to_string(),
        case.variant.to_owned(),
    ]
}

/// Builds the `cordon run` options of a case. `--quiet` keeps the thousands of expected
/// denials off stderr, and the audit log records them instead.
fn cordon_options(case: &Case, scratch: &Scratch, log: &Path) -> Vec<String> {
    let mut options = vec![
        "run".to_owned(),
        "--quiet".to_owned(),
        "--log".to_owned(),
        log.display().to_string(),
    ];
    for (option, relative) in case.rules {
        options.push((*option).to_owned());
        options.push(format!("{}/{relative}", scratch.path.display()));
    }
    options
}
