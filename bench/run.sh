#!/usr/bin/env bash
# Measures cordon's overhead on three file-heavy workloads against running them natively,
# and prints the machine, the cordon commit and a Markdown table of medians and ratios.
# It sends no network traffic and asserts nothing about the times, so it is not a test.
#
# Usage: bench/run.sh [--runs N] [--python PATH] [--no-count]
#        (bench/run.py --help describes the options)
# Environment: CORDON  cordon binary to measure (default: build it with
#                      `cargo build --release -p cordon` and use
#                      ${CARGO_TARGET_DIR:-target}/release/cordon)
#
# Exit status: 0 after printing the report, 1 when a workload failed, 2 when the setup
# (build, binary, options) failed.
set -euo pipefail

repository=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ -z "${CORDON:-}" ]]; then
    (cd "$repository" && cargo build --release -p cordon) || exit 2
    CORDON=${CARGO_TARGET_DIR:-$repository/target}/release/cordon
fi
if [[ ! -x "$CORDON" ]]; then
    echo "run.sh: cordon binary $CORDON not found or not executable; set CORDON" >&2
    exit 2
fi
export CORDON

exec python3 "$repository/bench/run.py" "$@"
