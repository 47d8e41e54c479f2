#!/bin/sh
# Runs every race program of tests/attacks under cordon for a long time and prints its
# counts. CI runs each race for about 2 seconds (cargo test -p cordon --test attacks). This
# script gives many more attempts, for checking a change to the resolver or the open
# emulation before trusting it. It races as the invoking user. To race as another user,
# run it through `setpriv --reuid=USER --regid=USER --init-groups`.
#
# Usage: scripts/race-long.sh [SECONDS_PER_RACE]       (default 60)
# Environment: CORDON  cordon binary to test (default: build target/release/cordon)
#              CC      C compiler (default: cc)
#
# Exit status: 0 when every race read the public file at least 100 times and the secret
# never, 1 when a race failed that check, 2 when the harness itself failed.
set -eu

repository=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
milliseconds=$((seconds * 1000))
compiler=${CC:-cc}

if [ -z "${CORDON:-}" ]; then
    (cd "$repository" && cargo build --release -p cordon) || exit 2
    CORDON=${CARGO_TARGET_DIR:-$repository/target}/release/cordon
fi
if [ ! -x "$CORDON" ]; then
    echo "race-long.sh: cordon binary $CORDON not found or not executable; set CORDON" >&2
    exit 2
fi

work=$(mktemp -d /tmp/cordon-race-long.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

for program in race_path_flip race_symlink_swap race_middle_dir race_dirfd_rename; do
    "$compiler" -O2 -pthread -Wall -Wextra -o "$work/$program" \
        "$repository/tests/attacks/$program.c" || exit 2
done

echo "cordon: $CORDON"
echo "kernel: $(uname -r), $(nproc) CPUs, $seconds s per race, as $(id -un)"

failed=0

# Prepares a fresh directory, runs one race under cordon and checks its counts.
# Operands: PROGRAM DENIED VARIANT, where DENIED is the --deny-read pattern relative to the
# race's directory and VARIANT may be empty.
run_race() {
    program=$1
    denied=$2
    variant=$3
    label="$program${variant:+ $variant}"
    dir=$(mktemp -d "$work/$program.XXXXXX")
    "$work/$program" prepare "$dir" || exit 2

    # $variant stays unquoted so that an empty variant adds no operand.
    # shellcheck disable=SC2086
    counts=$("$CORDON" run --quiet \
        --allow-write "$dir/**" --allow-create "$dir/**" \
        --default rename=allow --default delete=allow \
        --deny-read "$dir/$denied" \
        -- "$work/$program" run "$dir" "$milliseconds" $variant) || {
        echo "$label: cordon failed with status $?" >&2
        failed=1
        return
    }
    echo "$label: $counts"

    allowed=$(echo "$counts" | sed -n 's/.*allowed=\([0-9]*\).*/\1/p')
    secret_reads=$(echo "$counts" | sed -n 's/.*denied=\([0-9]*\).*/\1/p')
    if [ "${secret_reads:-1}" -ne 0 ] || [ "${allowed:-0}" -lt 100 ]; then
        echo "FAILED: $label must read the public file at least 100 times and" \
            "the secret never" >&2
        failed=1
    fi
}

run_race race_path_flip secret open
run_race race_path_flip secret openat
run_race race_path_flip secret openat2
run_race race_symlink_swap secret ""
run_race race_middle_dir 'secret/**' ""
run_race race_dirfd_rename 'w/priv/**' ""

exit "$failed"
