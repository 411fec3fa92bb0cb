#!/bin/sh
# Installs what the PostgreSQL tiers use (Debian, as root). Idempotent: every step checks first.
#
#   - postgresql: initdb and pg_ctl; the tests start a private cluster in a temp dir on a free
#     127.0.0.1 port (test/integration/postgres-cluster.ts) — no system service is started
#   - nginx with its stream module: the TCP load balancer in front of two serve nodes (HA test)
set -eu

say() { printf 'setup-postgres: %s\n' "$*" >&2; }

have_pg() {
  for d in /usr/lib/postgresql/*/bin /usr/local/bin /usr/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && return 0
  done
  return 1
}

need_pkgs=""
have_pg || need_pkgs="$need_pkgs postgresql"
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_pkgs="$need_pkgs nginx"
ls /usr/lib/nginx/modules/ngx_stream_module.so >/dev/null 2>&1 || need_pkgs="$need_pkgs libnginx-mod-stream"

if [ -n "$need_pkgs" ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing:$need_pkgs — run as root to install them"; exit 1
  fi
  say "installing$need_pkgs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Installing must not start the packaged services: nothing here runs an init system anyway,
  # and policy-rc.d says so for the packages' scripts.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $need_pkgs >/dev/null
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
fi

say "ready"
