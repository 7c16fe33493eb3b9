#!/usr/bin/env bash
# Everything bothworlds needs on a fresh Debian/Ubuntu machine with Node 20, idempotently:
# the Debian packages in scripts/packages/*.txt, npm ci, the TypeScript build, the guest image
# and tools. Fast when already done. Run as root, or with sudo available for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# --- QEMU from bookworm-backports on Debian 12: QEMU 7.2 under TCG corrupts some multi-vCPU live
# migrations (the destination panics; docs/qemu-versions.md), 10.0 does not. Opt out with
# BOTHWORLDS_QEMU_BACKPORTS=0 (Debian's 7.2 stays supported). Done before the package list so apt
# never installs 7.2 first only to replace it.
. /etc/os-release
if [[ ${BOTHWORLDS_QEMU_BACKPORTS:-1} != 0 && ${ID:-} == debian && ${VERSION_CODENAME:-} == bookworm ]]; then
  backported=(qemu-system-x86 qemu-utils qemu-guest-agent)
  stale=()
  for pkg in "${backported[@]}"; do
    [[ $(dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$pkg" 2>/dev/null) == ii*bpo12* ]] || stale+=("$pkg")
  done
  if ((${#stale[@]} > 0)); then
    list=/etc/apt/sources.list.d/bothworlds-bookworm-backports.sources
    if [[ ! -f $list ]] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      # The mirror the machine already uses for bookworm (deb822 or one-line format).
      mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1)
      [[ -n $mirror ]] || mirror=$(grep -hs '^deb .*bookworm' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -1)
      [[ -n $mirror ]] || mirror=http://deb.debian.org/debian
      say "adding bookworm-backports ($mirror) for QEMU 10 (BOTHWORLDS_QEMU_BACKPORTS=0 keeps QEMU 7.2)"
      printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$mirror" | $SUDO tee "$list" >/dev/null
    fi
    say "installing QEMU from bookworm-backports: ${stale[*]}"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports "${backported[@]}" >/dev/null
  fi
fi

# --- Debian packages: install only what is missing, `apt-get update` only when needed.
mapfile -t wanted < <(cat scripts/packages/*.txt | sed -e 's/#.*//' -e 's/[[:space:]]//g' | grep -v '^$' | sort -u)
# One dpkg-query for all of them (a process per package costs ~20 ms each on a busy machine).
mapfile -t installed < <(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${wanted[@]}" 2>/dev/null | awk '$1 == "ii" { print $2 }' | sed 's/:.*//')
missing=()
for pkg in "${wanted[@]}"; do
  [[ " ${installed[*]} " == *" $pkg "* ]] || missing+=("$pkg")
done
if ((${#missing[@]} > 0)); then
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- npm dependencies: only when node_modules is missing or older than the lock file.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- TypeScript → dist/ (only when a compiled source is newer than the last build; incremental).
stamp=dist/.build-stamp
if [[ ! -f $stamp ]] || [[ -n $(find harness suites bench -newer "$stamp" -name '*.ts' ! -name '*.test.ts' 2>/dev/null | head -1) ]] ||
  [[ tsconfig.json -nt $stamp || package.json -nt $stamp ]]; then
  say "compiling TypeScript"
  mkdir -p dist
  # tsc emits even when it reports type errors; say so and go on (the stamp is not touched, so
  # the next run compiles again) rather than leave the project without a build.
  if npx tsc -p tsconfig.json --incremental --tsBuildInfoFile dist/.tsbuildinfo; then
    touch "$stamp"
  else
    say "warning: TypeScript reported type errors (dist/ was emitted anyway)"
    # In CI a type error is a failure, not a warning.
    if [[ ${CI:-} == true ]]; then exit 1; fi
  fi
fi

# --- Services the tests need (no systemd here): each script is idempotent and quick when running.
for service in scripts/services/*.sh; do
  [[ -e $service ]] || continue
  bash "$service" >/dev/null 2>&1 || say "note: $(basename "$service") could not start its service (cells needing it are skipped)"
done

# --- Default guest image and static tools (cached by content hash under ~/.cache/bothworlds).
node dist/harness/images/prepare.js
