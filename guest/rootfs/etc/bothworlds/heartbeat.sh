#!/bin/sh
# Respawned by init: a heartbeat line every bw.heartbeat_ms (default 5) on bothworlds.heartbeat.
. /etc/bothworlds/env.sh
exec >/dev/console 2>&1
port=$(port_named bothworlds.heartbeat) || exec sleep 2147483647
exec bw-heartbeat "$port" --interval-ms "$(cmdline_value bw.heartbeat_ms || echo 5)"
