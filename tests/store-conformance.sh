#!/usr/bin/env bash
# store-conformance -- runs the one store conformance suite (libcommon/tests/test_store.c)
# on every backend:
#   1. SQLite, in a fresh temporary file;
#   2. libmongoc against the MongoDB wire-protocol test double (tests/mongo_double.py), which
#      must then exit 0 on SIGTERM with no traceback;
#   3. a real MongoDB, when MONGODB_TEST_URL is set (e.g.
#      mongodb://127.0.0.1:27017/?replicaSet=rs0 -- transactions need a replica set).
# It builds nothing: give it the test binary, e.g.
#   tests/store-conformance.sh build/asan/tests/test_store
# Exits non-zero when any run fails. Temporary files and the double are cleaned up on any
# exit.
set -u

bin=${1:?usage: $0 path/to/test_store}
if [ ! -x "$bin" ]; then
    echo "store-conformance: $bin is not an executable (build it first)" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/python.sh
source "$here/../tools/python.sh" || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/tizza-store.XXXXXX")
double_pid=
failed=0
passed=0

cleanup() {
    if [ -n "$double_pid" ] && kill -0 "$double_pid" 2>/dev/null; then
        kill -TERM "$double_pid" 2>/dev/null
        sleep 1
        kill -KILL "$double_pid" 2>/dev/null
        wait "$double_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# run NAME URL: the suite against one backend.
run() {
    local name=$1 url=$2 start status
    echo "== store conformance on $name"
    start=$(now_ms)
    if STORE_URL="$url" TMPDIR="$work" "$bin"; then
        status=passed
        passed=$((passed + 1))
    else
        status=FAILED
        failed=$((failed + 1))
    fi
    echo "== store conformance on $name: $status in $(($(now_ms) - start)) ms"
}

# start_double: starts the double, sets double_pid and double_port.
start_double() {
    double_port=
    "$TIZZA_PYTHON" "$here/mongo_double.py" --port 0 >"$work/double.out" 2>"$work/double.err" &
    double_pid=$!
    for _ in $(seq 150); do
        double_port=$(sed -n 's/^PORT \([0-9][0-9]*\)$/\1/p' "$work/double.out")
        [ -n "$double_port" ] && return 0
        kill -0 "$double_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "store-conformance: the MongoDB double did not start" >&2
    cat "$work/double.err" >&2
    return 1
}

# stop_double: SIGTERM, then it must exit 0 within 20 s and print no traceback.
stop_double() {
    local rc
    kill -TERM "$double_pid"
    for _ in $(seq 200); do
        kill -0 "$double_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$double_pid" 2>/dev/null; then
        echo "store-conformance: the MongoDB double ignored SIGTERM" >&2
        kill -KILL "$double_pid"
    fi
    wait "$double_pid"
    rc=$?
    double_pid=
    if [ "$rc" -ne 0 ] || grep -q Traceback "$work/double.err"; then
        echo "store-conformance: the MongoDB double exited with $rc" >&2
        cat "$work/double.err" >&2
        return 1
    fi
    echo "== MongoDB double stopped cleanly"
}

run sqlite "sqlite://$work/conformance.db"

if start_double; then
    run mongo-double "mongodb://127.0.0.1:$double_port/?replicaSet=rs0&serverSelectionTimeoutMS=5000"
    stop_double || failed=$((failed + 1))
else
    failed=$((failed + 1))
fi

if [ -n "${MONGODB_TEST_URL:-}" ]; then
    run mongodb "$MONGODB_TEST_URL"
else
    echo "== MONGODB_TEST_URL not set: no run against a real MongoDB"
fi

echo "store-conformance: $passed backend run(s) passed, $failed problem(s)"
[ "$failed" -eq 0 ]
