"""Format the benchmark results as Markdown: the machine and command, the tables of medians,
ratios and counts, and the targets with the figures they are judged by.
"""

import statistics
from dataclasses import dataclass

# The targets that the report checks. A ratio is the median under cordon over the native median.
PER_CALL_ROUNDTRIP_FACTOR = 1.5  # added cost per trapped call <= 1.5 × round trip + the call
OPENAT_LIMIT = 6.0  # emulated openat <= 6 × native openat + close
KERNEL_ONLY_LIMIT = 1.05  # every workload under the kernel-only policy


@dataclass
class Context:
    """Everything the report states besides the results."""

    command: str
    machine: dict
    loads: tuple
    cordon_source: str
    binary: dict
    bwrap: str
    python: str
    runs: int
    quick: bool
    sides: list
    policies: dict


def cell(text):
    """Escape the pipes in text, which would otherwise end a Markdown table cell."""
    return text.replace("|", "\\|")


def milliseconds(seconds):
    value = seconds * 1000
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def microseconds(nanoseconds):
    value = nanoseconds / 1000
    if value >= 1000:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def median(values):
    return statistics.median(values) if values else None


def ratio(benchmark, side_key):
    native = median(benchmark.results.get("native", []))
    sandboxed = median(benchmark.results.get(side_key, []))
    if native is None or sandboxed is None:
        return None
    return sandboxed / native


