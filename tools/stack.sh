#!/usr/bin/env bash
# tools/stack.sh -- runs docker-compose.yml (`make stack`, `make stack-down`).
#
#   stack.sh up [ARGS...]      build what is missing, start the stack (compose up -d ARGS),
#                              wait until every container with a health check is healthy
#   stack.sh down              remove the stack: containers, networks, volumes
#   stack.sh scale SERVICE=N...  run N replicas of each SERVICE (no other is touched), wait
#                              until all are healthy
#   stack.sh roll SERVICE      rolling update: each replica of SERVICE in turn is replaced
#                              by a new one from the current image and configuration -- the
#                              new one started and healthy first, then the old one stopped
#                              (SIGTERM: it drains) and removed; the gateway follows within
#                              seconds and retries idempotent requests meanwhile
#   stack.sh compose ARGS...   any compose command on the stack (ps, logs, ...)
#   stack.sh ps                the containers and their health
#
# With docker: `docker compose` (or docker-compose). With podman (preferred when both are
# there): Debian's docker-compose 1.29 against podman's Docker API (`podman system service`
# on a socket under the state directory). Not podman-compose: Debian's 1.0.3 ignores
# `--scale` and the `service_healthy` conditions the compose file relies on. podman runs
# health checks from systemd timers, and without systemd never: so with podman this also
# keeps a ticker that runs `podman healthcheck run` on each of the project's containers every
# TIZZA_STACK_TICK seconds (2). Both background processes end with `down`.
#
# Settings (environment):
#   TIZZA_STACK_PROJECT   compose project name (tizza)
#   TIZZA_STACK_OFFLINE   1: add deploy/docker/compose.offline.yml: MongoDB (the project's
#                         double), RabbitMQ and Prometheus from images `make images` built from
#                         Debian packages instead of pulled ones; default 1 with podman, 0 with
#                         docker (tools/containers.sh)
#   TIZZA_STACK_ENV_FILE  the compose env file (default .env; `up` adds a fresh
#                         AUTH_KEY_ENCRYPTION_KEY to it when neither it nor the environment
#                         has one, as the README says to do once)
#   TIZZA_STACK_STATE     where the socket, pid files and logs go (var/stack/<project>)
#   TIZZA_STACK_TIMEOUT   seconds `up` waits for health (300)
# Exit status: 0, or 1 with a line on stderr (and the unhealthy containers' last logs).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'stack: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

