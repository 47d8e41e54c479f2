//! Race and escape tests for exec and chdir checking. The C programs in
//! `tests/exec_attacks` race the tracer: a second thread changes the path buffer or the
//! file system while the program execs, changes directory or opens with `O_PATH`.
//!
//! Every race is run natively first and must reach the denied file or directory at least
//! once, which shows the harness can win. Under cordon it must reach the allowed one many
//! times and the denied one never, and must have the denied branch refused (or killed by
//! the post-validation) at least once, which shows the racing thread reached it.
//!
//! The exec targets are copies of `marker.c`, which appends a line to `markers/NAME`
//! (NAME is the executed file's base name), so a marker file `denied` proves that the
//! denied binary ran.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Output;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use common::attack_programs::{output_within, reported};
use common::c_programs::CProgram;
use common::exec_support::{marker_lines, post_validation_kills, ExecCounts, MarkerLayout};
use common::sandbox::program_stderr;
use common::{command_as, cordon_bin, describe, identities, Identity, Scratch};

/// Run time of one race per identity.
const RACE_MILLISECONDS: u64 = 2000;

/// Execs of the allowed binary each exec race under cordon must reach. Each attempt is a
/// fork or vfork, an exec and a dynamically linked marker. On the 2-vCPU Linux 6.18 test
/// machine, busy with other builds, one race gave 150 to 1200 allowed execs under cordon,
/// so 50 leaves room for a slower machine.
const MIN_ALLOWED_EXECS: u64 = 50;

/// chdir and open attempts that must reach the allowed object under cordon. One race's run
/// time gave hundreds to tens of thousands on the test machine.
const MIN_ALLOWED_CALLS: u64 = 100;

/// Limit for one run, far above `RACE_MILLISECONDS`, after which the run counts as hung.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// The dynamic loader, which runs a binary given as its argument without an exec of it.
const DYNAMIC_LOADER: &str = "/lib64/ld-linux-x86-64.so.2";

/// Serialises the tests, because side by side on two cores they would slow each other down
/// and make the native runs lose more often.
static SERIAL: Mutex<()> = Mutex::new(());

/// What the allowed branch of a race is, which sets the minimum count under cordon.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Exec,
    Call,
}

struct Race {
    /// Name of the C program in `tests/exec_attacks`.
    program: &'static str,
    /// Operand of `PROGRAM run` after the time, selecting a variant.
    variant: Option<&'static str>,
    /// cordon options with paths relative to the race's directory: (option, path).
    policy: &'static [(&'static str, &'static str)],
    /// A file of the layout whose inode number is passed as the last operand of `run`,
    /// recorded before the sandbox starts.
    inode_operand: Option<&'static str>,
    kind: Kind,
}

impl Race {
    fn label(&self) -> String {
        match self.variant {
            Some(variant) => format!("{}-{variant}", self.program),
            None => self.program.to_owned(),
        }
    }

    fn min_allowed(&self) -> u64 {
        match self.kind {
            Kind::Exec => MIN_ALLOWED_EXECS,
            Kind::Call => MIN_ALLOWED_CALLS,
        }
    }
}

const DENY_EXEC: &[(&str, &str)] = &[("--deny-exec", "denied")];

/// Returns an exec race under `--deny-exec DIR/denied`.
fn exec_race(program: &'static str, variant: Option<&'static str>) -> Race {
    Race {
        program,
        variant,
        policy: DENY_EXEC,
        inode_operand: None,
        kind: Kind::Exec,
    }
}

#[test]
fn exec_path_buffer_flip() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let variants = ["vfork", "thread"];
    let program = CProgram::build("exec_attacks", "exec_path_flip");
    let marker = CProgram::build("exec_attacks", "marker");
    // Each variant gets the whole race time: the thread variant manages only about 100 allowed
    // execs per second under cordon on the test machine, too few to split the time.
    for variant in variants {
        let race = exec_race("exec_path_flip", Some(variant));
        check_race(&race, &program, &marker);
    }
}

#[test]
fn exec_symlink_swap() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let race = exec_race("exec_symlink_swap", Some("binary"));
    check_race(
        &race,
        &CProgram::build("exec_attacks", race.program),
        &CProgram::build("exec_attacks", "marker"),
    );
}