def median_count(benchmark, side_key):
    """Return the Count of the run whose trapped-call total is the median, or None."""
    counts = benchmark.counts.get(side_key)
    if not counts:
        return None
    ordered = sorted(counts, key=lambda count: count.trapped)
    return ordered[(len(ordered) - 1) // 2]


def print_header(context):
    machine = context.machine
    binary = context.binary
    print("## Machine and command")
    print()
    print(f"- CPU: {machine['cpu']}, {machine['logical_cpus']} logical CPUs (nproc: {machine['nproc']})")
    print(f"- kernel: {machine['kernel']}")
    # Other programs on the machine widen the spread, so the report shows the load.
    print(f"- load average (1 minute) before and after the runs: {context.loads[0]:.2f}, {context.loads[1]:.2f}")
    print(f"- cordon binary: {context.cordon_source} (built {binary['built']}, sha256 {binary['sha256']}…)")
    print(f"- cordon commit: {binary['commit']}")
    print(f"- bwrap: {context.bwrap}")
    print(f"- Python for the start-up workload: {context.python}")
    print(f"- command: `{context.command}`")
    print()
    print("Sandbox options:")
    print()
    for side in context.sides[1:]:
        if side.key in context.policies:
            print(f"- {side.title}: `cordon run -v {context.policies[side.key]} -- COMMAND`")
        else:
            print(f"- {side.title}: `{' '.join(side.prefix[:-1])} -- COMMAND`")
    print()


def print_roundtrip(roundtrip):
    print("## Notification round trip (native, the floor under each trapped call)")
    print()
    print("| mode | median (µs) | min–max (µs) |")
    print("| --- | ---: | ---: |")
    for mode, values in roundtrip.items():
        print(f"| {mode} | {microseconds(median(values))} | {microseconds(min(values))}–{microseconds(max(values))} |")
    print()


def side_cells(benchmark, sides, format_value):
    """Return 'median (ratio)' cells for every side after native."""
    cells = []
    for side in sides[1:]:
        values = benchmark.results.get(side.key)
        if not values:
            cells.append("–")
            continue
        cells.append(f"{format_value(median(values))} ({ratio(benchmark, side.key):.2f})")
    return cells


def count_cells(benchmark, side_keys, per_iteration=None):
    cells = []
    for key in side_keys:
        count = median_count(benchmark, key)
        if count is None:
            cells.extend(["–", "–"])
        elif per_iteration:
            cells.extend([f"{count.trapped / per_iteration:.2f}", f"{count.tracer_stops / per_iteration:.2f}"])
        else:
            cells.extend([str(count.trapped), str(count.tracer_stops)])
    return cells


def print_micro(micro, sides, runs):
    titles = [side.title for side in sides[1:]]
    print(f"## Microbenchmarks (µs per iteration, median of {runs} processes per side; ratio to native)")
    print()
    print(
        "| call | native | "
        + " | ".join(titles)
        + " | trapped calls per iteration, rules | tracer stops per iteration, rules "
        "| trapped calls per iteration, kernel-only | tracer stops per iteration, kernel-only |"
    )
    print("| --- | ---: | " + " | ".join("---:" for _ in titles) + " | ---: | ---: | ---: | ---: |")
    for benchmark in micro:
        iterations = int(benchmark.argv[1])
        # The program also runs a tenth as many untimed iterations first; cordon counts those too.
        per_iteration = iterations + iterations // 10
        cells = [cell(benchmark.name), microseconds(median(benchmark.results["native"]))]
        cells += side_cells(benchmark, sides, microseconds)
        cells += count_cells(benchmark, ["cordon", "kernel"], per_iteration)
        print("| " + " | ".join(cells) + " |")
    print()


def print_workloads(workloads, sides):
    titles = [side.title for side in sides[1:]]
    print("## Workloads (wall time in ms, median of the runs per side; ratio to native)")
    print()
    print(
        "| workload | runs | native | "
        + " | ".join(titles)
        + " | trapped calls, rules | tracer stops, rules | trapped calls, kernel-only "
        "| tracer stops, kernel-only |"
    )
    print("| --- | ---: | ---: | " + " | ".join("---:" for _ in titles) + " | ---: | ---: | ---: | ---: |")
    for benchmark in workloads:
        runs = len(benchmark.results["native"])
        cells = [cell(benchmark.name), str(runs), milliseconds(median(benchmark.results["native"]))]
        cells += side_cells(benchmark, sides, milliseconds)
        cells += count_cells(benchmark, ["cordon", "kernel"])
        print("| " + " | ".join(cells) + " |")
    print()

    print("Spread of the wall times (min–max, ms):")
    print()
    print("| workload | " + " | ".join(side.title for side in sides) + " |")
    print("| --- | " + " | ".join("---:" for _ in sides) + " |")
    for benchmark in workloads:
        cells = [cell(benchmark.name)]
        for side in sides:
            values = benchmark.results.get(side.key, [])
            cells.append(f"{milliseconds(min(values))}–{milliseconds(max(values))}" if values else "–")
        print("| " + " | ".join(cells) + " |")
    print()

    # Other programs on a shared machine stretch wall times more than CPU times, so the CPU
    # times show the work each side adds with less noise.
    print(
        "CPU time (user + system of all processes, cordon's supervisor and tracer included; "
        "ms, median; ratio to native):"
    )
    print()
    print("| workload | native | " + " | ".join(titles) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in titles) + " |")
    for benchmark in workloads:
        native = median(benchmark.cpu["native"])
        cells = [cell(benchmark.name), milliseconds(native)]
        for side in sides[1:]:
            values = benchmark.cpu.get(side.key)
            cells.append(f"{milliseconds(median(values))} ({median(values) / native:.2f})" if values else "–")
        print("| " + " | ".join(cells) + " |")
    print()


def roundtrip_floor(roundtrip):
    """Return the cheaper median of the two unpinned round-trip modes in nanoseconds, or
    None when the round trip was not measured. cordon is not pinned, so the pinned modes
    are not its floor."""
    if not roundtrip:
        return None
    return min(median(roundtrip["plain"]), median(roundtrip["sync"]))


