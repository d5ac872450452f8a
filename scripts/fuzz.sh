#!/usr/bin/env bash
# A fuzzing campaign: runs each cargo-fuzz target of fuzz/ for a fixed time
# on its corpus (fuzz/corpus/<target>/, which it grows), minimizes the
# corpus (cargo fuzz cmin) and prints the inputs run per target.
#
#   scripts/fuzz.sh [--check] [SECONDS] [TARGET[=SECONDS]...]
#
# (default: 600 s, every target; TARGET=SECONDS gives one target its own
# time). With --check (what the test command runs, a few seconds each) the
# targets run on a copy of the saved corpus, which stays as it is.
# FUZZ_JOBS targets run at once (default 2), under nice -n 19. Stable Rust
# is enough: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags. A crash
# stops that target; libFuzzer leaves the input in fuzz/artifacts/<target>/
# (fixed ones are kept in fuzz/artifacts-fixed/<target>/, which
# tests/fuzz_corpus.rs replays with the corpus). Per-target logs and the
# summary go to $FUZZ_TARGET_DIR/logs/. Exits non-zero if a target failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

check=0
if [ "${1:-}" = "--check" ]; then
    check=1
    shift
fi
seconds="${1:-600}"
shift || true
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for f in fuzz/fuzz_targets/*.rs; do
        targets+=("$(basename "$f" .rs)")
    done
fi
jobs="${FUZZ_JOBS:-2}"
target_dir="${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/fuzz}"
logs="$target_dir/logs"
mkdir -p "$logs"
export RUSTC_BOOTSTRAP=1

cargo_fuzz_version=0.13.1
if ! cargo fuzz --version 2>/dev/null | grep -q "$cargo_fuzz_version"; then
    cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked
fi
# No sanitizer (the code under test is safe Rust; panics and the
# differential asserts are what we look for), debug assertions on.
flags=(-O -a -s none --target-dir "$target_dir")
# `cargo fuzz run` builds what it runs, and after `cargo fuzz build` (all
# targets at once) its first run builds the crates once more: a check
# leaves the build to the runs.
if [ "$check" = 0 ]; then
    nice -n 19 cargo fuzz build "${flags[@]}"
fi

run() {
    local t="${1%%=*}"
    local seconds="$seconds"
    if [ "$1" != "$t" ]; then
        seconds="${1#*=}"
    fi
    local log="$logs/$t.log"
    local corpus="fuzz/corpus/$t"
    mkdir -p "$corpus" "fuzz/artifacts/$t"
    if [ "$check" = 1 ]; then
        corpus="$target_dir/check-corpus/$t"
        rm -rf "$corpus"
        mkdir -p "$corpus"
        cp -r "fuzz/corpus/$t/." "$corpus/"
    fi
    local status=0
    nice -n 19 cargo fuzz run "${flags[@]}" "$t" "$corpus" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -print_final_stats=1 > "$log" 2>&1 || status=$?
    echo "$status" > "$logs/$t.status"
}

for t in "${targets[@]}"; do
    run "$t" &
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n || true
    done
done
wait

failed=0
summary="$logs/summary.txt"
printf '%-12s %8s %12s %9s %7s %8s  %s\n' target seconds execs execs/s inputs corpusKB result > "$summary"
for t in "${targets[@]}"; do
    t="${t%%=*}"
    log="$logs/$t.log"
    status="$(cat "$logs/$t.status")"
    execs="$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1 || true)"
    secs="$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 | awk '{print $5}' || true)"
    result=ok
    if [ "$status" -ne 0 ]; then
        result="FAILED (exit $status, see $log and fuzz/artifacts/$t/)"
        failed=1
    elif [ "$check" = 0 ]; then
        # Keep few inputs that cover every edge (a set cover of edges, hit
        # counts aside): the committed corpus stays small (tens of KB).
        nice -n 19 cargo fuzz cmin "${flags[@]}" "$t" "fuzz/corpus/$t" -- \
            -set_cover_merge=1 -use_counters=0 > "$logs/$t.cmin.log" 2>&1
    fi
    files="$(find "fuzz/corpus/$t" -type f | wc -l)"
    kb="$(du -sk --apparent-size "fuzz/corpus/$t" | cut -f1)"
    rate=0
    if [ -n "${execs:-}" ] && [ -n "${secs:-}" ] && [ "$secs" -gt 0 ]; then
        rate=$((execs / secs))
    fi
    printf '%-12s %8s %12s %9s %7s %8s  %s\n' "$t" "${secs:-?}" "${execs:-?}" "$rate" "$files" "$kb" "$result" >> "$summary"
done
cat "$summary"
exit "$failed"
