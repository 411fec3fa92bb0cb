#!/bin/sh
# Builds the device agent's container image, margo-agent:<version>, without any image registry.
#
#   scripts/build-agent-image.sh [--image NAME:TAG] [--binary dist/margo] [--helm /path/to/helm] [--base IMAGE]
#
# Two steps, the first cached:
#   1. The base image margo-agent-base:bookworm-<hash>: a root file system made from Debian
#      packages only (apt-get download + dpkg-deb -x, from the mirror apt is configured with), with
#      the C library, the docker CLI (only /usr/bin/docker from docker.io: dockerd, containerd and
#      runc are not needed, workloads run on the host's engine), docker-compose and the Python it
#      runs on, and Mozilla's CA certificates as /etc/ssl/certs/ca-certificates.crt. No shell, no
#      package manager. Imported with `docker import`; skipped when an image with that tag exists.
#      The hash covers the package versions and this script, so a Debian update builds a new base.
#   2. deploy/container/Containerfile on top of it: the margo executable, entry point, volume and
#      health check. A context holding only the executable, so this takes seconds.
#
# helm is not packaged by Debian (nor by npm), so the image has none unless --helm names a
# statically linked helm binary to copy in (it becomes part of the base and of its hash).
#
# Environment: MARGO_IMAGE_CACHE (default /var/cache/margo-agent-image) keeps downloaded packages.
# Needs: a docker engine, apt with current package lists (apt-get update), dpkg-deb, and root
# (ldconfig -r and file ownership in the image). Prints the image name and size last.
set -eu
here="$(cd "$(dirname "$0")/.." && pwd)"
say() { printf 'build-agent-image: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

version="$(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' "$here/package.json" | head -n 1)"
image="margo-agent:$version"
binary="$here/dist/margo"
helm=""
base=""
while [ $# -gt 0 ]; do
  case "$1" in
    --image) image="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --helm) helm="$2"; shift 2 ;;
    --base) base="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
cache="${MARGO_IMAGE_CACHE:-/var/cache/margo-agent-image}"

if [ ! -x "$binary" ]; then
  say "no executable at $binary: building it (bun run build)"
  (cd "$here" && bun run build) >&2
fi
docker info >/dev/null 2>&1 || die "the docker engine does not answer (docker info)"
[ -z "$helm" ] || [ -x "$helm" ] || die "--helm $helm is not an executable file"

# Packages whose files make up the base, with everything they depend on (Recommends left out).
# docker.io is handled apart: only its docker CLI is taken.
WANTED="base-files libc6 ca-certificates docker-compose"
# Needed only by maintainer scripts, which never run in the image.
SKIPPED=" dpkg tar debconf openssl lsb-release "

# name=version of each package apt would install for "$@" on a system with nothing installed.
resolve() {
  : >"$work/empty-status"
  plan="$(apt-get install -s --no-install-recommends -o Dir::State::status="$work/empty-status" "$@" 2>&1)" \
    || die "apt cannot resolve $* (run apt-get update first):
$plan"
  printf '%s\n' "$plan" | sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1=\2/p'
}

base_tag() {
  # shellcheck disable=SC2086
  resolve $WANTED >"$work/packages"
  # docker.io alone: its own dependencies (containerd, runc, iptables…) serve dockerd, not the CLI.
  resolve docker.io | grep '^docker\.io=' >>"$work/packages" || die "apt cannot resolve docker.io"
  [ "$(wc -l <"$work/packages")" -gt 10 ] || die "apt resolved too few packages: $(cat "$work/packages")"
  sum="$( { cat "$work/packages"; cat "$0"; [ -z "$helm" ] || sha256sum <"$helm"; } | sha256sum | cut -c1-12)"
  echo "margo-agent-base:bookworm-$sum"
}

fetch_deb() { # name=version → path of the .deb in the cache
  name="${1%%=*}"; ver="${1#*=}"
  file_ver="$(printf '%s' "$ver" | sed 's/:/%3a/')"
  for dir in "$cache/debs" /var/cache/apt/archives; do
    for f in "$dir/${name}_${file_ver}_"*.deb; do
      [ -f "$f" ] && { echo "$f"; return 0; }
    done
  done
  (cd "$cache/debs" && apt-get download -qq -o APT::Sandbox::User=root "$name=$ver" >&2) || die "cannot download $name=$ver"
  for f in "$cache/debs/${name}_${file_ver}_"*.deb; do [ -f "$f" ] && { echo "$f"; return 0; }; done
  die "apt-get download left no file for $name=$ver"
}

build_base() {
  tag="$1"
  root="$work/root"
  mkdir -p "$root" "$cache/debs"
  while read -r pkg; do
    name="${pkg%%=*}"
    case "$SKIPPED" in *" $name "*) continue ;; esac
    deb="$(fetch_deb "$pkg")"
    if [ "$name" = docker.io ]; then
      mkdir -p "$work/docker.io" "$root/usr/bin"
      dpkg-deb -x "$deb" "$work/docker.io"
      cp "$work/docker.io/usr/bin/docker" "$root/usr/bin/docker"
    else
      dpkg-deb -x "$deb" "$root"
    fi
  done <"$work/packages"
  [ -z "$helm" ] || install -m 0755 "$helm" "$root/usr/local/bin/helm"

  # What maintainer scripts would have made: the CA bundle (update-ca-certificates with every
  # Mozilla certificate enabled, its default), the loader cache, users and writable directories.
  mkdir -p "$root/etc/ssl/certs" "$root/usr/local/bin" "$root/root" "$root/tmp" "$root/var/lib/margo-agent" "$root/etc/margo"
  chmod 1777 "$root/tmp"
  cat "$root"/usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"
  printf 'include /etc/ld.so.conf.d/*.conf\n' >"$root/etc/ld.so.conf"
  ldconfig -r "$root"
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  # Documentation is not needed at run time; the copyright files stay with the binaries they cover.
  find "$root/usr/share/doc" -type f ! -name copyright -delete 2>/dev/null || true
  rm -rf "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/locale" "$root/usr/share/lintian" \
    "$root/usr/share/bug" "$root/usr/share/doc-base" "$root/usr/sbin/update-ca-certificates" "$root/var/cache" "$root/var/lib/dpkg"

  say "importing $tag ($(du -sh "$root" | cut -f1) on disk)"
  tar -C "$root" --numeric-owner -cf - . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8' \
    --message "margo agent base from Debian packages: $WANTED, docker.io's docker CLI" \
    - "$tag" >/dev/null
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
started="$(date +%s)"

if [ -z "$base" ]; then
  base="$(base_tag)"
  if docker image inspect "$base" >/dev/null 2>&1; then
    say "base $base is there already"
  else
    build_base "$base"
  fi
else
  docker image inspect "$base" >/dev/null 2>&1 || die "--base $base is not an image on this engine"
fi

mkdir -p "$work/context"
cp "$here/deploy/container/Containerfile" "$work/context/Containerfile"
cp "$binary" "$work/context/margo"
say "building $image on $base"
docker build -q -f "$work/context/Containerfile" --build-arg "BASE=$base" \
  --label "org.opencontainers.image.version=$version" -t "$image" "$work/context" >/dev/null
size="$(docker image inspect -f '{{.Size}}' "$image")"
say "built $image in $(( $(date +%s) - started ))s"
printf '%s\t%s MB\n' "$image" "$(( size / 1000000 ))"
