# shellcheck shell=bash
# tests/bench/lib.sh -- sourced by run.sh and zero_downtime.sh: logging, the tool check, the
# temp dir with its exit trap, small process/port helpers, and wrk_figures (wrk's output parsed).
#
# The script sets before sourcing: LOG_TAG (the word after "[" on log lines), BIN; it runs
# from the repo root. Sourcing this also sources tools/python.sh (TIZZA_PYTHON).
# setup_tmp PREFIX KEEP makes TMP and the pids array and installs cleanup as the EXIT trap
# (INT/TERM exit 130/143 through it): every pid in pids gets SIGTERM, then SIGKILL after
# 5 s; on a failing exit the last lines of every non-empty $TMP/*.log and
# $TMP/nginx-*/*.log go to stderr; TMP is removed unless KEEP is 1.

# shellcheck source=tools/python.sh
source tools/python.sh || exit 1

log() { printf '[%s %s] %s\n' "$LOG_TAG" "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    log "FAILED: $*"
    exit 1
}

# require_tools TOOL...: each must be on PATH, and $BIN executable.
require_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool not found (run 'make deps')"
    done
    [[ -x $BIN ]] || die "$BIN not found (run 'make')"
}

setup_tmp() {
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    chmod 755 "$TMP" # nginx workers may run as nobody and must read $TMP/www*
    KEEP_TMP=$2
    pids=() # every process we started and have not reaped yet
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if ((rc != 0)); then
        for f in "$TMP"/*.log "$TMP"/nginx-*/*.log; do
            [[ -s $f ]] || continue
            log "last lines of $f:"
            tail -n 15 "$f" >&2
        done
    fi
    if [[ $KEEP_TMP == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}

forget_pid() { # drop $1 from pids
    local keep=() p
    for p in "${pids[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    pids=("${keep[@]}")
}

free_port() {
    "$TIZZA_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http URL [SECONDS]: until URL answers 200.
wait_http() {
    local url=$1 deadline=$((SECONDS + ${2:-10}))
    until curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; do
        ((SECONDS < deadline)) || return 1
        sleep 0.02
    done
}

# wrk_figures FILE: the figures of a `wrk --latency` output, one line on stdout:
# "REQUESTS REQ/S P99_MS NON2XX SOCKET_ERRORS" (socket errors: connect + read + write +
# timeout). Status 1, nothing printed, when the requests, Requests/sec or 99% line is missing.
wrk_figures() {
    awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0
                         if (v ~ /m$/) return v * 60000; if (v ~ /h$/) return v * 3600000
                         if (v ~ /s$/) return v * 1000; return v }
        / requests in /              { reqs = $1 }
        /^Requests\/sec:/            { rps = $2 }
        $1 == "99%"                  { p99 = ms($2) }
        /Non-2xx or 3xx responses:/  { non2xx += $NF }
        /Socket errors:/             { gsub(",", ""); sock += $4 + $6 + $8 + $10 }
        END { if (reqs == "" || rps == "" || p99 == "") exit 1
              printf "%d %.0f %.2f %d %d\n", reqs, rps, p99, non2xx, sock }' "$1"
}
