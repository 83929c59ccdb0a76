#!/usr/bin/env bash
# tools/podman-setup.sh -- prepares this machine to build and run Tizza's containers with podman,
# offline from any image registry. Idempotent: each step is skipped when already done.
#
# 1. Installs podman, runc, netavark + aardvark-dns + iptables (container networks with DNS) and
#    debootstrap when missing (root; Debian 12).
# 2. Writes /etc/containers/containers.conf.d/tizza.conf: runtime runc (crun refuses hosts with
#    hybrid cgroups) and default ulimits no higher than this machine's hard limits (a container
#    asking for more than the hard limit does not start).
# 3. Makes the base images the Dockerfiles start FROM without pulling: a minbase Debian 12 from
#    `debootstrap`, imported as docker.io/library/debian:bookworm and :bookworm-slim. The
#    Debian mirror is the one this machine's apt already uses.
# Env: TIZZA_BASE_MIRROR overrides the mirror; TIZZA_BASE_REBUILD=1 remakes the base images.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

BASE=docker.io/library/debian
SUITE=bookworm
CONF=/etc/containers/containers.conf.d/tizza.conf

log() { printf 'podman-setup: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

((EUID == 0)) || die "run as root (it installs packages and writes $CONF)"

need=()
for p in podman runc netavark aardvark-dns iptables debootstrap; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || need+=("$p")
done
if ((${#need[@]})); then
    log "installing ${need[*]}"
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

# The lower of a wanted default and the hard limit ("unlimited" is no bound).
cap() { local hard=$1 want=$2; [[ $hard == unlimited || $hard -ge $want ]] && echo "$want" || echo "$hard"; }
nofile=$(cap "$(ulimit -Hn)" 20000)
nproc=$(cap "$(ulimit -Hu)" 20000)
conf=$(printf '# Written by tools/podman-setup.sh.\n[containers]\ndefault_ulimits = [\n  "nofile=%s:%s",\n  "nproc=%s:%s",\n]\n\n[engine]\nruntime = "runc"\n' \
    "$nofile" "$nofile" "$nproc" "$nproc")
if [[ ! -f $CONF || $(cat "$CONF") != "$conf" ]]; then
    mkdir -p "$(dirname "$CONF")"
    printf '%s\n' "$conf" >"$CONF"
    log "wrote $CONF (runc, nofile $nofile, nproc $nproc)"
fi

# The http(s) URI of this machine's Debian archive: deb822 sources first, then one-line ones.
mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        awk '/^URIs:/ {u=$2} /^Suites:/ && / '"$SUITE"'( |$)/ && u ~ /\/debian\/?$/ {print u; exit}' "$f"
    done
    awk '$1 == "deb" && $3 == "'"$SUITE"'" && $2 ~ /\/debian\/?$/ {print $2; exit}' \
        /etc/apt/sources.list 2>/dev/null || true
}

if [[ ${TIZZA_BASE_REBUILD:-0} != 1 ]] && podman image exists "$BASE:$SUITE" &&
    podman image exists "$BASE:$SUITE-slim"; then
    exit 0
fi
url=${TIZZA_BASE_MIRROR:-$(mirror | head -1)}
[[ -n $url ]] || die "no Debian $SUITE mirror in /etc/apt/sources*; set TIZZA_BASE_MIRROR"
root=$(mktemp -d "${TMPDIR:-/tmp}/tizza-rootfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
log "debootstrap --variant=minbase $SUITE from $url"
t0=$SECONDS
debootstrap --variant=minbase "$SUITE" "$root" "$url" >"$root.log" 2>&1 ||
    { tail -20 "$root.log" >&2; rm -f "$root.log"; die "debootstrap failed"; }
rm -f "$root.log"
# As in Debian's own images: no downloaded packages or package lists.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" --numeric-owner -c . |
    podman import -q --change 'CMD ["bash"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - "$BASE:$SUITE" >/dev/null
podman tag "$BASE:$SUITE" "$BASE:$SUITE-slim"
log "imported $BASE:$SUITE and :$SUITE-slim in $((SECONDS - t0)) s" \
    "($(podman image inspect --format '{{.Size}}' "$BASE:$SUITE") bytes)"
