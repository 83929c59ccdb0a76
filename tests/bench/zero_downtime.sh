#!/usr/bin/env bash
# tests/bench/zero_downtime.sh -- a rolling restart under load loses no request.
#
# Two instances of tizza-auth (release build, one SQLite file in WAL mode, free ports on
# 127.0.0.1) run behind the gateway -- nginx with deploy/nginx/gateway.conf as render.sh
# renders it, the auth upstream holding both instances with the server parameters of the
# container upstreams (upstreams.compose.conf: max_fails, fail_timeout). wrk drives
# GET /api/v1/users/{id} through it while the instances are restarted one after the
# other, as the runbook (deploy/README.md) does it:
#
#   t = 20 %        SIGTERM instance A: it stops accepting, finishes its in-flight requests
#                   and exits 0; nginx sends the refused or cut requests to B
#                   (proxy_next_upstream error); a new A starts on the same port
#   + ZD_GAP s      after the new A is healthy (default: fail_timeout + 1 s, the time nginx
#                   keeps a failed server out of rotation), the same for instance B
#
# Counted as failed: every non-2xx answer and every socket error wrk sees (connect, read,
# write, timeout). The target is 0. nginx's access log (JSON lines) shows how many requests
# needed a second upstream and which instance answered. ZD_GAP=1 shows why the gap
# matters: B goes while nginx still holds A's failure against it, and nginx answers 502
# ("no live upstreams") until fail_timeout has passed.
#
# Result on stdout and in build/bench/zero_downtime.txt. Like the other benchmarks it never
# fails on the target: it exits non-zero only when a step cannot run (tool or binary
# missing, an instance never healthy, the seeding signup failing, wrk failing). Everything
# it starts is stopped by pid on exit; the temp dir is removed unless ZD_KEEP=1 (the trap,
# logging and port helpers are in tests/bench/lib.sh).
#
# ZD_REQUEST=post drives POST /api/v1/auth/logout (204 without a cookie) instead: the
# gateway never replays a POST it has sent, so a POST that meets an instance just as it
# closes its idle keep-alive connections fails; this measures how often.
#
# Environment: ZD_BIN (build/bin/tizza-auth), ZD_DURATION (16, seconds), ZD_CONNECTIONS
# (16), ZD_THREADS (2), ZD_GAP (seconds, see above), ZD_REQUEST (get | post),
# ZD_OUT (build/bench/zero_downtime.txt), ZD_KEEP=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

BIN=$(realpath -m "${ZD_BIN:-build/bin/tizza-auth}")
DURATION=${ZD_DURATION:-16}
CONNS=${ZD_CONNECTIONS:-16}
THREADS=${ZD_THREADS:-2}
OUT=${ZD_OUT:-build/bench/zero_downtime.txt}

LOG_TAG=zero-downtime # read by lib.sh's log()
# shellcheck source-path=SCRIPTDIR/../..
source tests/bench/lib.sh
require_tools wrk nginx curl
if ! [[ $DURATION =~ ^[0-9]+$ ]] || ((DURATION < 8)); then die "ZD_DURATION must be a whole number >= 8"; fi

setup_tmp tizza-zero-downtime "${ZD_KEEP:-0}"

# ---- the two instances -----------------------------------------------------------------
# Same store, no broker (nothing here publishes; /health does not need one), limits off.
export STORE_URL="sqlite://$TMP/auth.db"
export HOST=127.0.0.1
AMQP_URL="amqp://guest:guest@127.0.0.1:$(free_port)/%2f"
export AMQP_URL
export LOG_LEVEL=warn RATE_LIMIT_SIGNUP=0 RATE_LIMIT_LOGIN=0 LOGIN_FAILURES_PER_USER=0
export HASH_CONCURRENCY=1
# auth keeps its signing key in the store encrypted with this key: the same for both.
AUTH_KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | basenc --base64url | tr -d '=')
export AUTH_KEY_ENCRYPTION_KEY
"$BIN" migrate >"$TMP/migrate.log" 2>&1 || die "migrate failed"

declare -A PORT PID
PORT[a]=$(free_port)
PORT[b]=$(free_port)

# start_instance NAME: starts it on its port, waits until /health answers.
start_instance() {
    local name=$1
    PORT="${PORT[$name]}" "$BIN" serve >>"$TMP/auth-$name.log" 2>&1 </dev/null &
    PID[$name]=$!
    pids+=("${PID[$name]}")
    wait_http "http://127.0.0.1:${PORT[$name]}/health" 10 || die "instance $name not healthy on :${PORT[$name]}"
}

