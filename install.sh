#!/usr/bin/env bash
# Installs margo from this checkout on a Debian machine that has node and npm:
# bun from the npm registry, dependencies from the lockfile, then builds dist/margo and links
# it onto PATH. Safe to run again.
#   ./install.sh            build and install the margo executable
#   ./install.sh --agent    also install the device agent as a systemd service (root)
set -euo pipefail
cd "$(dirname "$0")"

BUN_VERSION=1.4.5
PREFIX="${PREFIX:-}"

say() { printf 'install: %s\n' "$*" >&2; }

if ! command -v bun >/dev/null 2>&1 || [ "$(bun --version 2>/dev/null)" != "$BUN_VERSION" ]; then
  command -v npm >/dev/null 2>&1 || { say "npm is needed to install bun: apt-get install -y nodejs npm"; exit 1; }
  if [ "$(id -u)" = 0 ]; then
    say "installing bun $BUN_VERSION from the npm registry"
    npm install -g --allow-scripts=bun "bun@${BUN_VERSION}" >&2
  else
    say "installing bun $BUN_VERSION into ~/.local (no root)"
    npm install -g --prefix "$HOME/.local" --allow-scripts=bun "bun@${BUN_VERSION}" >&2
    export PATH="$HOME/.local/bin:$PATH"
  fi
fi

say "installing dependencies from bun.lock"
bun install --frozen-lockfile >&2

say "building dist/margo"
bun run scripts/build.ts >&2

# Put margo on PATH: /usr/local/bin as root, ~/.local/bin otherwise.
if [ -z "$PREFIX" ]; then
  if [ "$(id -u)" = 0 ]; then PREFIX=/usr/local; else PREFIX="$HOME/.local"; fi
fi
bash scripts/link-margo.sh "$PWD/dist/margo" "$PREFIX"

if [ "${1:-}" = "--agent" ]; then
  [ "$(id -u)" = 0 ] || { say "--agent installs a system service: run as root"; exit 1; }
  if [ ! -f deploy/margo-agent.service ]; then say "deploy/margo-agent.service is missing from this checkout"; exit 1; fi
  install -m 0644 deploy/margo-agent.service /etc/systemd/system/margo-agent.service
  mkdir -p /etc/margo
  [ -f /etc/margo/agent.yaml ] || { install -m 0600 deploy/agent.example.yaml /etc/margo/agent.yaml; say "edit /etc/margo/agent.yaml (server URL and trust), then: systemctl enable --now margo-agent"; }
  if command -v systemctl >/dev/null 2>&1 && systemctl daemon-reload 2>/dev/null; then say "then: systemctl enable --now margo-agent"; else say "systemd is not running here; the unit is installed for the next boot"; fi
fi
