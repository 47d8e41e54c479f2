//! Race tests for the rules that make cordon's decision and action refer to the same
//! object. Each C program in `tests/attacks` races the supervisor: a second thread changes
//! the path buffer or the file system while the main thread opens a file.
//!
//! Every race is run natively first and must read the secret there at least once, which
//! shows the harness can win. Under cordon, with a policy that denies reading the secret,
//! it must read the public file many times and the secret never. It must also get the
//! secret refused at least once, which shows the racing thread reached the denied branch.

mod common;

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use common::attack_programs::{output_within, RaceCounts};
use common::c_programs::CProgram;
use common::{command_as, cordon_bin, describe, identities, Identity, Scratch};

/// Run time of one race per identity, shared by its variants.
const RACE_MILLISECONDS: u64 = 2000;

/// Opens of the public file each run under cordon must reach. An emulated open took
/// 12–91 µs on the 2-vCPU Linux 6.18 test machines, so a correct sandbox manages thousands
/// in one race's run time.
const MIN_ALLOWED: u64 = 100;

/// Limit for one run, far above `RACE_MILLISECONDS`, after which the run counts as hung.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Serialises the races: run side by side on two cores they would slow each other down and
/// make the native runs lose more often.
static SERIAL: Mutex<()> = Mutex::new(());

struct Race {
    /// Name of the C program in `tests/attacks`.
    program: &'static str,
    /// Extra operand of `PROGRAM run`, selecting the syscall for the path flip.
    variant: Option<&'static str>,
    /// The `--deny-read` pattern, relative to the race's directory.
    denied: &'static str,
    milliseconds: u64,
}

impl Race {
    fn label(&self) -> String {
        match self.variant {
            Some(variant) => format!("{}-{variant}", self.program),
            None => self.program.to_owned(),
        }
    }
}

#[test]
fn path_buffer_flip() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let variants = ["open", "openat", "openat2"];
    let program = CProgram::build("attacks", "race_path_flip");
    for variant in variants {
        let race = Race {
            program: "race_path_flip",
            variant: Some(variant),
            denied: "secret",
            milliseconds: RACE_MILLISECONDS / variants.len() as u64,
        };
        check_race(&race, &program);
    }
}

#[test]
fn final_symlink_swap() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let race = Race {
        program: "race_symlink_swap",
        variant: None,
        denied: "secret",
        milliseconds: RACE_MILLISECONDS,
    };
    check_race(&race, &CProgram::build("attacks", race.program));
}

#[test]
fn middle_directory_swap() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let race = Race {
        program: "race_middle_dir",
        variant: None,
        denied: "secret/**",
        milliseconds: RACE_MILLISECONDS,
    };
    check_race(&race, &CProgram::build("attacks", race.program));
}

#[test]
fn dirfd_renamed_concurrently() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let race = Race {
        program: "race_dirfd_rename",
        variant: None,
        denied: "w/priv/**",
        milliseconds: RACE_MILLISECONDS,
    };
    check_race(&race, &CProgram::build("attacks", race.program));
}

fn check_race(race: &Race, program: &CProgram) {
    check_native(race, program);
    for who in identities() {
        check_under_cordon(race, program, who);
    }
}

fn check_native(race: &Race, program: &CProgram) {
    let scratch = prepare(race, program, Identity::Invoker);
    let output = output_within(
        command_as(
            Identity::Invoker,
            program.path(),
            &run_operands(race, &scratch),
        ),
        RUN_TIMEOUT,
    );
    assert!(
        output.status.success(),
        "{} failed natively\n{}",
        race.label(),
        describe(&output)
    );

    let counts = RaceCounts::parse(&output);
    eprintln!("{} natively: {counts}", race.label());
    assert!(
        counts.denied > 0,
        "{} never read the secret natively, so its run under cordon would prove nothing: {counts}",
        race.label()
    );
}

fn check_under_cordon(race: &Race, program: &CProgram, who: Identity) {
    let scratch = prepare(race, program, who);
    let mut args = cordon_options(race, &scratch);
    args.push("--".to_owned());
    args.push(program.path().display().to_string());
    args.extend(run_operands(race, &scratch));
    let output = output_within(command_as(who, cordon_bin(), &args), RUN_TIMEOUT);
    assert!(
        output.status.success(),
        "{} failed under cordon as {who:?}\n{}",
        race.label(),
        describe(&output)
    );

    let counts = RaceCounts::parse(&output);
    eprintln!("{} under cordon as {who:?}: {counts}", race.label());
    assert_eq!(
        counts.denied,
        0,
        "{} read the secret under cordon as {who:?}: {counts}",
        race.label()
    );
    assert!(
        counts.allowed >= MIN_ALLOWED,
        "{} read the public file fewer than {MIN_ALLOWED} times under cordon as {who:?}: {counts}\n{}",
        race.label(),
        describe(&output)
    );
    assert!(
        counts.swaps > 0,
        "the racing thread of {} changed nothing under cordon as {who:?}: {counts}\n{}",
        race.label(),
        describe(&output)
    );
    assert!(
        counts.other > 0,
        "{} never had an open of the secret refused under cordon as {who:?}, so the race never \
         reached the denied branch: {counts}",
        race.label()
    );
}

/// Creates the race's directory and files, owned by `who`.
fn prepare(race: &Race, program: &CProgram, who: Identity) -> Scratch {
    let scratch = Scratch::new(who, &race.label());
    let dir = scratch.path.display().to_string();
    let output = output_within(
        command_as(who, program.path(), &["prepare", &dir]),
        RUN_TIMEOUT,
    );
    assert!(
        output.status.success(),
        "{} prepare {dir} failed as {who:?}\n{}",
        race.label(),
        describe(&output)
    );
    scratch
}

fn run_operands(race: &Race, scratch: &Scratch) -> Vec<String> {
    let mut operands = vec![
        "run".to_owned(),
        scratch.path.display().to_string(),
        race.milliseconds.to_string(),
    ];
    operands.extend(race.variant.map(str::to_owned));
    operands
}

/// Builds the `cordon run` options of a race. Reading the secret is denied, and the racing
/// thread may create, rename and delete in the race's directory. `--quiet` keeps the
/// thousands of expected denials off stderr.
fn cordon_options(race: &Race, scratch: &Scratch) -> Vec<String> {
    let dir = scratch.path.display();
    let whole_dir = format!("{dir}/**");
    let secret = format!("{dir}/{}", race.denied);
    [
        "run",
        "--quiet",
        "--allow-write",
        &whole_dir,
        "--allow-modify",
        &whole_dir,
        "--default",
        "rename=allow",
        "--default",
        "delete=allow",
        "--deny-read",
        &secret,
    ]
    .map(str::to_owned)
    .to_vec()
}
