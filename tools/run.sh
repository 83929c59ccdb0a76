#!/usr/bin/env bash
# tools/run.sh -- `make run`: the constellation in the foreground, one terminal.
#
# Design. Each process is started by `start NAME CMD...`: CMD runs in the background with
# stdout+stderr piped through a prefixer ("    auth | <line>"), and its pid is remembered.
# Job control (set -m) puts every process in its own process group, so the terminal's
# Ctrl-C reaches only this script; the trap then sends SIGTERM to each process once (they
# drain and exit 0), waits up to STOP_TIMEOUT seconds, SIGKILLs the process groups of any
# that remain, and reaps them all: nothing is left behind. When any process exits by itself,
# the others are stopped the same way and the script exits non-zero.
#
# Data lives in ./var (SQLite files), so it persists between runs.
#
# Environment: BIN (default build/bin), STOP_TIMEOUT (default 10), LOG_FORMAT (default text
# here, for humans; json for machines), AUTH_/PIZZA_/LIKES_/TWEETS_STORE_URL (default sqlite://./var/<service>.db), and
# everything the services read themselves (LOG_LEVEL, ...).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN=${BIN:-build/bin}
STOP_TIMEOUT=${STOP_TIMEOUT:-10}
export LOG_FORMAT=${LOG_FORMAT:-text}
mkdir -p var

set -m # background jobs get their own process groups (see the design note above)

names=()
pids=()
stopping=0

# Reads lines on stdin and writes them with "NAME | " in front; right-aligned names keep the
# columns straight. Ignores INT/TERM/HUP: it ends at EOF, after its process has said
# everything, so the last log lines of a shutdown are not lost.
prefix() {
    trap '' INT TERM HUP
    exec sed -u "s/^/$(printf '%8s' "$1") | /"
}

# Line-buffered stdout for C programs writing into a pipe. A command prefix, not a function:
# `CMD &` must exec CMD directly so that $! is the process itself (a function would run in
# a subshell whose pid we would signal instead).
LINEBUF=()
if command -v stdbuf >/dev/null 2>&1; then LINEBUF=(stdbuf -oL -eL); fi

# start NAME CMD... -- run CMD in the background, logs prefixed with NAME.
start() {
    local name=$1
    shift
    "${LINEBUF[@]}" "$@" > >(prefix "$name") 2>&1 &
    names+=("$name")
    pids+=("$!")
    printf '%8s | started (pid %d): %s\n' "$name" "$!" "$*"
}

# once NAME CMD... -- run CMD in the foreground (e.g. a migration), logs prefixed; its
# exit status is returned.
once() {
    local name=$1
    shift
    "${LINEBUF[@]}" "$@" 2>&1 | prefix "$name"
}

require() {
    local bin
    for bin in "$@"; do
        if [[ ! -x $bin ]]; then
            echo "run: $bin not found; build first with 'make'" >&2
            exit 1
        fi
    done
}

alive() { kill -0 "$1" 2>/dev/null; }

stop_all() {
    ((stopping)) && return
    stopping=1
    local i pid deadline
    for i in "${!pids[@]}"; do
        pid=${pids[$i]}
        if alive "$pid"; then
            printf '%8s | stopping (SIGTERM to %d)\n' "${names[$i]}" "$pid"
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    deadline=$((SECONDS + STOP_TIMEOUT))
    for i in "${!pids[@]}"; do
        pid=${pids[$i]}
        while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
        if alive "$pid"; then
            printf '%8s | did not stop in %ss, SIGKILL\n' "${names[$i]}" "$STOP_TIMEOUT"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    # Reap every child (services and their prefixers).
    wait 2>/dev/null || true
}

# shellcheck disable=SC2317  # invoked by the traps below
on_signal() {
    echo "run: $1, stopping everything"
    stop_all
    exit 0
}
trap 'on_signal interrupted' INT
trap 'on_signal terminated' TERM HUP
trap stop_all EXIT

# ---- the constellation: one line per process -------------------------------------------
require "$BIN/tizza-auth" "$BIN/tizza-pizza" "$BIN/tizza-likes" "$BIN/tizza-tweets"
# RabbitMQ: a private node (tests/broker.py) on the default AMQP port, data in ./var/rabbitmq.
# The services do not wait for it: their outboxes hold events until it is up.
start rabbitmq /usr/bin/python3 tests/broker.py start --port 5672 --data-dir ./var/rabbitmq
once auth env STORE_URL="${AUTH_STORE_URL:-sqlite://./var/auth.db}" "$BIN/tizza-auth" migrate
start auth env STORE_URL="${AUTH_STORE_URL:-sqlite://./var/auth.db}" "$BIN/tizza-auth" serve
start tweets env STORE_URL="${TWEETS_STORE_URL:-sqlite://./var/tweets.db}" "$BIN/tizza-tweets" serve
start pizza env STORE_URL="${PIZZA_STORE_URL:-sqlite://./var/pizza.db}" "$BIN/tizza-pizza" serve
start likes env STORE_URL="${LIKES_STORE_URL:-sqlite://./var/likes.db}" "$BIN/tizza-likes" serve
# start nginx  nginx -p ./var/nginx -c deploy/nginx.conf -g 'daemon off;'
# -----------------------------------------------------------------------------------------

echo "run: ${#pids[@]} process(es) up: auth :8001, pizza :8002, likes :8003, tweets :8004; Ctrl-C stops everything"

# Wait until any process exits (or a signal arrives: the trap takes over from there).
rc=0
wait -n "${pids[@]}" || rc=$?
for i in "${!pids[@]}"; do
    if ! alive "${pids[$i]}"; then
        printf '%8s | exited (status %d); stopping the others\n' "${names[$i]}" "$rc"
    fi
done
stop_all
exit $((rc == 0 ? 1 : rc))
