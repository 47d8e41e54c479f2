#!/usr/bin/env bash
# Measures cordon's overhead against native runs and bubblewrap. The microbenchmarks time a
# cheap trapped call, openat, fstatat, fork+execve and the bare seccomp notification round
# trip. The workloads are find, tar, a parallel C build, python3 start-ups, git status and
# log, and 2000 executions of /bin/true. The script prints the machine, the command, Markdown
# tables of medians, ratios to native and trapped-call counts, and the targets met or missed.
# It sends no network traffic and asserts nothing about the times, so it is not a test.
#
# Usage: bench/run.sh [--runs N] [--slow-runs N] [--quick] [--only KEYS] [--no-bwrap]
#                     [--python PATH]
#        (bench/run.sh --help describes the options)
# Needs: python3, gcc, make, git, tar, find; bwrap (Debian package bubblewrap) for the
#        bwrap column, which is left out when bwrap is missing.
# Environment: CORDON            cordon binary to measure (default: build it with
#                                `cargo build --release -p cordon`)
#              CARGO_TARGET_DIR  where that build goes (default: target/)
#
# Exit status: 0 after printing the report, 1 when a measured command failed, 2 when the
# setup (options, build, binary, fixtures) failed.
set -euo pipefail

repository=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec python3 "$repository/bench/run.py" "$@"
