#!/usr/bin/env bash
# tests/bench/run.sh -- `make bench`: how tizza-auth (release build) compares with nginx
# serving the same bytes, and how it behaves at start and under password hashing.
#
# Steps (see tests/bench/README.md for what each number means):
#   a. ready time: exec -> first 200 from GET /ready, median of 5 starts on fresh databases
#      and of 5 starts on an existing one (a Python poller does the exec and polls /ready
#      over a raw socket every 0.5 ms, so curl's process start is not measured);
#   b. idle RSS (VmRSS) of the benchmark instance 1 s after it became ready;
#   c. nginx (own prefix in a temp dir, no daemon, own port) serving the exact JSON body of
#      GET /api/v1/users/{id} at the same path, with worker_processes 1 and auto;
#   d. wrk -t2 -c64 -d10s --latency (after a 2 s warm-up) against the service and each nginx:
#      requests/s and p99 latency;
#   e. GET /health latency sampled by a keep-alive client while 20 logins hash (argon2id) in
#      parallel: max and p99 of the samples taken while logins were in flight;
#   f. a summary table on stdout and in build/bench/auth.txt.
# Targets are printed next to the numbers but never fail the run (it is a benchmark); the
# script exits non-zero only when a step cannot run at all. Everything it starts is stopped
# on exit (trap), and its temp dir is removed (BENCH_KEEP=1 keeps it); the trap, logging and
# port helpers are in tests/bench/lib.sh.
#
# Environment: BENCH_BIN (default build/bin/tizza-auth), BENCH_DURATION (10s),
# BENCH_THREADS (2), BENCH_CONNECTIONS (64), BENCH_LOG_LEVEL (warn: no per-request log lines,
# as nginx runs with access_log off), BENCH_OUT (build/bench/auth.txt). Variables the service
# reads (HTTP_THREADS, WORKERS, ...) pass through.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD

BIN=$(realpath -m "${BENCH_BIN:-build/bin/tizza-auth}")
DURATION=${BENCH_DURATION:-10s}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
OUT=${BENCH_OUT:-build/bench/auth.txt}
NGINX_CONF_TEMPLATE=$ROOT/tests/bench/nginx.conf

LOG_TAG=bench # read by lib.sh's log()
# shellcheck source-path=SCRIPTDIR/../..
source tests/bench/lib.sh
require_tools wrk nginx curl
setup_tmp tizza-bench "${BENCH_KEEP:-0}"

# A private RabbitMQ (tests/broker.py): auth publishes user.deleted and consumes user.erased,
# and /ready includes its broker connections.
"$TIZZA_PYTHON" tests/broker.py start >"$TMP/broker.out" 2>"$TMP/broker.log" &
pids+=($!)
for _ in $(seq 300); do grep -q '^URL ' "$TMP/broker.out" 2>/dev/null && break; sleep 0.1; done
AMQP_URL=$(awk '/^URL /{print $2}' "$TMP/broker.out")
[[ -n $AMQP_URL ]] || die "the private RabbitMQ did not start"
export AMQP_URL
# auth keeps its signing key in its store encrypted with this key (a fresh one per run).
AUTH_KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | basenc --base64url | tr -d '=')
export AUTH_KEY_ENCRYPTION_KEY

median() { sort -n | awk '{v[NR]=$1} END{ if (NR==0) {print "n/a"; exit}
    if (NR%2) printf "%.1f\n", v[(NR+1)/2]; else printf "%.1f\n", (v[NR/2]+v[NR/2+1])/2 }'; }

# Nearest-rank percentile P of the numbers on stdin; "max" for the maximum.
percentile() { sort -n | awk -v p="$1" '{v[NR]=$1} END{ if (NR==0) {print "n/a"; exit}
    if (p=="max") {printf "%.2f\n", v[NR]; exit}
    i=int(p*NR/100); if (i<p*NR/100) i++; if (i<1) i=1; printf "%.2f\n", v[i] }'; }

# ---- the exec -> /ready poller --------------------------------------------------------
cat >"$TMP/ready.py" <<'PYEOF'
# ready.py PORT LOG CMD...: exec CMD (environment inherited), poll GET /ready on PORT every
# 0.5 ms, print "<ms from exec to first 200> <exit status after SIGTERM>", stop CMD.
import signal, socket, subprocess, sys, time

port, logpath, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
REQ = b"GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

def ready():
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(REQ)
            head = b""
            while len(head) < 12:
                chunk = s.recv(64)
                if not chunk:
                    break
                head += chunk
            return head[9:12] == b"200"
    except OSError:
        return False

