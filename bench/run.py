#!/usr/bin/env python3
"""Measure cordon's overhead against native runs and against bubblewrap.

Microbenchmarks (bench/micro/*.c, compiled with gcc into a temporary directory) time one
kind of call in-process and print nanoseconds per iteration. Workloads time whole programs
by wall time. Each runs on four sides: natively, under `cordon run` with read, write, stat
and exec rules, under `cordon run` with a policy that qualifies for the kernel-only path,
and under bwrap with equivalent binds. The sides alternate round by round, and the side
that goes first rotates. `cordon run -v` prints the trapped calls and tracer stops of each
run, which the report shows next to the times.

The report (Markdown on stdout) has the machine, the command, the medians, the ratios to
native, the counts, and each target with its figure. Progress goes to stderr.

bench/run.sh calls this script. Standard library only.
"""

import argparse
import ctypes
import hashlib
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import fixtures
import report

# Exit statuses, the same as bench/run.sh documents.
EXIT_WORKLOAD_FAILED = 1
EXIT_SETUP_FAILED = 2

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PYTHON_STARTUPS = 20
TRUE_EXECUTIONS = 2000

# Workloads that take tens of milliseconds run this many times more often than --runs, so
# that their medians stand out of the noise of a shared machine at little cost.
SHORT_RUNS_FACTOR = 3

# Iterations of each microbenchmark process (divided by 10 with --quick).
MICRO_ITERATIONS = {"faccessat": 20000, "openat": 20000, "fstatat": 20000, "fork_exec": 300}
ROUNDTRIP_ITERATIONS = 20000
ROUNDTRIP_MODES = ("plain", "sync", "plain-pinned", "sync-pinned")

# How long to wait for orphaned processes of a finished run to end before warning.
ORPHAN_WAIT_SECONDS = 5.0
PR_SET_CHILD_SUBREAPER = 36

# The summary line of `cordon run -v`, logged at exit.
COUNT_LINE = re.compile(r"trapped calls: (\d+) \(([^)]*)\); tracer stops: (\d+)")
# cordon's log lines (`2026-01-01T00:00:00.000000Z  INFO ...`) and its start-up warning without
# ptrace, left out when comparing stderr.
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT[0-9:.]+Z +[A-Z]+ |cordon: running without ptrace: )")


class SetupError(Exception):
    """The benchmark cannot start: a missing tool, binary or invalid option."""


class WorkloadError(Exception):
    """A measured command exited with a non-zero status, so its times would measure a failure."""


@dataclass(frozen=True)
class Side:
    """One way of running a command: natively or in a sandbox."""

    key: str
    title: str
    prefix: tuple
    # `cordon run -v` reports trapped calls and tracer stops at exit.
    counted: bool = False

    def wrap(self, argv):
        return [*self.prefix, *argv]


@dataclass(frozen=True)
class Count:
    """The counters that `cordon run -v` prints when one run ends."""

    trapped: int
    by_call: str
    tracer_stops: int


@dataclass
class Benchmark:
    """A measured command and its results per side.

    For a workload, a result is the wall time in seconds. For a microbenchmark it is the
    nanoseconds per iteration that the program prints."""

    key: str
    name: str
    argv: list
    cwd: str
    is_micro: bool = False
    slow: bool = False
    short: bool = False
    # The largest ratio to native allowed under the rules policy, or None without a target.
    rules_limit: float | None = None
    # The kernel-only target (at most 1.05 × native) applies to the workloads, not to the
    # baseline `true`, whose native run is too short to hide any sandbox's start-up.
    kernel_only_target: bool = True
    results: dict = field(default_factory=dict)
    # CPU seconds (user and system) of all processes of each run, cordon's supervisor included.
    cpu: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)


# The keys that --only accepts: the round trip, the microbenchmarks, then the workloads.
BENCHMARK_KEYS = (
    "roundtrip", "faccessat", "openat", "fstatat", "fork-exec",
    "find", "tar", "c-build", "python", "git-status", "git-log", "true", "baseline",
)  # fmt: skip