#[test]
fn exec_interpreter_symlink_swap() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let race = exec_race("exec_symlink_swap", Some("interpreter"));
    check_race(
        &race,
        &CProgram::build("exec_attacks", race.program),
        &CProgram::build("exec_attacks", "marker"),
    );
}

#[test]
fn execveat_dirfd_directory_exchange() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let race = exec_race("exec_dirfd_exchange", None);
    check_race(
        &race,
        &CProgram::build("exec_attacks", race.program),
        &CProgram::build("exec_attacks", "marker"),
    );
}

#[test]
fn chdir_path_buffer_flip() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let race = Race {
        program: "chdir_flip",
        variant: None,
        policy: &[("--deny-chdir", "denied")],
        inode_operand: None,
        kind: Kind::Call,
    };
    check_race(
        &race,
        &CProgram::build("exec_attacks", race.program),
        &CProgram::build("exec_attacks", "marker"),
    );
}

#[test]
fn opath_open_of_hidden_file_flip() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let race = Race {
        program: "opath_flip",
        variant: None,
        policy: &[("--hide", "hidden")],
        inode_operand: Some("hidden"),
        kind: Kind::Call,
    };
    check_race(
        &race,
        &CProgram::build("exec_attacks", race.program),
        &CProgram::build("exec_attacks", "marker"),
    );
}

fn check_race(race: &Race, program: &CProgram, marker: &CProgram) {
    check_native(race, program, marker);
    for who in identities() {
        check_under_cordon(race, program, marker, who);
    }
}

fn check_native(race: &Race, program: &CProgram, marker: &CProgram) {
    let scratch = prepare(race, program, marker, Identity::Invoker);
    let operands = run_operands(race, &scratch);
    let output = output_within(
        command_as(Identity::Invoker, program.path(), &operands),
        RUN_TIMEOUT,
    );
    assert!(
        output.status.success(),
        "{} failed natively\n{}",
        race.label(),
        describe(&output)
    );

    let counts = ExecCounts::parse(&output);
    eprintln!("{} natively: {counts}", race.label());
    assert!(
        counts.denied > 0,
        "{} never reached the denied object natively, so its run under cordon would prove \
         nothing: {counts}\n{}",
        race.label(),
        describe(&output)
    );
}

fn check_under_cordon(race: &Race, program: &CProgram, marker: &CProgram, who: Identity) {
    let scratch = prepare(race, program, marker, who);
    let mut args = cordon_options(race, &scratch);
    args.push("--".to_owned());
    args.push(program.path_string());
    args.extend(run_operands(race, &scratch));
    let output = output_within(command_as(who, cordon_bin(), &args), RUN_TIMEOUT);
    assert!(
        output.status.success(),
        "{} failed under cordon as {who:?}\n{}",
        race.label(),
        describe(&output)
    );

    let counts = ExecCounts::parse(&output);
    let kill_lines = post_validation_kills(&output);
    eprintln!(
        "{} under cordon as {who:?}: {counts}, post-validation kill messages: {kill_lines}",
        race.label()
    );
    assert_eq!(
        counts.denied,
        0,
        "{} reached the denied object under cordon as {who:?}: {counts}\n{}",
        race.label(),
        program_stderr(&output)
    );
    if race.kind == Kind::Exec {
        assert_eq!(
            marker_lines(&scratch.join("markers"), "denied"),
            0,
            "the denied binary of {} wrote its marker under cordon as {who:?}",
            race.label()
        );
    }
    assert!(
        counts.allowed >= race.min_allowed(),
        "{} reached the allowed object fewer than {} times under cordon as {who:?}: {counts}\n{}",
        race.label(),
        race.min_allowed(),
        describe(&output)
    );
    assert!(
        counts.swaps > 0,
        "the racing thread of {} changed nothing under cordon as {who:?}: {counts}",
        race.label()
    );
    assert!(
        counts.other + counts.killed > 0,
        "{} never had the denied branch refused or killed under cordon as {who:?}, so the race \
         never reached it: {counts}",
        race.label()
    );
    assert_eq!(
        counts.killed as usize, kill_lines,
        "{} as {who:?}: the program counted {} SIGKILLed attempts but cordon reported {kill_lines} \
         post-validation kills\n{}",
        race.label(),
        counts.killed,
        describe(&output)
    );
}

