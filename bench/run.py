#!/usr/bin/env python3
"""Measure cordon's overhead on file-heavy workloads against running them natively.

Each workload runs once natively and once under `cordon run` as a warm-up, then N times
each, alternating native and cordon runs so that drifting machine noise hits both sides.
The report gives the median, minimum and maximum wall time per side and the ratio of the
medians, as Markdown. Separately, and outside the timed runs, strace counts the open-family
calls of each workload run natively, which is the number of calls cordon traps.

bench/run.sh calls this script. Standard library only.
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

# Exit statuses, the same as bench/run.sh documents.
EXIT_WORKLOAD_FAILED = 1
EXIT_SETUP_FAILED = 2

# The open-family calls, which cordon's supervisor traps and performs itself. Fork, clone and
# exec stop the process too, for the tracer, but strace does not count those here.
TRAPPED_SYSCALLS = ("open", "openat", "openat2", "creat")

PYTHON_STARTUPS = 20

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SetupError(Exception):
    """The benchmark cannot start: a missing tool, binary or invalid option."""


class WorkloadError(Exception):
    """A workload exited with a non-zero status, so its times would measure a failure."""


@dataclass
class Workload:
    """One measured command and its wall times in seconds."""

    name: str
    argv: list
    native_times: list = field(default_factory=list)
    cordon_times: list = field(default_factory=list)
    trapped_calls: int | None = None
    # The baseline measures the sandbox's fixed cost, which the other rows also contain.
    is_baseline: bool = False


def parse_args():
    parser = argparse.ArgumentParser(
        description="Compare wall times of workloads run natively and under cordon run. "
        "The cordon binary comes from $CORDON; when CORDON is unset, this script builds it "
        "with `cargo build --release -p cordon` into $CARGO_TARGET_DIR (default: target/).",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=11,
        help="timed runs per workload and side, after one warm-up each (default: 11)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="Python interpreter for the start-up workload. Give the real binary, not a "
        "pyenv shim, because a shim adds a bash and a pyenv process to each start-up "
        "(default: the interpreter running this script, %(default)s)",
    )
    parser.add_argument(
        "--no-count",
        action="store_true",
        help="skip counting open-family calls with strace",
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
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
    return cordon


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


def make_workloads(python):
    """Build the workloads. Each argv runs unchanged natively and after `cordon run ... --`."""
    python_loop = (
        f'i=0; while [ "$i" -lt {PYTHON_STARTUPS} ]; do "$1" -c pass; i=$((i + 1)); done'
    )
    return [
        Workload("`find /usr -xdev`", ["find", "/usr", "-xdev"]),
        Workload(
            "`tar -cf - /usr/share/doc | wc -c`",
            ["sh", "-c", "tar -cf - /usr/share/doc 2>/dev/null | wc -c"],
        ),
        Workload(
            f"{PYTHON_STARTUPS} × `python3 -c pass`",
            ["sh", "-c", python_loop, "sh", python],
        ),
        # The sandbox's fixed cost (start-up, filter, tracer) without work of its own, so the
        # rows above can be read as fixed cost plus a cost per trapped call.
        Workload("baseline: `true`", ["true"], is_baseline=True),
    ]


def sandbox_argv(cordon, work_dir, argv):
    """Wrap argv in `cordon run` with read, hide, write and create rules that every
    trapped open is checked against. No rule denies an access that the workloads make."""
    return [
        cordon,
        "run",
        "--deny-read", "/etc/shadow",
        "--hide", f"{work_dir}/hidden/**",
        "--allow-write", f"{work_dir}/**",
        "--allow-create", f"{work_dir}/**",
        "--deny-write", "/etc/**",
        "--",
        *argv,
    ]  # fmt: skip


def run_once(argv, work_dir, capture_stdout=False):
    """Run argv to completion and return (wall seconds, stdout bytes or None, stderr text).

    Raises WorkloadError on a non-zero exit status."""
    stdout = subprocess.PIPE if capture_stdout else subprocess.DEVNULL
    start = time.perf_counter()
    result = subprocess.run(
        argv, cwd=work_dir, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE
    )
    elapsed = time.perf_counter() - start

    stderr = result.stderr.decode(errors="replace")
    if result.returncode != 0:
        raise WorkloadError(
            f"command {argv!r} failed with exit status {result.returncode}. Its stderr:\n"
            f"{stderr[-2000:]}"
        )
    return elapsed, result.stdout, stderr


def warm_up(workload, cordon, work_dir):
    """Run the workload once per side, untimed. Warn when the outputs differ or cordon
    printed messages such as denial lines, because then the two sides did different work."""
    sandboxed = sandbox_argv(cordon, work_dir, workload.argv)
    _, native_output, native_stderr = run_once(workload.argv, work_dir, capture_stdout=True)
    _, cordon_output, cordon_stderr = run_once(sandboxed, work_dir, capture_stdout=True)

    if native_output != cordon_output:
        # NOTE: find's output also differs when a package is installed between the two runs.
        warn(
            f"{workload.name}: output differs between native ({len(native_output)} bytes) "
            f"and cordon ({len(cordon_output)} bytes), so the two sides may not do the same work"
        )
    if cordon_stderr != native_stderr:
        warn(f"{workload.name}: stderr under cordon differs from native:\n{cordon_stderr[-2000:]}")


def measure(workload, cordon, work_dir, runs):
    """Time the workload `runs` times per side. The side that runs first alternates, so
    that neither side always runs second."""
    sandboxed = sandbox_argv(cordon, work_dir, workload.argv)
    for index in range(runs):
        native_first = index % 2 == 0
        order = ("native", "cordon") if native_first else ("cordon", "native")
        for side in order:
            if side == "native":
                elapsed, _, _ = run_once(workload.argv, work_dir)
                workload.native_times.append(elapsed)
            else:
                elapsed, _, _ = run_once(sandboxed, work_dir)
                workload.cordon_times.append(elapsed)
        progress(f"{workload.name}: run {index + 1}/{runs}")


def count_trapped_calls(argv, work_dir):
    """Count the open-family calls that argv makes natively, in all its processes, with
    `strace -f -c`. Returns None when strace fails."""
    with tempfile.NamedTemporaryFile(mode="r", suffix=".strace") as summary:
        result = subprocess.run(
            [
                "strace", "-f", "-c", "-o", summary.name,
                "-e", "trace=" + ",".join(TRAPPED_SYSCALLS),
                "--", *argv,
            ],
            cwd=work_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        if result.returncode != 0:
            warn(f"strace {argv!r} failed with exit status {result.returncode}: "
                 f"{result.stderr.decode(errors='replace')[-500:]}")
            return None
        return parse_strace_summary(summary.read())


def parse_strace_summary(text):
    """Sum the `calls` column of the rows for TRAPPED_SYSCALLS in a `strace -c` table.

    A row is `% time, seconds, usecs/call, calls, [errors], syscall`. Calls is always the
    fourth field, because strace leaves the errors column blank when there were none."""
    total = 0
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[-1] in TRAPPED_SYSCALLS:
            total += int(fields[3])
    return total


def describe_machine():
    cpu_model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return [
        f"- CPU: {cpu_model}, {os.cpu_count()} logical CPUs (nproc: {nproc()})",
        f"- kernel: {platform.release()} ({platform.machine()})",
    ]


def nproc():
    """Return the number of CPUs this process may run on, which `nproc` prints."""
    return len(os.sched_getaffinity(0))


def describe_commit():
    """Return the commit of the repository that contains this script.

    NOTE: this is the binary's commit only when CORDON was built from this checkout."""
    git = ["git", "--no-optional-locks", "-C", REPOSITORY]
    head = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return "unknown (git rev-parse failed)"
    # Only changes to the sources of the binary are reported, because an edit to bench/
    # changes no timing.
    sources = ["crates", "Cargo.toml", "Cargo.lock"]
    status = subprocess.run(
        git + ["status", "--porcelain", "--untracked-files=no", "--", *sources],
        capture_output=True,
        text=True,
    )
    dirty = " with uncommitted changes to crates/ or Cargo files" if status.stdout.strip() else ""
    return head.stdout.strip() + dirty


