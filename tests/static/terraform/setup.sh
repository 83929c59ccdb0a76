#!/usr/bin/env bash
# tests/static/terraform/setup.sh -- installs the parser of the Terraform checks into
# tests/static/terraform/node_modules from the npm registry, at the version package-lock.json
# pins (npm ci checks every package's integrity against it):
#   @cdktf/hcl2json  HashiCorp's HCL2 parser built to WebAssembly: turns deploy/terraform/*.tf
#                    into JSON (hcl2json.mjs), which tests/static/terraform_checks.py reads.
# No terraform binary and no provider is installed: the checks are static.
# Does nothing when node_modules already matches package.json, package-lock.json and .npmrc
# (a stamp holds their hash), so tests/static/run.sh calls it every time.
# Needs node and npm (tools/deps.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
STAMP=node_modules/.tizza-stamp

want=$(cat package.json package-lock.json .npmrc | sha256sum | cut -d' ' -f1)
if [[ -f $STAMP && $(cat "$STAMP") == "$want" ]]; then
    exit 0
fi
echo "terraform-setup: npm ci in tests/static/terraform (@cdktf/hcl2json)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$want" >"$STAMP"
