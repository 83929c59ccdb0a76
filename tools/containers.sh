# tools/containers.sh -- sourced by tools/images.sh and tools/stack.sh: which container
# engine to use, whether the stack is the offline one, and how to build an image.
#   engine    TIZZA_ENGINE, else podman when installed, else docker (else podman for root,
#             which tools/podman-setup.sh installs)
#   offline   TIZZA_STACK_OFFLINE, else 1 with podman and 0 with docker: 1 means the images
#             Tizza does not build come from deploy/docker/offline/ (built here from Debian
#             packages, deploy/docker/compose.offline.yml) instead of a registry
#   tag       TIZZA_TAG (latest)
#   build IMAGE DOCKERFILE [ARGS...]   IMAGE:$tag from the repository root; with podman in
#             Docker's image format, since its default (OCI) has no HEALTHCHECK
# The caller defines log and die.
if [[ -n ${TIZZA_ENGINE:-} ]]; then engine=$TIZZA_ENGINE
elif command -v podman >/dev/null; then engine=podman
elif command -v docker >/dev/null; then engine=docker
elif ((EUID == 0)); then engine=podman
else die "neither podman nor docker is installed (as root, tools/podman-setup.sh installs podman)"
fi
offline=${TIZZA_STACK_OFFLINE:-$([[ $engine == podman ]] && echo 1 || echo 0)}
tag=${TIZZA_TAG:-latest}

build() {
    local image=$1 file=$2 t=$SECONDS format=()
    shift 2
    [[ $engine == podman ]] && format=(--format docker)
    log "building $image:$tag"
    "$engine" build -q "${format[@]}" -f "$file" -t "$image:$tag" "$@" . >/dev/null ||
        die "building $image failed"
    log "built $image:$tag in $((SECONDS - t)) s"
}
