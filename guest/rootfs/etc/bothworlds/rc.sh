#!/bin/sh
# First thing the guest runs: mounts, virtio modules in dependency order, ports by name.
. /etc/bothworlds/env.sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/bothworlds /root
exec >/dev/console 2>&1
echo "bothworlds: init started, kernel $(uname -r)"
while read -r module; do
  [ -n "$module" ] && { insmod "/lib/modules/bothworlds/$module.ko" 2>/dev/null || echo "bothworlds: insmod $module failed"; }
done < /etc/bothworlds/modules
# The ports appear a moment after virtio_console loads.
tries=0
until port_named org.qemu.guest_agent.0 >/dev/null || [ $tries -ge 300 ]; do
  sleep 0.01
  tries=$((tries + 1))
done
# A virtio port opens once at a time, but several applications may run: they all write to a FIFO
# that app-output.sh copies to the port, line by line (writes up to PIPE_BUF never interleave).
app=$(port_named bothworlds.app) && mkfifo /run/bothworlds-app && ln -sf /run/bothworlds-app /dev/bothworlds-app
hostname bothworlds
# Loopback always; eth0 (virtio-net on QEMU's user-mode network) gets slirp's fixed address
# statically: instant, where udhcpc would add a DHCP round trip to every boot.
ip link set lo up
if [ -d /sys/class/net/eth0 ]; then
  ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2
  echo "bothworlds: network eth0=10.0.2.15/24 lo=up"
else
  echo "bothworlds: network lo=up (no NIC)"
fi
echo "bothworlds: ports agent=$(port_named org.qemu.guest_agent.0 || echo none) app=${app:-none} heartbeat=$(port_named bothworlds.heartbeat || echo none)"
