#!/usr/bin/env bash
# Builds cordon in release mode and runs CPython's test-suite comparison (compat/cpython.py)
# with its default module list: each module natively and under `cordon run` with an audit
# rule for every category. The last line of the output is
#     compat: N/M native-passing cases pass under cordon
#
# Usage: compat/run.sh [OPTIONS]   (options go to compat/cpython.py; --help lists them)
# Environment: CORDON            cordon binary to use instead of building one
#              CARGO_TARGET_DIR  where the build goes (default: target/)
#
# Exit status: that of compat/cpython.py (0 after the report, 1 below --require, 2 when the
# setup failed), or cargo's when the build fails.
set -euo pipefail

repository=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ -z "${CORDON:-}" ]]; then
    cargo build --release -p cordon --manifest-path "$repository/Cargo.toml"
    CORDON="${CARGO_TARGET_DIR:-$repository/target}/release/cordon"
fi

exec python3 "$repository/compat/cpython.py" --cordon "$CORDON" "$@"
