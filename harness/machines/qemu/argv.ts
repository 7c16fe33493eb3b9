import type { MachineSpec } from '../../model/machine-spec.js';

/** Everything QEMU needs to know beyond the machine's shape: resolved accel, paths, sockets. */
export interface QemuLaunchConfig {
  name: string;
  spec: MachineSpec;
  accel: 'kvm' | 'tcg';
  boot:
    /** `disk`: a root disk for a kernel that mounts it (a distribution image's per-guest overlay). */
    | { kind: 'kernel'; kernel: string; initrd: string; append: string; disk?: { path: string; format: 'qcow2' | 'raw' } }
    | { kind: 'disk'; path: string; format: 'qcow2' | 'raw' };
  sockets: QemuSockets;
  /** `-incoming defer` (migration destination) or `-incoming URI` (snapshot restore). */
  incoming?: string;
  /** Devices to create on the command line (e.g. a destination replaying hot-plugged DIMMs). */
  extraArgs?: string[];
}

export interface QemuSockets {
  qmp: string;
  agent: string;
  app: string;
  heartbeat: string;
}

/** QEMU's `-cpu` value for a bothworlds cpu model name. */
export function cpuArgument(cpuModel: string): string {
  if (cpuModel === 'host-passthrough') return 'host';
  if (cpuModel === 'host-model') return 'host';
  return cpuModel;
}

/** CPU models that only exist with hardware virtualisation. */
export function requiresKvm(cpuModel: string): boolean {
  return cpuModel === 'host-passthrough' || cpuModel === 'host-model' || cpuModel === 'host';
}

/**
 * Build QEMU's argv as a list, never a shell string. Agent, app output and heartbeat each get a
 * virtio-serial port backed by a unix socket in the machine's private run directory.
 */
export function buildQemuArgv(config: QemuLaunchConfig): string[] {
  const { spec, sockets } = config;
  const argv: string[] = [
    '-name', `${config.name},debug-threads=on`,
    '-machine', `${spec.machineType},accel=${config.accel}`,
    '-cpu', cpuArgument(spec.cpuModel),
    '-smp', spec.maxVcpus > spec.vcpus ? `${spec.vcpus},maxcpus=${spec.maxVcpus}` : String(spec.vcpus),
    '-m', memoryArgument(spec),
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    // The serial console is QEMU's stdout; `signal=off` keeps a terminal's Ctrl+C away from QEMU.
    '-chardev', 'stdio,id=console0,signal=off',
    '-serial', 'chardev:console0',
    '-qmp', `unix:${sockets.qmp},server=on,wait=off`,
    '-device', 'virtio-serial-pci,id=vser0',
    ...serialPort('qga0', sockets.agent, 'org.qemu.guest_agent.0'),
    ...serialPort('app0', sockets.app, 'bothworlds.app'),
    ...serialPort('hb0', sockets.heartbeat, 'bothworlds.heartbeat'),
  ];
  // deflate-on-oom: without it over-inflation OOM-kills qemu-ga and panics the guest (QEMU-NOTES).
  if (spec.balloon) argv.push('-device', 'virtio-balloon-pci,id=balloon0,deflate-on-oom=on');
  // A fresh VM generation ID per QEMU process: a guest restored from a snapshot is notified on
  // load and reseeds its RNG at once (Linux >= 5.18), so clones never share random output.
  argv.push('-device', 'vmgenid,id=vmgenid0,guid=auto');
  argv.push(...nicArguments(spec));
  if (config.boot.kind === 'kernel') {
    argv.push('-kernel', config.boot.kernel, '-initrd', config.boot.initrd, '-append', config.boot.append);
    if (config.boot.disk) argv.push('-drive', `file=${config.boot.disk.path},if=virtio,format=${config.boot.disk.format},cache=unsafe`);
  } else {
    argv.push('-drive', `file=${config.boot.path},if=virtio,format=${config.boot.format},cache=unsafe`);
  }
  if (config.extraArgs) argv.push(...config.extraArgs);
  if (config.incoming) argv.push('-incoming', config.incoming);
  return argv;
}

/** The id of the user-mode netdev: host forwards are added to it at run time (harness/net/). */
export const USER_NETDEV_ID = 'net0';

/**
 * A virtio-net NIC on QEMU's user-mode network (slirp). `restrict=on`: the guest cannot reach the
 * host or any other address, only forwarded ports reach it. No `hostfwd` here: host ports are
 * picked per cell at run time (`hostfwd_add`), so the argv, and the snapshot keyed on it, stay shared.
 */
export function nicArguments(spec: MachineSpec): string[] {
  if (spec.network === 'none') return [];
  return ['-netdev', `user,id=${USER_NETDEV_ID},restrict=on`, '-device', `virtio-net-pci,netdev=${USER_NETDEV_ID},id=nic0,mac=52:54:00:12:34:56`];
}

function memoryArgument(spec: MachineSpec): string {
  if (spec.maxMemoryMiB && spec.maxMemoryMiB > spec.memoryMiB) {
    return `${spec.memoryMiB}M,slots=${spec.memorySlots ?? 4},maxmem=${spec.maxMemoryMiB}M`;
  }
  return `${spec.memoryMiB}M`;
}

function serialPort(id: string, path: string, name: string): string[] {
  return [
    '-chardev', `socket,id=${id},path=${path},server=on,wait=off`,
    '-device', `virtserialport,bus=vser0.0,chardev=${id},name=${name}`,
  ];
}
