#!/bin/sh
# Installs what the release tests use to run the linux-arm64 executable on an x86-64 machine
# (Debian, as root). Idempotent: does nothing when everything is already in place.
#
#   - qemu-user-static: qemu-aarch64-static, the user-mode emulator the test runs the binary with
#   - libc6-arm64-cross: the arm64 glibc and its loader under /usr/aarch64-linux-gnu (qemu -L)
#   - binfmt-support: lets the kernel hand arm64 executables to qemu when binfmt_misc is usable
#   - file: the architecture and loader checks
set -eu

say() { printf 'setup-qemu: %s\n' "$*" >&2; }

need_pkgs=""
command -v qemu-aarch64-static >/dev/null 2>&1 || need_pkgs="$need_pkgs qemu-user-static binfmt-support"
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || need_pkgs="$need_pkgs libc6-arm64-cross"
command -v file >/dev/null 2>&1 || need_pkgs="$need_pkgs file"

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
say "qemu-aarch64-static $(qemu-aarch64-static --version | head -n1 | grep -Eo '[0-9]+\.[0-9.]+' | head -n1), arm64 glibc in /usr/aarch64-linux-gnu"
