#!/bin/sh
# A heartbeat line every bw.heartbeat_ms (default 5) on the bothworlds.heartbeat port.
ms=5
for word in $(cat /proc/cmdline); do
  case "$word" in bw.heartbeat_ms=*) ms=${word#*=} ;; esac
done
exec /opt/bothworlds/bin/bw-heartbeat /dev/virtio-ports/bothworlds.heartbeat --interval-ms "$ms"
