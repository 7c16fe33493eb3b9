#!/bin/sh
# A heartbeat line every bw.heartbeat_ms (default 1000) on the bothworlds.heartbeat port; the host
# asks for a faster one (every 5 ms) while it measures a migration's downtime.
ms=1000
for word in $(cat /proc/cmdline); do
  case "$word" in bw.heartbeat_ms=*) ms=${word#*=} ;; esac
done
exec /opt/bothworlds/bin/bw-heartbeat /dev/virtio-ports/bothworlds.heartbeat --interval-ms "$ms"
