#!/usr/bin/env bash
# Scaffold suite: `make new-service` in a temporary copy of the repository (its tracked and
# untracked, not ignored, files, committed there so that git can tell what changed).
#   1. Refused names (not lowercase letters, an existing service, a route another service
#      has, a name the stack reserves, none) exit non-zero with a reason and change nothing.
#   2. `make new-service NAME=reviews` changes nothing under libcommon/ or services/auth/;
#      it writes the service's folder, its OpenAPI document, its tests and the generated
#      files, and those are fresh (tools/gen.py --check).
#   3. The copy builds (-Werror, with AddressSanitizer + UBSan as make test's binaries) with
#      tizza-reviews on the next free port, and clang-format finds the new C formatted.
#   4. The new service's own integration tests run on the copy's binaries, within every
#      service of the copy: entries written and refused, and a deleted user's entries erased
#      and counted in auth's erasure record (the events document every binary embeds has the
#      new queue, so auth expects reviews).
# Logs go to tests/artifacts/scaffold/.
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
# shellcheck source=tools/python.sh
source tools/python.sh || exit 1
art=${TIZZA_TEST_ARTIFACT_ROOT:-$REPO/tests/artifacts/scaffold}
rm -rf "$art"
mkdir -p "$art"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tizza-scaffold.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
copy=$tmp/repo
failed=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }

command -v git >/dev/null || { echo "git is not installed (tools/deps.sh installs it)"; exit 1; }
git rev-parse --git-dir >/dev/null 2>&1 || { echo "not a git checkout: nothing to copy"; exit 1; }
mkdir -p "$copy"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [[ -e $f ]] && printf '%s\0' "$f" # a deleted, not yet committed file is not copied
done | xargs -0 cp --parents -t "$copy" || { echo "copying the repository failed"; exit 1; }
cd "$copy" || exit 1
git init -q && git add -A && git -c user.name=t -c user.email=t@example.org commit -qm base ||
    { echo "git init in the copy failed"; exit 1; }

# ---- 1. refusals
for name in Reviews reviews2 r auth tweets users gateway store ''; do
    if out=$(make -s new-service NAME="$name" 2>&1); then
        bad "NAME='$name' was accepted"
    elif [[ -n $(git status --porcelain) ]]; then
        bad "NAME='$name' was refused but changed: $(git status --porcelain | head -3)"
        git reset -q --hard && git clean -qfd
    elif [[ $out != *"new-service: "*"nothing changed"* ]]; then
        bad "NAME='$name': no reason given: $out"
    else
        ok "NAME='$name' refused: $(grep -o 'new-service: .*' <<<"$out")"
    fi
done

# ---- 2. the scaffold and what it changes
if make -s new-service NAME=reviews >"$art/new-service.log" 2>&1; then
    ok "make new-service NAME=reviews"
else
    bad "make new-service NAME=reviews failed: $(tail -3 "$art/new-service.log")"
fi
git add -A
changed=$(git diff --cached --name-only)
printf '%s\n' "$changed" >"$art/changed.txt"
touched=$(grep -E '^(libcommon|services/auth)/' <<<"$changed")
[[ -z $touched ]] && ok "nothing under libcommon/ or services/auth/ changed" ||
    bad "changed under libcommon/ or services/auth/: $touched"
for want in services/reviews/main.c services/reviews/reviews.c services/reviews/events.c \
    services/reviews/service.yaml proto-docs/reviews.openapi.yaml \
    tests/integration/test_reviews.py deploy/k8s/services/reviews/config.yaml \
    proto-docs/events.asyncapi.yaml docker-compose.yml deploy/nginx/gateway.conf \
    deploy/prometheus/prometheus.yml deploy/k8s/overlays/production/kustomization.yaml; do
    grep -qxF "$want" <<<"$changed" || bad "make new-service did not write $want"
done
"$TIZZA_PYTHON" tools/gen.py --check && ok "the generated files are fresh" ||
    bad "tools/gen.py --check: stale after make new-service"
grep -q 'reviews.user-deleted' proto-docs/events.asyncapi.yaml &&
    ok "the events document has the queue reviews.user-deleted" ||
    bad "no reviews.user-deleted in proto-docs/events.asyncapi.yaml"

# ---- 3. it builds, formatted, on the next free port
if make -j"$(nproc)" SANITIZE=1 services plugin >"$art/build.log" 2>&1; then
    ok "make services (with tizza-reviews)"
else
    bad "the copy does not build: $(grep -m3 -E 'error|Error' "$art/build.log")"
fi
if command -v clang-format >/dev/null; then
    clang-format --dry-run --Werror services/reviews/*.[ch] >"$art/format.log" 2>&1 &&
        ok "clang-format: services/reviews" || bad "clang-format: $(head -3 "$art/format.log")"
fi
port=$(build/asan/bin/tizza-reviews --help 2>/dev/null |
    sed -n 's/^ *PORT  *listen port (\([0-9]*\);.*/\1/p')
want=$("$TIZZA_PYTHON" tools/gen.py --list | awk '$1 == "reviews" {print $2}')
[[ -n $port && $port == "$want" ]] && ok "tizza-reviews --help: port $port" ||
    bad "tizza-reviews --help gives port '$port', its manifest $want"

# ---- 4. its tests, with every service of the copy
if ((failed == 0)); then
    if TIZZA_BIN_DIR=build/asan/bin TIZZA_TEST_PATTERN='test_reviews.py' \
        TIZZA_TEST_ARTIFACT_ROOT="$art/integration" timeout -k 10 900 \
        bash tests/integration/run.sh >"$art/integration.log" 2>&1; then
        ok "tests/integration/test_reviews.py: $(tail -1 "$art/integration.log")"
    else
        bad "tests/integration/test_reviews.py: $(tail -1 "$art/integration.log") (see $art/integration.log)"
    fi
fi
((failed == 0)) && echo "scaffold: passed" || echo "scaffold: $failed failed"
((failed == 0))
