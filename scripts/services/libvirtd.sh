#!/usr/bin/env bash
# bothworlds' own libvirtd instances (no systemd here), each standing for one "host": a private
# mount namespace with its own copies of /etc/libvirt, /var/lib/libvirt, /var/log/libvirt,
# /var/cache/libvirt and /run/libvirt (PLATFORM-NOTES), its own virtlogd and host UUID. The
# system's libvirt configuration is never changed. Two instances make live migration between
# "two hosts" possible on one machine. Idempotent.
#   usage: libvirtd.sh [NAME...]   (default: a b)
# Connect with: virsh -c 'qemu+unix:///system?socket=/run/bothworlds/libvirt-NAME/libvirt-sock'
set -euo pipefail
command -v libvirtd >/dev/null || { echo "libvirtd is not installed (scripts/packages/libvirt.txt)" >&2; exit 1; }

start_instance() {
  local name=$1
  local state=/var/lib/bothworlds/libvirt-$name
  local run=/run/bothworlds/libvirt-$name
  local uri="qemu+unix:///system?socket=$run/libvirt-sock"
  if virsh -q -c "$uri" version >/dev/null 2>&1; then return 0; fi
  mkdir -p "$state"/{etc,lib,log,cache} "$run"
  if [[ ! -f $state/etc/.bothworlds ]]; then
    cp -a /etc/libvirt/. "$state/etc/"
    local uuid
    uuid=$(printf '%s' "bothworlds-libvirt-$name" | md5sum | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/')
    cat >>"$state/etc/libvirtd.conf" <<CONF
host_uuid = "$uuid"
unix_sock_group = "root"
auth_unix_rw = "none"
CONF
    # QEMU runs as root with no relabelling: guests read the image cache in place, on both "hosts".
    cat >>"$state/etc/qemu.conf" <<CONF
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
CONF
    touch "$state/etc/.bothworlds"
  fi
  rm -f "$run"/*.pid
  unshare -m --propagation private sh -c "
    mount --bind '$state/etc' /etc/libvirt &&
    mkdir -p /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /run/libvirt &&
    mount --bind '$state/lib' /var/lib/libvirt &&
    mount --bind '$state/log' /var/log/libvirt &&
    mount --bind '$state/cache' /var/cache/libvirt &&
    mount --bind '$run' /run/libvirt &&
    virtlogd -d -p '$run/virtlogd.pid' &&
    exec libvirtd -d -p '$run/libvirtd.pid'
  "
  for _ in $(seq 1 150); do
    virsh -q -c "$uri" version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "libvirtd $name did not answer on $uri within 15 s" >&2
  return 1
}

names=("$@")
((${#names[@]} > 0)) || names=(a b)
for name in "${names[@]}"; do start_instance "$name"; done
