#!/usr/bin/env bash
# Runs the test suites on the sanitizer build (build/asan), and the cross-service integration
# modules once more on the release build (build/bin). `make test` calls it with no argument
# (everything); `unit`, `store`, `integration`, `static`, `scaffold`, `e2e`, `fuzz` or
# `containers` runs one part.
# Prints a closing "N passed, M failed" line over the suites it ran.
set -uo pipefail
cd "$(dirname "$0")/.."
ASAN_BIN=build/asan
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# The interpreter of every Python-driven suite, checked here once for all of them.
# shellcheck source=tools/python.sh
source tools/python.sh || { echo "suites: 0 passed, 1 failed"; exit 1; }
what=${1:-all}
passed=0
failed=0
failures=()

run() { # name command...
    local name=$1; shift
    local t0=$SECONDS
    echo "=== $name"
    if "$@"; then
        passed=$((passed + 1)); echo "--- ok   $name ($((SECONDS - t0)) s)"
    else
        failed=$((failed + 1)); failures+=("$name"); echo "--- FAIL $name ($((SECONDS - t0)) s)"
    fi
}

if [[ $what == all || $what == unit ]]; then
    for t in "$ASAN_BIN"/tests/test_*; do
        [[ $(basename "$t") == test_store ]] && continue
        run "unit $(basename "$t")" "$t"
    done
fi
if [[ $what == all || $what == store ]]; then
    run "store conformance (sqlite + mongodb double)" bash tests/store-conformance.sh "$ASAN_BIN/tests/test_store"
fi
if [[ $what == all || $what == integration ]]; then
    run "integration" env TIZZA_BIN_DIR="$ASAN_BIN/bin" bash tests/integration/run.sh
fi
# The binaries `make` ships link mimalloc (Makefile, MALLOC); the sanitizer build cannot. The
# cross-service modules run once more on them, on both stores.
if [[ $what == all || $what == integration ]]; then
    run "integration on the release build (constellation, likes, login abuse, pizza)" \
        env TIZZA_BIN_DIR=build/bin TIZZA_TEST_PATTERN='test_[clp]*.py' \
        TIZZA_TEST_ARTIFACT_ROOT=tests/artifacts/integration-release bash tests/integration/run.sh
fi
if [[ $what == all || $what == static ]]; then
    run "static (deployment files)" bash tests/static/run.sh
fi
# make new-service NAME=reviews in a temporary copy: built, its tests run with every service.
if [[ $what == all || $what == scaffold ]]; then
    run "scaffold (make new-service in a copy of the repository)" bash tests/scaffold/run.sh
fi
if [[ $what == all || $what == e2e ]]; then
    run "frontend e2e + unit (headless chromium, vitest)" env TIZZA_BIN_DIR="$ASAN_BIN/bin" bash tests/e2e/run.sh
fi
# The libFuzzer targets of tests/fuzz, built with clang (make fuzz), briefly each: their seed
# corpora and what they found before (build/fuzz/corpus) come first, then new inputs.
if [[ $what == all || $what == fuzz ]]; then
    run "fuzz (libFuzzer targets, 20 s each)" make -s -j"$(nproc)" fuzz FUZZ_SECONDS=20 FUZZ_JOBS="$(nproc)"
fi
# The images built and the compose stack run, scaled and faulted (tests/containers; skips
# itself, passing, where containers cannot run).
if [[ $what == all || $what == containers ]]; then
    run "containers (images, compose stack: scale, kill, Prometheus, rolling update)" \
        bash tests/containers/run.sh
fi

echo
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "suites: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