/// Creates the race's directory and files, owned by `who`.
fn prepare(race: &Race, program: &CProgram, marker: &CProgram, who: Identity) -> Scratch {
    let scratch = Scratch::new(who, &race.label());
    let dir = scratch.path.display().to_string();
    let operands = ["prepare".to_owned(), dir.clone(), marker.path_string()];
    let output = output_within(command_as(who, program.path(), &operands), RUN_TIMEOUT);
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
        RACE_MILLISECONDS.to_string(),
    ];
    operands.extend(race.variant.map(str::to_owned));
    if let Some(name) = race.inode_operand {
        let metadata = std::fs::metadata(scratch.join(name)).expect("stat the hidden file");
        operands.push(metadata.ino().to_string());
    }
    operands
}

/// Builds the `cordon run` options of a race: its own policy, plus create, write, rename
/// and delete in the race's directory for the markers and the racing thread. `--quiet`
/// keeps the thousands of expected denials off stderr, but the kill messages still appear.
fn cordon_options(race: &Race, scratch: &Scratch) -> Vec<String> {
    let dir = scratch.path.display();
    let whole_dir = format!("{dir}/**");
    let mut options: Vec<String> = [
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
    ]
    .map(str::to_owned)
    .to_vec();
    for (option, path) in race.policy {
        options.push((*option).to_owned());
        options.push(format!("{dir}/{path}"));
    }
    options
}

/// Runs `cordon run --allow-write/--allow-modify DIR/** POLICY... -- COMMAND...` as `who`.
fn run_sandboxed(
    who: Identity,
    layout: &MarkerLayout,
    policy: &[String],
    command: &[String],
) -> Output {
    let whole_dir = format!("{}/**", layout.scratch.path.display());
    let mut args: Vec<String> = [
        "run",
        "--allow-write",
        &whole_dir,
        "--allow-modify",
        &whole_dir,
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend_from_slice(policy);
    args.push("--".to_owned());
    args.extend_from_slice(command);
    output_within(command_as(who, cordon_bin(), &args), RUN_TIMEOUT)
}

fn run_native(who: Identity, command: &[String]) -> Output {
    let (program, args) = command.split_first().expect("command has a program");
    output_within(command_as(who, program, args), RUN_TIMEOUT)
}

#[test]
fn dynamic_loader_cannot_load_unreadable_denied_binary() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    if !Path::new(DYNAMIC_LOADER).exists() {
        eprintln!("skipped: {DYNAMIC_LOADER} does not exist on this machine");
        return;
    }
    let marker = CProgram::build("exec_attacks", "marker");
    for who in identities() {
        let layout = MarkerLayout::new(who, "ld-so", &marker);
        let markers = layout.markers_string();
        let through_loader = |binary: &str| {
            vec![
                DYNAMIC_LOADER.to_owned(),
                binary.to_owned(),
                markers.clone(),
            ]
        };
        // The loader appears as the executed file, so the marker program names its marker
        // after the loader.
        let loader_marker = "ld-linux-x86-64.so.2";

        let native = run_native(who, &through_loader(&layout.denied));
        assert!(
            native.status.success(),
            "the loader did not run the binary natively as {who:?}\n{}",
            describe(&native)
        );
        assert_eq!(
            layout.marker_names(),
            [loader_marker],
            "native run as {who:?}"
        );
        std::fs::remove_file(layout.markers.join(loader_marker)).expect("remove native marker");

        let policy = vec![
            "--deny-exec".to_owned(),
            layout.denied.clone(),
            "--deny-read".to_owned(),
            layout.denied.clone(),
        ];
        let denied = run_sandboxed(who, &layout, &policy, &through_loader(&layout.denied));
        assert!(
            !denied.status.success(),
            "the loader ran the exec- and read-denied binary under cordon as {who:?}\n{}",
            describe(&denied)
        );
        assert!(
            layout.marker_names().is_empty(),
            "the denied binary wrote a marker through the loader under cordon as {who:?}: {:?}\n{}",
            layout.marker_names(),
            describe(&denied)
        );
        let denial = format!("cordon: denied read of \"{}\"", layout.denied);
        assert!(
            String::from_utf8_lossy(&denied.stderr).contains(&denial),
            "no read denial of the binary under cordon as {who:?}\n{}",
            describe(&denied)
        );

        // The control: the same policy lets the loader run the allowed binary.
        let allowed = run_sandboxed(who, &layout, &policy, &through_loader(&layout.allowed));
        assert!(
            allowed.status.success(),
            "the loader did not run the allowed binary under cordon as {who:?}\n{}",
            describe(&allowed)
        );
        assert_eq!(
            layout.marker_names(),
            [loader_marker],
            "allowed binary under cordon as {who:?}"
        );
    }
}

