#!/bin/bash
# tizza-healthcheck [PATH [ADDR:PORT]] -- exit 0 when GET http://127.0.0.1:$PORT$PATH (or
# http://ADDR:PORT$PATH) answers 200.
#
# The HEALTHCHECK of every Tizza image (Docker runs it inside the container). It speaks
# HTTP/1.0 over bash's /dev/tcp so that the runtime images need no curl or wget (and so
# none of their libraries). PATH defaults to /health (liveness); `tizza-healthcheck /ready`
# asks the readiness question instead. PORT is the container's own (set by the image). The
# gateway's entrypoint asks it of other containers' addresses (ADDR:PORT, with a timeout).
# Exit status: 0 healthy, 1 anything else (no answer, other status, no status line in 3 s).
set -u
path=${1:-/health}
target=${2:-127.0.0.1:${PORT:?PORT is not set}}
exec 3<>"/dev/tcp/${target%:*}/${target##*:}" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\nUser-Agent: tizza-healthcheck\r\n\r\n' "$path" >&3 || exit 1
IFS= read -r -t 3 status <&3 || exit 1
case $status in
"HTTP/1."[01]" 200 "*) exit 0 ;;
*) exit 1 ;;
esac