# restart_instance NAME: SIGTERM, wait for the exit (status into EXIT_<name>), start again.
declare -A EXIT STOP_MS
restart_instance() {
    local name=$1 pid=${PID[$1]} t0 rc=0
    t0=$(date +%s%N)
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    forget_pid "$pid"
    STOP_MS[$name]=$((($(date +%s%N) - t0) / 1000000))
    EXIT[$name]=$rc
    log "instance $name (pid $pid) exited with status $rc after ${STOP_MS[$name]} ms; starting it again"
    start_instance "$name"
}

start_instance a
start_instance b

# ---- nginx: the real gateway ------------------------------------------------------------
# deploy/nginx/render.sh gives the gateway's own config (gateway.conf: routes, proxy
# settings, proxy_next_upstream); its single auth server line is replaced by the two
# instances, with the server parameters (max_fails, fail_timeout) of the container
# upstreams (deploy/nginx/upstreams.compose.conf), where a scaled service has several.
GW_PORT=$(free_port)
PARAMS=$(awk '/upstream tizza_auth/{u=1} u && $1=="server"{sub(/;$/,""); $1=$2=""; sub(/^ +/,""); print; exit}' \
    deploy/nginx/upstreams.compose.conf) || die "cannot read deploy/nginx/upstreams.compose.conf"
FAIL_TIMEOUT_S=$(sed -n 's/.*fail_timeout=\([0-9]*\)s.*/\1/p' <<<"$PARAMS")
FAIL_TIMEOUT_S=${FAIL_TIMEOUT_S:-10} # nginx's default
mkdir -p "$TMP/nginx" "$TMP/www"
bash deploy/nginx/render.sh --listen "127.0.0.1:$GW_PORT" --prefix "$TMP/nginx" --root "$TMP/www" \
    --auth "127.0.0.1:${PORT[a]}" --pizza "127.0.0.1:$(free_port)" --likes "127.0.0.1:$(free_port)" \
    --tweets "127.0.0.1:$(free_port)" >"$TMP/nginx/rendered.conf" 2>"$TMP/render.log" ||
    die "deploy/nginx/render.sh failed: $(cat "$TMP/render.log")"
"$TIZZA_PYTHON" - "$TMP/nginx/rendered.conf" "${PORT[a]}" "${PORT[b]}" "$PARAMS" <<'EOF' || die "cannot put two servers into the auth upstream"
import sys
path, a, b, params = sys.argv[1:]
text = open(path).read()
old = f"    server 127.0.0.1:{a};\n"
assert text.count(old) == 1, "auth server line not found exactly once"
new = "".join(f"    server 127.0.0.1:{p} {params};\n" for p in (a, b))
open(path, "w").write(text.replace(old, new))
EOF
nginx -e "$TMP/nginx-error.log" -p "$TMP/nginx" -c "$TMP/nginx/rendered.conf" -t -q 2>"$TMP/nginx-test.log" ||
    die "nginx config test failed: $(cat "$TMP/nginx-test.log")"
nginx -e "$TMP/nginx-error.log" -p "$TMP/nginx" -c "$TMP/nginx/rendered.conf" -g 'daemon off;' \
    >"$TMP/nginx-access.log" 2>"$TMP/nginx-stderr.log" </dev/null &
NGINX_PID=$!
pids+=("$NGINX_PID")
GW=http://127.0.0.1:$GW_PORT
wait_http "$GW/services/auth/health" 10 || die "the gateway is not proxying on :$GW_PORT"

# ---- one user to read --------------------------------------------------------------------
curl -sS -o "$TMP/signup.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"username":"zerodowntime","email":"zd@example.com","password":"correct horse battery"}' \
    "$GW/api/v1/auth/signup" >"$TMP/signup.status" || die "signup request failed"
[[ $(cat "$TMP/signup.status") == 201 ]] || die "signup answered $(cat "$TMP/signup.status"): $(cat "$TMP/signup.json")"
USER_ID=$("$TIZZA_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/signup.json")
URL=$GW/api/v1/users/$USER_ID
curl -fsS -o /dev/null "$URL" || die "GET $URL failed before the run"
WRK_ARGS=()
case ${ZD_REQUEST:-get} in
get) REQUEST="GET /api/v1/users/{id}" ;;
post) # non-idempotent: nginx never sends a POST to a second instance once it was sent
    REQUEST="POST /api/v1/auth/logout (no cookie: 204)"
    URL=$GW/api/v1/auth/logout
    printf 'wrk.method = "POST"\n' >"$TMP/post.lua"
    WRK_ARGS=(-s "$TMP/post.lua")
    [[ $(curl -sS -o /dev/null -w '%{http_code}' -X POST "$URL") == 204 ]] || die "POST $URL is not 204" ;;
