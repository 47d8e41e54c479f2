#!/usr/bin/env python3
"""Run modules of CPython's own test suite natively and under cordon, and compare the cases.

Each module runs in its own process, once natively and once under `cordon run` with a policy
that audits every path of every category (read, write, create, stat, delete, rename, attr,
exec, chdir). An audit rule allows the access and logs it, so the supervisor traps each
checked call and performs it itself: the test suite exercises cordon's emulation of the
file-system calls, not the kernel's own implementation.

compat/case_runner.py runs inside both processes and writes each case's outcome (pass, fail,
error, skip) as JSON lines. This script compares the two runs case by case, prints every case
that passes natively but not under cordon with the first lines of its failure, and ends with

    compat: N/M native-passing cases pass under cordon

A module whose cordon run crashes or times out counts all its native-passing cases as
failed. Each run gets a fresh directory as its working directory and TMPDIR.

Standard library only. compat/run.sh builds cordon and runs this script with the default
module list; docs/compat.md describes the results.
"""

import argparse
import collections
import concurrent.futures
import glob
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASE_RUNNER = os.path.join(REPOSITORY, "compat", "case_runner.py")

# Slow modules come first, so that parallel jobs do not end with one long module alone.
DEFAULT_MODULES = (
    # About 15 s or more natively each.
    "test_subprocess",
    "test_tarfile",
    "test_io",
    "test_compileall",
    "test_cmd_line",
    "test_logging",
    "test_zipfile",
    # File system and I/O.
    "test_os",
    "test_posix",
    "test_shutil",
    "test_pathlib",
    "test_tempfile",
    "test_glob",
    "test_fileio",
    "test_stat",
    "test_genericpath",
    "test_posixpath",
    "test_fnmatch",
    "test_filecmp",
    "test_fileinput",
    "test_file",
    "test_univnewlines",
    "test_largefile",
    "test_mmap",
    "test_fcntl",
    "test_select",
    "test_pty",
    "test_popen",
    "test_support",
    # Archives, databases and data files.
    "test_gzip",
    "test_bz2",
    "test_lzma",
    "test_zipapp",
    "test_mailbox",
    "test_shelve",
    "test_dbm",
    "test_dbm_dumb",
    "test_sqlite3",
    "test_mimetypes",
    "test_netrc",
    # Imports, compilation and interpreter start-up.
    "test_py_compile",
    "test_zipimport",
    "test_import",
    "test_importlib",
    "test_pkg",
    "test_pkgutil",
    "test_modulefinder",
    "test_runpy",
    "test_linecache",
    "test_source_encoding",
    "test_tabnanny",
    "test_cmd_line_script",
    "test_site",
    "test_sysconfig",
    "test_venv",
)

CATEGORIES = ("read", "write", "create", "stat", "delete", "rename", "attr", "exec", "chdir")

# The names cordon checks objects without a path under (see docs/policy.md). `/**` does not
# match them, so without these rules an fd-only call such as ftruncate on a pipe, a memfd or
# an unlinked temporary file falls to the category's default, which denies attr.
RESERVED_PATTERNS = ("pipe:*", "socket:*", "anon:*", "memfd:*")

# Exit statuses.
EXIT_BELOW_REQUIRED = 1
EXIT_SETUP_FAILED = 2

# Lines of a failure's traceback printed per case: the last ones, which name the failing
# assertion or exception.
DETAIL_LINES = 8


class SetupError(Exception):
    """The comparison cannot start: a missing interpreter, binary, user or invalid option."""


@dataclass
class ModuleRun:
    """One run of one test module, natively or under cordon."""

    module: str
    side: str
    outcomes: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    finished: bool = False
    last_started: str | None = None
    returncode: int | None = None
    timed_out: bool = False
    seconds: float = 0.0
    output_path: str = ""
    stack_path: str = ""

    def problem(self):
        """Describe why the run did not finish, or return None when it did."""
        if self.finished and not self.timed_out:
            return None
        if self.timed_out:
            text = "timed out"
        elif self.returncode is not None and self.returncode < 0:
            text = f"killed by signal {-self.returncode}"
        else:
            text = f"exited with status {self.returncode} before its last case"
        if self.last_started:
            text += f"; last case started: {self.last_started}"
        return text