/// The loader maps a binary that is exec-denied but still readable: the mapping check at the
/// exit of `mmap(PROT_EXEC)` kills the process before the binary's code runs.
#[test]
fn dynamic_loader_killed_mapping_exec_denied_binary() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    if !Path::new(DYNAMIC_LOADER).exists() {
        eprintln!("skipped: {DYNAMIC_LOADER} does not exist on this machine");
        return;
    }
    let marker = CProgram::build("exec_attacks", "marker");
    for who in identities() {
        let layout = MarkerLayout::new(who, "ld-so-map", &marker);
        let markers = layout.markers_string();
        let command = vec![DYNAMIC_LOADER.to_owned(), layout.denied.clone(), markers.clone()];
        let policy = vec!["--deny-exec".to_owned(), layout.denied.clone()];
        let denied = run_sandboxed(who, &layout, &policy, &command);
        assert_eq!(denied.status.code(), Some(137), "loader not killed as {who:?}\n{}", describe(&denied));
        assert!(
            layout.marker_names().is_empty(),
            "the exec-denied binary ran through the loader as {who:?}: {:?}",
            layout.marker_names()
        );
        let stderr = String::from_utf8_lossy(&denied.stderr);
        assert!(stderr.contains("mapped code from a file it may not execute"), "no kill message as {who:?}\n{stderr}");
        assert!(stderr.contains("may still read"), "no start-up note about the advisory deny as {who:?}\n{stderr}");

        let allowed_command = vec![DYNAMIC_LOADER.to_owned(), layout.allowed.clone(), markers.clone()];
        let allowed = run_sandboxed(who, &layout, &policy, &allowed_command);
        assert!(allowed.status.success(), "allowed binary through the loader as {who:?}\n{}", describe(&allowed));
        assert_eq!(layout.marker_names(), ["ld-linux-x86-64.so.2"], "allowed binary as {who:?}");
    }
}

#[test]
fn memfd_exec_denied_by_memfd_pattern() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let program = CProgram::build("exec_attacks", "memfd_exec");
    let marker = CProgram::build("exec_attacks", "marker");
    let memfd_marker = "memfd:marker";
    for who in identities() {
        let layout = MarkerLayout::new(who, "memfd", &marker);
        let command = vec![
            program.path_string(),
            layout.allowed.clone(),
            layout.markers_string(),
        ];

        let native = run_native(who, &command);
        assert!(
            native.status.success(),
            "memfd exec natively as {who:?}\n{}",
            describe(&native)
        );
        assert_eq!(
            layout.marker_names(),
            [memfd_marker],
            "native memfd exec as {who:?}"
        );
        std::fs::remove_file(layout.markers.join(memfd_marker)).expect("remove native marker");

        let policy = vec!["--deny-exec".to_owned(), "memfd:*".to_owned()];
        let denied = run_sandboxed(who, &layout, &policy, &command);
        assert_eq!(
            reported(&denied, "execveat").as_deref(),
            Some("EACCES"),
            "memfd exec under --deny-exec 'memfd:*' as {who:?}\n{}",
            describe(&denied)
        );
        assert!(
            layout.marker_names().is_empty(),
            "the memfd binary wrote a marker under cordon as {who:?}\n{}",
            describe(&denied)
        );
        assert!(
            String::from_utf8_lossy(&denied.stderr)
                .contains("cordon: denied exec of \"memfd:marker\" (execveat"),
            "no exec denial naming the memfd as {who:?}\n{}",
            describe(&denied)
        );

        // The control: without the memfd rule the same exec runs under cordon.
        let allowed = run_sandboxed(who, &layout, &[], &command);
        assert!(
            allowed.status.success(),
            "memfd exec without a memfd rule under cordon as {who:?}\n{}",
            describe(&allowed)
        );
        assert_eq!(
            layout.marker_names(),
            [memfd_marker],
            "allowed memfd exec under cordon as {who:?}"
        );
        assert_eq!(
            post_validation_kills(&allowed),
            0,
            "memfd exec as {who:?}\n{}",
            describe(&allowed)
        );
    }
}

