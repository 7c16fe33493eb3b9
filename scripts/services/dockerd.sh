#!/usr/bin/env bash
# Start Debian's dockerd by hand (no systemd here) unless an engine already answers. Idempotent.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
command -v dockerd >/dev/null || { echo "dockerd is not installed (scripts/packages/container.txt)" >&2; exit 1; }
mkdir -p /var/log/bothworlds
nohup dockerd >/var/log/bothworlds/dockerd.log 2>&1 &
for _ in $(seq 1 100); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 0.1
done
echo "dockerd did not answer within 10 s; see /var/log/bothworlds/dockerd.log" >&2
exit 1
