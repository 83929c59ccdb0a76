#!/usr/bin/env bash
# tools/images.sh -- builds every Tizza image (`make images`): tizza/<service> for each
# service of services/*/service.yaml (deploy/docker/service.Dockerfile, SERVICE and its PORT
# as build arguments) and tizza/gateway (deploy/docker/gateway.Dockerfile), tagged TIZZA_TAG
# (latest); for the offline stack (podman, or TIZZA_STACK_OFFLINE=1) also the stand-ins
# tizza/offline-<name> of deploy/docker/offline/<name>.Dockerfile. Prints each image's size
# and the total time.
#
# The engine is podman when installed (then tools/podman-setup.sh runs first: it prepares
# podman and makes the base images locally, so no registry is needed), else docker
# (tools/containers.sh; TIZZA_ENGINE=docker|podman picks one). The service images share one build stage (it does not
# depend on SERVICE), so it compiles once. A machine whose TLS goes through an intercepting
# proxy has its CA bundle (SSL_CERT_FILE, else /etc/ssl/certs/ca-certificates.crt) mounted
# read-only into the builds for npm (gateway.Dockerfile's NODE_EXTRA_CA_CERTS); nothing of it
# stays in an image.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'images: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

source tools/containers.sh
# shellcheck source=tools/python.sh
source tools/python.sh
if [[ $engine == podman ]]; then
    if ((EUID == 0)); then bash tools/podman-setup.sh
    else log "not root: assuming podman and its base images are ready (tools/podman-setup.sh)"
    fi
fi
ca=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
ca_args=()
[[ -r $ca ]] && ca_args=(--volume "$ca:/run/tizza-build-ca.crt:ro"
                         --build-arg NODE_EXTRA_CA_CERTS=/run/tizza-build-ca.crt)

t0=$SECONDS
images=()
while read -r name port <&3; do # fd 3: the engine may read stdin
    build "tizza/$name" deploy/docker/service.Dockerfile --build-arg "SERVICE=$name" \
        --build-arg "PORT=$port"
    images+=("tizza/$name")
done 3< <("$TIZZA_PYTHON" tools/gen.py --list)
((${#images[@]})) || die "no service found (services/*/service.yaml)"
if [[ $engine == podman ]]; then
    build tizza/gateway deploy/docker/gateway.Dockerfile "${ca_args[@]}"
else # docker build has no --volume: the CA reaches npm only where Docker's own trust has it
    build tizza/gateway deploy/docker/gateway.Dockerfile
fi
images+=(tizza/gateway)
# where no registry is reachable, the stand-ins compose.offline.yml runs instead
if [[ $offline == 1 ]]; then
    for file in deploy/docker/offline/*.Dockerfile; do
        name=tizza/offline-$(basename "$file" .Dockerfile)
        build "$name" "$file"
        images+=("$name")
    done
fi

printf '%-16s %8s\n' IMAGE MB
for image in "${images[@]}"; do
    bytes=$("$engine" image inspect --format '{{.Size}}' "$image:$tag")
    awk -v i="$image" -v b="$bytes" 'BEGIN { printf "%-16s %8.1f\n", i, b / 1e6 }'
done
log "${#images[@]} images in $((SECONDS - t0)) s ($engine)"