#[test]
fn forged_trace_data_does_not_bypass_exec_check() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let program = CProgram::build("exec_attacks", "forged_trace");
    let marker = CProgram::build("exec_attacks", "marker");
    for who in identities() {
        let layout = MarkerLayout::new(who, "forged", &marker);
        let command = vec![
            program.path_string(),
            layout.denied.clone(),
            layout.allowed.clone(),
            layout.markers_string(),
        ];

        // Without a tracer the kernel fails every SECCOMP_RET_TRACE call with ENOSYS.
        let native = run_native(who, &command);
        for (step, expected) in [
            ("install", "ok"),
            ("exec_denied", "ENOSYS"),
            ("exec_allowed", "ENOSYS"),
            ("getpid", "ENOSYS"),
        ] {
            assert_eq!(
                reported(&native, step).as_deref(),
                Some(expected),
                "{step} natively as {who:?}\n{}",
                describe(&native)
            );
        }

        let policy = vec!["--deny-exec".to_owned(), layout.denied.clone()];
        let sandboxed = run_sandboxed(who, &layout, &policy, &command);
        for (step, expected) in [
            ("install", "ok"),
            ("exec_denied", "EACCES"),
            ("exec_allowed", "ran"),
            ("getpid", "ok"),
        ] {
            assert_eq!(
                reported(&sandboxed, step).as_deref(),
                Some(expected),
                "{step} under cordon as {who:?}\n{}",
                describe(&sandboxed)
            );
        }
        assert_eq!(
            layout.marker_names(),
            ["allowed"],
            "markers under cordon as {who:?}\n{}",
            describe(&sandboxed)
        );
    }
}

/// A file mapped executable while its path was allowed is remembered as allowed by device,
/// inode and path. Renamed into an exec-denied tree, it must be checked again: mapping it
/// once more through the same open file kills the process.
#[test]
fn renamed_library_is_checked_again() {
    let script = r#"
import mmap, os, sys
allowed, denied = sys.argv[1], sys.argv[2]
def map_exec(file):
    mmap.mmap(file.fileno(), 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC).close()
file = open(allowed, "rb")
for round in range(3):
    map_exec(file)
print("allowed mapped", flush=True)
os.rename(allowed, denied)
map_exec(file)
print("denied mapped", flush=True)
"#;
    for who in identities() {
        // The files belong to the identity that runs the sandbox, so it may rename them.
        let give_to = |path: &Path| {
            if who == Identity::Unprivileged {
                let (uid, gid) = common::user_ids().expect("test user exists");
                std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown to the test user");
            }
        };
        let dir = Scratch::new(who, "map-renamed");
        let ok = dir.join("ok");
        let denied_dir = dir.join("denied");
        for sub in [&ok, &denied_dir] {
            std::fs::create_dir(sub).expect("create directory");
            give_to(sub);
        }
        let library = ok.join("lib.so");
        std::fs::copy("/bin/true", &library).expect("copy a binary");
        give_to(&library);
        let target = denied_dir.join("lib.so");
        let (library, target) = (library.display().to_string(), target.display().to_string());
        let tree = format!("{}/**", dir.path.display());
        let denied_tree = format!("{}/**", denied_dir.display());
        let args = [
            "run", "-q", "--allow-modify", tree.as_str(), "--deny-exec", denied_tree.as_str(),
            "--", "/usr/bin/python3", "-c", script, library.as_str(), target.as_str(),
        ];
        let output = common::cordon(who, &args);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(stdout, "allowed mapped\n", "as {who:?}\n{}", describe(&output));
        assert_eq!(output.status.code(), Some(137), "the second mapping was not refused as {who:?}\n{}", describe(&output));
        assert!(Path::new(&target).exists(), "the rename did not happen as {who:?}");
    }
}
