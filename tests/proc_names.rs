//! Names in /proc and /dev whose meaning depends on who opens them: they must resolve for
//! the sandboxed caller, never for the supervisor, and /proc/<pid> of a process outside
//! the sandbox must look nonexistent even when the policy allows reading /proc.

mod common;

use std::io::Write;
use std::os::unix::fs::symlink;
use std::process::{Output, Stdio};

use common::sandbox::{path_str, run_args, stdout_text, Launch, PYTHON, PY_ATTEMPT};
use common::{command_as, cordon_bin, describe, identities, Scratch};

fn proc_policy() -> Vec<String> {
    strings!["--allow-read", "/proc/**"]
}

fn python(body: &str, args: &[String]) -> Vec<String> {
    let mut command = strings![PYTHON, "-c", format!("{PY_ATTEMPT}\n{body}")];
    command.extend_from_slice(args);
    command
}

/// Returns the value of the first `key value` line of a script's output.
fn value_of(output: &Output, key: &str) -> String {
    let stdout = stdout_text(output);
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key} ")));
    line.unwrap_or_else(|| panic!("no `{key}` line in the output:\n{}", describe(output)))
        .to_owned()
}

#[test]
fn other_process_pids_give_enoent() {
    // The supervisor's pid is only known after cordon starts, so it reaches the script on
    // stdin. The pid of a process outside the sandbox comes as an argument.
    let body = r#"
supervisor = int(sys.stdin.readline())
outsider = int(sys.argv[1])
attempt("supervisor mem", lambda: os.close(os.open(f"/proc/{supervisor}/mem", os.O_RDONLY)))
attempt("supervisor status", lambda: len(open(f"/proc/{supervisor}/status").read()) > 0)
attempt("outsider environ", lambda: len(open(f"/proc/{outsider}/environ", "rb").read()) > 0)
attempt("outsider task", lambda: len(open(f"/proc/{outsider}/task/{outsider}/status").read()) > 0)
"#;
    for who in identities() {
        let dir = Scratch::new(who, "proc-pids");
        let mut outsider = command_as(who, "sleep", &["60"])
            .stdin(Stdio::null())
            .spawn()
            .expect("start sleep");
        // setpriv runs with the invoker's credentials until it execs sleep; reading its
        // environ before then fails for the test user natively too.
        let comm = format!("/proc/{}/comm", outsider.id());
        let started = std::time::Instant::now();
        while std::fs::read_to_string(&comm).unwrap_or_default() != "sleep\n" && started.elapsed() < std::time::Duration::from_secs(5) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let command = python(body, &strings![outsider.id()]);
        let launch = Launch::new(who, &dir.path);

        // Natively the same user can read its own process's environ, so ENOENT below comes
        // from cordon.
        let native = launch
            .stdin(format!("{}\n", std::process::id()).as_bytes())
            .native(&command);
        assert!(
            stdout_text(&native).contains("outsider environ ok True\n"),
            "native run as {who:?}:\n{}",
            describe(&native)
        );

        let launch = Launch::new(who, &dir.path);
        let mut cordon = launch.spawn_cordon(&run_args(&proc_policy(), &command));
        let supervisor_pid = cordon.id();
        let mut stdin = cordon.stdin.take().expect("stdin is piped");
        stdin
            .write_all(format!("{supervisor_pid}\n").as_bytes())
            .expect("send the supervisor pid");
        drop(stdin);
        let output = cordon.wait_with_output().expect("wait for cordon");
        outsider.kill().expect("kill sleep");
        outsider.wait().expect("reap sleep");

        let stdout = stdout_text(&output);
        for check in [
            "supervisor mem",
            "supervisor status",
            "outsider environ",
            "outsider task",
        ] {
            assert!(
                stdout.contains(&format!("{check} ENOENT\n")),
                "{check} as {who:?} is not ENOENT (supervisor pid {supervisor_pid}):\n{}",
                describe(&output)
            );
        }
    }
}

#[test]
fn proc_self_is_the_caller() {
    let body = r#"
print("getpid", os.getpid())
with open("/proc/self/status") as status:
    print("status", next(line.split()[1] for line in status if line.startswith("Pid:")))
"#;
    for who in identities() {
        let dir = Scratch::new(who, "proc-self");
        let output = Launch::new(who, &dir.path).sandboxed(&proc_policy(), &python(body, &[]));
        assert_eq!(
            value_of(&output, "status"),
            value_of(&output, "getpid"),
            "/proc/self as {who:?}:\n{}",
            describe(&output)
        );
    }
}

