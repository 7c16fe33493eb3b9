#!/usr/bin/env bash
# Extract Debian bookworm's QEMU 7.2 next to the installed QEMU, without installing it, so the
# tests can run against 7.2 (docs/qemu-versions.md):
#   bash scripts/qemu-7.2.sh
#   BOTHWORLDS_QEMU=/opt/bothworlds-qemu-7.2/usr/bin/qemu-system-x86_64 npx vitest run harness/machines/qemu
# QEMU 7.2 is relocatable: it finds its ROMs, SeaBIOS, iPXE and its TCG module under the tree it
# runs from, so the tree carries bookworm's qemu-system-data, seabios and ipxe-qemu too.
# Idempotent: does nothing when the tree already holds a working 7.2. BOTHWORLDS_QEMU72_DIR moves it.
set -euo pipefail

dest=${BOTHWORLDS_QEMU72_DIR:-/opt/bothworlds-qemu-7.2}
binary=$dest/usr/bin/qemu-system-x86_64

if [ -x "$binary" ] && "$binary" --version 2>/dev/null | grep -q 'version 7\.2\.'; then
  echo "QEMU 7.2 already in $dest: $("$binary" --version | head -n 1)"
  echo "BOTHWORLDS_QEMU=$binary"
  exit 0
fi

# The newest bookworm (not backports) version of a package whose version matches $2.
bookworm_version() {
  apt-cache madison "$1" | awk -F' *[|] *' -v want="$2" '$3 !~ /backports/ && $2 ~ want { print $2; exit }'
}

declare -A wanted=(
  [qemu-system-x86]='^1:7\.2'
  [qemu-system-common]='^1:7\.2'
  [qemu-system-data]='^1:7\.2'
  [seabios]='.'
  [ipxe-qemu]='.'
)
specs=()
for package in "${!wanted[@]}"; do
  version=$(bookworm_version "$package" "${wanted[$package]}")
  if [ -z "$version" ]; then
    echo "no bookworm version of $package in the apt lists (is the bookworm suite in sources? run apt-get update)" >&2
    exit 1
  fi
  specs+=("$package=$version")
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "downloading ${specs[*]}"
(cd "$work" && apt-get download -q -o APT::Sandbox::User=root "${specs[@]}")
mkdir -p "$work/tree"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/tree"; done

missing=$(ldd "$work/tree/usr/bin/qemu-system-x86_64" | awk '/not found/ { print $1 }')
if [ -n "$missing" ]; then
  echo "QEMU 7.2 needs libraries this host lacks: $missing" >&2
  exit 1
fi
"$work/tree/usr/bin/qemu-system-x86_64" --version | head -n 1

# Into place in one step: a half-extracted tree is never seen under $dest.
mkdir -p "$(dirname "$dest")"
rm -rf "$dest.old"
[ -e "$dest" ] && mv "$dest" "$dest.old"
mv "$work/tree" "$dest"
rm -rf "$dest.old"
echo "BOTHWORLDS_QEMU=$binary"