def table_cell(text):
    """Escape the pipes in text, which would otherwise end a Markdown table cell."""
    return text.replace("|", "\\|")


def milliseconds(seconds):
    return f"{seconds * 1000:.0f}" if seconds >= 0.1 else f"{seconds * 1000:.1f}"


def format_time_table(workloads):
    lines = [
        "| workload | native median (ms) | native min–max | cordon median (ms) "
        "| cordon min–max | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for workload in workloads:
        native = statistics.median(workload.native_times)
        cordon = statistics.median(workload.cordon_times)
        lines.append(
            f"| {table_cell(workload.name)} | {milliseconds(native)} "
            f"| {milliseconds(min(workload.native_times))}–"
            f"{milliseconds(max(workload.native_times))} "
            f"| {milliseconds(cordon)} "
            f"| {milliseconds(min(workload.cordon_times))}–"
            f"{milliseconds(max(workload.cordon_times))} "
            f"| {cordon / native:.2f} |"
        )
    return lines


def added_time(workload):
    """Return the median seconds that cordon adds to the workload."""
    return statistics.median(workload.cordon_times) - statistics.median(workload.native_times)


def format_count_table(workloads):
    """Format the trapped-call counts and the time cordon adds per trapped call.

    Time per call is the added median time minus the baseline's added time, divided by the
    calls. It still contains the ptrace stops at fork, clone and exec, so it is an upper
    bound on the cost of one trapped open, not a measurement of it."""
    baseline = sum(added_time(workload) for workload in workloads if workload.is_baseline)
    lines = [
        "| workload | open-family calls (native, strace) | added median time (ms) "
        "| added time per call, minus baseline (µs) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for workload in workloads:
        added = added_time(workload)
        calls = "–" if workload.trapped_calls is None else str(workload.trapped_calls)
        if workload.trapped_calls and not workload.is_baseline:
            per_call = f"{(added - baseline) / workload.trapped_calls * 1e6:.1f}"
        else:
            per_call = "–"
        lines.append(
            f"| {table_cell(workload.name)} | {calls} | {added * 1000:.1f} | {per_call} |"
        )
    return lines


def print_report(workloads, commit, cordon, python, runs, counted, loads):
    print("## Machine")
    print()
    print("\n".join(describe_machine()))
    # Other programs on the machine widen the min–max ranges, so the report shows them.
    print(f"- load average (1 minute) before and after the runs: {loads[0]:.2f}, {loads[1]:.2f}")
    print(f"- cordon commit: {commit}")
    print(f"- cordon binary: {cordon}")
    print(f"- Python for the start-up workload: {python}")
    print()
    print(f"## Wall time (runs per side: {runs}, after one warm-up each)")
    print()
    print("\n".join(format_time_table(workloads)))
    if counted:
        print()
        print("## Trapped calls (counted once natively, outside the timed runs)")
        print()
        print("\n".join(format_count_table(workloads)))


def warn(message):
    print(f"run.py: warning: {message}", file=sys.stderr)


def progress(message):
    print(f"run.py: {message}", file=sys.stderr, flush=True)


def benchmark(args, commit, cordon, work_dir):
    workloads = make_workloads(args.python)
    load_before = os.getloadavg()[0]

    counted = not args.no_count and shutil.which("strace") is not None
    if not args.no_count and not counted:
        warn("strace not found, so the trapped calls are not counted. Install strace to count them.")
    for workload in workloads:
        if counted:
            workload.trapped_calls = count_trapped_calls(workload.argv, work_dir)
        warm_up(workload, cordon, work_dir)
        measure(workload, cordon, work_dir, args.runs)

    loads = (load_before, os.getloadavg()[0])
    print_report(workloads, commit, cordon, args.python, args.runs, counted, loads)


def main():
    args = parse_args()
    try:
        # Checked before the build, so that a wrong option fails at once.
        if not os.access(args.python, os.X_OK):
            raise SetupError(
                f"Python interpreter {args.python} not found or not executable. "
                "Pass --python with the path of a Python 3 binary."
            )

        # Read before the build and the runs, which take minutes in which HEAD can move.
        commit = describe_commit()
        cordon = find_cordon()

        # The hide rule needs an existing directory, and the write and create rules a tree
        # that the workloads do not touch.
        work_dir = tempfile.mkdtemp(prefix="cordon-bench.")
        try:
            os.mkdir(os.path.join(work_dir, "hidden"))
            benchmark(args, commit, cordon, work_dir)
        finally:
            shutil.rmtree(work_dir)
    except SetupError as error:
        print(f"run.py: {error}", file=sys.stderr)
        return EXIT_SETUP_FAILED
    except WorkloadError as error:
        print(f"run.py: {error}", file=sys.stderr)
        return EXIT_WORKLOAD_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
