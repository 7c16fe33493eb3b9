/** Backends a cell can run on. */
export type Backend = 'qemu' | 'libvirt' | 'local' | 'ssh' | 'container';

export type Accel = 'auto' | 'kvm' | 'tcg';

/** Where the guest comes from. Default: the built-in guest image (kernel + initramfs). */
export type ImageRef =
  | { kind: 'default' }
  | { kind: 'kernel'; kernel: string; initrd: string; append?: string }
  /** A qcow2/raw disk; each cell gets its own overlay, the base is never written. */
  | { kind: 'disk'; path: string; format?: 'qcow2' | 'raw' }
  /** A distribution image bothworlds builds ('debian-12'), with extra packages; booted with the default kernel. */
  | { kind: 'distro'; name: string; packages: string[] };

/** A virtual machine's shape, backend-neutral (QEMU argv and libvirt XML are both built from it). */
export interface MachineSpec {
  /** QEMU CPU model name ('Nehalem', 'max', ...) or 'host-passthrough' / 'host-model'. */
  cpuModel: string;
  vcpus: number;
  /** Hot-plug ceiling; equals vcpus when not set. */
  maxVcpus: number;
  memoryMiB: number;
  /** Memory hot-plug ceiling and slots; no hot-plug when undefined. */
  maxMemoryMiB?: number;
  memorySlots?: number;
  machineType: string;
  accel: Accel;
  balloon: boolean;
  image: ImageRef;
  /** Extra kernel command line for kernel images. */
  kernelAppend?: string;
  /**
   * Guest networking: 'user' (default) is a virtio-net NIC on QEMU's user-mode network with
   * `restrict=on` (the guest reaches nothing but ports the harness forwards to it); 'none' has no NIC.
   */
  network?: GuestNetwork;
}

export type GuestNetwork = 'user' | 'none';

export const DEFAULT_MACHINE: MachineSpec = {
  cpuModel: 'max',
  vcpus: 1,
  maxVcpus: 1,
  memoryMiB: 512,
  machineType: 'q35',
  accel: 'auto',
  balloon: true,
  image: { kind: 'default' },
};
