#!/usr/bin/env bash
# End-to-end suite of the web frontend: builds services/web, starts a private RabbitMQ node
# (tests/broker.py), the four services on fresh SQLite files, an admin (create-superuser),
# and an nginx gateway in front of them serving the build, all on free ports in one temp dir;
# then runs the browser journey (journey.mjs: playwright-core driving Debian's chromium,
# headless, screenshots into tests/artifacts/e2e/) and the frontend's unit tests (vitest).
#
# Self-contained and tidy: every process it starts is remembered by PID and stopped by PID
# (SIGTERM, then SIGKILL after a grace period), never by name; the temp dir goes too.
# Env: TIZZA_BIN_DIR (default build/bin), CHROMIUM (default /usr/bin/chromium),
# E2E_SKIP_BUILD=1 (reuse services/web/dist and node_modules), E2E_KEEP=1 (keep the temp dir),
# E2E_HOLD=1 (after the journey, keep everything running until Ctrl-C: for looking around),
# E2E_OWN_GATEWAY=1 (use this suite's minimal nginx config instead of the real gateway's).
# The gateway is the real one (deploy/nginx/render.sh renders gateway.conf for the free
# ports and this build) when it exists; otherwise a minimal config generated here with the
# same routes.
# Last line: "N passed, M failed" (the journey counts as one test per step, plus vitest's).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
# shellcheck source=tools/python.sh
source tools/python.sh || { echo "0 passed, 1 failed"; exit 1; }
BIN=${TIZZA_BIN_DIR:-build/bin}
[[ $BIN = /* ]] || BIN=$ROOT/$BIN
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
ART=$ROOT/tests/artifacts/e2e
T0=$SECONDS

# Configuration the services read must come from here only.
unset PORT HOST STORE_URL AMQP_URL AUTH_URL PIZZA_URL LIKES_URL TWEETS_URL LOG_FORMAT \
      HTTP_THREADS WORKERS BODY_LIMIT CORS_ORIGINS TRUSTED_PROXIES PAGE_SIZE AUTH_SIGNING_KEY \
      AUTH_KEY_ENCRYPTION_KEY ACCESS_TTL REFRESH_TTL REFRESH_GRACE_MS COOKIE_SECURE \
      LOGIN_FAILURES_PER_USER LOGIN_FAILURES_PER_USER_TOTAL LOGIN_UNKNOWN_QUEUE ERASURE_SERVICES \
      AUTH_PUBLIC_KEY
for v in $(compgen -e); do [[ $v == RATE_LIMIT_* || $v == TIZZA_SUPERUSER* ]] && unset "$v"; done

passed=0
failed=0
pids=()     # every background process started here
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tizza-e2e.XXXXXX")

say() { printf 'e2e: %s\n' "$*"; }

stop_pid() { # pid [grace seconds] -> returns the process's exit status
    local pid=$1 grace=${2:-10} i rc
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < grace * 10; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "pid $pid did not stop within ${grace}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    wait "$pid" 2>/dev/null
    rc=$?
    stopped+=("$pid")
    return $rc
}
stopped=()  # pids already stopped and reaped

cleanup() {
    local i
    trap - EXIT INT TERM
    # Newest first: gateway, services, then the broker (it stops its node on SIGTERM).
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        [[ " ${stopped[*]} " == *" ${pids[$i]} "* ]] || stop_pid "${pids[$i]}" 20
    done
    if [[ -d $TMP ]]; then
        mkdir -p "$ART/logs"
        cp "$TMP"/*.log "$ART/logs/" 2>/dev/null
        if [[ ${E2E_KEEP:-0} == 1 ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
    say "done in $((SECONDS - T0)) s"
    echo "$passed passed, $failed failed"
    [[ $failed -eq 0 && $passed -gt 0 ]]
    exit $?
}

fail_setup() {
    say "setup failed: $*"
    failed=$((failed + 1))
    finish
}

# n free TCP ports on 127.0.0.1, distinct (all held open while picking).
free_ports() {
    "$TIZZA_PYTHON" - "$1" <<'PYEOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PYEOF
}

# http_status URL -> prints the status (000 when nothing answers)
http_status() {
    "$TIZZA_PYTHON" - "$1" <<'PYEOF' 2>/dev/null || echo 000
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
PYEOF
}

wait_http() { # name url pid [timeout]
    local name=$1 url=$2 pid=$3 timeout=${4:-60} deadline=$((SECONDS + ${4:-60}))
    while ((SECONDS < deadline)); do
        kill -0 "$pid" 2>/dev/null || { tail -20 "$TMP/$name.log" >&2; fail_setup "$name exited before it was ready"; }
        [[ $(http_status "$url") == 200 ]] && return 0
        sleep 0.2
    done
    tail -20 "$TMP/$name.log" >&2
    fail_setup "$name not ready within ${timeout}s ($url)"
}

# ---------------------------------------------------------------- the frontend build
rm -rf "$ART"
mkdir -p "$ART"
[[ -x $CHROMIUM ]] || fail_setup "$CHROMIUM is missing (apt-get install -y chromium)"
for s in auth pizza likes tweets; do
    [[ -x $BIN/tizza-$s ]] || fail_setup "$BIN/tizza-$s is missing (make)"
done
if [[ ${E2E_SKIP_BUILD:-0} != 1 ]]; then
    say "building services/web"
    (cd services/web && npm ci --no-audit --no-fund --loglevel=error && npm run build) \
        > "$TMP/web-build.log" 2>&1 || { tail -30 "$TMP/web-build.log" >&2; fail_setup "npm ci / npm run build failed"; }
fi
[[ -f services/web/dist/index.html ]] || fail_setup "services/web/dist/index.html missing"

# ---------------------------------------------------------------- broker
say "starting RabbitMQ (tests/broker.py)"
"$TIZZA_PYTHON" tests/broker.py start > "$TMP/broker.log" 2>&1 &
pids+=($!)
broker_pid=$!
AMQP=
for ((i = 0; i < 600; i++)); do
    AMQP=$(sed -n 's/^URL //p' "$TMP/broker.log" | head -1)
    [[ -n $AMQP ]] && break
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 0.1
done
[[ -n $AMQP ]] || { cat "$TMP/broker.log" >&2; fail_setup "the broker did not start"; }

# ---------------------------------------------------------------- services
read -r P_AUTH P_PIZZA P_LIKES P_TWEETS P_GW <<< "$(free_ports 5)"
export AMQP_URL=$AMQP AUTH_URL=http://127.0.0.1:$P_AUTH PIZZA_URL=http://127.0.0.1:$P_PIZZA \
       LIKES_URL=http://127.0.0.1:$P_LIKES TWEETS_URL=http://127.0.0.1:$P_TWEETS \
       RATE_LIMIT_SIGNUP=0 RATE_LIMIT_LOGIN=0 LOGIN_FAILURES_PER_USER=0 HASH_CONCURRENCY=2 \
       HOST=127.0.0.1 LOG_LEVEL=info DRAIN_MS=3000 TRUSTED_PROXIES=127.0.0.1
export E2E_ADMIN_PASSWORD="admin-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
# auth keeps its signing key in its store encrypted with this key (a fresh one per run).
AUTH_KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | basenc --base64url | tr -d '=')
export AUTH_KEY_ENCRYPTION_KEY

say "creating the admin"
STORE_URL="sqlite://$TMP/auth.db" TIZZA_SUPERUSER_PASSWORD=$E2E_ADMIN_PASSWORD \
    "$BIN/tizza-auth" create-superuser --username admin --email admin@x.io \
    > "$TMP/create-superuser.log" 2>&1 || { cat "$TMP/create-superuser.log" >&2; fail_setup "create-superuser failed"; }

start_service() { # name port
    PORT=$2 STORE_URL="sqlite://$TMP/$1.db" "$BIN/tizza-$1" serve > "$TMP/$1.log" 2>&1 &
    pids+=($!)
    eval "pid_$1=$!"
}
say "starting the services"
start_service auth "$P_AUTH"
wait_http auth "$AUTH_URL/ready" "$pid_auth"
start_service pizza "$P_PIZZA"
start_service likes "$P_LIKES"
start_service tweets "$P_TWEETS"
wait_http pizza "$PIZZA_URL/ready" "$pid_pizza"
wait_http likes "$LIKES_URL/ready" "$pid_likes"
wait_http tweets "$TWEETS_URL/ready" "$pid_tweets"

# ---------------------------------------------------------------- gateway
DIST=$ROOT/services/web/dist
mkdir -p "$TMP/nginx"
CONF=$TMP/nginx/nginx.conf
if [[ -f deploy/nginx/gateway.conf && -f deploy/nginx/render.sh && ${E2E_OWN_GATEWAY:-0} != 1 ]]; then
    say "gateway: deploy/nginx/gateway.conf"
    bash deploy/nginx/render.sh --listen "127.0.0.1:$P_GW" --root "$DIST" --prefix "$TMP/nginx" \
        --auth "127.0.0.1:$P_AUTH" --pizza "127.0.0.1:$P_PIZZA" --likes "127.0.0.1:$P_LIKES" \
        --tweets "127.0.0.1:$P_TWEETS" > "$CONF" || fail_setup "rendering deploy/nginx/gateway.conf failed"
else
    say "gateway: a minimal config of this suite"
    "$TIZZA_PYTHON" - "$CONF" "$TMP/nginx" "$P_GW" "$DIST" "$P_AUTH" "$P_PIZZA" "$P_LIKES" "$P_TWEETS" <<'PYEOF'
import sys
sys.path.insert(0, "tools")
import gen  # the services' route prefixes (services/*/service.yaml)
conf, prefix, gw, dist, auth, pizza, likes, tweets = sys.argv[1:]
ports = {"auth": auth, "pizza": pizza, "likes": likes, "tweets": tweets}
api = [(r, ports[s["name"]]) for s in gen.load_services() if s["name"] in ports
       for r in s["routes"]]
proxy = """
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Connection "";"""
uploads = [(gen.upload_regex(u), ports[s["name"]]) for s in gen.load_services()
           if s["name"] in ports for u in s["uploads"]]
locs = "".join("""
        location ~ %s {
            client_max_body_size %s;
            proxy_pass http://127.0.0.1:%s;%s
        }""" % (rx, gen.UPLOAD_LIMIT, port, proxy) for rx, port in uploads)
locs += "".join("""
        location %s {
            proxy_pass http://127.0.0.1:%s;%s
        }""" % (p, port, proxy) for p, port in api)
locs += "".join("""
        location ~ ^/services/%s/(health|ready|info|openapi\\.yaml)$ {
            proxy_pass http://127.0.0.1:%s/$1;%s
        }""" % (name, port, proxy) for name, port in ports.items())
open(conf, "w").write("""# generated by tests/e2e/run.sh
worker_processes 1;
pid %(prefix)s/nginx.pid;
error_log %(prefix)s/error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log %(prefix)s/access.log;
    client_body_temp_path %(prefix)s/body;
    proxy_temp_path %(prefix)s/proxy;
    fastcgi_temp_path %(prefix)s/fastcgi;
    uwsgi_temp_path %(prefix)s/uwsgi;
    scgi_temp_path %(prefix)s/scgi;
    server {
        listen 127.0.0.1:%(gw)s;
        root %(dist)s;
        # regex locations match in order: the services' documents before the .yaml rule
        %(locs)s
        location ~ \\.yaml$ {
            types { }
            default_type "text/plain; charset=utf-8";
        }
        location = /index.html { add_header Cache-Control no-cache; }
        location / { try_files $uri $uri/ /index.html; }
        location /services/ { return 404; }
    }
}
""" % dict(prefix=prefix, gw=gw, dist=dist, locs=locs))
PYEOF
fi
nginx -t -q -e stderr -c "$CONF" -p "$TMP/nginx" -g 'daemon off;' > "$TMP/gateway.log" 2>&1 \
    || { cat "$TMP/gateway.log" >&2; fail_setup "nginx -t failed"; }
nginx -e stderr -c "$CONF" -p "$TMP/nginx" -g 'daemon off;' >> "$TMP/gateway.log" 2>&1 &
pids+=($!)
gw_pid=$!
export E2E_BASE_URL=http://127.0.0.1:$P_GW
wait_http gateway "$E2E_BASE_URL/" "$gw_pid" 20
wait_http gateway "$E2E_BASE_URL/services/auth/ready" "$gw_pid" 20
say "ready in $((SECONDS - T0)) s: $E2E_BASE_URL"

# ---------------------------------------------------------------- the journey
say "journey (headless chromium)"
t=$SECONDS
E2E_ARTIFACTS=$ART E2E_TWEETS_PID=$pid_tweets TMPDIR=$TMP node tests/e2e/journey.mjs 2>&1 | tee "$TMP/journey.log"
jrc=${PIPESTATUS[0]}
read -r jp jf < <(sed -n 's/^journey: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$TMP/journey.log" | tail -1)
jp=${jp:-0}
jf=${jf:-1}
((jrc != 0 && jf == 0)) && jf=1
passed=$((passed + jp))
failed=$((failed + jf))
say "journey: $jp passed, $jf failed ($((SECONDS - t)) s)"

if [[ ${E2E_HOLD:-0} == 1 ]]; then
    say "holding at $E2E_BASE_URL (admin password: $E2E_ADMIN_PASSWORD); Ctrl-C to stop"
    while kill -0 "$gw_pid" 2>/dev/null; do sleep 1; done
fi

# ---------------------------------------------------------------- unit tests
say "unit tests (vitest)"
t=$SECONDS
(cd services/web && npx vitest run --reporter=default) > "$TMP/vitest.log" 2>&1
vrc=$?
cat "$TMP/vitest.log"
vp=$(sed 's/\x1b\[[0-9;]*m//g' "$TMP/vitest.log" | sed -n 's/^ *Tests *\([0-9]*\) passed.*/\1/p; s/^ *Tests *[0-9]* failed | \([0-9]*\) passed.*/\1/p' | tail -1)
vf=$(sed 's/\x1b\[[0-9;]*m//g' "$TMP/vitest.log" | sed -n 's/^ *Tests *\([0-9]*\) failed.*/\1/p' | tail -1)
vp=${vp:-0}
vf=${vf:-0}
((vrc != 0 && vf == 0)) && vf=1
passed=$((passed + vp))
failed=$((failed + vf))
say "unit: $vp passed, $vf failed ($((SECONDS - t)) s)"

# ---------------------------------------------------------------- clean shutdown
# SIGTERM must drain and exit 0 (the journey already stopped tweets), with no sanitizer
# report when TIZZA_BIN_DIR is a sanitizer build.
stop_pid "$gw_pid" 10
bad=()
for s in tweets likes pizza auth; do
    eval "pid=\$pid_$s"
    stop_pid "$pid" 20
    rc=$?
    ((rc == 0)) || bad+=("$s exited with status $rc")
    if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$TMP/$s.log"; then
        bad+=("$s: sanitizer report in its log")
    fi
done
if ((${#bad[@]})); then
    failed=$((failed + 1))
    say "FAIL services stop cleanly: ${bad[*]}"
else
    passed=$((passed + 1))
    say "ok   services stop cleanly on SIGTERM"
fi

finish