def parse_args():
    parser = argparse.ArgumentParser(
        description="Run modules of CPython's test suite natively and under cordon run with "
        "an audit rule for every category, and compare the outcomes case by case.",
    )
    parser.add_argument(
        "--cordon",
        default=os.path.join(REPOSITORY, "target", "release", "cordon"),
        help="cordon binary to run the modules under (default: %(default)s)",
    )
    parser.add_argument(
        "--python",
        help="Python interpreter whose `test` package to run (default: the first of this "
        "script's interpreter, python3.X on PATH, /usr/bin, /usr/local/bin and "
        "~/.pyenv/versions that has the modules)",
    )
    parser.add_argument(
        "--modules",
        help="comma-separated test modules, e.g. test_os,test_stat (default: "
        + ",".join(DEFAULT_MODULES) + ")",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="module runs at once, native and cordon runs alike (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300,
        help="seconds one module may run on either side before it counts as hung "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--user",
        help="run both sides as this user through setpriv (requires root); the interpreter "
        "and the cordon binary must be readable by that user",
    )
    parser.add_argument(
        "--paths-only",
        action="store_true",
        help="audit only '/**' in each category, without the rules for pipes, sockets, "
        "memfds and unlinked files, which then fall to the categories' defaults",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the work directory with each run's case records, output and cordon log",
    )
    parser.add_argument(
        "--require",
        type=float,
        metavar="PERCENT",
        help="exit with status 1 when fewer than PERCENT of the native-passing cases pass "
        "under cordon",
    )
    args = parser.parse_args()
    args.modules_given = bool(args.modules)
    args.modules = args.modules.split(",") if args.modules else list(DEFAULT_MODULES)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.timeout <= 20:
        # The runner's own watchdog fires 10 s before the timeout, and cordon's 5 s before.
        parser.error("--timeout must be more than 20 seconds")
    return args


def user_prefix(user):
    """Return the argv prefix that runs a command as `user`, or [] for the invoking user."""
    if user is None:
        return []
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]


