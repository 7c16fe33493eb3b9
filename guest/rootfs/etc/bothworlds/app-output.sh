#!/bin/sh
# Respawned by init: copy what applications write to /dev/bothworlds-app (a FIFO) to the
# bothworlds.app port. Holding the FIFO open read-write means it never reports end-of-file when
# the last writer goes away.
. /etc/bothworlds/env.sh
exec >/dev/console 2>&1
port=$(port_named bothworlds.app) || exec sleep 2147483647
[ -p /run/bothworlds-app ] || mkfifo /run/bothworlds-app
exec 3<>/run/bothworlds-app
exec cat <&3 >"$port"
