#!/bin/sh
# Builds a container image from Debian's busybox-static without any registry: a root file system
# holding the static busybox and its applets, imported with `docker import`. Does nothing when the
# image is already there. Used by the compose integration tests and examples/hello-compose.
#   scripts/import-busybox-image.sh [IMAGE]     (default margo.local/busybox:1)
# Needs a running docker engine the caller may use, and /bin/busybox from busybox-static (a
# dynamically linked busybox would not run in an image without a C library).
set -eu
IMAGE="${1:-margo.local/busybox:1}"
say() { printf 'import-busybox-image: %s\n' "$*" >&2; }

# An image without PATH in its config would make `docker exec <c> <applet>` fail, so PATH is the
# mark of a complete import.
if docker image inspect -f '{{.Config.Env}}' "$IMAGE" 2>/dev/null | grep -q 'PATH='; then
  exit 0
fi
if [ ! -x /bin/busybox ]; then
  say "/bin/busybox is missing: apt-get install busybox-static"; exit 1
fi

say "importing $IMAGE from /bin/busybox"
root="$(mktemp -d)"
trap 'rm -rf "$root" "$root.tar"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/etc"
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
tar -C "$root" -cf "$root.tar" .
docker import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' "$root.tar" "$IMAGE" >/dev/null