def candidate_pythons():
    yield sys.executable
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        yield from sorted(glob.glob(os.path.join(directory, "python3*")), key=version_key, reverse=True)
    for pattern in ("/usr/bin/python3*", "/usr/local/bin/python3*"):
        yield from sorted(glob.glob(pattern), key=version_key, reverse=True)
    yield from sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/*/bin/python3")), key=version_key, reverse=True)


def version_key(path):
    """Order interpreter paths by the version numbers in them, so 3.13 sorts above 3.9."""
    return [int(number) for number in re.findall(r"\d+", path)]


def missing_modules(python, modules, user):
    """Return the modules `python` cannot find in its test package, or None if it cannot run."""
    probe = (
        "import importlib.util, sys\n"
        "import test.support\n"
        "print(sys.executable)\n"
        "for name in sys.argv[1:]:\n"
        "    if importlib.util.find_spec('test.' + name) is None: print(name)\n"
    )
    try:
        completed = subprocess.run(
            user_prefix(user) + [python, "-c", probe, *modules],
            capture_output=True, text=True, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        return None
    lines = completed.stdout.split()
    return lines[1:]


def find_python(args):
    """Return an interpreter with CPython's test package and the requested modules it lacks.

    Modules named with --modules must all be present. Of the default list, an interpreter
    may lack some (distributions split the test suite into packages); the caller skips them.
    """
    explicit = [args.python] if args.python else None
    fallback = None
    seen = set()
    for candidate in explicit or candidate_pythons():
        real = os.path.realpath(candidate)
        if real in seen or real.endswith("-config"):
            continue
        seen.add(real)
        missing = missing_modules(real, args.modules, args.user)
        if missing is None and explicit:
            raise SetupError(
                f"{args.python} cannot import CPython's test package (test.support); "
                "give an interpreter with the test suite installed"
            )
        if missing and explicit and (args.modules_given or len(missing) == len(args.modules)):
            raise SetupError(f"{args.python} has no test module(s) {', '.join(missing)}")
        if missing is None or len(missing) == len(args.modules) or (missing and args.modules_given):
            continue
        if not missing:
            return candidate if explicit else real, []
        fallback = fallback or (candidate if explicit else real, missing)
    if fallback:
        return fallback
    raise SetupError(
        "no Python interpreter with CPython's test suite was found for the modules "
        f"{', '.join(args.modules)}. Install one (Debian and Ubuntu: `apt-get install "
        "libpython3-testsuite` for /usr/bin/python3; pyenv and source builds include it) "
        "and pass it with --python PATH"
    )


def check_cordon(args):
    # Each module runs in its own directory, so a relative path must not reach subprocess.
    args.cordon = os.path.abspath(args.cordon)
    if not os.access(args.cordon, os.X_OK):
        raise SetupError(
            f"cordon binary {args.cordon} not found or not executable; build it with "
            "`cargo build --release -p cordon` or pass --cordon PATH"
        )
    completed = subprocess.run(
        user_prefix(args.user) + [args.cordon, "--version"], capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise SetupError(f"{args.cordon} --version failed: {completed.stderr.strip()}")


def check_user(args):
    if args.user is None:
        return None
    if os.geteuid() != 0:
        raise SetupError("--user needs root, because it switches users with setpriv")
    try:
        return pwd.getpwnam(args.user)
    except KeyError:
        raise SetupError(f"user {args.user} not found; create it with `useradd --system {args.user}`")


def audit_options(paths_only):
    options = []
    for category in CATEGORIES:
        options += [f"--audit-{category}", "/**"]
        if not paths_only:
            for pattern in RESERVED_PATTERNS:
                options += [f"--audit-{category}", pattern]
    return options


def make_directory(path, account):
    os.makedirs(path, mode=0o755)
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)


def read_records(path, run):
    try:
        with open(path, encoding="utf-8") as file:
            lines = file.read().splitlines()
    except FileNotFoundError:
        return
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            # The last line of a killed run may be cut off.
            continue
        if record["event"] == "start":
            run.last_started = record["id"]
        elif record["event"] == "case":
            run.outcomes[record["id"]] = record["outcome"]
            run.details[record["id"]] = record["detail"]
        elif record["event"] == "done":
            run.finished = True


def run_module(args, python, account, work, module, side):
    """Run one module on one side and return its ModuleRun."""
    base = os.path.join(work, f"{module}.{side}")
    cwd = base + ".cwd"
    make_directory(cwd, account)
    records = base + ".jsonl"
    output = base + ".out"
    run = ModuleRun(module=module, side=side, output_path=output)

    # faulthandler in the runner stops a hanging module a little before the harness would,
    # and prints where every thread stood.
    inner = [python, os.path.join(work, "case_runner.py"), module, records, str(args.timeout - 10)]
    if side == "cordon":
        command = [
            args.cordon, "run", "-q", "-v", "--log", base + ".log", *audit_options(args.paths_only),
            "--timeout", str(args.timeout - 5), "--", *inner,
        ]
    else:
        command = inner
    environment = dict(os.environ, TMPDIR=cwd)
    if account is not None:
        environment.update(HOME=cwd, USER=account.pw_name, LOGNAME=account.pw_name)

    started = time.monotonic()
    with open(output, "wb") as output_file:
        process = subprocess.Popen(
            user_prefix(args.user) + command, cwd=cwd, env=environment,
            stdin=subprocess.DEVNULL, stdout=output_file, stderr=subprocess.STDOUT,
        )
        try:
            run.returncode = process.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            run.timed_out = True
            process.kill()
            process.wait()
    run.seconds = time.monotonic() - started
    read_records(records, run)
    if side == "cordon" and run.returncode == 124:
        run.timed_out = True
    # The runner's watchdog writes the stacks of a hanging run to RECORDS.stack.
    if not run.finished and os.path.exists(records + ".stack") and os.path.getsize(records + ".stack"):
        run.timed_out = True
        run.stack_path = records + ".stack"
    return run


def last_lines(text, count=DETAIL_LINES):
    lines = [line for line in text.rstrip().splitlines() if line.strip()]
    if len(lines) > count:
        lines = ["..."] + lines[-count:]
    return "\n".join("      " + line for line in lines)


def describe_stop(run, count=12):
    """Return where a run that did not finish stopped: the top of the watchdog's stacks, which
    list the most recent call first, or else the end of the run's output."""
    if run.stack_path:
        with open(run.stack_path, encoding="utf-8", errors="replace") as stacks:
            lines = [line for line in stacks.read().splitlines() if line.strip()]
        return "\n".join("      " + line for line in lines[:count] + ["..."])
    try:
        with open(run.output_path, encoding="utf-8", errors="replace") as output:
            return last_lines(output.read(), count)
    except FileNotFoundError:
        return "      (no output)"


def summarize_log(paths):
    """Count the logged decisions by action, category and syscall over all cordon logs."""
    counts = collections.Counter()
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as log:
                for line in log:
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    # cordon folds runs of identical decisions into one entry with a
                    # "repeats" count and no syscall.
                    syscall = entry.get("syscall", "repeated")
                    key = (entry.get("action"), entry.get("category"), syscall)
                    counts[key] += entry.get("repeats", 1)
        except FileNotFoundError:
            continue
    return counts


# The line `cordon run -v` prints at the end: "trapped calls: N (openat 34, statx 1, ...);
# tracer stops: M".
TRAPPED_LINE = re.compile(rb"trapped calls: (\d+)(?: \(([^)]*)\))?; tracer stops: (\d+)")


def count_trapped_calls(paths):
    """Sum the trapped calls and tracer stops that `cordon run -v` reported in each output."""
    calls = collections.Counter()
    stops = 0
    for path in paths:
        try:
            with open(path, "rb") as output:
                matches = TRAPPED_LINE.findall(output.read())
        except FileNotFoundError:
            continue
        if not matches:
            continue
        _, listed, tracer_stops = matches[-1]
        stops += int(tracer_stops)
        for item in listed.decode().split(", ") if listed else []:
            name, count = item.rsplit(" ", 1)
            calls[name] += int(count)
    return calls, stops


def print_trapped_calls(calls, stops):
    listed = ", ".join(f"{name} {count}" for name, count in calls.most_common())
    print(f"\nCalls trapped and performed by cordon's supervisor: {sum(calls.values())} ({listed}); "
          f"tracer stops: {stops}")


def print_log_summary(counts):
    print("\nDecisions in the cordon logs (action, category, syscall: count):")
    by_category = collections.defaultdict(list)
    for (action, category, syscall), count in counts.items():
        by_category[(action, category)].append((syscall, count))
    for (action, category), syscalls in sorted(by_category.items(), key=str):
        listed = ", ".join(f"{name} {count}" for name, count in sorted(syscalls, key=str))
        print(f"  {action} {category}: {listed}")
    denied = sum(count for (action, _, _), count in counts.items() if action != "audit")
    if denied:
        print(f"  {denied} decisions were not audits: a path the audit rules do not cover")


def compare(modules, runs):
    """Print the per-module table and every lost case; return (passing, native_passing)."""
    total_passing = 0
    total_native = 0
    print(f"{'module':<22}{'native: pass':>12}{'fail':>6}{'skip':>6}"
          f"{'cordon: pass':>16}{'native s':>10}{'cordon s':>10}")
    lost_reports = []
    for module in modules:
        native, cordon = runs[(module, "native")], runs[(module, "cordon")]
        native_counts = collections.Counter(native.outcomes.values())
        passing_natively = sorted(case for case, outcome in native.outcomes.items() if outcome == "pass")
        cordon_problem = cordon.problem()
        if cordon_problem:
            lost = passing_natively
            still_passing = 0
        else:
            lost = [case for case in passing_natively if cordon.outcomes.get(case) != "pass"]
            still_passing = len(passing_natively) - len(lost)
        total_passing += still_passing
        total_native += len(passing_natively)
        failed_natively = native_counts["fail"] + native_counts["error"]
        cordon_column = f"{still_passing}/{len(passing_natively)}"
        print(f"{module:<22}{native_counts['pass']:>12}{failed_natively:>6}{native_counts['skip']:>6}"
              f"{cordon_column:>16}{native.seconds:>10.1f}{cordon.seconds:>10.1f}")

        native_problem = native.problem()
        if native_problem:
            lost_reports.append(f"\n{module}: native run {native_problem}; only its finished "
                                f"cases are compared\n{describe_stop(native)}")
        if cordon_problem:
            lost_reports.append(
                f"\n{module}: cordon run {cordon_problem}; all {len(lost)} native-passing "
                f"cases count as failed\n{describe_stop(cordon)}")
            continue
        for case in lost:
            outcome = cordon.outcomes.get(case, "not run")
            detail = cordon.details.get(case, "")
            lost_reports.append(f"\nFAILED under cordon ({outcome}): {case}\n{last_lines(detail)}")

    for report in lost_reports:
        print(report)
    return total_passing, total_native


def main():
    args = parse_args()
    try:
        account = check_user(args)
        check_cordon(args)
        python, missing = find_python(args)
    except SetupError as error:
        print(f"cpython.py: {error}", file=sys.stderr)
        return EXIT_SETUP_FAILED
    if missing:
        print(f"skipped, not in {python}'s test package: {', '.join(missing)}")
        args.modules = [module for module in args.modules if module not in missing]

    work = tempfile.mkdtemp(prefix="cordon-compat-")
    os.chmod(work, 0o755)
    shutil.copy(CASE_RUNNER, os.path.join(work, "case_runner.py"))
    os.chmod(os.path.join(work, "case_runner.py"), 0o644)
    if account is not None:
        os.chown(work, account.pw_uid, account.pw_gid)
    identity = args.user or pwd.getpwuid(os.geteuid()).pw_name
    print(f"python: {python}\ncordon: {args.cordon}\nuser: {identity}\nwork directory: {work}")
    print(f"modules: {', '.join(args.modules)}")
    print(f"cordon run -q --log FILE {' '.join(audit_options(args.paths_only))} -- ...\n", flush=True)

    started = time.monotonic()
    runs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            pool.submit(run_module, args, python, account, work, module, side): (module, side)
            for module in args.modules
            for side in ("native", "cordon")
        }
        for future in concurrent.futures.as_completed(futures):
            runs[futures[future]] = future.result()

    passing, native_passing = compare(args.modules, runs)
    print_trapped_calls(*count_trapped_calls(
        os.path.join(work, f"{module}.cordon.out") for module in args.modules))
    print_log_summary(summarize_log(
        os.path.join(work, f"{module}.cordon.log") for module in args.modules))
    print(f"\nwall time: {time.monotonic() - started:.0f} s")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)

    print(f"compat: {passing}/{native_passing} native-passing cases pass under cordon")
    if args.require is not None and native_passing and passing * 100 < args.require * native_passing:
        return EXIT_BELOW_REQUIRED
    return 0


if __name__ == "__main__":
    sys.exit(main())
