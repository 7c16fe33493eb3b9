#!/bin/sh
# With bw.autoonline=1, online hot-plugged CPUs as their uevent arrives (no udev here).
. /etc/bothworlds/env.sh
exec >/dev/console 2>&1
[ "$(cmdline_value bw.autoonline)" = 1 ] || exec sleep 2147483647
echo "bothworlds: auto-online of hot-plugged CPUs enabled"
exec uevent /etc/bothworlds/on-uevent.sh