#[test]
fn dev_stdin_reads_sandbox_stdin() {
    let body = r#"
with open("/dev/stdin", "rb") as stdin:
    print("stdin", repr(stdin.read()))
"#;
    // The identity's own shell creates the pipe: opening /dev/stdin reopens the pipe inode,
    // which has mode 0600 and belongs to its creator, so a pipe made by the root test
    // process gives the test user EACCES even natively.
    let pipe_into = |command: &[String]| {
        let mut piped = strings!["sh", "-c", "printf 'piped \\000bytes\\n' | \"$@\"", "sh"];
        piped.extend_from_slice(command);
        piped
    };
    for who in identities() {
        let dir = Scratch::new(who, "dev-stdin");
        let launch = Launch::new(who, &dir.path);
        let command = python(body, &[]);

        let native = launch.native(&pipe_into(&command));
        assert_eq!(
            stdout_text(&native),
            "stdin b'piped \\x00bytes\\n'\n",
            "native as {who:?}:\n{}",
            describe(&native)
        );

        let mut sandboxed_command = vec![path_str(cordon_bin())];
        sandboxed_command.extend(run_args(&proc_policy(), &command));
        let sandboxed = launch.native(&pipe_into(&sandboxed_command));
        assert_eq!(
            sandboxed.stdout,
            native.stdout,
            "/dev/stdin under cordon as {who:?}:\n{}",
            describe(&sandboxed)
        );
    }
}

#[test]
fn fd_links_open_callers_file() {
    // The program's own fd number means nothing in the supervisor, which has other files
    // (or none) at that number.
    let body = r#"
fd = os.open(os.path.join(sys.argv[1], "own.txt"), os.O_RDONLY)
for name in (f"/dev/fd/{fd}", f"/proc/self/fd/{fd}", f"/proc/{os.getpid()}/fd/{fd}"):
    attempt(name.replace(str(os.getpid()), "PID").replace(str(fd), "N"), lambda: open(name, "rb").read())
"#;
    for who in identities() {
        let dir = Scratch::new(who, "dev-fd");
        dir.write(who, "own.txt", b"own file\n");
        let launch = Launch::new(who, &dir.path);
        let command = python(body, &[path_str(&dir.path)]);

        let native = launch.native(&command);
        let expected = "/dev/fd/N ok b'own file\\n'\n/proc/self/fd/N ok b'own file\\n'\n/proc/PID/fd/N ok b'own file\\n'\n";
        assert_eq!(
            stdout_text(&native),
            expected,
            "native as {who:?}:\n{}",
            describe(&native)
        );

        let sandboxed = launch.sandboxed(&proc_policy(), &command);
        assert_eq!(
            stdout_text(&sandboxed),
            expected,
            "fd links under cordon as {who:?}:\n{}",
            describe(&sandboxed)
        );
    }
}

#[test]
fn symlink_to_proc_self_resolves_for_caller() {
    let body = r#"
print("getpid", os.getpid())
with open(os.path.join(sys.argv[1], "link", "status")) as status:
    print("status", next(line.split()[1] for line in status if line.startswith("Pid:")))
"#;
    for who in identities() {
        let dir = Scratch::new(who, "self-link");
        symlink("/proc/self", dir.join("link")).expect("create the link to /proc/self");
        let output = Launch::new(who, &dir.path)
            .sandboxed(&proc_policy(), &python(body, &[path_str(&dir.path)]));
        assert_eq!(
            value_of(&output, "status"),
            value_of(&output, "getpid"),
            "a link to /proc/self as {who:?}:\n{}",
            describe(&output)
        );
    }
}

#[test]
fn thread_self_is_the_calling_thread() {
    let body = r#"
import threading
def report():
    print("native_id", threading.get_native_id())
    with open("/proc/thread-self/status") as status:
        print("status", next(line.split()[1] for line in status if line.startswith("Pid:")))
thread = threading.Thread(target=report)
thread.start()
thread.join()
print("getpid", os.getpid())
"#;
    for who in identities() {
        let dir = Scratch::new(who, "thread-self");
        let output = Launch::new(who, &dir.path).sandboxed(&proc_policy(), &python(body, &[]));
        let tid = value_of(&output, "native_id");
        assert_ne!(
            tid,
            value_of(&output, "getpid"),
            "the second thread has the process id as {who:?}"
        );
        assert_eq!(
            value_of(&output, "status"),
            tid,
            "/proc/thread-self as {who:?}:\n{}",
            describe(&output)
        );
    }
}