project=${TIZZA_STACK_PROJECT:-tizza}
state=${TIZZA_STACK_STATE:-var/stack/$project}
[[ $state == /* ]] || state=$PWD/$state
env_file=${TIZZA_STACK_ENV_FILE:-.env}
tick=${TIZZA_STACK_TICK:-2}
source tools/containers.sh
files=(-f docker-compose.yml)
[[ $offline == 1 ]] && files+=(-f deploy/docker/compose.offline.yml)

mkdir -p "$state"
# systemd's absence, which podman reports for every health check it cannot schedule: not news
quiet() { grep -v 'unable to get systemd' >&2; }
running() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# podman: its Docker API on a socket of ours, and the health check ticker.
podman_api() {
    local sock=$state/podman.sock
    export DOCKER_HOST=unix://$sock
    running "$state/podman.pid" && return 0
    rm -f "$sock"
    podman system service --time=0 "unix://$sock" >"$state/podman.log" 2>&1 &
    echo $! >"$state/podman.pid"
    for _ in $(seq 100); do [[ -S $sock ]] && return 0; sleep 0.1; done
    die "podman system service did not open $sock ($state/podman.log)"
}
ticker() {
    running "$state/ticker.pid" && return 0
    (
        trap 'exit 0' TERM
        while :; do
            for c in $(replicas); do
                podman healthcheck run "$c" >/dev/null 2>&1 || true
            done
            sleep "$tick"
        done
    ) </dev/null >/dev/null 2>&1 &
    echo $! >"$state/ticker.pid"
}
stop_background() {
    local f
    for f in "$state/ticker.pid" "$state/podman.pid"; do
        running "$f" && kill "$(cat "$f")" 2>/dev/null || true
        rm -f "$f"
    done
    rm -f "$state/podman.sock"
}

compose() {
    local envf=()
    [[ -f $env_file ]] && envf=(--env-file "$env_file")
    if [[ $engine == podman ]]; then
        command -v docker-compose >/dev/null ||
            die "docker-compose is missing (Debian: apt-get install docker-compose; make deps)"
        podman_api
        docker-compose -p "$project" "${envf[@]}" "${files[@]}" "$@" 2> >(quiet)
    elif docker compose version >/dev/null 2>&1; then
        docker compose -p "$project" "${envf[@]}" "${files[@]}" "$@"
    else
        docker-compose -p "$project" "${envf[@]}" "${files[@]}" "$@"
    fi
}

containers() { "$engine" ps -a -q --filter "label=com.docker.compose.project=$project"; }
replicas() { # [SERVICE]: the running containers of the project (of that service)
    "$engine" ps -q --filter "label=com.docker.compose.project=$project" \
        ${1:+--filter "label=com.docker.compose.service=$1"}
}

# name status health, one line per container of the project
status() {
    local ids
    ids=$(containers)
    [[ -z $ids ]] ||
        "$engine" inspect --format '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}}' $ids
}

wait_healthy() {
    local deadline=$((SECONDS + ${TIZZA_STACK_TIMEOUT:-300})) lines bad
    while :; do
        lines=$(status)
        bad=$(awk '$2 != "running" || ($3 != "" && $3 != "healthy" && $3 != "-")' <<<"$lines")
        [[ -z $bad ]] && return 0
        if ((SECONDS >= deadline)); then
            log "not healthy after ${TIZZA_STACK_TIMEOUT:-300} s:"
            printf '  %s\n' "$bad" >&2
            local n
            for n in $(awk '{print $1}' <<<"$bad"); do
                log "last log lines of $n:"
                "$engine" logs --tail 20 "$n" 2>&1 | sed 's/^/    /' >&2 || true
            done
            return 1
        fi
        sleep 1
    done
}

ensure_key() {
    [[ -n ${AUTH_KEY_ENCRYPTION_KEY:-} ]] && return 0
    [[ -f $env_file ]] && grep -q '^AUTH_KEY_ENCRYPTION_KEY=.' "$env_file" && return 0
    (umask 077 && printf 'AUTH_KEY_ENCRYPTION_KEY=%s\n' \
        "$(head -c 32 /dev/urandom | basenc --base64url | tr -d '=')" >>"$env_file")
    log "wrote a new AUTH_KEY_ENCRYPTION_KEY to $env_file (keep it: deploy/README.md)"
}

cmd=${1:-up}
shift || true
# with podman, whatever starts containers keeps their health checks ticking
[[ $engine == podman && $cmd =~ ^(up|scale|roll)$ ]] && ticker
case $cmd in
up)
    ensure_key
    t0=$SECONDS
    # the images come from `make images` (make stack runs it first)
    compose up -d --no-build "$@" || die "compose up failed"
    [[ -n $(containers) ]] || die "compose up started nothing"
    wait_healthy || exit 1
    log "healthy in $((SECONDS - t0)) s: $(status | wc -l) containers (project $project)"
    ;;
down)
    # (compose interpolates the whole file even to take it down; the key is not used)
    AUTH_KEY_ENCRYPTION_KEY=${AUTH_KEY_ENCRYPTION_KEY:-unused} compose down --volumes \
        --remove-orphans --timeout 20 ||
        log "compose down failed; removing what is left by label"
    label=label=com.docker.compose.project=$project
    left=$(containers)
    [[ -z $left ]] || "$engine" rm -f $left >/dev/null
    left=$("$engine" network ls -q --filter "$label")
    [[ -z $left ]] || "$engine" network rm $left >/dev/null
    left=$("$engine" volume ls -q --filter "$label")
    [[ -z $left ]] || "$engine" volume rm $left >/dev/null
    [[ $engine == podman ]] && stop_background
    rm -rf "$state"
    [[ -z $(containers) ]] || die "containers left: $(containers)"
    ;;
scale)
    (($#)) || die "usage: stack.sh scale SERVICE=N..."
    args=() svcs=()
    for a in "$@"; do
        [[ $a =~ ^[a-z][a-z0-9_-]*=[0-9]+$ ]] || die "scale: $a is not SERVICE=N"
        args+=(--scale "$a") svcs+=("${a%%=*}")
    done
    compose up -d --no-build --no-deps --no-recreate "${args[@]}" "${svcs[@]}" ||
        die "compose up --scale failed"
    wait_healthy || exit 1
    ;;
roll)
    (($# == 1)) || die "usage: stack.sh roll SERVICE"
    svc=$1
    old=($(replicas "$svc"))
    ((${#old[@]})) || die "roll: no running replica of $svc"
    for c in "${old[@]}"; do
        n=$(replicas "$svc" | wc -l)
        compose up -d --no-build --no-deps --no-recreate --scale "$svc=$((n + 1))" "$svc" ||
            die "roll: starting a new $svc failed"
        wait_healthy || exit 1
        "$engine" stop -t 20 "$c" >/dev/null
        "$engine" rm "$c" >/dev/null
        log "roll: replaced $svc container ${c:0:12}"
    done
    ;;
compose) compose "$@" ;;
ps) status ;;
*) die "unknown command $cmd (up, down, compose, ps)" ;;
esac
