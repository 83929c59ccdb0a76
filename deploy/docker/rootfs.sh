#!/bin/sh
# rootfs.sh DIR FILE... -- the root file system of a service image, assembled in its build
# stage (deploy/docker/service.Dockerfile), which the runtime stage copies onto an empty
# image: each FILE at its own path, with every shared library it loads (its `ldd` closure,
# the dynamic loader included) at theirs, symbolic links resolved. The libraries are the
# build stage's own, from the Debian packages the -dev packages depend on, so the image
# holds exactly what the binaries load and no package list needs keeping in step with them.
# Also: /etc/passwd and /etc/group with the unprivileged user tizza (10001), its home
# /var/lib/tizza (0750) and an empty /tmp (1777). No shell but the bash FILE may bring
# (the health check's).
set -eu
dir=$1
shift
mkdir -p "$dir"
for f in "$@"; do
    [ -e "$f" ] || { echo "rootfs.sh: $f not found" >&2; exit 1; }
    cp -L --parents "$f" "$dir"
    # "name => /path (addr)" and the loader's "/path (addr)"
    ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r lib; do
    cp -L --parents "$lib" "$dir"
done
mkdir -p "$dir/etc" "$dir/var/lib/tizza/var" "$dir/tmp"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\ntizza:x:10001:10001:tizza:/var/lib/tizza:/usr/sbin/nologin\n' >"$dir/etc/passwd"
printf 'root:x:0:\ntizza:x:10001:\n' >"$dir/etc/group"
chown -R 10001:10001 "$dir/var/lib/tizza"
chmod 0750 "$dir/var/lib/tizza"
chmod 1777 "$dir/tmp"
