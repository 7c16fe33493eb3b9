#!/bin/sh
# Respawned by init: a heartbeat line every bw.heartbeat_ms (default 1000) on bothworlds.heartbeat;
# the host asks for a faster one (every 5 ms) while it measures a migration's downtime.
. /etc/bothworlds/env.sh
exec >/dev/console 2>&1
port=$(port_named bothworlds.heartbeat) || exec sleep 2147483647
exec bw-heartbeat "$port" --interval-ms "$(cmdline_value bw.heartbeat_ms || echo 1000)"
