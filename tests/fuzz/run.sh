#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS NAME... -- runs build/fuzz/fuzz_<NAME> for SECONDS each (`make fuzz`);
# FUZZ_JOBS (default 1) of them at a time.
#
# Each target starts from its seed corpus tests/fuzz/corpus/<NAME>/ (read only) and
# build/fuzz/corpus/<NAME>/, where libFuzzer keeps the inputs it finds (kept between runs),
# with tests/fuzz/<NAME>.dict when there is one. Its whole log goes to build/fuzz/<NAME>.log;
# printed are one line per target (runs, exec/s, coverage) and, for a failure, the end of
# the log with the stack. A crashing input is saved as build/fuzz/crashes/<NAME>-crash-<sha1>;
# reproduce with `build/fuzz/fuzz_<NAME> <that file>`. Exit 1 when any target failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:?usage: run.sh SECONDS NAME...}
shift
jobs=${FUZZ_JOBS:-1}
out=build/fuzz
mkdir -p "$out/crashes"

# Runs one target; its report goes to build/fuzz/<NAME>.report, the first word "ok" or "FAIL".
run_one() {
    local name=$1 t0=$SECONDS
    local bin=$out/fuzz_$name work=$out/corpus/$name log=$out/$name.log report=$out/$name.report
    mkdir -p "$work"
    rm -f "$out/crashes/$name-"*
    local args=(-max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1
                -artifact_prefix="$out/crashes/$name-")
    [[ -f tests/fuzz/$name.dict ]] && args+=(-dict="tests/fuzz/$name.dict")
    if "$bin" "${args[@]}" "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
        # "#123456	DONE   cov: 210 ft: 900 corp: 80/3Kb lim: 4096 exec/s: 6172 rss: 90Mb"
        local done_line runs cov eps
        done_line=$(grep -a 'DONE ' "$log" | tail -1)
        runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$done_line")
        cov=$(sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\) corp: \([^ ]*\).*/cov \1, ft \2, corpus \3/p' <<<"$done_line")
        eps=$(sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p' <<<"$done_line")
        printf 'ok    %-8s %ss: %s runs, %s exec/s, %s\n' "$name" $((SECONDS - t0)) \
            "${runs:-?}" "${eps:-?}" "${cov:-?}" >"$report"
    else
        {
            printf 'FAIL  %-8s after %ss (log: %s)\n' "$name" $((SECONDS - t0)) "$log"
            grep -a -B2 -A40 -m1 -E '^==[0-9]+==|runtime error|ERROR: libFuzzer|^[a-z]+: .*check failed|^wire:' "$log" | head -60
            ls -1 "$out/crashes/$name-"* 2>/dev/null | sed 's/^/  input: /'
        } >"$report"
    fi
}

for name in "$@"; do
    rm -f "$out/$name.report"
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n; done
    run_one "$name" &
done
wait

failed=()
for name in "$@"; do
    report=$out/$name.report
    [[ -f $report ]] || echo "FAIL  $name: no report" >"$report"
    sed '1s/^/fuzz /' "$report"
    [[ $(head -c2 "$report") == ok ]] || failed+=("$name")
done
((${#failed[@]} == 0)) || { echo "fuzz: failed: ${failed[*]}"; exit 1; }
