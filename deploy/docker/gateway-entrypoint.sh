#!/bin/bash
# tizza-gateway -- the gateway image's entrypoint: nginx, with its upstream groups following
# the replicas of each service.
#
# nginx 1.22 (Debian 12) resolves the names in an upstream group once, at start; replicas
# added later would not be used until a restart (`resolve` in upstream needs nginx >= 1.27.3).
# So this writes the groups itself: /etc/nginx/upstreams.template.conf (deploy/nginx/
# upstreams.compose.conf) with each `server NAME:PORT ARGS;` line replaced by one line per
# address NAME resolves to now (`server ADDR:PORT ARGS;`, one per replica; a name that does
# not resolve gives one `down` server, so its routes answer 502 until it comes back), into
# /tmp/upstreams.conf, which nginx.conf includes. A replica's name resolves as soon as its
# container starts, seconds before the service listens (it opens and migrates its store
# first), so a new address joins its group only once its /health answers 200 (within 2 s);
# until then nginx would be refused there and, with two new replicas, could be refused on
# both of its tries. When no address of a name answers yet, all of them are written (the
# group must not be empty; nginx skips the refusing ones). Then it starts nginx and every
# TIZZA_RESOLVE_INTERVAL seconds (default 2) resolves the names again; when an address set
# changed it rewrites the file and reloads nginx, which is graceful: old workers finish
# their requests. `docker compose up --scale likes=3` is served by the new replicas within
# seconds, and a removed one leaves the group (nginx also skips a dead upstream at once and
# retries idempotent requests on the next: gateway.conf, proxy_next_upstream).
#
# SIGTERM, SIGINT and SIGQUIT stop nginx gracefully (SIGQUIT) and the script exits with
# nginx's status. Arguments are passed to nginx (the image gives none).
set -u
template=/etc/nginx/upstreams.template.conf
out=/tmp/upstreams.conf
interval=${TIZZA_RESOLVE_INTERVAL:-2}

log() { printf 'tizza-gateway: %s\n' "$*" >&2; }

# True when ADDR:PORT was admitted in the groups last written, or answers GET /health with 200.
admitted() {
    grep -F -e "server $1 " -e "server $1;" "$out" 2>/dev/null | grep -qv 'not answering' ||
        timeout 2 /usr/local/bin/tizza-healthcheck /health "$1" 2>/dev/null
}

# The template with every `server NAME:PORT ...;` expanded to the addresses NAME has now.
render() {
    local line name port rest addrs a ready note
    while IFS= read -r line; do
        if [[ $line =~ ^([[:space:]]*)server[[:space:]]+([A-Za-z][A-Za-z0-9.-]*):([0-9]+)(.*)$ ]]; then
            name=${BASH_REMATCH[2]} port=${BASH_REMATCH[3]} rest=${BASH_REMATCH[4]}
            addrs=$(getent ahostsv4 "$name" | awk '$2 == "STREAM" {print $1}' | sort -u)
            if [[ -z $addrs ]]; then
                printf '%sserver 127.0.0.1:%s down; # %s does not resolve\n' "${BASH_REMATCH[1]}" "$port" "$name"
            fi
            ready=
            for a in $addrs; do
                admitted "$a:$port" && ready+=" $a"
            done
            note=
            [[ -z $ready ]] && note=", not answering yet"
            for a in ${ready:-$addrs}; do
                printf '%sserver %s:%s%s # %s%s\n' "${BASH_REMATCH[1]}" "$a" "$port" "$rest" \
                    "$name" "$note"
            done
        else
            printf '%s\n' "$line"
        fi
    done <"$template"
}

render >"$out.new" && mv "$out.new" "$out"
nginx -e stderr -g 'daemon off;' "$@" &
nginx_pid=$!
stop() { kill -QUIT "$nginx_pid" 2>/dev/null; }
trap stop TERM INT QUIT

while kill -0 "$nginx_pid" 2>/dev/null; do
    sleep "$interval" &
    wait $! 2>/dev/null
    kill -0 "$nginx_pid" 2>/dev/null || break
    render >"$out.new" || continue
    if ! cmp -s "$out.new" "$out"; then
        mv "$out.new" "$out"
        log "upstream addresses changed; reloading nginx"
        nginx -e stderr -s reload || log "reload failed; keeping the running configuration"
    fi
done
wait "$nginx_pid"
