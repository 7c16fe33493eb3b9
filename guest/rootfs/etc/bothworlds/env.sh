# Sourced by the guest's scripts: PATH and the helpers that find virtio-serial ports by name.
export PATH=/opt/bothworlds/bin:/opt/bothworlds/app:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

# No udev here: /dev/virtio-ports/<name> does not exist, so read the names from sysfs.
port_named() {
  for p in /sys/class/virtio-ports/vport*; do
    [ -r "$p/name" ] && [ "$(cat "$p/name")" = "$1" ] && { echo "/dev/${p##*/}"; return 0; }
  done
  return 1
}

cmdline_value() {
  for word in $(cat /proc/cmdline); do
    case "$word" in "$1"=*) echo "${word#*=}"; return 0 ;; esac
  done
  return 1
}