def parse_args():
    parser = argparse.ArgumentParser(
        description="Compare microbenchmarks and workloads run natively, under cordon run "
        "with two policies and under bwrap. The cordon binary comes from $CORDON; when CORDON "
        "is unset, this script builds it with `cargo build --release -p cordon` into "
        "$CARGO_TARGET_DIR (default: target/).",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=11,
        help="timed runs per side of each microbenchmark and workload that is neither slow "
        f"nor short; the short ones (git status, git log, the baseline) run {SHORT_RUNS_FACTOR} "
        "times as often (default: 11)",
    )
    parser.add_argument(
        "--slow-runs",
        type=int,
        default=5,
        help="timed runs per side of the slow workloads: the C build and the 2000 "
        "executions of /bin/true (default: 5)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 1 timed run per side of everything and a tenth of the "
        "microbenchmark iterations; overrides --runs and --slow-runs",
    )
    parser.add_argument(
        "--only",
        metavar="KEYS",
        help="comma-separated keys of the benchmarks to run (default: all): "
        + ", ".join(BENCHMARK_KEYS),
    )
    parser.add_argument(
        "--no-bwrap",
        action="store_true",
        help="skip the bwrap side even when bwrap is installed",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="Python interpreter for the start-up workload. Give the real binary, not a "
        "pyenv shim, because a shim adds a bash and a pyenv process to each start-up "
        "(default: the interpreter running this script, %(default)s)",
    )
    args = parser.parse_args()
    if args.quick:
        args.runs = 1
        args.slow_runs = 1
    if args.runs < 1 or args.slow_runs < 1:
        parser.error(f"--runs and --slow-runs must be at least 1, got {args.runs} and {args.slow_runs}")
    if args.only:
        args.only = set(args.only.split(","))
        unknown = args.only - set(BENCHMARK_KEYS)
        if unknown:
            parser.error(f"unknown --only keys {sorted(unknown)}; expected some of {', '.join(BENCHMARK_KEYS)}")
    return args


def find_cordon():
    """Return the cordon binary from $CORDON, or build it with cargo when CORDON is unset."""
    cordon = os.environ.get("CORDON")
    if not cordon:
        cordon = build_cordon()
    if not os.access(cordon, os.X_OK):
        raise SetupError(
            f"cordon binary {cordon} not found or not executable. "
            "Set CORDON to the path of a cordon binary."
        )
    return os.path.abspath(cordon)


def build_cordon():
    command = ["cargo", "build", "--release", "-p", "cordon"]
    progress("CORDON is not set, so building cordon: " + " ".join(command))
    try:
        # Cargo's own output goes to stderr, and stdout stays free for the report.
        result = subprocess.run(command, cwd=REPOSITORY, stdout=sys.stderr)
    except FileNotFoundError:
        raise SetupError("cargo not found. Install Rust, or set CORDON to a cordon binary.")
    if result.returncode != 0:
        raise SetupError(f"cargo build failed with exit status {result.returncode}")
    target_dir = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPOSITORY, "target"))
    return os.path.join(target_dir, "release", "cordon")


def describe_binary(source, copy):
    """Return the commit of the git work tree that contains the source binary, and the build
    time and a digest of the measured copy, so that a report names exactly what it measured.

    NOTE: the commit is the binary's source only when the binary was built from that work
    tree's checkout, as `target/release/cordon` inside it is."""
    with open(copy, "rb") as binary:
        digest = hashlib.sha256(binary.read()).hexdigest()[:12]
    # shutil.copy2 keeps the modification time, which is the build time.
    built = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(os.stat(copy).st_mtime))
    git = ["git", "--no-optional-locks", "-C", os.path.dirname(source)]
    head = subprocess.run(git + ["log", "-1", "--format=%h %s (%ci)"], capture_output=True, text=True)
    if head.returncode != 0:
        commit = "unknown (the binary is not inside a git work tree)"
    else:
        # Only changes to the binary's sources are reported: an edit to docs changes no timing.
        status = subprocess.run(
            git + ["status", "--porcelain", "--untracked-files=no", "--", ":/crates", ":/Cargo.toml", ":/Cargo.lock"],
            capture_output=True,
            text=True,
        )
        dirty = ", with uncommitted changes to crates/ or Cargo files" if status.stdout.strip() else ""
        commit = head.stdout.strip() + dirty
    return {"commit": commit, "built": built, "sha256": digest}


