import { readFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describeContainment } from '../core/cgroup.js';
import { projectRoot } from '../core/project-root.js';
import type { EnvironmentFingerprint } from './run-record.js';

async function firstLine(command: string, args: string[]): Promise<string | undefined> {
  try {
    const result = await execa(command, args, { reject: false, timeout: 10_000 });
    return result.exitCode === 0 ? result.stdout.split('\n')[0]?.trim() : undefined;
  } catch {
    return undefined;
  }
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** What a report must say about where it ran; a missing tool is `undefined`, never a crash. */
export async function collectEnvironment(options: { kvm?: { usable: boolean; reason: string } } = {}): Promise<EnvironmentFingerprint> {
  const cpuinfo = readOr('/proc/cpuinfo', '');
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1]?.trim();
  const os = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readOr('/etc/os-release', ''))?.[1] ?? process.platform;
  const [qemu, libvirt, docker] = await Promise.all([
    firstLine(process.env.BOTHWORLDS_QEMU ?? 'qemu-system-x86_64', ['--version']),
    firstLine('virsh', ['--version']),
    firstLine('docker', ['--version']),
  ]);
  const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string };
  return {
    hostCpuModel: field('model name') ?? cpus()[0]?.model ?? 'unknown',
    hostCpuFlags: (field('flags') ?? '').split(/\s+/).filter(Boolean).sort(),
    hostKernel: release(),
    hostOs: os,
    ...(qemu ? { qemuVersion: qemu } : {}),
    ...(libvirt ? { libvirtVersion: libvirt } : {}),
    ...(docker ? { dockerVersion: docker } : {}),
    localContainment: describeContainment(),
    kvm: options.kvm ?? { usable: false, reason: 'not probed' },
    nodeVersion: process.version,
    harnessVersion: pkg.version,
    cores: cpus().length,
    memoryMiB: Math.round(totalmem() / 2 ** 20),
  };
}
