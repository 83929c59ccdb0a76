#!/usr/bin/env bash
# Integration suite: every tests/integration/test_*.py, which drive the real service binaries
# (TIZZA_BIN_DIR, default build/asan/bin) over HTTP, once per store backend
# (TIZZA_TEST_BACKENDS, default "sqlite mongo"), with unittest on tools/python.sh's interpreter.
# TIZZA_TEST_PATTERN (default test_*.py) picks the modules. Service logs and stores go to
# $TIZZA_TEST_ARTIFACT_ROOT/<backend>/ (default tests/artifacts/integration).
# Exits non-zero on any failure; the last line is "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

if ! source tools/python.sh; then
    echo "0 passed, 1 failed"
    exit 1
fi
export TIZZA_BIN_DIR=${TIZZA_BIN_DIR:-build/asan/bin}
backends=${TIZZA_TEST_BACKENDS:-sqlite mongo}
export TIZZA_TEST_PATTERN=${TIZZA_TEST_PATTERN:-test_*.py}
artifacts=${TIZZA_TEST_ARTIFACT_ROOT:-tests/artifacts/integration}
passed=0
failed=0

if [[ ! -x $TIZZA_BIN_DIR/tizza-auth ]]; then
    echo "run.sh: $TIZZA_BIN_DIR/tizza-auth is missing (make asan)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

for backend in $backends; do
    art=$artifacts/$backend
    rm -rf "$art"
    mkdir -p "$art"
    echo "=== integration ($backend)"
    t0=$SECONDS
    # unittest's own runner; the small wrapper only counts tests (including class and
    # module fixture errors, which unittest reports but does not count as tests run).
    # Bounded: a hang (a service that never answers) must not stall CI.
    TIZZA_TEST_BACKEND=$backend TIZZA_TEST_ARTIFACTS=$art \
        timeout -k 10 900 "$TIZZA_PYTHON" - "$art/counts" <<'EOF'
import os, sys, unittest
sys.path.insert(0, "tests/integration")
suite = unittest.defaultTestLoader.discover("tests/integration",
                                            pattern=os.environ["TIZZA_TEST_PATTERN"],
                                            top_level_dir="tests/integration")
res = unittest.TextTestRunner(verbosity=2).run(suite)
# A failing subTest is reported under its test; count each test once.
problems = res.failures + res.errors
tests = {getattr(t, "test_case", t).id() for t, _ in problems if isinstance(t, unittest.TestCase)}
fixtures = [t for t, _ in problems if not isinstance(t, unittest.TestCase)]
bad = len(tests) + len(fixtures) + len(res.unexpectedSuccesses)
ok = res.testsRun - len(tests) - len(res.unexpectedSuccesses) - len(res.skipped) \
     - len(res.expectedFailures)
if res.testsRun == 0:
    bad += 1
with open(sys.argv[1], "w") as f:
    f.write("%d %d\n" % (ok, bad))
EOF
    read -r ok bad < "$art/counts" 2>/dev/null || { ok=0; bad=1; }
    echo "--- integration ($backend): $ok passed, $bad failed ($((SECONDS - t0)) s)"
    passed=$((passed + ok))
    failed=$((failed + bad))
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
