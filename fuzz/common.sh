# shellcheck shell=bash
# Shared by fuzz/run-short and fuzz/run-long; sourced, not run.
#
# fuzz_main SECONDS JOBS [TARGET...]
#   Installs cargo-fuzz if missing, seeds the corpora, builds every target
#   once (AddressSanitizer; without a sanitizer if that build fails), then
#   fuzzes each TARGET (default: all) for SECONDS with JOBS parallel jobs,
#   prints each target's executions and returns non-zero if any target
#   crashed, timed out, ran out of memory or failed to run.
#
# Environment:
#   CARGO_TARGET_DIR   if set, builds go to $CARGO_TARGET_DIR/colloquy-fuzz
#                      (outside the repo); otherwise to fuzz/target.
#   FUZZ_SANITIZER     force a sanitizer (address, none, ...); default: try
#                      address, fall back to none.
#   FUZZ_TIMEOUT       seconds one input may take before it counts as a
#                      failure (libFuzzer -timeout), default 10.
#   FUZZ_MAX_LEN       longest input libFuzzer generates, default 8192.
#   COLLOQUY_DRUPAL7_CORPUS   see fuzz/seed.
# Logs (one per target, and per job with JOBS > 1) go to fuzz/logs/<run>/
# (git-ignored, like fuzz/Cargo.lock, which is copied from the main crate);
# crashing inputs to fuzz/artifacts/<target>/, new inputs to the corpora.

FUZZ_ALL_TARGETS=(filtered_html plain_text markdown policy)

