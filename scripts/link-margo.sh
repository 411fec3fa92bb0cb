#!/usr/bin/env bash
# Puts margo on PATH: a link PREFIX/bin/margo -> TARGET. Says so before it replaces a margo that
# is already there and points elsewhere (another checkout, an older install), and keeps a plain
# file it replaces as margo.previous, so nothing an operator installed disappears silently.
#   scripts/link-margo.sh TARGET PREFIX
set -euo pipefail
target="$1"
prefix="$2"
say() { printf 'install: %s\n' "$*" >&2; }

link="$prefix/bin/margo"
mkdir -p "$prefix/bin"
if [ -L "$link" ]; then
  current=$(readlink "$link")
  if [ "$current" != "$target" ]; then
    say "replacing $link, which pointed to $current, with a link to $target"
  fi
elif [ -e "$link" ]; then
  say "replacing $link (not a link to this checkout); the old file is kept as $link.previous"
  mv -f "$link" "$link.previous"
fi
ln -sfn "$target" "$link"
say "installed $link -> $target"

# Another margo earlier on PATH would still win: say which one.
first=$(command -v margo 2>/dev/null || true)
if [ -n "$first" ] && [ "$first" != "$link" ] && [ "$(readlink -f "$first")" != "$(readlink -f "$target")" ]; then
  say "note: $first comes first on PATH and is a different margo; remove it or put $prefix/bin first"
fi
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) say "add it to PATH: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
