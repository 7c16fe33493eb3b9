#!/bin/sh
# Applications write to /dev/bothworlds-app (a FIFO, so several can share the one port); this copies
# it to the bothworlds.app port. Holding the FIFO open read-write means it never reports end-of-file.
[ -p /run/bothworlds-app ] || mkfifo -m 622 /run/bothworlds-app
ln -sf /run/bothworlds-app /dev/bothworlds-app
exec 3<>/run/bothworlds-app
exec cat <&3 >/dev/virtio-ports/bothworlds.app