def make_sides(cordon, work_dir, guard_dir, use_bwrap):
    """Return the sides, with the sandboxes' options.

    The rules policy has read, write, stat and exec rules that match nothing the benchmarks
    touch, so every category is checked and nothing is denied. The no-exec tree is also
    denied reading, which makes its exec denial binding (cordon prints a note otherwise)."""
    rules = (
        "--deny-read", "/etc/shadow",
        "--deny-read", f"{guard_dir}/no-exec/**",
        "--allow-modify", f"{work_dir}/**",
        "--deny-write", "/etc/**",
        "--deny-stat", f"{guard_dir}/no-stat/**",
        "--deny-exec", f"{guard_dir}/no-exec/**",
    )  # fmt: skip
    kernel_only = ("--allow-modify", f"{work_dir}/**")
    sides = [
        Side("native", "native", ()),
        Side("cordon", "cordon, rules", (cordon, "run", "-v", *rules, "--"), counted=True),
        Side("kernel", "cordon, kernel-only policy", (cordon, "run", "-v", *kernel_only, "--"), counted=True),
        # The same policy without the tracer: what the fork, exec and exit stops cost.
        Side("unptraced", "cordon, kernel-only, --without-ptrace",
             (cordon, "run", "-v", "--without-ptrace", *kernel_only, "--"), counted=True),
    ]
    if use_bwrap:
        sides.append(Side("bwrap", "bwrap", ("bwrap", *bwrap_options(work_dir), "--")))
    return sides


def bwrap_options(work_dir):
    """Return bwrap's options: the whole tree read-only, the work directory writable, and
    new namespaces except the user namespace when running as root.

    Root needs no user namespace, and inside one it cannot read directories of owners that
    are not mapped (`find /usr` fails on /usr/share/polkit-1/rules.d, mode 700)."""
    binds = ("--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--bind", work_dir, work_dir)
    if os.geteuid() == 0:
        namespaces = ("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try")
    else:
        namespaces = ("--unshare-all",)
    return (*binds, *namespaces, "--die-with-parent")


def check_bwrap(args, work_dir):
    """Return None when bwrap can run here, or the reason why the bwrap side is left out."""
    if args.no_bwrap:
        return "left out with --no-bwrap"
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (Debian package bubblewrap)"
    probe = ["bwrap", *bwrap_options(work_dir), "--", "true"]
    result = subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if result.returncode != 0:
        return f"bwrap failed here: {result.stderr.strip()[-300:]}"
    return None


