#!/usr/bin/env bash
# tools/run.sh -- `make run`: the whole constellation in the foreground, one terminal.
#
# `make run` runs tools/deps.sh (missing Debian packages, when root) and `make all` first;
# this script then
#   1. checks that the ports it needs are free (else says who holds them, starts nothing),
#   2. builds the web frontend when services/web/package.json exists and the build is
#      missing or older than its sources (npm ci only when node_modules is stale),
#   3. renders the gateway config (deploy/nginx/render.sh) into ./var/nginx and tests it,
#   4. starts RabbitMQ, migrates auth's store and makes sure the admin exists
#      (tizza-auth create-superuser), starts every service (services/*/service.yaml) on
#      SQLite, then nginx,
#   5. seeds the demo data once through the gateway (tools/seed.py; it first waits for every
#      service's /ready), and prints the URL and the demo logins.
#
# Processes. Each long-running process is started by one `start NAME CMD...` line: CMD runs
# in the background with stdout+stderr piped through a prefixer ("   nginx | <line>", a sed
# that is our child too, reaped at the end), and its pid is remembered. One-shot steps (npm, migrate, create-superuser, seed) go through
# `oneshot NAME CMD...`: the same prefixing, run in the background and waited for, so that
# Ctrl-C always reaches this script and never only a child. Job control (set -m) puts every
# child in its own process group, so the terminal's Ctrl-C reaches only this script; the
# trap then stops a running one-shot (its whole process group), sends SIGTERM to each
# process once, the broker last (the services flush their outboxes to it while draining),
# waits up to STOP_TIMEOUT seconds for each wave, SIGKILLs the process groups of any that
# remain, and reaps them all: nothing is left behind. When any process exits by itself, the
# others are stopped the same way and the script exits non-zero.
#
# Data lives in ./var (SQLite files, the broker's data, the rendered gateway config, the demo
# logins and the "seeded" marker), so it persists between runs; remove ./var to start over.
# auth keeps its signing key in its store encrypted with AUTH_KEY_ENCRYPTION_KEY: unless
# that or AUTH_SIGNING_KEY is set, a random key made on the first run is kept in
# ./var/auth.kek (mode 0600) and used.
#
# Environment (all optional): BIN (default build/bin), VAR_DIR (default ./var),
# STOP_TIMEOUT (default 10), LOG_FORMAT (default text here, for humans; json for machines),
# WEB_BUILD (auto | always | never; default auto), <SERVICE>_PORT for each service (AUTH_PORT,
# PIZZA_PORT, ...; default its port in services/<name>/service.yaml), GATEWAY_PORT (8080), AMQP_PORT (5672), PUBLIC_URL (the address printed
# and used in the demo pizzas' picture URLs; default http://localhost:GATEWAY_PORT; set it,
# e.g. to http://192.168.1.20:8080, before the first seeding to try Tizza from a phone: the
# gateway listens on every interface), HOST (where the services listen; default 127.0.0.1:
# the gateway is the way in), <SERVICE>_STORE_URL (default sqlite://<VAR_DIR>/<service>.db), TIZZA_ADMIN_PASSWORD / TIZZA_DEMO_PASSWORD (the
# demo passwords, used when the logins file is first made), and everything the services read
# themselves (LOG_LEVEL, ...). TRUSTED_PROXIES defaults to 127.0.0.1, the gateway, so the
# services believe its X-Forwarded-* headers and their Location and next/previous URLs point
# at the gateway.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD
# shellcheck source=tools/python.sh
source tools/python.sh

