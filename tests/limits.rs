//! Resource limits of the sandbox: `--timeout`, `--max-processes` against a fork bomb and
//! against children that are never reaped, and `--memory`. Also the supervisor's own file
//! descriptors and memory while a thousand threads open files at once.

mod common;

use std::collections::BTreeSet;
use std::thread;
use std::time::{Duration, Instant};

use common::attack_programs::output_within;
use common::c_programs::CProgram;
use common::hardening_support::{
    descendants, fd_count, native_identity, proc_stat, process_table, resident_kib, test_user_uid,
    ProbeFiles, ProcessEntry, Running,
};
use common::sandbox::{stderr_text, stdout_text, PYTHON};
use common::{command_as, cordon, cordon_bin, describe, identities, is_root, Identity};

/// Limit for one run, after which the run counts as hung.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Interval between two samples of a running sandbox.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(100);

const TIMEOUT_MESSAGE: &str = "cordon: timed out after";

/// Returns the number of stderr lines that contain `needle`.
fn count_lines(text: &str, needle: &str) -> usize {
    text.lines().filter(|line| line.contains(needle)).count()
}

#[test]
fn timeout_kills_sandbox() {
    for who in identities() {
        let started = Instant::now();
        let output = cordon(
            who,
            &[
                "run",
                "--timeout",
                "1",
                "--",
                "sh",
                "-c",
                "echo $$; exec sleep 30",
            ],
        );
        let elapsed = started.elapsed();
        eprintln!("--timeout 1 as {who:?} returned after {elapsed:?}");

        assert_eq!(
            output.status.code(),
            Some(124),
            "as {who:?}\n{}",
            describe(&output)
        );
        assert!(
            elapsed < Duration::from_secs(5),
            "cordon took {elapsed:?} to time out as {who:?}"
        );
        assert_eq!(
            count_lines(&stderr_text(&output), TIMEOUT_MESSAGE),
            1,
            "as {who:?}\n{}",
            describe(&output)
        );
        let sleep_pid: u32 = stdout_text(&output)
            .trim()
            .parse()
            .expect("the sandbox printed its pid");
        let gone_by = Instant::now() + Duration::from_secs(2);
        while proc_stat(sleep_pid).is_some_and(|stat| stat.state != 'Z') {
            assert!(
                Instant::now() < gone_by,
                "the sandboxed sleep {sleep_pid} outlived the timeout as {who:?}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

// Process limits.

/// A fork bomb that never stops on its own: every shell starts copies of itself in a loop.
/// The classic `bomb() { bomb & bomb & wait; }` dies out under a process limit, because the
/// killed children let their parents return.
/// A fork bomb that keeps trying when fork fails (EAGAIN at the limit), so it runs until the
/// timeout: every process, children included, forks in a loop.
const FORK_BOMB: &str = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n";

const PROCESS_LIMIT: usize = 20;

/// Slack for counting processes from `/proc`. A sample reads one process at a time, so it
/// can count both a process that exits during the sample and its successor. A new child
/// also shows state R for a moment before it reaches its first ptrace stop. With
/// `--max-processes 20`, 20 runs on the 2-vCPU test machine showed up to 27 processes that
/// looked runnable.
const SAMPLE_MARGIN: usize = 10;

/// What the samples of a sandbox's processes showed.
#[derive(Default)]
struct ProcessSamples {
    count: usize,
    /// Most processes running or sleeping: not in a stop, not dying, not zombies.
    max_runnable: usize,
    /// Most processes that are not dying and not zombies. Beyond the runnable ones, this
    /// counts processes in a ptrace stop: members waiting for the tracer, and new children
    /// waiting at their first stop or at a fork event of their own.
    max_not_dying: usize,
    /// Most processes with SIGKILL pending or exiting, but not yet zombies.
    max_dying: usize,
    max_zombies: usize,
    /// The sessions and the processes (pid, start time) seen in any sample.
    sessions: BTreeSet<u32>,
    seen: BTreeSet<(u32, u64)>,
}

impl ProcessSamples {
    fn add(&mut self, processes: &[ProcessEntry]) {
        let count_where = |keep: &dyn Fn(&ProcessEntry) -> bool| {
            processes.iter().filter(|entry| keep(entry)).count()
        };
        let zombies = count_where(&|entry| entry.state == 'Z');
        let dying = count_where(&|entry| entry.state != 'Z' && entry.dying);
        let not_dying = count_where(&|entry| entry.state != 'Z' && !entry.dying);
        let runnable =
            count_where(&|entry| !matches!(entry.state, 'Z' | 't' | 'T') && !entry.dying);
        self.count += 1;
        self.max_runnable = self.max_runnable.max(runnable);
        self.max_not_dying = self.max_not_dying.max(not_dying);
        self.max_dying = self.max_dying.max(dying);
        self.max_zombies = self.max_zombies.max(zombies);
        for entry in processes {
            self.sessions.insert(entry.session);
            self.seen.insert((entry.pid, entry.start_time));
        }
    }

    /// Returns the processes of the sampled sessions owned by `uid`, or seen in a sample,
    /// that still run.
    fn survivors(&self, uid: u32) -> Vec<ProcessEntry> {
        process_table()
            .into_iter()
            .filter(|entry| entry.state != 'Z')
            .filter(|entry| {
                (entry.uid == Some(uid) && self.sessions.contains(&entry.session))
                    || self.seen.contains(&(entry.pid, entry.start_time))
            })
            .collect()
    }
}

/// Samples the descendants of the started cordon until it exits.
fn sample_until_exit(running: &mut Running) -> ProcessSamples {
    let mut samples = ProcessSamples::default();
    while !running.has_exited() {
        let processes = descendants(&process_table(), running.pid());
        samples.add(&processes);
        thread::sleep(SAMPLE_INTERVAL);
    }
    samples
}

#[test]
fn fork_bomb_contained() {
    if !is_root() {
        eprintln!(
            "skipped: the fork bomb runs only as the unprivileged test user, which needs root"
        );
        return;
    }
    let who = Identity::Unprivileged;
    let uid = test_user_uid().expect("test user exists");
    let limit = PROCESS_LIMIT.to_string();
    let args = [
        "run",
        "--max-processes",
        &limit,
        "--timeout",
        "4",
        "--",
        "/usr/bin/python3",
        "-c",
        FORK_BOMB,
    ];
    let mut running = Running::start(command_as(who, cordon_bin(), &args));
    let samples = sample_until_exit(&mut running);
    let output = running.finish(RUN_TIMEOUT);
    eprintln!(
        "{} samples, at most: {} runnable, {} not dying, {} dying, {} zombies",
        samples.count,
        samples.max_runnable,
        samples.max_not_dying,
        samples.max_dying,
        samples.max_zombies
    );

    assert_eq!(output.status.code(), Some(124), "{}", describe(&output));
    let stderr = stderr_text(&output);
    let limit_message = format!("cordon: process limit of {PROCESS_LIMIT} reached");
    assert_eq!(
        count_lines(&stderr, &limit_message),
        1,
        "{}",
        describe(&output)
    );
    assert_eq!(
        count_lines(&stderr, TIMEOUT_MESSAGE),
        1,
        "{}",
        describe(&output)
    );
    assert!(
        samples.count >= 5,
        "only {} samples in 4 seconds",
        samples.count
    );
    assert!(
        samples.max_runnable <= PROCESS_LIMIT + SAMPLE_MARGIN,
        "a sample showed {} runnable processes with --max-processes {PROCESS_LIMIT}",
        samples.max_runnable
    );

    thread::sleep(Duration::from_millis(500));
    let survivors = samples.survivors(uid);
    assert!(
        survivors.is_empty(),
        "processes of the fork bomb outlived cordon: {survivors:?}"
    );
}

/// Processes that fork in `limit_race`, and the process limit that counts exactly them.
const RACE_WORKERS: usize = 4;
/// Children each worker of `limit_race` forks.
const RACE_CHILDREN: usize = 500;

#[test]
fn process_limit_child_never_runs() {
    let program = CProgram::build("hardening", "limit_race");
    let workers = RACE_WORKERS.to_string();
    let operands = [workers.clone(), RACE_CHILDREN.to_string()];
    let forked = RACE_WORKERS * RACE_CHILDREN;
    let native = output_within(
        command_as(native_identity(), program.path(), &operands),
        RUN_TIMEOUT,
    );
    eprintln!("natively: {}", stdout_text(&native));
    assert_eq!(
        stdout_text(&native),
        format!("forked={forked} ran={forked}\n"),
        "natively every child must run\n{}",
        describe(&native)
    );

    for who in identities() {
        let args = strings![
            "run",
            "--max-processes",
            workers,
            "--",
            program.path_string(),
            operands[0],
            operands[1]
        ];
        let output = output_within(command_as(who, cordon_bin(), &args), RUN_TIMEOUT);
        eprintln!("under cordon as {who:?}: {}", stdout_text(&output));
        assert_eq!(
            output.status.code(),
            Some(0),
            "as {who:?}\n{}",
            describe(&output)
        );
        // A child beyond the limit that ran wrote its byte before the tracer killed it. Forks
        // refused with EAGAIN at their entry created nothing and are not counted as forked.
        let stdout = stdout_text(&output);
        assert!(
            stdout.trim_end().ends_with(" ran=0"),
            "children beyond --max-processes {RACE_WORKERS} ran code as {who:?}\n{}",
            describe(&output)
        );
        assert!(stdout.starts_with("forked="), "as {who:?}\n{}", describe(&output));
    }
}

/// Children `unreaped_children` forks under `--max-processes PROCESS_LIMIT`.
const UNREAPED_CHILDREN: usize = 300;

#[test]
fn process_limit_bounds_unreaped_children() {
    let program = CProgram::build("hardening", "unreaped_children");
    let count = UNREAPED_CHILDREN.to_string();
    let who = native_identity();

    let mut native = Running::start(command_as(who, program.path(), &[&count]));
    let forked = native.wait_for_line("forked=", RUN_TIMEOUT);
    let native_children = descendants(&process_table(), native.pid()).len();
    let output = native.finish(RUN_TIMEOUT);
    eprintln!("natively: forked={forked:?}, {native_children} children");
    assert_eq!(
        native_children,
        UNREAPED_CHILDREN,
        "natively every child must exist\n{}",
        describe(&output)
    );

    for who in identities() {
        let limit = PROCESS_LIMIT.to_string();
        let args = [
            "run",
            "--max-processes",
            &limit,
            "--",
            &program.path_string(),
            &count,
        ];
        let mut running = Running::start(command_as(who, cordon_bin(), &args));
        let forked = running.wait_for_line("forked=", RUN_TIMEOUT);
        let children = descendants(&process_table(), running.pid());
        let zombies = children.iter().filter(|entry| entry.state == 'Z').count();
        let output = running.finish(RUN_TIMEOUT);
        eprintln!(
            "under cordon as {who:?}: forked={forked:?}, {} processes, {zombies} of them zombies",
            children.len()
        );

        assert_eq!(
            output.status.code(),
            Some(0),
            "as {who:?}\n{}",
            describe(&output)
        );
        // Every killed child stays a zombie that keeps its pid until its parent reaps it, so
        // a program that never reaps its children can use up the machine's pids.
        assert!(
            children.len() <= PROCESS_LIMIT,
            "--max-processes {PROCESS_LIMIT} left {} processes of the sandbox ({zombies} \
             zombies) as {who:?}",
            children.len()
        );
    }
}

#[test]
fn process_limit_refuses_extra_children() {
    let script = "for i in 1 2 3 4 5; do sleep 1 & done; wait; echo finished";
    for who in identities() {
        let output = cordon(
            who,
            &["run", "--max-processes", "3", "--", "sh", "-c", script],
        );
        eprintln!("as {who:?}:\n{}", describe(&output));
        assert_eq!(
            output.status.code(),
            Some(2),
            "as {who:?}\n{}",
            describe(&output)
        );
        // The shell's fourth background job is refused with EAGAIN, as under RLIMIT_NPROC.
        assert_eq!(stdout_text(&output), "", "as {who:?}");
        assert!(
            stderr_text(&output).contains("fork"),
            "the shell must report the refused fork as {who:?}\n{}",
            describe(&output)
        );
        assert_eq!(
            count_lines(&stderr_text(&output), "cordon: process limit of 3 reached"),
            1,
            "the limit message must appear once as {who:?}\n{}",
            describe(&output)
        );
    }
}

/// Starts 50 threads that wait for each other at a barrier, so all of them exist at once,
/// and prints how many passed it.
const FIFTY_THREADS: &str = r#"
import threading
barrier = threading.Barrier(50)
passed = []
def wait_for_all():
    barrier.wait(timeout=30)
    passed.append(threading.get_ident())
threads = [threading.Thread(target=wait_for_all) for _ in range(50)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(passed))
"#;

#[test]
fn threads_do_not_count_as_processes() {
    for who in identities() {
        let args = [
            "run",
            "--max-processes",
            "2",
            "--",
            PYTHON,
            "-c",
            FIFTY_THREADS,
        ];
        let output = cordon(who, &args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "as {who:?}\n{}",
            describe(&output)
        );
        assert_eq!(
            stdout_text(&output),
            "50\n",
            "as {who:?}\n{}",
            describe(&output)
        );
        assert!(
            !stderr_text(&output).contains("process limit"),
            "threads were counted as processes as {who:?}\n{}",
            describe(&output)
        );
    }
}

// Memory.

#[test]
fn memory_limit_fails_large_allocation() {
    let large = "bytearray(300 * 1024 * 1024)";
    let native = output_within(
        command_as(native_identity(), PYTHON, &["-c", large]),
        RUN_TIMEOUT,
    );
    assert!(
        native.status.success(),
        "natively the 300 MB allocation must work\n{}",
        describe(&native)
    );

    for who in identities() {
        let output = cordon(who, &["run", "--memory", "100M", "--", PYTHON, "-c", large]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "as {who:?}\n{}",
            describe(&output)
        );
        assert!(
            stderr_text(&output).contains("MemoryError"),
            "as {who:?}\n{}",
            describe(&output)
        );

        let small = "bytearray(50 * 1024 * 1024)";
        let output = cordon(who, &["run", "--memory", "200M", "--", PYTHON, "-c", small]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "as {who:?}\n{}",
            describe(&output)
        );
    }
}

// The supervisor under load.

const STORM_THREADS: &str = "1000";
const STORM_ROUNDS: &str = "20";
/// Opens of each file the storm makes: threads times rounds.
const STORM_OPENS: &str = "20000";

const MAX_SUPERVISOR_FDS: usize = 300;
const MAX_SUPERVISOR_RSS_KIB: u64 = 200 * 1024;

/// The supervisor's fd count and VmRSS in KiB, sampled until it exits.
#[derive(Default)]
struct SupervisorSamples {
    fds: Vec<usize>,
    rss_kib: Vec<u64>,
}

fn sample_supervisor(running: &mut Running) -> SupervisorSamples {
    let supervisor = running.pid();
    let mut samples = SupervisorSamples::default();
    while !running.has_exited() {
        if let (Some(fds), Some(rss)) = (fd_count(supervisor), resident_kib(supervisor)) {
            samples.fds.push(fds);
            samples.rss_kib.push(rss);
        }
        thread::sleep(SAMPLE_INTERVAL);
    }
    samples
}

#[test]
fn open_storm_keeps_supervisor_small() {
    let program = CProgram::build("hardening", "open_storm");
    // As root the storm runs as the test user. cordon makes itself non-dumpable, so only
    // root can read its fd table.
    let who = native_identity();
    let files = ProbeFiles::new(who, "storm");
    let operands = [
        STORM_THREADS,
        STORM_ROUNDS,
        files.secret.as_str(),
        files.public.as_str(),
    ];

    let native = output_within(command_as(who, program.path(), &operands), RUN_TIMEOUT);
    eprintln!("natively: {}", stdout_text(&native));
    assert!(
        stdout_text(&native).contains(&format!("denied_opened={STORM_OPENS} ")),
        "natively every open of the secret must work\n{}",
        describe(&native)
    );

    let mut args = vec!["run".to_owned(), "--quiet".to_owned()];
    args.extend(files.deny_secret());
    args.push("--".to_owned());
    args.push(program.path_string());
    args.extend(operands.iter().map(|operand| operand.to_string()));
    let mut running = Running::start(command_as(who, cordon_bin(), &args));
    let samples = sample_supervisor(&mut running);
    let output = running.finish(RUN_TIMEOUT);
    eprintln!("supervisor fds: {:?}", samples.fds);
    eprintln!("supervisor VmRSS KiB: {:?}", samples.rss_kib);
    eprintln!("under cordon: {}", stdout_text(&output));

    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let expected = format!(
        "allowed_ok={STORM_OPENS} allowed_failed=0 denied_eacces={STORM_OPENS} \
         denied_opened=0 denied_other=0\n"
    );
    assert_eq!(stdout_text(&output), expected, "{}", describe(&output));
    if !is_root() {
        eprintln!("supervisor not checked: only root can read a non-dumpable process's fds");
        return;
    }
    assert!(
        samples.fds.len() >= 3,
        "only {} samples of the supervisor",
        samples.fds.len()
    );
    let max_fds = samples.fds.iter().copied().max().unwrap_or(0);
    let max_rss = samples.rss_kib.iter().copied().max().unwrap_or(0);
    assert!(
        max_fds < MAX_SUPERVISOR_FDS,
        "the supervisor held {max_fds} file descriptors"
    );
    assert!(
        max_rss < MAX_SUPERVISOR_RSS_KIB,
        "the supervisor's VmRSS reached {max_rss} KiB"
    );
}