def make_benchmarks(args, micro, work_dir, python):
    """Return the microbenchmarks and workloads, in the order they run."""
    divisor = 10 if args.quick else 1
    micro_file = os.path.join(work_dir, "micro-file")
    c_project = os.path.join(work_dir, "c-project")
    repository = os.path.join(work_dir, "repository")
    git_files = fixtures.GIT_DIRECTORIES * fixtures.GIT_FILES_PER_DIRECTORY

    def iterations(name):
        return str(MICRO_ITERATIONS[name] // divisor)

    python_loop = f'i=0; while [ "$i" -lt {PYTHON_STARTUPS} ]; do "$1" -c pass; i=$((i + 1)); done'
    true_loop = f'i=0; while [ "$i" -lt {TRUE_EXECUTIONS} ]; do /bin/true; i=$((i + 1)); done'
    benchmarks = [
        Benchmark("faccessat", '`faccessat(AT_FDCWD, "/", F_OK)`', [micro["faccessat"], iterations("faccessat")],
                  work_dir, is_micro=True),
        Benchmark("openat", "`openat` + `close` of an allowed file",
                  [micro["openat"], iterations("openat"), micro_file], work_dir, is_micro=True),
        Benchmark("fstatat", "`fstatat` of an allowed file", [micro["fstatat"], iterations("fstatat"), micro_file],
                  work_dir, is_micro=True),
        Benchmark("fork-exec", "`fork` + `execve(/bin/true)` + `waitpid`",
                  [micro["fork_exec"], iterations("fork_exec")], work_dir, is_micro=True),
        Benchmark("find", "`find /usr -xdev`", ["find", "/usr", "-xdev"], work_dir, rules_limit=2.0),
        Benchmark("tar", "`tar -cf - /usr/share/doc | wc -c`",
                  ["sh", "-c", "tar -cf - /usr/share/doc 2>/dev/null | wc -c"], work_dir, rules_limit=1.5),
        Benchmark("c-build", f"C build: `make -B -j2`, {fixtures.C_UNITS + 1} files",
                  ["make", "-B", "-s", "-j2"], c_project, slow=True, rules_limit=1.15),
        Benchmark("python", f"{PYTHON_STARTUPS} × `python3 -c pass`", ["sh", "-c", python_loop, "sh", python],
                  work_dir, rules_limit=1.5),
        Benchmark("git-status", f"`git status`, {git_files} files", ["git", "status"], repository, short=True,
                  rules_limit=2.0),
        Benchmark("git-log", f"`git log --stat`, {fixtures.GIT_COMMITS} commits", ["git", "log", "--stat"],
                  repository, short=True),
        Benchmark("true", f"{TRUE_EXECUTIONS} × `/bin/true`", ["sh", "-c", true_loop], work_dir, slow=True,
                  rules_limit=1.5),
        # The sandbox's fixed cost (start-up, filters, tracer, Landlock) without work of its own.
        Benchmark("baseline", "baseline: `true`", ["true"], work_dir, short=True, kernel_only_target=False),
    ]  # fmt: skip
    if args.only:
        benchmarks = [benchmark for benchmark in benchmarks if benchmark.key in args.only]
    return benchmarks


def run_once(argv, cwd, env):
    """Run argv to completion and return (wall seconds, CPU seconds, stdout bytes, stderr text).

    The CPU time is the user and system time of every process that ends within the run and
    is waited for below this script, because runs do not overlap. Raises WorkloadError on a
    non-zero exit status."""
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    elapsed = time.perf_counter() - start
    reap_orphans(argv)
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage_after.ru_utime + usage_after.ru_stime) - (usage_before.ru_utime + usage_before.ru_stime)

    stderr = result.stderr.decode(errors="replace")
    if result.returncode != 0:
        raise WorkloadError(
            f"command {shlex.join(argv)} (in {cwd}) failed with exit status {result.returncode}. "
            f"Its stderr:\n{stderr[-2000:]}"
        )
    return elapsed, cpu, result.stdout, stderr


