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
#    `debootstrap`, imported as docker.io/library/debian:bookworm; the same without
#    documentation, man pages and locales (with the dpkg path excludes of Debian's own slim
#    images, so later installs stay slim too) as :bookworm-slim; and
#    docker.io/library/node:20-bookworm-slim: that slim image with Node.js 20 and npm in
#    /usr/local as the official node image has them (the npm packages node-linux-<arch> and
#    npm, fetched by this machine's npm). The Debian mirror is the one this machine's apt uses.
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

have() { [[ ${TIZZA_BASE_REBUILD:-0} != 1 ]] && podman image exists "$1"; }

if ! have "$BASE:$SUITE" || ! have "$BASE:$SUITE-slim"; then
    url=${TIZZA_BASE_MIRROR:-$(mirror | head -1)}
    [[ -n $url ]] || die "no Debian $SUITE mirror in /etc/apt/sources*; set TIZZA_BASE_MIRROR"
    root=$(mktemp -d "${TMPDIR:-/tmp}/tizza-rootfs.XXXXXX")
    trap 'rm -rf "$root" "$root.log"' EXIT
    log "debootstrap --variant=minbase $SUITE from $url"
    t0=$SECONDS
    debootstrap --variant=minbase "$SUITE" "$root" "$url" >"$root.log" 2>&1 ||
        { tail -20 "$root.log" >&2; die "debootstrap failed"; }
    # As in Debian's own images: no downloaded packages or package lists, now or after an
    # apt-get install in a Dockerfile.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    printf '%s\n' \
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' \
        'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' \
        'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";' \
        >"$root/etc/apt/apt.conf.d/docker-clean"
    import() { # tag
        tar -C "$root" --numeric-owner -c . |
            podman import -q --change 'CMD ["bash"]' \
                --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
                - "$1" >/dev/null
    }
    import "$BASE:$SUITE"
    # slim: what Debian's bookworm-slim leaves out, now and for every later dpkg install
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/groff/*' \
        'path-exclude /usr/share/info/*' 'path-exclude /usr/share/lintian/*' \
        'path-exclude /usr/share/linda/*' 'path-exclude /usr/share/locale/*' \
        'path-include /usr/share/locale/locale.alias' >"$root/etc/dpkg/dpkg.cfg.d/docker"
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$root"/usr/share/{man,groff,info,lintian,linda}/* "$root"/var/cache/debconf/*-old
    find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
    import "$BASE:$SUITE-slim"
    log "imported $BASE:$SUITE ($(podman image inspect --format '{{.Size}}' "$BASE:$SUITE") bytes)" \
        "and :$SUITE-slim ($(podman image inspect --format '{{.Size}}' "$BASE:$SUITE-slim") bytes)" \
        "in $((SECONDS - t0)) s"
fi

# node:20-bookworm-slim, for the gateway's frontend build stage.
NODE=docker.io/library/node:20-$SUITE-slim
if ! have "$NODE"; then
    case $(uname -m) in
        x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) die "no Node.js build for $(uname -m)" ;;
    esac
    command -v npm >/dev/null || die "npm is needed to fetch Node.js (make deps installs it)"
    ctx=$(mktemp -d "${TMPDIR:-/tmp}/tizza-node.XXXXXX")
    trap 'rm -rf "$ctx"' EXIT
    (cd "$ctx" && npm pack --silent "node-linux-$arch@20" npm@10 >/dev/null) ||
        die "npm pack node-linux-$arch@20 npm@10 failed"
    mv "$ctx"/node-linux-*.tgz "$ctx/node.tgz"
    mv "$ctx"/npm-*.tgz "$ctx/npm.tgz"
    cat >"$ctx/Containerfile" <<EOF
FROM $BASE:$SUITE-slim
ADD node.tgz /tmp/node
ADD npm.tgz /tmp/npm
RUN install -m 0755 /tmp/node/package/bin/node /usr/local/bin/node \\
 && mkdir -p /usr/local/lib/node_modules && mv /tmp/npm/package /usr/local/lib/node_modules/npm \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && rm -rf /tmp/node /tmp/npm && node --version && npm --version
CMD ["node"]
EOF
    podman build -q -t "$NODE" "$ctx" >/dev/null || die "building $NODE failed"
    log "built $NODE ($(podman image inspect --format '{{.Size}}' "$NODE") bytes)"
fi
