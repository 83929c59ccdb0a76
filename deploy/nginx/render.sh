#!/usr/bin/env bash
# deploy/nginx/render.sh -- prints the gateway's main nginx config for one machine.
#
#   render.sh [--listen ADDR] [--root DIR] [--prefix DIR] [--user NAME]
#             [--<service> HOST:PORT ...]
#
# Output (stdout): nginx.local.conf with its markers filled and two files pasted in at its
# marker lines: upstreams.local.conf (each service address replaced by --<service> when given)
# and gateway.conf (its `listen 8080;` replaced by --listen when given). One self-contained
# file, so what runs is what you read. Start it with
#     nginx -e stderr -p PREFIX -c FILE -g 'daemon off;'
# Defaults: --listen 8080, --root <repo>/services/web/dist, --prefix <repo>/var/nginx, each
# service at the address its group in upstreams.local.conf has (127.0.0.1 and its port;
# the groups are generated from services/*/service.yaml, tools/gen.py), --user root when run
# as root (else no user directive).
# The prefix directory is created (nginx writes its pid file and temp directories there).
# Users: tools/run.sh (make run), tests/e2e/run.sh, tests/integration/test_gateway.py.
# Exit status 2 on a bad argument, with one line on stderr.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

die() { printf 'render.sh: %s\n' "$*" >&2; exit 2; }

listen=8080
root=$repo/services/web/dist
prefix=$repo/var/nginx
user=
((EUID == 0)) && user=root
main=$(<"$here/nginx.local.conf")
upstreams=$(<"$here/upstreams.local.conf")
gateway=$(<"$here/gateway.conf")

# The services and their default addresses: `upstream tizza_NAME {` then `server ADDR;`.
declare -A addr default_addr
group=
while read -r a b _; do
    if [[ $a == upstream && $b == tizza_* ]]; then
        group=${b#tizza_}
    elif [[ $a == server && -n $group ]]; then
        addr[$group]=${b%;}
        default_addr[$group]=${b%;}
        group=
    fi
done <<<"$upstreams"

while (($#)); do
    opt=$1
    (($# >= 2)) || die "$opt needs a value"
    val=$2
    shift 2
    case $opt in
    --listen) listen=$val ;;
    --root) root=$val ;;
    --prefix) prefix=$val ;;
    --user) user=$val ;;
    *)
        [[ $opt == --* && -n ${addr[${opt#--}]+set} ]] || die "unknown option $opt"
        addr[${opt#--}]=$val
        ;;
    esac
done

# Values end up inside the nginx config: allow only what they need.
[[ $listen =~ ^[][A-Za-z0-9.:_-]+$ ]] || die "bad --listen '$listen'"
for s in "${!addr[@]}"; do
    [[ ${addr[$s]} =~ ^[][A-Za-z0-9.:_-]+:[0-9]+$ ]] || die "bad --$s '${addr[$s]}' (want HOST:PORT)"
done
[[ -z $user || $user =~ ^[A-Za-z0-9._-]+$ ]] || die "bad --user '$user'"
abspath() { # a directory path made absolute (it need not exist)
    case $1 in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac
}
root=$(abspath "$root")
prefix=$(abspath "$prefix")
for p in "$root" "$prefix"; do
    [[ $p != *[\"\$\\$'\n'\;{}]* ]] || die "unsupported character in path '$p'"
done
mkdir -p "$prefix"

# replace_once TEXT OLD NEW: TEXT with the single occurrence of OLD replaced (error otherwise)
replace_once() {
    local text=$1 old=$2 new=$3 rest
    rest=${text#*"$old"}
    [[ $rest != "$text" ]] || die "'$old' not found"
    [[ $rest != *"$old"* ]] || die "'$old' found more than once"
    printf '%s' "${text%%"$old"*}$new$rest"
}

for s in "${!addr[@]}"; do
    upstreams=$(replace_once "$upstreams" "server ${default_addr[$s]};" "server ${addr[$s]};")
done
gateway=$(replace_once "$gateway" $'\n    listen 8080;\n' $'\n    listen '"$listen"$';\n')

main=$(replace_once "$main" $'\n@USER@\n' $'\n'"${user:+user $user;}"$'\n')
main=${main//"@PREFIX@"/"$prefix"}
main=$(replace_once "$main" '"@ROOT@"' "\"$root\"")
main=$(replace_once "$main" '    # @UPSTREAMS@ (upstreams.local.conf)' \
    "# ---- $here/upstreams.local.conf"$'\n'"$upstreams"$'\n'"# ---- end of upstreams.local.conf")
main=$(replace_once "$main" '    # @GATEWAY@ (gateway.conf)' \
    "# ---- $here/gateway.conf"$'\n'"$gateway"$'\n'"# ---- end of gateway.conf")

printf '# Rendered by deploy/nginx/render.sh: do not edit, edit the files it names.\n%s\n' "$main"
