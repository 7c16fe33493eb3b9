#!/bin/sh
# Respawned by init: qemu-ga on the port named org.qemu.guest_agent.0.
. /etc/bothworlds/env.sh
exec >/dev/console 2>&1
port=$(port_named org.qemu.guest_agent.0) || { echo "bothworlds: no guest agent port (is -device virtserialport,name=org.qemu.guest_agent.0 there?)"; sleep 5; exit 1; }
echo "bothworlds: agent starting on $port"
exec qemu-ga -m virtio-serial -p "$port" -t /run
