import { XMLBuilder } from 'fast-xml-parser';
import type { MachineSpec } from '../../model/machine-spec.js';
import { nicArguments } from '../qemu/argv.js';

export interface DomainChannels {
  /** unix sockets QEMU listens on (mode='bind') for the app output and the heartbeat */
  app: string;
  heartbeat: string;
  /** where the serial console is written */
  consoleLog: string;
}

/** A guest's own writable disk (a private qcow2 overlay), attached as virtio `vda`. */
export interface DomainDisk {
  path: string;
  format: 'qcow2' | 'raw';
}

/**
 * Direct kernel boot (the default image, a user's kernel; a distribution image also gets the root
 * disk its initramfs mounts), or firmware boot of a user's disk (SeaBIOS, its own bootloader).
 */
export type DomainBoot = { kernel: string; initrd: string; cmdline: string; disk?: DomainDisk } | { disk: DomainDisk };

/** libvirt's <cpu> for a bothworlds model name. */
export function cpuElement(cpuModel: string): Record<string, unknown> {
  if (cpuModel === 'host-passthrough') return { '@_mode': 'host-passthrough', '@_check': 'none' };
  if (cpuModel === 'host-model') return { '@_mode': 'host-model', '@_check': 'none' };
  if (cpuModel === 'max') return { '@_mode': 'maximum', '@_check': 'none' };
  // fallback='allow': libvirt drops what TCG cannot do (SandyBridge loses x2apic, tsc-deadline).
  return { '@_mode': 'custom', '@_match': 'exact', '@_check': 'none', model: { '@_fallback': 'allow', '#text': cpuModel } };
}

/** Domain XML from the same typed spec the QEMU backend uses. */
export function buildDomainXml(spec: MachineSpec, options: { name: string; accel: 'kvm' | 'tcg'; boot: DomainBoot; channels: DomainChannels; emulator?: string }): string {
  const hotplugMemory = spec.maxMemoryMiB !== undefined && spec.maxMemoryMiB > spec.memoryMiB;
  // The NIC as QEMU arguments: libvirt 9.0's <interface type='user'> cannot say restrict=on, and its
  // <portForward> needs passt; host forwards are added at run time (harness/net/user-net.ts).
  const nic = nicArguments(spec).map((arg) => (arg.startsWith('virtio-net-pci,') ? `${arg},${nicAddress(spec)}` : arg));
  const channel = (path: string, name: string) => ({ '@_type': 'unix', source: { '@_mode': 'bind', '@_path': path }, target: { '@_type': 'virtio', '@_name': name } });
  const domain = {
    domain: {
      '@_type': options.accel === 'kvm' ? 'kvm' : 'qemu',
      ...(nic.length > 0 ? { '@_xmlns:qemu': 'http://libvirt.org/schemas/domain/qemu/1.0' } : {}),
      name: options.name,
      ...(hotplugMemory ? { maxMemory: { '@_slots': spec.memorySlots ?? 4, '@_unit': 'MiB', '#text': spec.maxMemoryMiB } } : {}),
      memory: { '@_unit': 'MiB', '#text': spec.memoryMiB },
      currentMemory: { '@_unit': 'MiB', '#text': spec.memoryMiB },
      vcpu: { '@_placement': 'static', '@_current': spec.vcpus, '#text': spec.maxVcpus },
      os: {
        type: { '@_arch': 'x86_64', '@_machine': spec.machineType, '#text': 'hvm' },
        ...('kernel' in options.boot ? { kernel: options.boot.kernel, initrd: options.boot.initrd, cmdline: options.boot.cmdline } : { boot: { '@_dev': 'hd' } }),
      },
      features: { acpi: '', apic: '' },
      cpu: {
        ...cpuElement(spec.cpuModel),
        // libvirt needs a NUMA cell to hot-plug DIMMs.
        ...(hotplugMemory ? { numa: { cell: { '@_id': 0, '@_cpus': `0-${spec.maxVcpus - 1}`, '@_memory': spec.memoryMiB, '@_unit': 'MiB' } } } : {}),
      },
      clock: { '@_offset': 'utc' },
      on_poweroff: 'destroy',
      on_reboot: 'destroy',
      on_crash: 'destroy',
      devices: {
        ...(options.emulator ? { emulator: options.emulator } : {}),
        controller: { '@_type': 'usb', '@_model': 'none' },
        ...(options.boot.disk ? { disk: diskElement(options.boot.disk) } : {}),
        serial: { '@_type': 'file', source: { '@_path': options.channels.consoleLog }, target: { '@_port': 0 } },
        channel: [
          // No source path: libvirt owns the agent socket and talks to it (qemu-agent-command).
          { '@_type': 'unix', target: { '@_type': 'virtio', '@_name': 'org.qemu.guest_agent.0' } },
          channel(options.channels.app, 'bothworlds.app'),
          channel(options.channels.heartbeat, 'bothworlds.heartbeat'),
        ],
        ...(spec.balloon ? { memballoon: { '@_model': 'virtio', '@_autodeflate': 'on' } } : { memballoon: { '@_model': 'none' } }),
      },
      ...(nic.length > 0 ? { 'qemu:commandline': { 'qemu:arg': nic.map((value) => ({ '@_value': value })) } } : {}),
    },
  };
  return new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true }).build(domain) as string;
}

/**
 * cache='writeback', not the QEMU backend's 'unsafe': a migration's source must flush the guest's
 * writes to the file before the destination reads it. On one host both QEMUs share the kernel's page
 * cache, so any mode would do; on pool hosts sharing the file over NFS, 'unsafe' would leave the
 * source's last writes in its own page cache (QEMU flushes when it stops the guest, and 'unsafe'
 * ignores flushes). cache='none' is not needed for that (QEMU drops the destination's page cache on
 * taking the image over) and needs O_DIRECT, which tmpfs (a common temp dir) may lack.
 */
function diskElement(disk: DomainDisk): Record<string, unknown> {
  return {
    '@_type': 'file',
    '@_device': 'disk',
    driver: { '@_name': 'qemu', '@_type': disk.format, '@_cache': 'writeback' },
    source: { '@_file': disk.path },
    target: { '@_dev': 'vda', '@_bus': 'virtio' },
  };
}

/** A pc-dimm for `virsh attach-device --live`. */
export function dimmXml(sizeMiB: number): string {
  return new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true }).build({
    memory: { '@_model': 'dimm', target: { size: { '@_unit': 'MiB', '#text': sizeMiB }, node: 0 } },
  }) as string;
}

/**
 * A fixed PCI slot for the NIC given as QEMU arguments: libvirt places its own devices (pcie-root-ports
 * from slot 1 up, USB at 0x1d) without knowing of it, so an auto-placed NIC took slot 1 first and every
 * domain with hot-pluggable memory failed to start. Slot 0x1c is one libvirt leaves free.
 */
function nicAddress(spec: MachineSpec): string {
  return /q35/.test(spec.machineType) ? 'bus=pcie.0,addr=0x1c' : 'bus=pci.0,addr=0x1c';
}