with open(logpath, "ab") as log:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    def stop(*_):
        proc.kill()
        sys.exit(1)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ok = False
    while time.perf_counter() - t0 < 10:
        if ready():
            ok = True
            break
        if proc.poll() is not None:
            break
        time.sleep(0.0005)
    ms = (time.perf_counter() - t0) * 1000
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    if not ok:
        sys.exit("not ready after %.0f ms (exit status %s)" % (ms, proc.returncode))
    print("%.2f %d" % (ms, rc))
PYEOF

export LOG_LEVEL=${BENCH_LOG_LEVEL:-warn}
# Limits off: step e fires 20 concurrent logins for one user from one address.
export HOST=127.0.0.1 RATE_LIMIT_SIGNUP=0 RATE_LIMIT_LOGIN=0 LOGIN_FAILURES_PER_USER=0

# ready_run DB -> prints "ms status"
ready_run() {
    local port
    port=$(free_port)
    PORT=$port STORE_URL="sqlite://$1" "$TIZZA_PYTHON" "$TMP/ready.py" "$port" "$TMP/ready.log" "$BIN" serve \
        2>>"$TMP/poller.log"
}

# ---- a. ready time --------------------------------------------------------------------
log "a. exec -> /ready: 5 starts on fresh databases, 5 on an existing one"
: >"$TMP/ready-fresh" && : >"$TMP/ready-existing" && stop_status=()
for i in 1 2 3 4 5; do
    STORE_URL="sqlite://$TMP/ready-$i.db" "$BIN" migrate >>"$TMP/ready.log" 2>&1 ||
        die "tizza-auth migrate failed"
    r=$(ready_run "$TMP/ready-$i.db") || die "start $i on a fresh database never became ready"
    echo "${r% *}" >>"$TMP/ready-fresh"
    stop_status+=("${r#* }")
done
for i in 1 2 3 4 5; do
    r=$(ready_run "$TMP/ready-1.db") || die "start $i on an existing database never became ready"
    echo "${r% *}" >>"$TMP/ready-existing"
    stop_status+=("${r#* }")
done
CLEAN_STOPS=0
for st in "${stop_status[@]}"; do [[ $st == 0 ]] && CLEAN_STOPS=$((CLEAN_STOPS + 1)); done
READY_FRESH=$(median <"$TMP/ready-fresh")
READY_EXISTING=$(median <"$TMP/ready-existing")
log "   fresh: $(tr '\n' ' ' <"$TMP/ready-fresh")ms; existing: $(tr '\n' ' ' <"$TMP/ready-existing")ms;" \
    "exit status after SIGTERM: ${stop_status[*]}"

# ---- the benchmark instance -----------------------------------------------------------
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
export STORE_URL=sqlite://$TMP/auth.db
"$BIN" migrate >"$TMP/migrate.log" 2>&1 || die "tizza-auth migrate failed"
PORT=$PORT "$BIN" serve >"$TMP/auth.log" 2>&1 </dev/null &
AUTH_PID=$!
pids+=("$AUTH_PID")
wait_http "$BASE/ready" 10 || die "tizza-auth on :$PORT not ready after 10 s"

# ---- b. idle RSS ----------------------------------------------------------------------
sleep 1
# status_mb PID FIELD: a kB field of /proc/PID/status in MB (VmRSS = RssAnon + RssFile +
# RssShmem; RssFile is mostly shared-library pages, shared with other processes).
status_mb() { awk -v f="$2:" '$1 == f {printf "%.1f\n", $2/1024}' "/proc/$1/status"; }
rss_mb() { status_mb "$1" VmRSS; }
RSS_IDLE=$(rss_mb "$AUTH_PID")
RSS_IDLE_ANON=$(status_mb "$AUTH_PID" RssAnon)
RSS_IDLE_FILE=$(status_mb "$AUTH_PID" RssFile)
LIBS_N=$(awk '$6 ~ /\.so/ {print $6}' "/proc/$AUTH_PID/maps" | sort -u | wc -l)
THREADS_N=$(awk '/^Threads:/ {print $2}' "/proc/$AUTH_PID/status")
log "b. idle RSS ${RSS_IDLE} MB (anon $RSS_IDLE_ANON, file $RSS_IDLE_FILE; $LIBS_N shared objects;" \
    "$THREADS_N threads)"

# ---- one user -------------------------------------------------------------------------
USER_NAME=bench_user PASSWORD=bench-password-1
code=$(curl -sS -o "$TMP/signup.json" -w '%{http_code}' -X POST "$BASE/api/v1/auth/signup" \
    -H 'Content-Type: application/json' \
    -d "{\"username\":\"$USER_NAME\",\"email\":\"bench@example.com\",\"password\":\"$PASSWORD\",\"name\":\"Bench User\"}")
