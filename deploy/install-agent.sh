#!/bin/sh
# Installs the margo device agent from a fleet manager (served as /downloads/install.sh).
# `margo device enroll-command` prints the line that runs it; that line has already checked the
# fleet manager's CA against the fingerprint it carries and hands the verified CA over as
# --ca-file, so every download here is over verified TLS.
#
#   sh install-agent.sh --server URL --downloads URL --ca-file FILE [--join-token TOKEN]
#
# Steps: pick the build for this CPU and C library, download it and SHA256SUMS, refuse it unless
# the SHA-256 matches, install /usr/local/bin/margo, write /etc/margo/ca.pem and
# /etc/margo/agent.yaml (0600: it holds the join token), install the systemd unit and
# (re)start the agent. Running it again is safe: the device keeps its key and clientId (they live
# in /var/lib/margo-agent), the binary and the configuration are replaced.
#
# Environment: MARGO_INSTALL_ROOT installs below another root (no systemd is touched then);
# MARGO_INSTALL_TARGET overrides the detected build (linux-x64, linux-arm64, linux-x64-musl,
# linux-arm64-musl).
set -eu

say() { printf 'margo install: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

server='' downloads='' ca_file='' join_token=''
while [ $# -gt 0 ]; do
  case "$1" in
    --server) server=${2:-}; shift 2 ;;
    --downloads) downloads=${2:-}; shift 2 ;;
    --ca-file) ca_file=${2:-}; shift 2 ;;
    --join-token) join_token=${2:-}; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done
[ -n "$server" ] && [ -n "$downloads" ] && [ -n "$ca_file" ] || die "usage: install-agent.sh --server URL --downloads URL --ca-file FILE [--join-token TOKEN] (run the line margo device enroll-command prints)"
[ -s "$ca_file" ] || die "the CA file $ca_file is missing or empty"
# Written into YAML between single quotes: only the characters join tokens are made of. Never echoed.
case "$join_token" in *[!A-Za-z0-9_.~-]*) die "the join token holds characters no join token has: copy the line again" ;; esac
command -v curl >/dev/null 2>&1 || die "curl is needed"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum is needed (coreutils or busybox)"

root=${MARGO_INSTALL_ROOT:-}
root=${root%/}
if [ -z "$root" ] && [ "$(id -u)" != 0 ]; then die "run as root: put sudo in front of the line"; fi

case "$(uname -m)" in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) die "this device's CPU is $(uname -m); margo is built for x86_64 and aarch64" ;;
esac
libc=''
if ls /lib/ld-musl-*.so.1 >/dev/null 2>&1 || (ldd --version 2>&1 | grep -qi musl); then libc=-musl; fi
target=${MARGO_INSTALL_TARGET:-linux-$arch$libc}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fetch() { curl -fsS --retry 3 --cacert "$ca_file" -o "$2" "$downloads/$1" || die "could not download $downloads/$1"; }

fetch SHA256SUMS "$tmp/SHA256SUMS"
line=$(grep -E "^[0-9a-f]{64}  margo-[^ ]+-$target\$" "$tmp/SHA256SUMS" | tail -n 1 || true)
[ -n "$line" ] || die "the fleet manager offers no margo build for $target (its SHA256SUMS lists: $(sed 's/^[0-9a-f]*  //' "$tmp/SHA256SUMS" | tr '\n' ' '))"
want=${line%% *}
file=${line##* }
say "downloading $file"
fetch "$file" "$tmp/margo"
got=$(sha256sum "$tmp/margo" | cut -d ' ' -f 1)
[ "$got" = "$want" ] || die "checksum mismatch for $file: SHA256SUMS says $want, the download has $got — refusing to install it"

bin_dir="$root/usr/local/bin"
etc_dir="$root/etc/margo"
state_dir="$root/var/lib/margo-agent"
mkdir -p "$bin_dir" "$etc_dir"
# Replaced by rename: a running agent keeps its old executable until it restarts.
cp "$tmp/margo" "$bin_dir/margo.new"
chmod 0755 "$bin_dir/margo.new"
mv -f "$bin_dir/margo.new" "$bin_dir/margo"

cp "$ca_file" "$etc_dir/ca.pem.new"
chmod 0644 "$etc_dir/ca.pem.new"
mv -f "$etc_dir/ca.pem.new" "$etc_dir/ca.pem"

marker='# Written by the margo install script'
config="$etc_dir/agent.yaml"
if [ -f "$config" ] && ! head -n 1 "$config" | grep -qF "$marker"; then
  cp -p "$config" "$config.bak"
  say "kept your previous $config as $config.bak"
fi
(
  umask 077
  {
    echo "$marker (margo device enroll-command); running it again rewrites this file."
    echo "server: '$server'"
    echo "caFile: '$etc_dir/ca.pem'"
    if [ -n "$join_token" ]; then
      echo '# Vouches for this device: presented once, before it onboards, so it is active at once (secret: keep this file 0600).'
      echo "joinToken: '$join_token'"
    fi
  } > "$config.new"
)
chmod 0600 "$config.new"
mv -f "$config.new" "$config"

mkdir -p "$root/etc/systemd/system"
fetch margo-agent.service "$tmp/margo-agent.service"
cp "$tmp/margo-agent.service" "$root/etc/systemd/system/margo-agent.service"
chmod 0644 "$root/etc/systemd/system/margo-agent.service"
say "installed $bin_dir/margo ($target) and $config"

if [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
  systemctl enable margo-agent >/dev/null 2>&1
  # restart, not start: a re-run must bring up the new executable and configuration.
  systemctl restart margo-agent
  say "the agent is running: systemctl status margo-agent; journalctl -u margo-agent -f"
else
  say "systemd is not running here, so the agent was not started; run it with:"
  if [ -n "$root" ]; then
    echo "  $bin_dir/margo agent --config $config --state-dir $state_dir"
  else
    echo "  $bin_dir/margo agent --config $config"
  fi
fi
