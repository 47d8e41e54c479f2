//! Escape tests: routes around the supervisor that the static filter must close, and the
//! end of the whole sandbox when the supervisor dies.
//!
//! Each escape program in `tests/attacks` tries to read the secret through one route and
//! prints `CALL=RESULT` lines. Natively the route works, except x32 on kernels without x32
//! support. Under `cordon run --deny-read SECRET` the call must fail with the expected
//! errno, and the secret's bytes must never appear in the output.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::attack_programs::{contains_bytes, output_within, reported};
use common::c_programs::CProgram;
use common::{command_as, cordon_bin, describe, identities, Identity, Scratch};

const SECRET: &str = "SECRET-bytes-no-escape-may-print";
const PUBLIC: &str = "PUBLIC-bytes";

/// Limit for one run, after which the run counts as hung.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// A scratch directory with the secret and the public file, both owned by one identity.
struct Target {
    _scratch: Scratch,
    secret: PathBuf,
    public: PathBuf,
}

impl Target {
    fn new(who: Identity, name: &str) -> Target {
        let scratch = Scratch::new(who, name);
        let secret = scratch.write(who, "secret", SECRET.as_bytes());
        let public = scratch.write(who, "public", PUBLIC.as_bytes());
        Target {
            _scratch: scratch,
            secret,
            public,
        }
    }

    /// Returns the operands of an escape program: the secret, and the public file when the
    /// program needs it.
    fn operands(&self, with_public: bool) -> Vec<String> {
        let mut operands = vec![self.secret.display().to_string()];
        if with_public {
            operands.push(self.public.display().to_string());
        }
        operands
    }
}

/// Runs the escape program natively as the invoking user.
fn run_native(program: &CProgram, with_public: bool) -> Output {
    let target = Target::new(Identity::Invoker, "escape-native");
    let command = command_as(
        Identity::Invoker,
        program.path(),
        &target.operands(with_public),
    );
    let output = output_within(command, RUN_TIMEOUT);
    assert!(
        output.status.success(),
        "escape program failed natively\n{}",
        describe(&output)
    );
    output
}

/// Runs the escape program under cordon as `who` with reading the secret denied.
fn run_confined(who: Identity, program: &CProgram, with_public: bool) -> Output {
    let target = Target::new(who, "escape-confined");
    let mut args = vec![
        "run".to_owned(),
        "--deny-read".to_owned(),
        target.secret.display().to_string(),
        "--".to_owned(),
        program.path().display().to_string(),
    ];
    args.extend(target.operands(with_public));
    let output = output_within(command_as(who, cordon_bin(), &args), RUN_TIMEOUT);
    assert!(
        output.status.success(),
        "escape program failed under cordon as {who:?}\n{}",
        describe(&output)
    );
    output
}

fn assert_reads_secret(output: &Output) {
    assert!(
        contains_bytes(&output.stdout, SECRET.as_bytes()),
        "the escape did not read the secret natively, so its run under cordon would prove \
         nothing\n{}",
        describe(output)
    );
}

fn assert_no_secret(output: &Output, who: Identity) {
    assert!(
        !contains_bytes(&output.stdout, SECRET.as_bytes()),
        "the secret escaped under cordon as {who:?}\n{}",
        describe(output)
    );
}

#[test]
fn io_uring_setup_refused() {
    let program = CProgram::build("attacks", "escape_io_uring");
    let native = run_native(&program, false);
    assert_eq!(
        reported(&native, "io_uring_setup").as_deref(),
        Some("ok"),
        "{}",
        describe(&native)
    );
    assert_eq!(
        reported(&native, "io_uring_openat").as_deref(),
        Some("ok"),
        "{}",
        describe(&native)
    );
    assert_reads_secret(&native);

    for who in identities() {
        let output = run_confined(who, &program, false);
        assert_no_secret(&output, who);
        assert_eq!(
            reported(&output, "io_uring_setup").as_deref(),
            Some("ENOSYS"),
            "as {who:?}\n{}",
            describe(&output)
        );
        assert_eq!(
            reported(&output, "io_uring_openat"),
            None,
            "an io_uring open ran under cordon as {who:?}\n{}",
            describe(&output)
        );
    }
}