[[ $code == 201 ]] || die "signup answered $code: $(cat "$TMP/signup.json")"
USER_ID=$("$TIZZA_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/signup.json")
USER_PATH=/api/v1/users/$USER_ID
code=$(curl -sS -o "$TMP/user.json" -w '%{http_code}' "$BASE$USER_PATH")
[[ $code == 200 ]] || die "GET $USER_PATH answered $code"
log "   user $USER_ID: $(cat "$TMP/user.json")"

# ---- c. nginx -------------------------------------------------------------------------
# start_nginx WORKERS -> sets NGINX_PID, NGINX_URL
start_nginx() {
    local prefix=$TMP/nginx-$1 port
    port=$(free_port)
    mkdir -p "$prefix/tmp" "$prefix/www$(dirname "$USER_PATH")"
    cp "$TMP/user.json" "$prefix/www$USER_PATH"
    chmod -R a+rX "$prefix/www"
    sed -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$port|g" -e "s|@WORKERS@|$1|g" \
        "$NGINX_CONF_TEMPLATE" >"$prefix/nginx.conf"
    nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" -t -q 2>>"$prefix/stderr.log" ||
        die "nginx config test failed"
    nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" >>"$prefix/stderr.log" 2>&1 </dev/null &
    NGINX_PID=$!
    pids+=("$NGINX_PID")
    NGINX_URL=http://127.0.0.1:$port$USER_PATH
    wait_http "$NGINX_URL" 10 || die "nginx ($1 workers) not serving on :$port"
    curl -sS -D "$prefix/headers" -o "$prefix/body" "$NGINX_URL"
    cmp -s "$prefix/body" "$TMP/user.json" || die "nginx serves a different body"
    grep -qi '^content-type: application/json' "$prefix/headers" || die "nginx content type is not JSON"
}
stop_nginx() {
    kill -QUIT "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
}

# ---- d. wrk ---------------------------------------------------------------------------
# run_wrk NAME URL -> sets <NAME>_RPS, <NAME>_P99 (ms), <NAME>_ERR (non-2xx + socket errors)
run_wrk() {
    local name=$1 url=$2 parsed reqs rps p99 non2xx sock
    wrk -t"$THREADS" -c"$CONNS" -d2s "$url" >/dev/null 2>&1 || die "wrk warm-up against $url failed"
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$url" >"$TMP/wrk-$name.txt" 2>&1 ||
        die "wrk against $url failed: $(cat "$TMP/wrk-$name.txt")"
    parsed=$(wrk_figures "$TMP/wrk-$name.txt") || die "cannot parse wrk output: $(cat "$TMP/wrk-$name.txt")"
    read -r reqs rps p99 non2xx sock <<<"$parsed"
    printf -v "${name}_RPS" %s "$rps"
    printf -v "${name}_P99" %s "$p99"
    printf -v "${name}_ERR" %s "$((non2xx + sock))"
    log "   $name: $reqs requests, $rps req/s, p99 $p99 ms, $non2xx non-2xx + $sock socket errors"
}

log "c/d. wrk -t$THREADS -c$CONNS -d$DURATION --latency"
run_wrk SVC "$BASE$USER_PATH"
start_nginx 1
run_wrk NGX1 "$NGINX_URL"
stop_nginx
start_nginx auto
NGXAUTO_WORKERS=$(pgrep -c -P "$NGINX_PID" || true)
run_wrk NGXAUTO "$NGINX_URL"
stop_nginx
RSS_LOADED=$(rss_mb "$AUTH_PID")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "n/a" }'; }
RATIO1=$(ratio "$SVC_RPS" "$NGX1_RPS")
RATIOAUTO=$(ratio "$SVC_RPS" "$NGXAUTO_RPS")

# ---- e. /health while 20 logins hash --------------------------------------------------
log "e. GET /health while 20 logins hash"
login_pids=()
: >"$TMP/logins"
t_start=$EPOCHREALTIME
for _ in $(seq 20); do
    curl -sS -o /dev/null -w '%{http_code}\n' --max-time 60 -X POST "$BASE/api/v1/auth/login" \
        -H 'Content-Type: application/json' \
        -d "{\"username\":\"$USER_NAME\",\"password\":\"$PASSWORD\"}" >>"$TMP/logins" 2>/dev/null &
    login_pids+=("$!")
done
# A keep-alive client samples /health every 2 ms while the logins run, then 100 times after:
# the figure is the service's answer time, not the cost of starting a curl per sample.
"$TIZZA_PYTHON" - "$PORT" "$TMP/health-during" "$TMP/health-after" "${login_pids[@]}" <<'PYEOF' ||
import http.client, os, sys, time
port, during_out, after_out, pids = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
def running():
    for p in pids:
        try:
            os.kill(int(p), 0)
            return True
        except OSError:
            pass
    return False
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
def sample():
    t0 = time.perf_counter()
    c.request("GET", "/health")
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("GET /health answered %d" % r.status)
    return (time.perf_counter() - t0) * 1000.0
