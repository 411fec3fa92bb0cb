#!/bin/sh
# Prepares a real container engine for the compose integration tests (Debian, run as root).
# Idempotent: every step checks first and does nothing when its result is already in place.
#
#   - docker.io, docker-compose (v1) and busybox-static from apt
#   - dockerd without a bridge, iptables or masquerading (no private network ranges are touched;
#     workloads use network_mode none or host only)
#   - a local image `margo.local/busybox:1` imported from busybox-static (no registry is reachable;
#     scripts/import-busybox-image.sh)
#   - a `docker compose` CLI plugin that forwards to docker-compose v1 when no v2 plugin exists
#
# Environment:
#   MARGO_DOCKER_STATE  directory for dockerd's log and pid file (default /var/lib/margo-test-docker)
#   MARGO_TEST_IMAGE    image name to import (default margo.local/busybox:1)
set -eu

STATE="${MARGO_DOCKER_STATE:-/var/lib/margo-test-docker}"
IMAGE="${MARGO_TEST_IMAGE:-margo.local/busybox:1}"
mkdir -p "$STATE"

say() { printf 'setup-docker: %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  say "must run as root"; exit 1
fi

need_pkgs=""
command -v dockerd >/dev/null 2>&1 || need_pkgs="$need_pkgs docker.io"
command -v docker-compose >/dev/null 2>&1 || need_pkgs="$need_pkgs docker-compose"
[ -x /bin/busybox ] || need_pkgs="$need_pkgs busybox-static"
if [ -n "$need_pkgs" ]; then
  say "installing$need_pkgs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $need_pkgs >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  say "starting dockerd (log: $STATE/dockerd.log)"
  setsid dockerd --bridge=none --iptables=false --ip-masq=false \
    --pidfile "$STATE/dockerd.pid" >"$STATE/dockerd.log" 2>&1 </dev/null &
  i=0
  until docker info >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 120 ]; then
      say "dockerd did not become ready in 60 s; last log lines:"; tail -n 20 "$STATE/dockerd.log" >&2; exit 1
    fi
    sleep 0.5
  done
fi

sh "$(dirname "$0")/../../scripts/import-busybox-image.sh" "$IMAGE"

if ! docker compose version >/dev/null 2>&1; then
  plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
  say "installing the docker compose shim plugin in $plugins"
  mkdir -p "$plugins"
  cat >"$plugins/docker-compose" <<'EOF'
#!/bin/sh
# Forwards `docker compose ...` to docker-compose v1.
if [ "$1" = "docker-cli-plugin-metadata" ]; then
  printf '{"SchemaVersion":"0.1.0","Vendor":"shim","Version":"1.29.2-shim","ShortDescription":"docker-compose v1 shim"}\n'; exit 0
fi
shift; exec docker-compose "$@"
EOF
  chmod +x "$plugins/docker-compose"
fi

say "ready: $(docker version --format '{{.Server.Version}}' 2>/dev/null), $(docker compose version 2>/dev/null | head -n 1)"
