#!/usr/bin/env bash
# tests/static/run.sh -- static checks of the deployment (docker-compose.yml, deploy/docker,
# .dockerignore, deploy/k8s, deploy/prometheus, deploy/grafana, deploy/nginx, deploy/README.md)
# against each other and against the code; see tests/static/check_deploy.py.
# Needs a `make` build (build/bin, build/lib: their --help, ports and libraries are facts the
# files must match), /usr/bin/python3 with python3-yaml, nginx, readelf and dpkg.
# Prints one line per check and a closing "N passed, M failed"; exit status 1 on a failure.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
exec /usr/bin/python3 tests/static/check_deploy.py "$@"
