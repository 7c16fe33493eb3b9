#!/usr/bin/env bash
# Everything bothworlds needs on a fresh Debian/Ubuntu machine with Node 20, idempotently:
# the Debian packages in scripts/packages/*.txt, npm ci, the TypeScript build, the guest image
# and tools. Fast when already done. Run as root, or with sudo available for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

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
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
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
  fi
fi

# --- Services the tests need (no systemd here): each script is idempotent and quick when running.
for service in scripts/services/*.sh; do
  [[ -e $service ]] || continue
  bash "$service" >/dev/null 2>&1 || say "note: $(basename "$service") could not start its service (cells needing it are skipped)"
done

# --- Default guest image and static tools (cached by content hash under ~/.cache/bothworlds).
node dist/harness/images/prepare.js