#[test]
fn x32_open_refused() {
    let program = CProgram::build("attacks", "escape_x32");
    let native = run_native(&program, false);
    let native_result = reported(&native, "x32_open");
    eprintln!("x32 open natively: {native_result:?}");
    // Kernels without x32 support, like the Linux 6.18 test machines, give ENOSYS natively.
    assert!(
        matches!(native_result.as_deref(), Some("ok") | Some("ENOSYS")),
        "{}",
        describe(&native)
    );

    for who in identities() {
        let output = run_confined(who, &program, false);
        assert_no_secret(&output, who);
        assert_eq!(
            reported(&output, "x32_open").as_deref(),
            Some("ENOSYS"),
            "as {who:?}\n{}",
            describe(&output)
        );
    }
}

#[test]
fn int80_open_refused() {
    let program = CProgram::build("attacks", "escape_int80");
    let native = run_native(&program, false);
    assert_eq!(
        reported(&native, "int80_open").as_deref(),
        Some("ok"),
        "{}",
        describe(&native)
    );
    assert_reads_secret(&native);

    for who in identities() {
        let output = run_confined(who, &program, false);
        assert_no_secret(&output, who);
        assert_eq!(
            reported(&output, "int80_open").as_deref(),
            Some("ENOSYS"),
            "as {who:?}\n{}",
            describe(&output)
        );
    }
}

#[test]
fn clone_untraced_refused() {
    let program = CProgram::build("attacks", "escape_clone_untraced");
    let native = run_native(&program, false);
    assert_eq!(
        reported(&native, "clone").as_deref(),
        Some("ok"),
        "{}",
        describe(&native)
    );
    assert_eq!(
        reported(&native, "child_open").as_deref(),
        Some("ok"),
        "{}",
        describe(&native)
    );
    assert_reads_secret(&native);

    for who in identities() {
        let output = run_confined(who, &program, false);
        assert_no_secret(&output, who);
        assert_eq!(
            reported(&output, "clone").as_deref(),
            Some("EPERM"),
            "as {who:?}\n{}",
            describe(&output)
        );
        assert_eq!(
            reported(&output, "child_open"),
            None,
            "an untraced child ran under cordon as {who:?}\n{}",
            describe(&output)
        );
    }
}

#[test]
fn clone3_refused() {
    let program = CProgram::build("attacks", "escape_clone3");
    let native = run_native(&program, false);
    assert_eq!(
        reported(&native, "clone3").as_deref(),
        Some("ok"),
        "{}",
        describe(&native)
    );
    assert_reads_secret(&native);

    for who in identities() {
        let output = run_confined(who, &program, false);
        assert_no_secret(&output, who);
        assert_eq!(
            reported(&output, "clone3").as_deref(),
            Some("ENOSYS"),
            "as {who:?}\n{}",
            describe(&output)
        );
        assert_eq!(
            reported(&output, "child_open"),
            None,
            "a clone3 child ran under cordon as {who:?}\n{}",
            describe(&output)
        );
    }
}

#[test]
fn unshare_mount_namespace_refused() {
    let program = CProgram::build("attacks", "escape_unshare");
    let native = run_native(&program, true);
    assert_eq!(
        reported(&native, "unshare").as_deref(),
        Some("ok"),
        "{}",
        describe(&native)
    );
    assert_eq!(
        reported(&native, "bind_mount").as_deref(),
        Some("ok"),
        "{}",
        describe(&native)
    );
    assert_reads_secret(&native);

    for who in identities() {
        let output = run_confined(who, &program, true);
        assert_no_secret(&output, who);
        assert_eq!(
            reported(&output, "unshare").as_deref(),
            Some("EPERM"),
            "as {who:?}\n{}",
            describe(&output)
        );
    }
}