BIN=${BIN:-build/bin}
VAR=${VAR_DIR:-var}
[[ $VAR = /* ]] || VAR=$REPO/$VAR
STOP_TIMEOUT=${STOP_TIMEOUT:-10}
WEB_BUILD=${WEB_BUILD:-auto}
# The services (services/*/service.yaml, in port order): <NAME>_PORT, and <NAME>_URL for the
# services that call them.
SERVICES=()
declare -A PORT
while read -r name port; do
    SERVICES+=("$name")
    v=${name^^}_PORT
    PORT[$name]=${!v:-$port}
    export "${name^^}_URL=http://127.0.0.1:${PORT[$name]}"
done < <("$TIZZA_PYTHON" tools/gen.py --list)
((${#SERVICES[@]})) || { echo "run.sh: no services (tools/gen.py --list)" >&2; exit 1; }
GATEWAY_PORT=${GATEWAY_PORT:-8080}
AMQP_PORT=${AMQP_PORT:-5672}
URL=${PUBLIC_URL:-http://localhost:$GATEWAY_PORT}

export LOG_FORMAT=${LOG_FORMAT:-text}
export HOST=${HOST:-127.0.0.1}
export TRUSTED_PROXIES=${TRUSTED_PROXIES:-127.0.0.1}
export AMQP_URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f}
mkdir -p "$VAR"
if [[ -z ${AUTH_KEY_ENCRYPTION_KEY:-} && -z ${AUTH_SIGNING_KEY:-} ]]; then
    [[ -s $VAR/auth.kek ]] ||
        (umask 077 && head -c 32 /dev/urandom | basenc --base64url | tr -d '=' > "$VAR/auth.kek")
    AUTH_KEY_ENCRYPTION_KEY=$(< "$VAR/auth.kek")
    export AUTH_KEY_ENCRYPTION_KEY
fi

set -m # background jobs get their own process groups (see the design note above)

names=()
pids=()
prefixers=()
oneshot_pid=
pfd=
stopping=0

say() { printf '%8s | %s\n' run "$*"; }

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

# open_prefix NAME -- a new prefixer for NAME, a child of this shell (so that we reap it and
# can wait for it to drain); its input is the file descriptor $pfd, which the caller hands
# to one command and then closes.
open_prefix() {
    exec {pfd}> >(prefix "$1")
    prefixers+=("$!")
}

# start NAME CMD... -- run CMD in the background, logs prefixed with NAME.
start() {
    local name=$1
    shift
    open_prefix "$name"
    "${LINEBUF[@]}" "$@" >&"$pfd" 2>&1 {pfd}>&- &
    names+=("$name")
    pids+=("$!")
    exec {pfd}>&-
    printf '%8s | started (pid %d): %s\n' "$name" "$!" "$*"
}

# oneshot NAME CMD... -- run CMD to completion, logs prefixed with NAME; returns its status.
# In the background and waited for (not a foreground pipeline): with job control a
# foreground job would get the terminal, and Ctrl-C would reach it instead of our trap.
oneshot() {
    local name=$1 rc=0 p
    shift
    open_prefix "$name"
    p=$!
    "${LINEBUF[@]}" "$@" < /dev/null >&"$pfd" 2>&1 {pfd}>&- &
    oneshot_pid=$!
    exec {pfd}>&-
    wait "$oneshot_pid" || rc=$?
    oneshot_pid=
    drain "$p"
    return "$rc"
}

# drain PID... -- wait (up to 5 s) until these prefixers have written their last lines.
drain() {
    local p deadline=$((SECONDS + 5))
    for p in "$@"; do
        while alive "$p" && ((SECONDS < deadline)); do sleep 0.05; done
        alive "$p" && kill -KILL "$p" 2>/dev/null
    done
    return 0
}

alive() { kill -0 "$1" 2>/dev/null; }

die() {
    say "$*" >&2
    exit 1
}

# stop_wave TIMEOUT INDEX... -- SIGTERM to each listed process, then wait; SIGKILL for the
# process group of any still there after TIMEOUT seconds.
stop_wave() {
    local timeout=$1 i pid deadline
    shift
    for i in "$@"; do
        pid=${pids[$i]}
        if alive "$pid"; then
            printf '%8s | stopping (SIGTERM to %d)\n' "${names[$i]}" "$pid"
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    deadline=$((SECONDS + timeout))
    for i in "$@"; do
        pid=${pids[$i]}
        while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
        if alive "$pid"; then
            printf '%8s | did not stop in %ss, SIGKILL\n' "${names[$i]}" "$timeout"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}

stop_all() {
    ((stopping)) && return
    stopping=1
    local i first=() last=()
    if [[ -n $oneshot_pid ]] && alive "$oneshot_pid"; then
        kill -TERM -- "-$oneshot_pid" 2>/dev/null || kill -TERM "$oneshot_pid" 2>/dev/null || true
    fi
    for i in "${!pids[@]}"; do
        if [[ ${names[$i]} == rabbitmq ]]; then last+=("$i"); else first+=("$i"); fi
    done
    ((${#first[@]} == 0)) || stop_wave "$STOP_TIMEOUT" "${first[@]}"
    # The broker stops its node (and epmd) on SIGTERM, which takes a few seconds.
    ((${#last[@]} == 0)) || stop_wave $((STOP_TIMEOUT + 20)) "${last[@]}"
    if [[ -n $oneshot_pid ]] && alive "$oneshot_pid"; then
        kill -KILL -- "-$oneshot_pid" 2>/dev/null || true
    fi
    # The prefixers end at EOF, once the last writer of their pipe is gone: wait for their
    # last lines, then reap every child.
    drain "${prefixers[@]}"
    wait 2>/dev/null || true
}

# shellcheck disable=SC2317  # invoked by the traps below
on_signal() {
    # a second signal while stopping (a second Ctrl-C; `timeout` signals the whole group):
    # the stop under way goes on, bounded by its own timeouts and SIGKILL
    ((stopping)) && return
    echo
    say "$1, stopping everything"
    stop_all
    say "stopped"
    exit 0
}
trap 'on_signal interrupted' INT
trap 'on_signal terminated' TERM HUP
trap stop_all EXIT

# ---- 1. the binaries are there and the ports are free -------------------------------------
for s in "${SERVICES[@]}"; do
    [[ -x $BIN/tizza-$s ]] || die "$BIN/tizza-$s not found; build first with 'make'"
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || die "nginx not found; install it with 'make deps' (as root)"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
busy=0
for s in "${SERVICES[@]}"; do busy_check+=("$s ${PORT[$s]}"); done
for p in "${busy_check[@]}" "gateway $GATEWAY_PORT" "rabbitmq $AMQP_PORT"; do
    read -r what port <<<"$p"
    if port_busy "$port"; then
        holder=$(ss -Htlnp "sport = :$port" 2>/dev/null |
            sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/ by \1 (pid \2)/p' | head -1) || true
        say "port $port ($what) is already in use$holder" >&2
        busy=1
    fi
done
((busy == 0)) || die "another 'make run' may be running; stop it first (or set *_PORT)"

# ---- 2. the web frontend -------------------------------------------------------------------
WEB=services/web
web_root=$REPO/$WEB/dist

web_stale() {
    [[ $WEB_BUILD == always || ! -f $WEB/dist/index.html ]] && return 0
    [[ -n $(find "$WEB/src" "$WEB/public" "$WEB/scripts" "$WEB/index.html" "$WEB/vite.config.js" \
        "$WEB/package.json" "$WEB/package-lock.json" proto-docs/events.asyncapi.yaml \
        -newer "$WEB/dist/index.html" -print -quit 2>/dev/null) ]]
}

build_web() {
    [[ -f $WEB/package.json && $WEB_BUILD != never ]] || return 0
    web_stale || { say "web: build is up to date ($WEB/dist)"; return 0; }
    if ! command -v npm >/dev/null 2>&1 || ! sh tools/node-ok.sh; then
        say "WARNING: cannot build the web frontend: it needs node >= 20.19 and npm" \
            "(found: $(node --version 2>/dev/null || echo no node))" >&2
        return 0
    fi
    if [[ ! -d $WEB/node_modules || $WEB/package-lock.json -nt $WEB/node_modules/.package-lock.json ]]; then
        oneshot web bash -c "cd $WEB && npm ci --no-audit --no-fund --loglevel=error" ||
            die "npm ci failed in $WEB"
    fi
    oneshot web bash -c "cd $WEB && npm run build" || die "npm run build failed in $WEB"
}
build_web
if [[ ! -f $web_root/index.html ]]; then
    # No build: serve a page that says so (and the demo pictures, which need no build).
    web_root=$VAR/nginx/no-frontend
    rm -rf "$web_root"
    mkdir -p "$web_root"
    cp -R "$WEB/public/." "$web_root/" 2>/dev/null || true
    printf '%s\n' '<!doctype html><meta charset="utf-8"><title>Tizza</title>' \
        '<h1>Tizza</h1><p>The web frontend is not built (see the make run output). The APIs' \
        'are up: <a href="/services/auth/info">/services/auth/info</a>,' \
        '<a href="/api/v1/pizzas">/api/v1/pizzas</a>, <a href="/api/v2/tweets">/api/v2/tweets</a>.</p>' \
        > "$web_root/index.html"
    say "WARNING: no $WEB/dist/index.html; the gateway serves a placeholder page" >&2
fi

# ---- 3. the gateway's config ---------------------------------------------------------------
mkdir -p "$VAR/nginx"
upstream_args=()
for s in "${SERVICES[@]}"; do upstream_args+=("--$s" "127.0.0.1:${PORT[$s]}"); done
bash deploy/nginx/render.sh --listen "$GATEWAY_PORT" --root "$web_root" --prefix "$VAR/nginx" \
    "${upstream_args[@]}" > "$VAR/nginx/nginx.conf"
NGINX_ARGS=(-e stderr -p "$VAR/nginx" -c "$VAR/nginx/nginx.conf" -g 'daemon off;')
oneshot nginx "$NGINX" -t -q "${NGINX_ARGS[@]}" || die "nginx -t failed for $VAR/nginx/nginx.conf"

# ---- 4. the constellation: one line per long-running process ------------------------------
store() { # the STORE_URL of service $1
    local v=${1^^}_STORE_URL
    printf '%s' "${!v:-sqlite://$VAR/$1.db}"
}
LOGINS=$VAR/demo-logins.json
admin_password=$("$TIZZA_PYTHON" tools/seed.py admin-password --logins "$LOGINS")

# RabbitMQ: a private node (tests/broker.py) on the AMQP port, data in ./var/rabbitmq.
# The services do not wait for it: their outboxes hold events until it is up.
start rabbitmq "$TIZZA_PYTHON" tests/broker.py start --port "$AMQP_PORT" --data-dir "$VAR/rabbitmq"
oneshot auth env STORE_URL="$(store auth)" "$BIN/tizza-auth" migrate || die "auth migrate failed"
oneshot auth env STORE_URL="$(store auth)" TIZZA_SUPERUSER_PASSWORD="$admin_password" \
    "$BIN/tizza-auth" create-superuser --username admin --email admin@tizza.example ||
    die "creating the admin failed"
unset admin_password
for s in "${SERVICES[@]}"; do
    start "$s" env PORT="${PORT[$s]}" STORE_URL="$(store "$s")" "$BIN/tizza-$s" serve
done
start nginx "$NGINX" "${NGINX_ARGS[@]}"
# -------------------------------------------------------------------------------------------

# ---- 5. demo data, once; then the banner --------------------------------------------------
if ! oneshot seed "$TIZZA_PYTHON" tools/seed.py seed --base "http://127.0.0.1:$GATEWAY_PORT" \
    --public-url "$URL" --logins "$LOGINS" --marker "$VAR/seeded"; then
    say "WARNING: seeding the demo data failed (see above); it is retried on the next start" >&2
fi
cat <<EOF

  Tizza is up: $URL
  ($(for s in "${SERVICES[@]}"; do printf '%s :%s, ' "$s" "${PORT[$s]}"; done)RabbitMQ :$AMQP_PORT; data in $VAR)

$("$TIZZA_PYTHON" tools/seed.py show --logins "$LOGINS" | sed 's/^/  /')

  Ctrl-C stops everything.

EOF

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