def become_subreaper():
    """Make this script the reaper of orphaned descendants, so that their CPU time is counted.

    bwrap's outer process exits without waiting for the init of its pid namespace, which
    the kernel would otherwise hand to the system's init with its CPU time."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        warn(f"prctl(PR_SET_CHILD_SUBREAPER) failed (errno {ctypes.get_errno()}), "
             "so the CPU times leave out orphaned processes")


def reap_orphans(argv):
    """Wait for the orphans of the run that just ended, which this script inherited."""
    deadline = time.monotonic() + ORPHAN_WAIT_SECONDS
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                warn(f"processes of {shlex.join(argv)} still run {ORPHAN_WAIT_SECONDS} s after it ended")
                return
            time.sleep(0.001)


def parse_count(stderr, argv):
    match = COUNT_LINE.search(stderr)
    if match is None:
        raise WorkloadError(
            f"no `trapped calls: ...` line in the stderr of {shlex.join(argv)}; "
            "the cordon binary may predate the counters (commit 65cb9aa)"
        )
    return Count(int(match.group(1)), match.group(2), int(match.group(3)))


def without_log_lines(stderr):
    return "".join(line for line in stderr.splitlines(keepends=True) if not LOG_LINE.match(line))


def warm_up(benchmark, sides, env):
    """Run the workload once per side, untimed. Warn when a sandbox's stdout or stderr
    differs from the native run's, because then the sides did different work."""
    outputs = {}
    for side in sides:
        _, _, stdout, stderr = run_once(side.wrap(benchmark.argv), benchmark.cwd, env)
        outputs[side.key] = (stdout, without_log_lines(stderr))
    native_stdout, native_stderr = outputs["native"]
    for side in sides[1:]:
        stdout, stderr = outputs[side.key]
        if stdout != native_stdout:
            warn(
                f"{benchmark.key}: stdout differs between native ({len(native_stdout)} bytes) and "
                f"{side.title} ({len(stdout)} bytes), so the sides may not do the same work"
            )
        if stderr != native_stderr:
            warn(f"{benchmark.key}: stderr under {side.title} differs from native:\n{stderr[-2000:]}")


def measure(benchmark, sides, env, runs):
    """Run the benchmark `runs` times per side. Each round runs every side once, and the
    side that goes first rotates from round to round."""
    for side in sides:
        benchmark.results[side.key] = []
        benchmark.cpu[side.key] = []
        if side.counted:
            benchmark.counts[side.key] = []
    for round_index in range(runs):
        shift = round_index % len(sides)
        for side in sides[shift:] + sides[:shift]:
            argv = side.wrap(benchmark.argv)
            elapsed, cpu, stdout, stderr = run_once(argv, benchmark.cwd, env)
            benchmark.cpu[side.key].append(cpu)
            if benchmark.is_micro:
                benchmark.results[side.key].append(parse_nanoseconds(stdout, argv))
            else:
                benchmark.results[side.key].append(elapsed)
            if side.counted:
                benchmark.counts[side.key].append(parse_count(stderr, argv))
        progress(f"{benchmark.key}: run {round_index + 1}/{runs}")


def parse_nanoseconds(stdout, argv):
    try:
        return float(stdout.decode().strip())
    except ValueError:
        raise WorkloadError(f"{shlex.join(argv)} printed {stdout[:200]!r}, expected nanoseconds per iteration")


def runs_of(benchmark, args):
    if args.quick:
        return 1
    if benchmark.slow:
        return args.slow_runs
    if benchmark.short:
        return args.runs * SHORT_RUNS_FACTOR
    return args.runs


def measure_roundtrip(program, env, runs, iterations):
    """Run the notification round-trip program `runs` times in each mode, natively.
    Returns {mode: [nanoseconds per call]}."""
    results = {mode: [] for mode in ROUNDTRIP_MODES}
    for round_index in range(runs):
        for mode in ROUNDTRIP_MODES:
            argv = [program, str(iterations), mode]
            _, _, stdout, _ = run_once(argv, os.path.dirname(program), env)
            results[mode].append(parse_nanoseconds(stdout, argv))
        progress(f"roundtrip: run {round_index + 1}/{runs}")
    return results


def describe_machine():
    cpu_model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu_model,
        "logical_cpus": os.cpu_count(),
        # The CPUs this process may run on, which `nproc` prints.
        "nproc": len(os.sched_getaffinity(0)),
        "kernel": f"{platform.release()} ({platform.machine()})",
    }


def tool_version(argv):
    try:
        result = subprocess.run(argv, capture_output=True, text=True)
    except FileNotFoundError:
        return "not installed"
    return (result.stdout or result.stderr).splitlines()[0].strip() if result.returncode == 0 else "unknown"


def describe_command(args_line):
    cordon = os.environ.get("CORDON")
    prefix = f"CORDON={shlex.quote(cordon)} " if cordon else ""
    return prefix + "bench/run.sh" + (" " + args_line if args_line else "")