/// Starts a `sleep` in the background, and a second one in a new session after a double
/// fork, so that its parent exits and it is reparented away from the shell. Then the shell
/// replaces itself by a third `sleep`. Each pid is appended to the file named by `$1`.
const DEATH_SCRIPT: &str = r#"
pids=$1
sleep 1000 &
echo "$!" >> "$pids"
( setsid sh -c 'sleep 1000 & echo "$!" >> "$1"' sh "$pids" & )
echo "$$" >> "$pids"
exec sleep 1000
"#;

/// Number of pids `DEATH_SCRIPT` records.
const DEATH_PIDS: usize = 3;

#[test]
fn supervisor_death_kills_sandbox() {
    for who in identities() {
        check_supervisor_death(who);
    }
}

fn check_supervisor_death(who: Identity) {
    let scratch = Scratch::new(who, "supervisor-death");
    let pid_file = scratch.join("pids");
    let stderr_file = scratch.join("cordon-stderr");
    let whole_dir = format!("{}/**", scratch.path.display());
    let pid_file_operand = pid_file.display().to_string();
    let args = [
        "run",
        "--allow-write",
        &whole_dir,
        "--allow-modify",
        &whole_dir,
        "--",
        "sh",
        "-c",
        DEATH_SCRIPT,
        "sh",
        &pid_file_operand,
    ];
    let stderr = fs::File::create(&stderr_file).expect("create stderr file");
    let mut supervisor = command_as(who, cordon_bin(), &args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start cordon");

    let mut recorded = RecordedPids::default();
    let written = wait_for_pids(&mut supervisor, &pid_file, &mut recorded);
    supervisor.kill().expect("send SIGKILL to cordon");
    supervisor.wait().expect("reap cordon");
    let cordon_stderr = fs::read_to_string(&stderr_file).unwrap_or_default();
    assert!(
        written,
        "the sandbox did not record {DEATH_PIDS} pids as {who:?}; recorded {:?}\n--- cordon stderr\n{cordon_stderr}",
        recorded.pids
    );

    thread::sleep(Duration::from_secs(1));
    let survivors: Vec<(u32, char)> = recorded
        .pids
        .iter()
        .filter_map(|&pid| {
            process_state(pid)
                .filter(|&state| state != 'Z')
                .map(|state| (pid, state))
        })
        .collect();
    assert!(
        survivors.is_empty(),
        "sandboxed processes outlived the killed supervisor as {who:?} (pid, state): {survivors:?}"
    );
}

/// Polls the pid file until it lists `DEATH_PIDS` pids, cordon exits, or 20 seconds pass.
/// Returns whether all pids were written.
fn wait_for_pids(supervisor: &mut Child, pid_file: &Path, recorded: &mut RecordedPids) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        recorded.pids = read_pids(pid_file);
        if recorded.pids.len() >= DEATH_PIDS {
            return true;
        }
        let exited = supervisor.try_wait().expect("wait for cordon").is_some();
        if exited || Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Reads the complete lines of the pid file as pids.
fn read_pids(pid_file: &Path) -> Vec<u32> {
    let contents = fs::read_to_string(pid_file).unwrap_or_default();
    contents
        .split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .filter_map(|line| line.trim().parse().ok())
        .collect()
}

/// Reads the state letter of a process from `/proc/PID/stat`, or `None` when the process
/// does not exist.
fn process_state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name in parentheses may contain spaces and parentheses, so the state is
    // read after the last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.trim_start().chars().next()
}

/// The pids the sandbox recorded. Dropping it kills those still running as `sleep` or `sh`,
/// so a failed test leaves no processes behind. The name check protects a process that
/// reused one of the pids.
#[derive(Default)]
struct RecordedPids {
    pids: Vec<u32>,
}

impl Drop for RecordedPids {
    fn drop(&mut self) {
        for &pid in &self.pids {
            let name = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let alive = process_state(pid).is_some_and(|state| state != 'Z');
            if alive && matches!(name.trim(), "sleep" | "sh") {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}
