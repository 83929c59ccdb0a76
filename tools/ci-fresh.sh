#!/usr/bin/env bash
# tools/ci-fresh.sh [REF] -- `make ci-fresh`: proves that CI passes on a machine that never ran
# Tizza. Clones the committed REF (default HEAD) of this repository into a new folder and runs
# `bash .ci/run` in it as root inside a new container of a minbase Debian 12 image
# (tools/podman-setup.sh makes it locally), so nothing this machine installed, built, cached or
# left behind can help: .ci/run installs every package itself, then runs `make test`.
#
# The container gets this machine's network trust, as a machine of its own would have it:
# the local CA certificates (/usr/local/share/ca-certificates, added to the system bundle
# when .ci/run installs ca-certificates), the proxy and CA-bundle variables that are set,
# and npm's cafile. Behind a TLS-inspecting proxy nothing reaches a registry without them.
#
# Inside the container the suites that need to start containers themselves skip, saying so
# (no nested containers); everything else runs as in CI. The container and the clone are
# removed at the end; the whole output is kept in build/ci-fresh.log.
# Env: CI_FRESH_KEEP=1 keeps the clone (its path is printed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
REF=${1:-HEAD}
LOG=$ROOT/build/ci-fresh.log
IMAGE=docker.io/library/debian:bookworm
NAME=tizza-ci-fresh-$$

say() { printf 'ci-fresh: %s\n' "$*" >&2; }

commit=$(git rev-parse --verify "$REF^{commit}") || { say "no commit $REF"; exit 2; }
[[ -z $(git status --porcelain --untracked-files=no) ]] ||
    say "note: uncommitted changes are not part of the run (it tests $REF = ${commit:0:12})"

bash tools/podman-setup.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/tizza-ci-fresh.XXXXXX")
cleanup() {
    podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
    if [[ ${CI_FRESH_KEEP:-0} == 1 ]]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

git clone --quiet --no-local --no-checkout "$ROOT" "$work/tizza"
git -C "$work/tizza" checkout --quiet --detach "$commit"
mkdir -p "$(dirname "$LOG")"
say "running .ci/run of ${commit:0:12} in a fresh $IMAGE container (log: ${LOG#"$ROOT"/})"
t0=$SECONDS
rc=0
trust=()
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY SSL_CERT_FILE \
    SSL_CERT_DIR NODE_EXTRA_CA_CERTS REQUESTS_CA_BUNDLE; do
    [[ -n ${!v:-} ]] && trust+=(--env "$v=${!v}")
done
cafile=$(npm config get cafile 2>/dev/null || true)
[[ -n $cafile && $cafile != null && $cafile != undefined ]] && trust+=(--env "npm_config_cafile=$cafile")
[[ -d /usr/local/share/ca-certificates ]] &&
    trust+=(--volume /usr/local/share/ca-certificates:/usr/local/share/ca-certificates:ro)
# Chromium needs more than the default 64 MB of /dev/shm.
podman run --name "$NAME" --rm --shm-size=1g --env CI=true "${trust[@]}" \
    --volume "$work/tizza:/src/tizza" --workdir /src/tizza \
    "$IMAGE" bash .ci/run 2>&1 | tee "$LOG" || rc=$?
say "$([[ $rc == 0 ]] && echo passed || echo "FAILED (exit $rc)") in $((SECONDS - t0)) s:" \
    "$(grep -E '^suites: ' "$LOG" | tail -1 || echo 'no suite summary')"
exit "$rc"
