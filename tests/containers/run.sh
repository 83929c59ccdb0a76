#!/usr/bin/env bash
# Containers suite: builds the images (make images) and runs tests/containers/test_*.py
# against a compose stack of its own (tools/stack.sh).
# Skipped (exit 0, saying why) where containers cannot run: no podman or docker, not root
# with podman (tools/podman-setup.sh needs root), or inside a podman container (as `make
# ci-fresh` runs the suites: /run/.containerenv). Bounded: 20 min including the image
# builds. Logs and figures go to tests/artifacts/containers/.
set -uo pipefail
cd "$(dirname "$0")/../.."

skip() { echo "containers: skipped: $*"; exit 0; }
[[ -f /run/.containerenv ]] && skip "inside a podman container"
if command -v podman >/dev/null; then
    ((EUID == 0)) || skip "podman needs root here (tools/podman-setup.sh)"
elif ! command -v docker >/dev/null; then
    skip "neither podman nor docker is installed (tools/deps.sh installs podman as root)"
fi
# shellcheck source=tools/python.sh
source tools/python.sh || exit 1
art=${TIZZA_TEST_ARTIFACT_ROOT:-tests/artifacts/containers}
rm -rf "$art"
mkdir -p "$art"
t0=$SECONDS
timeout -k 10 1200 bash -c '
    t=$SECONDS
    bash tools/images.sh >"$1/images.log" 2>&1 || { tail -30 "$1/images.log"; exit 1; }
    grep -A20 "^IMAGE" "$1/images.log"
    echo "figure: make images: $((SECONDS - t)) s" | tee -a "$1/figures.txt"
    TIZZA_TEST_ARTIFACTS=$1 "$TIZZA_PYTHON" -m unittest discover -v -s tests/containers \
        -p "test_*.py" -t tests/containers
' _ "$art"
rc=$?
echo "containers: $( ((rc == 0)) && echo passed || echo "FAILED ($rc)") in $((SECONDS - t0)) s"
exit $rc