during, after = [], []
while running() and len(during) < 20000:
    ms = sample()
    if running():
        during.append(ms)
    time.sleep(0.002)
for _ in range(100):
    after.append(sample())
    time.sleep(0.002)
open(during_out, "w").write("".join("%.3f\n" % v for v in during))
open(after_out, "w").write("".join("%.3f\n" % v for v in after))
PYEOF
    die "sampling GET /health while hashing failed"
for p in "${login_pids[@]}"; do wait "$p" || true; done
LOGIN_WALL=$(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f\n", b - a }')
LOGIN_OK=$(grep -c '^200$' "$TMP/logins" || true)
RSS_PEAK=$(status_mb "$AUTH_PID" VmHWM)
((LOGIN_OK > 0)) || die "no login succeeded: $(sort "$TMP/logins" | uniq -c | tr '\n' ' ')"
HEALTH_N=$(wc -l <"$TMP/health-during")
HEALTH_MAX=$(percentile max <"$TMP/health-during")
HEALTH_P99=$(percentile 99 <"$TMP/health-during")
HEALTH_IDLE_P99=$(percentile 99 <"$TMP/health-after")
log "   $LOGIN_OK/20 logins ok in ${LOGIN_WALL}s; $HEALTH_N samples during hashing," \
    "$(wc -l <"$TMP/health-after") after"

# ---- f. summary -----------------------------------------------------------------------
check() { # check VALUE OP TARGET -> yes/no/n/a
    awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { if (v == "n/a" || v == "") { print "n/a"; exit }
        ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 < t + 0); print ok ? "yes" : "NO" }'
}
row() { printf '%-50s %12s  %-8s %s\n' "$@"; }
{
    echo "tizza-auth benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(uname -r)"
    echo "binary $BIN ($("$BIN" --version 2>/dev/null || echo '?')), SQLite, LOG_LEVEL=$LOG_LEVEL"
    echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency, GET /api/v1/users/{id} ($(wc -c <"$TMP/user.json") bytes)"
    echo
    row metric value target met
    row "service GET /api/v1/users/{id} req/s" "$SVC_RPS" "" ""
    row "service p99 ms" "$SVC_P99" "" ""
    row "nginx static, 1 worker, req/s" "$NGX1_RPS" "" ""
    row "nginx static, 1 worker, p99 ms" "$NGX1_P99" "" ""
    row "ratio service / nginx (1 worker)" "$RATIO1" ">= 0.35" "$(check "$RATIO1" '>=' 0.35)"
    row "nginx static, auto ($NGXAUTO_WORKERS workers), req/s" "$NGXAUTO_RPS" "" ""
    row "nginx static, auto, p99 ms" "$NGXAUTO_P99" "" ""
    row "ratio service / nginx (auto)" "$RATIOAUTO" "" ""
    row "errors (non-2xx + socket) svc/ngx1/ngxauto" "$SVC_ERR/$NGX1_ERR/$NGXAUTO_ERR" "0" \
        "$( ((SVC_ERR + NGX1_ERR + NGXAUTO_ERR == 0)) && echo yes || echo NO)"
    row "idle RSS MB ($THREADS_N threads)" "$RSS_IDLE" "< 10" "$(check "$RSS_IDLE" '<' 10)"
    row "  idle RssAnon / RssFile MB ($LIBS_N shared objects)" "$RSS_IDLE_ANON / $RSS_IDLE_FILE" "" ""
    row "RSS MB after the wrk runs" "$RSS_LOADED" "" ""
    row "peak RSS MB (VmHWM, after the logins)" "$RSS_PEAK" "" ""
    row "ready ms, median of 5, fresh database" "$READY_FRESH" "< 100" "$(check "$READY_FRESH" '<' 100)"
    row "ready ms, median of 5, existing database" "$READY_EXISTING" "< 100" "$(check "$READY_EXISTING" '<' 100)"
    row "exit 0 on SIGTERM right after ready" "$CLEAN_STOPS/${#stop_status[@]}" "all" \
        "$( ((CLEAN_STOPS == ${#stop_status[@]})) && echo yes || echo NO)"
    row "/health max ms while 20 logins hash" "$HEALTH_MAX" "< 10" "$(check "$HEALTH_MAX" '<' 10)"
    row "/health p99 ms while 20 logins hash" "$HEALTH_P99" "" ""
    row "  (samples while hashing / idle p99 ms)" "$HEALTH_N / $HEALTH_IDLE_P99" "" ""
    row "20 parallel logins: ok / wall s" "$LOGIN_OK / $LOGIN_WALL" "" ""
} >"$TMP/summary.txt"
mkdir -p "$(dirname "$OUT")"
cp "$TMP/summary.txt" "$OUT"
echo
cat "$OUT"
echo
log "written to $OUT"
