#!/usr/bin/env bash
# tests/static/run.sh -- static checks of the deployment (docker-compose.yml and
# deploy/docker/compose.offline.yml, deploy/docker, .dockerignore, deploy/k8s,
# deploy/prometheus, deploy/grafana, deploy/nginx, deploy/README.md) against each other and
# against the code, without images or containers (tests/containers builds and runs those);
# see tests/static/check_deploy.py.
# deploy/k8s is checked as kustomize renders it (deploy/k8s/overlays/production), and every
# rendered object is validated against the Kubernetes API schemas; no cluster is involved.
# Needs a `make` build (build/bin: their --help and ports are facts the files must match, and
# check_live_binaries runs them), tools/python.sh's interpreter, nginx, make, node and the
# tools of tests/static/k8s (kubectl for kustomize, kubernetes-models), which
# tests/static/k8s/setup.sh installs with npm ci when they are missing or out of date.
# deploy/terraform is parsed with @cdktf/hcl2json (tests/static/terraform/setup.sh installs it
# the same way) and checked by terraform_checks.py; no terraform or cloud is involved.
# Prints one line per check and a closing "N passed, M failed"; exit status 1 on a failure.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
# A failed setup is not fatal here: the checks that need the tools then fail, saying why.
bash tests/static/k8s/setup.sh || echo "run.sh: tests/static/k8s/setup.sh failed" >&2
bash tests/static/terraform/setup.sh || echo "run.sh: tests/static/terraform/setup.sh failed" >&2
# shellcheck source=tools/python.sh
source tools/python.sh || exit 2
exec "$TIZZA_PYTHON" tests/static/check_deploy.py "$@"
