#!/usr/bin/env bash
# broker-test.sh TEST [ARGS...] -- runs TEST (e.g. build/asan/tests/test_events) against a
# private RabbitMQ node from tests/broker.py, with AMQP_URL and STORE_URL (a fresh SQLite
# file) in its environment. Stops the node and removes the temp dir whatever happens; the
# exit status is the test's (or 1 when the broker would not start).
set -uo pipefail
if [[ $# -lt 1 ]]; then
    echo "usage: $0 TEST [ARGS...]" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/python.sh
source "$here/../tools/python.sh" || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/tizza-broker-test.XXXXXX")
broker_pid=

cleanup() {
    if [[ -n $broker_pid ]] && kill -0 "$broker_pid" 2>/dev/null; then
        kill -TERM "$broker_pid" 2>/dev/null
        wait "$broker_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$TIZZA_PYTHON" "$here/broker.py" start >"$work/broker.out" 2>"$work/broker.err" &
broker_pid=$!

url=
for _ in $(seq 1 1200); do # up to 120 s
    url=$(sed -n 's/^URL //p' "$work/broker.out")
    [[ -n $url ]] && break
    if ! kill -0 "$broker_pid" 2>/dev/null; then
        echo "broker-test: the broker did not start:" >&2
        cat "$work/broker.err" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ -z $url ]]; then
    echo "broker-test: timed out waiting for the broker" >&2
    cat "$work/broker.err" >&2
    exit 1
fi
cat "$work/broker.err" >&2 # "broker ready in N s"

AMQP_URL=$url STORE_URL="sqlite://$work/test.db" "$@"
status=$?
exit $status
