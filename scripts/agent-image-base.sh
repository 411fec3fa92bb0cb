#!/bin/sh
# The base of the agent's container image, from Debian packages only, imported with `docker import`:
#
#   scripts/agent-image-base.sh TAG PACKAGES [HELM]
#
# PACKAGES lists name=version lines as apt resolves them (scripts/build-agent-image.sh makes it).
# Each package is taken from MARGO_IMAGE_CACHE/debs or apt's own cache, else fetched with
# `apt-get download` from the mirror apt is configured with, and unpacked with dpkg-deb -x. From
# docker.io only the docker CLI is taken: dockerd, containerd and runc are not needed, workloads run
# on the host's engine. No shell and no package manager end up in the image. HELM, when given, is
# copied to /usr/local/bin/helm (scripts/fetch-helm.sh provides one; Debian has none).
set -eu
say() { printf 'agent-image-base: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ $# -ge 2 ] || die "usage: $0 TAG PACKAGES [HELM]"
tag="$1"
packages="$2"
helm="${3:-}"
cache="${MARGO_IMAGE_CACHE:-/var/cache/margo-agent-image}"
# Needed only by maintainer scripts, which never run in the image.
SKIPPED=" dpkg tar debconf openssl lsb-release "

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
  # What maintainer scripts would have made: the CA bundle (update-ca-certificates with every
  # Mozilla certificate enabled, its default), the loader cache, users and writable directories.
  mkdir -p "$root/etc/ssl/certs" "$root/usr/local/bin" "$root/root" "$root/tmp" "$root/var/lib/margo-agent" "$root/etc/margo"
  chmod 1777 "$root/tmp"
  [ -z "$helm" ] || install -m 0755 "$helm" "$root/usr/local/bin/helm"
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
    --message "margo agent base from Debian packages: $(tr "\n" " " <"$work/packages")" \
    - "$tag" >/dev/null
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$packages" "$work/packages"
build_base "$tag"
