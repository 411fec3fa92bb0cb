#!/bin/sh
# Installs what the registry integration tests use (Debian, as root). Idempotent: every step
# checks first and does nothing when its result is already in place.
#
#   - docker-registry: the CNCF distribution registry server (/usr/bin/docker-registry); the
#     tests start their own instance on a free 127.0.0.1 port with storage in a temp dir
#   - apache2-utils: htpasswd, for the bcrypt password file of the basic-auth case
#   - git: for the git registry cases
#
# Installing the package does not start a registry (no init system runs here); nothing listens
# until a test starts one.
set -eu

say() { printf 'setup-registry: %s\n' "$*" >&2; }

need_pkgs=""
[ -x /usr/bin/docker-registry ] || need_pkgs="$need_pkgs docker-registry"
command -v htpasswd >/dev/null 2>&1 || need_pkgs="$need_pkgs apache2-utils"
command -v git >/dev/null 2>&1 || need_pkgs="$need_pkgs git"

if [ -n "$need_pkgs" ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing:$need_pkgs — run as root to install them"; exit 1
  fi
  say "installing$need_pkgs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $need_pkgs >/dev/null
fi

say "ready: $(/usr/bin/docker-registry --version 2>/dev/null | head -n 1)"