def warn(message):
    print(f"run.py: warning: {message}", file=sys.stderr, flush=True)


def progress(message):
    print(f"run.py: {message}", file=sys.stderr, flush=True)


def benchmark_all(args, cordon_source, bench_dir):
    bin_dir = os.path.join(bench_dir, "bin")
    guard_dir = os.path.join(bench_dir, "guard")
    work_dir = os.path.join(bench_dir, "work")
    for directory in (bin_dir, os.path.join(guard_dir, "no-stat"), os.path.join(guard_dir, "no-exec"),
                      os.path.join(work_dir, "tmp")):  # fmt: skip
        os.makedirs(directory)

    # A copy, so that a rebuild of the source binary during the run cannot mix two versions.
    cordon = os.path.join(bin_dir, "cordon")
    shutil.copy2(cordon_source, cordon)
    binary = describe_binary(cordon_source, cordon)

    # Every side gets the same environment. Temporary files (gcc's) go to the work
    # directory, the only tree that the policies and bwrap's binds make writable.
    env = dict(os.environ, TMPDIR=os.path.join(work_dir, "tmp"))

    progress("compiling the microbenchmarks and generating the C project and the git repository")
    micro = fixtures.compile_micro_programs(bin_dir)
    with open(os.path.join(work_dir, "micro-file"), "w") as micro_file:
        micro_file.write("an allowed file\n")
    fixtures.make_c_project(os.path.join(work_dir, "c-project"))
    fixtures.make_git_repository(os.path.join(work_dir, "repository"), env)

    bwrap_note = check_bwrap(args, work_dir)
    sides = make_sides(cordon, work_dir, guard_dir, use_bwrap=bwrap_note is None)
    benchmarks = make_benchmarks(args, micro, work_dir, args.python)

    become_subreaper()
    load_before = os.getloadavg()[0]
    roundtrip = None
    if not args.only or "roundtrip" in args.only:
        iterations = ROUNDTRIP_ITERATIONS // (10 if args.quick else 1)
        roundtrip = measure_roundtrip(micro["notify_roundtrip"], env, args.runs, iterations)
    for benchmark in benchmarks:
        if not benchmark.is_micro:
            warm_up(benchmark, sides, env)
        measure(benchmark, sides, env, runs_of(benchmark, args))
    load_after = os.getloadavg()[0]

    context = report.Context(
        command=describe_command(shlex.join(sys.argv[1:])),
        machine=describe_machine(),
        loads=(load_before, load_after),
        cordon_source=cordon_source,
        binary=binary,
        bwrap=tool_version(["bwrap", "--version"]) if bwrap_note is None else bwrap_note,
        python=args.python,
        runs=args.runs,
        quick=args.quick,
        sides=sides,
        policies={side.key: shlex.join(side.prefix[3:-1]) for side in sides if side.counted},
    )
    report.print_report(context, benchmarks, roundtrip)


def main():
    args = parse_args()
    try:
        # Checked before the build, so that a wrong option fails at once.
        if not os.access(args.python, os.X_OK):
            raise SetupError(
                f"Python interpreter {args.python} not found or not executable. "
                "Pass --python with the path of a Python 3 binary."
            )
        if shutil.which("gcc") is None or shutil.which("make") is None:
            raise SetupError("gcc and make are needed for the microbenchmarks and the C build; install them")
        cordon = find_cordon()

        bench_dir = tempfile.mkdtemp(prefix="cordon-bench.")
        try:
            benchmark_all(args, cordon, bench_dir)
        finally:
            shutil.rmtree(bench_dir)
    except (SetupError, fixtures.FixtureError) as error:
        print(f"run.py: {error}", file=sys.stderr)
        return EXIT_SETUP_FAILED
    except WorkloadError as error:
        print(f"run.py: {error}", file=sys.stderr)
        return EXIT_WORKLOAD_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
