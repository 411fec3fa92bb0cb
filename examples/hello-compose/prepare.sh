#!/bin/sh
# Makes the hello-compose sample deployable offline: imports its image when missing, packs
# package/ into hello-compose.tar.gz and serves it on loopback with busybox httpd, where
# margo.yaml's packageLocation points. Safe to re-run: it replaces the server it started before.
#
# Environment:
#   HELLO_COMPOSE_PORT  port on 127.0.0.1 (default 8780; margo.yaml names 8780)
#   HELLO_COMPOSE_DIR   where the archive, pid file and server log go (default /tmp/margo-hello-compose)
# Needs docker (usable by the caller) and busybox-static: sh test/integration/setup-docker.sh as
# root installs both.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
port="${HELLO_COMPOSE_PORT:-8780}"
dir="${HELLO_COMPOSE_DIR:-/tmp/margo-hello-compose}"
say() { printf 'prepare: %s\n' "$*" >&2; }

sh "$here/../../scripts/import-busybox-image.sh" margo.local/busybox:1

mkdir -p "$dir/www"
tar -C "$here" --owner=0 --group=0 --numeric-owner -czf "$dir/www/hello-compose.tar.gz.new" package
mv -f "$dir/www/hello-compose.tar.gz.new" "$dir/www/hello-compose.tar.gz"

# Stop the server a previous run started (only if that pid is still a busybox httpd).
if [ -f "$dir/httpd.pid" ]; then
  old="$(cat "$dir/httpd.pid")"
  if grep -q httpd "/proc/$old/cmdline" 2>/dev/null; then kill "$old"; sleep 0.2; fi
  rm -f "$dir/httpd.pid"
fi

setsid /bin/busybox httpd -f -p "127.0.0.1:$port" -h "$dir/www" </dev/null >"$dir/httpd.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/httpd.pid"
url="http://127.0.0.1:$port/hello-compose.tar.gz"
i=0
until /bin/busybox wget -q -O /dev/null "$url" 2>/dev/null; do
  i=$((i + 1))
  if [ "$i" -gt 50 ] || ! kill -0 "$pid" 2>/dev/null; then
    say "the file server did not start on 127.0.0.1:$port (port taken? HELLO_COMPOSE_PORT picks another):"
    cat "$dir/httpd.log" >&2; kill "$pid" 2>/dev/null || true; rm -f "$dir/httpd.pid"; exit 1
  fi
  sleep 0.1
done
echo "serving $url (busybox httpd, pid $pid, files in $dir/www)"
echo "stop it with: kill \$(cat $dir/httpd.pid)"