def print_breakdown(benchmarks, roundtrip):
    """Print, per workload, the trapped calls by system call under both policies and the
    added time per trapped call or tracer stop under the rules policy. The last column is
    the ratio that the trapped calls alone would give if each cost one bare round trip."""
    baseline = next((b for b in benchmarks if b.key == "baseline"), None)
    baseline_added = added_seconds(baseline, "cordon") if baseline else 0.0
    floor = roundtrip_floor(roundtrip)

    print("## Trapped calls by system call (the run with the median total)")
    print()
    print(
        "| workload | rules | kernel-only policy | added time per trapped call or tracer stop, "
        "rules, minus the baseline's (µs) | ratio if each trapped call cost one round trip, rules |"
    )
    print("| --- | --- | --- | ---: | ---: |")
    for benchmark in benchmarks:
        count = median_count(benchmark, "cordon")
        if count is None:
            continue
        kernel_count = median_count(benchmark, "kernel")
        kernel_calls = "–" if kernel_count is None else kernel_count.by_call or "none"

        events = count.trapped + count.tracer_stops
        if benchmark.key == "baseline" or events == 0:
            per_event = "–"
        else:
            per_event = f"{(added_seconds(benchmark, 'cordon') - baseline_added) / events * 1e6:.1f}"

        native = median(benchmark.results["native"])
        floor_ratio = "–" if floor is None else f"{(native + count.trapped * floor * 1e-9) / native:.2f}"
        print(
            f"| {cell(benchmark.name)} | {cell(count.by_call)} | {cell(kernel_calls)} | {per_event} "
            f"| {floor_ratio} |"
        )
    print()


def added_seconds(benchmark, side_key):
    return median(benchmark.results[side_key]) - median(benchmark.results["native"])


def target_rows(benchmarks, roundtrip):
    """Yield (target, figure, limit, met) for every target whose figures were measured."""
    by_key = {benchmark.key: benchmark for benchmark in benchmarks}
    floor = roundtrip_floor(roundtrip)
    if floor is not None:
        for key in ("faccessat", "openat", "fstatat"):
            benchmark = by_key.get(key)
            if benchmark is None or "cordon" not in benchmark.results:
                continue
            native = median(benchmark.results["native"])
            added = median(benchmark.results["cordon"]) - native
            limit = PER_CALL_ROUNDTRIP_FACTOR * floor + native
            yield (
                f"added cost per trapped call, {benchmark.name}, rules",
                f"{microseconds(added)} µs",
                f"≤ 1.5 × {microseconds(floor)} + {microseconds(native)} = {microseconds(limit)} µs",
                added <= limit,
            )
    openat = by_key.get("openat")
    if openat is not None and "cordon" in openat.results:
        value = ratio(openat, "cordon")
        yield ("emulated `openat` against native `openat` + `close`, rules", f"{value:.2f}×",
               f"≤ {OPENAT_LIMIT:.2f}×", value <= OPENAT_LIMIT)  # fmt: skip
    for benchmark in benchmarks:
        if benchmark.is_micro or benchmark.rules_limit is None or "cordon" not in benchmark.results:
            continue
        value = ratio(benchmark, "cordon")
        yield (f"{benchmark.name}, rules", f"{value:.2f}×", f"≤ {benchmark.rules_limit:.2f}×",
               value <= benchmark.rules_limit)  # fmt: skip
    for benchmark in benchmarks:
        if benchmark.is_micro or not benchmark.kernel_only_target or "kernel" not in benchmark.results:
            continue
        value = ratio(benchmark, "kernel")
        yield (f"{benchmark.name}, kernel-only policy", f"{value:.2f}×", f"≤ {KERNEL_ONLY_LIMIT:.2f}×",
               value <= KERNEL_ONLY_LIMIT)  # fmt: skip


def print_targets(benchmarks, roundtrip):
    rows = list(target_rows(benchmarks, roundtrip))
    print("## Targets")
    print()
    print("| target | measured | limit | met |")
    print("| --- | ---: | ---: | --- |")
    for target, figure, limit, met in rows:
        print(f"| {cell(target)} | {figure} | {limit} | {'yes' if met else '**no**'} |")
    print()
    print(f"{sum(1 for row in rows if row[3])} of {len(rows)} targets met.")
    print()


def print_report(context, benchmarks, roundtrip):
    sides = context.sides
    micro = [benchmark for benchmark in benchmarks if benchmark.is_micro]
    workloads = [benchmark for benchmark in benchmarks if not benchmark.is_micro]
    if context.quick:
        print("**Smoke run (--quick): one run per side, too few for conclusions.**")
        print()
    print_header(context)
    if roundtrip:
        print_roundtrip(roundtrip)
    if micro:
        print_micro(micro, sides, context.runs)
    if workloads:
        print_workloads(workloads, sides)
        print_breakdown(workloads, roundtrip)
    print_targets(benchmarks, roundtrip)