*) die "ZD_REQUEST must be get or post" ;;
esac
: >"$TMP/nginx-access.log" # count only the run itself

# ---- the run -----------------------------------------------------------------------------
GAP=${ZD_GAP:-$((FAIL_TIMEOUT_S + 1))}
[[ $GAP =~ ^[0-9]+$ ]] || die "ZD_GAP must be a whole number of seconds"
log "wrk -t$THREADS -c$CONNS -d${DURATION}s $URL"
log "rolling restart of a (:${PORT[a]}) and b (:${PORT[b]}), ${GAP} s apart (nginx fail_timeout ${FAIL_TIMEOUT_S} s)"
wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "${WRK_ARGS[@]}" "$URL" >"$TMP/wrk.txt" 2>&1 &
WRK_PID=$!
pids+=("$WRK_PID")
T0=$(date +%s%N)
sleep_until() { # sleep until $1 ns on the date +%s%N clock
    local now
    now=$(date +%s%N)
    (($1 > now)) && sleep "$(awk -v d=$(($1 - now)) 'BEGIN{printf "%.3f", d/1e9}')"
    return 0
}
sleep_until $((T0 + DURATION * 200000000)) # 20 %
restart_instance a
T_B=$(($(date +%s%N) + GAP * 1000000000))
((T_B + 2000000000 < T0 + DURATION * 1000000000)) ||
    die "ZD_DURATION=$DURATION is too short for a ${GAP} s gap (b must restart 2 s before the end)"
sleep_until "$T_B"
restart_instance b
rc=0
wait "$WRK_PID" || rc=$?
forget_pid "$WRK_PID"
((rc == 0)) || die "wrk failed: $(cat "$TMP/wrk.txt")"

# ---- numbers -----------------------------------------------------------------------------
parsed=$(wrk_figures "$TMP/wrk.txt") || die "cannot parse wrk output: $(cat "$TMP/wrk.txt")"
read -r REQS RPS P99 NON2XX SOCKERR <<<"$parsed"
FAILED=$((NON2XX + SOCKERR))
# nginx's JSON access lines: status, upstream ("A" or "A, B" after a failover)
read -r LOGGED NOT200 RETRIED VIA_A VIA_B < <("$TIZZA_PYTHON" - "$TMP/nginx-access.log" "127.0.0.1:${PORT[a]}" "127.0.0.1:${PORT[b]}" <<'EOF'
import json, sys
path, a, b = sys.argv[1:]
n = bad = retried = va = vb = 0
for line in open(path, errors="replace"):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("msg") != "request":
        continue
    n += 1
    bad += not 200 <= r["status"] < 300
    ups = [u.strip() for u in r.get("upstream", "").split(",") if u.strip()]
    retried += len(ups) > 1
    va += bool(ups) and ups[-1] == a
    vb += bool(ups) and ups[-1] == b
print(n, bad, retried, va, vb)
EOF
)

mkdir -p "$(dirname "$OUT")"
{
    echo "zero-downtime rolling restart: 2 x tizza-auth behind the gateway (deploy/nginx), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "load: wrk -t$THREADS -c$CONNS -d${DURATION}s $REQUEST"
    echo "restarts: SIGTERM + start of a at 20 %, of b ${GAP} s after a was healthy again (upstream: $PARAMS)"
    printf '%-46s %s\n' "requests (wrk)" "$REQS"
    printf '%-46s %s\n' "requests/s, p99 ms" "$RPS, $P99"
    printf '%-46s %s\n' "failed: non-2xx + socket errors (target 0)" "$FAILED ($NON2XX + $SOCKERR)"
    printf '%-46s %s\n' "met (no failure, requests > 0)" "$( ((FAILED == 0 && REQS > 0)) && echo yes || echo NO)"
    printf '%-46s %s\n' "gateway: requests logged, not 2xx, failed over" "$LOGGED, $NOT200, $RETRIED"
    printf '%-46s %s\n' "gateway: answered by a / b" "$VIA_A / $VIA_B"
    printf '%-46s %s\n' "exit status after SIGTERM a / b (want 0)" "${EXIT[a]} / ${EXIT[b]}"
    printf '%-46s %s\n' "SIGTERM -> exit ms a / b" "${STOP_MS[a]} / ${STOP_MS[b]}"
} | tee "$OUT"
