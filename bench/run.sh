#!/usr/bin/env bash
# Measures cordon's overhead on three file-heavy workloads and a baseline against running
# them natively, and prints the machine, the cordon commit and Markdown tables of medians
# and ratios.
# It sends no network traffic and asserts nothing about the times, so it is not a test.
#
# Usage: bench/run.sh [--runs N] [--python PATH] [--no-count]
#        (bench/run.sh --help describes the options)
# Environment: CORDON            cordon binary to measure (default: build it with
#                                `cargo build --release -p cordon`)
#              CARGO_TARGET_DIR  where that build goes (default: target/)
#
# Exit status: 0 after printing the report, 1 when a workload failed, 2 when the setup
# (options, build, binary) failed.
set -euo pipefail

repository=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec python3 "$repository/bench/run.py" "$@"