fuzz_log() { printf '[fuzz %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

fuzz_main() {
    local seconds="$1" jobs="$2"
    shift 2
    local targets=("$@")
    [[ ${#targets[@]} -gt 0 ]] || targets=("${FUZZ_ALL_TARGETS[@]}")

    local fuzz_dir repo
    fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    repo="$(dirname "$fuzz_dir")"

    local t known
    for t in "${targets[@]}"; do
        known=0
        for k in "${FUZZ_ALL_TARGETS[@]}"; do [[ $t == "$k" ]] && known=1; done
        if [[ $known == 0 ]]; then
            fuzz_log "unknown target '$t'; targets: ${FUZZ_ALL_TARGETS[*]}"
            return 2
        fi
    done

    # cargo fuzz needs -Zsanitizer and friends; on a stable toolchain,
    # RUSTC_BOOTSTRAP=1 unlocks them.
    export RUSTC_BOOTSTRAP=1
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

    if ! cargo fuzz --version >/dev/null 2>&1; then
        fuzz_log "installing cargo-fuzz"
        cargo install cargo-fuzz --locked || return 1
    fi
    fuzz_log "$(cargo fuzz --version)"

    "$fuzz_dir/seed" || return 1

    # The fuzz crate is its own workspace; start from the main crate's lock
    # file so it builds the dependency versions the main crate is tested with
    # (cargo adds libfuzzer-sys and its few dependencies). Git-ignored.
    if [[ -f $repo/Cargo.lock ]]; then
        cp "$repo/Cargo.lock" "$fuzz_dir/Cargo.lock"
    fi

    local common=(--fuzz-dir "$fuzz_dir" -O -a)
    if [[ -n ${CARGO_TARGET_DIR:-} ]]; then
        common+=(--target-dir "$CARGO_TARGET_DIR/colloquy-fuzz")
    else
        common+=(--target-dir "$fuzz_dir/target")
    fi

    local start build_start
    start=$(date +%s)
    build_start=$start
    local sanitizer="${FUZZ_SANITIZER:-address}"
    fuzz_log "building ${targets[*]} (sanitizer: $sanitizer)"
    local build_ok=1
    fuzz_build "$repo" "$sanitizer" "${common[@]}" -- "${targets[@]}" || build_ok=0
    if [[ $build_ok == 0 ]]; then
        if [[ -n ${FUZZ_SANITIZER:-} || $sanitizer == none ]]; then
            fuzz_log "build failed"
            return 1
        fi
        fuzz_log "build with AddressSanitizer failed; falling back to --sanitizer none"
        sanitizer=none
        fuzz_build "$repo" "$sanitizer" "${common[@]}" -- "${targets[@]}" || {
            fuzz_log "build failed"
            return 1
        }
    fi
    local build_seconds=$(($(date +%s) - build_start))
    fuzz_log "built in ${build_seconds}s"

    local logs
    logs="$fuzz_dir/logs/$(date +%Y%m%d-%H%M%S)"
    mkdir -p "$logs"

    local failed=() summary=() status execs log artifacts_before artifacts_after new
    for t in "${targets[@]}"; do
        mkdir -p "$fuzz_dir/artifacts/$t" "$logs/$t"
        artifacts_before="$(fuzz_artifacts "$fuzz_dir/artifacts/$t")"
        log="$logs/$t.log"
        local args=(
            -max_total_time="$seconds"
            -print_final_stats=1
            -timeout="${FUZZ_TIMEOUT:-10}"
            -max_len="${FUZZ_MAX_LEN:-8192}"
        )
        if [[ $jobs -gt 1 ]]; then
            args+=(-jobs="$jobs" -workers="$jobs")
        fi
        fuzz_log "fuzzing $t for ${seconds}s with $jobs job(s); log: $log"
        # libFuzzer writes per-job logs (fuzz-N.log) to its working directory.
        (cd "$logs/$t" && cargo fuzz run "${common[@]}" --sanitizer "$sanitizer" "$t" -- "${args[@]}") \
            >"$log" 2>&1
        status=$?
        artifacts_after="$(fuzz_artifacts "$fuzz_dir/artifacts/$t")"
        new="$(comm -13 <(printf '%s\n' "$artifacts_before") <(printf '%s\n' "$artifacts_after") | sed '/^$/d')"
        execs="$(fuzz_executions "$log" "$logs/$t")"
        if [[ $status -ne 0 || -n $new ]]; then
            failed+=("$t")
            summary+=("$(printf '%-14s FAILED (exit %s) after %s executions' "$t" "$status" "$execs")")
            fuzz_log "$t FAILED (exit $status); from $log:"
            local job_log
            for job_log in "$log" "$logs/$t"/fuzz-*.log; do
                [[ -e $job_log ]] || continue
                if grep -qE 'panicked at|^==[0-9]+== ?ERROR' "$job_log"; then
                    [[ $job_log == "$log" ]] || fuzz_log "from $job_log:"
                    grep -m 1 -A 12 -E 'panicked at|^==[0-9]+== ?ERROR' "$job_log" >&2
                fi
            done
            tail -n 25 "$log" | grep -v '^ *[0-9]*: \|^ *at ' >&2
            local a
            while IFS= read -r a; do
                [[ -n $a ]] || continue
                fuzz_log "new artifact: $fuzz_dir/artifacts/$t/$a"
                fuzz_log "  reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run ${common[*]} --sanitizer $sanitizer $t $fuzz_dir/artifacts/$t/$a"
                fuzz_log "  minimize:  RUSTC_BOOTSTRAP=1 cargo fuzz tmin ${common[*]} --sanitizer $sanitizer $t $fuzz_dir/artifacts/$t/$a"
                [[ $t == policy ]] && fuzz_log "  (COLLOQUY_FUZZ_SHOW=1 prints the policy and comment a structured input stands for)"
            done <<<"$new"
        else
            summary+=("$(printf '%-14s ok, %s executions in %ss' "$t" "$execs" "$seconds")")
        fi
    done

    local total=$(($(date +%s) - start))
    echo
    echo "fuzz summary (build ${build_seconds}s, total ${total}s, sanitizer $sanitizer, logs in $logs):"
    printf '  %s\n' "${summary[@]}"
    if [[ ${#failed[@]} -gt 0 ]]; then
        echo "FAILED: ${failed[*]}"
        return 1
    fi
    echo "all ${#targets[@]} targets ok"
}

# fuzz_build REPO SANITIZER CARGO_FUZZ_OPTION... -- TARGET...
# One cargo invocation for all targets, or one per target for a subset.
fuzz_build() {
    local repo="$1" sanitizer="$2"
    shift 2
    local opts=()
    while [[ $# -gt 0 && $1 != -- ]]; do opts+=("$1"); shift; done
    shift
    if [[ $# -eq ${#FUZZ_ALL_TARGETS[@]} ]]; then
        (cd "$repo" && cargo fuzz build "${opts[@]}" --sanitizer "$sanitizer")
        return
    fi
    local t
    for t in "$@"; do
        (cd "$repo" && cargo fuzz build "${opts[@]}" --sanitizer "$sanitizer" "$t") || return 1
    done
}

# Failure artifacts (not slow-unit reports) in a directory, one per line.
fuzz_artifacts() {
    find "$1" -maxdepth 1 -type f \
        \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
        -printf '%f\n' 2>/dev/null | sort
}

# Executions in one run: libFuzzer's final stat::number_of_executed_units,
# summed over the per-job logs when there are any (the main log repeats
# them), or else the last "#N" status line.
fuzz_executions() {
    local log="$1" job_dir="$2" files=()
    local f
    for f in "$job_dir"/fuzz-*.log; do [[ -e $f ]] && files+=("$f"); done
    [[ ${#files[@]} -gt 0 ]] || files=("$log")
    local n
    n="$(grep -h 'stat::number_of_executed_units' "${files[@]}" 2>/dev/null |
        awk '{ s += $2 } END { if (NR) print s }')"
    if [[ -z $n ]]; then
        n="$(grep -ohE '^#[0-9]+' "${files[@]}" 2>/dev/null | tr -d '#' | sort -n | tail -n 1)"
    fi
    echo "${n:-unknown}"
}
