/**
 * The QMP commands bothworlds uses, typed after QEMU 7.2's QAPI schema. Only the fields we read
 * are spelled out; everything else stays `unknown` rather than guessed.
 */
export interface QmpVersion {
  qemu: { major: number; minor: number; micro: number };
  package: string;
}

export type RunState =
  | 'debug' | 'finish-migrate' | 'inmigrate' | 'internal-error' | 'io-error' | 'paused' | 'postmigrate'
  | 'prelaunch' | 'restore-vm' | 'running' | 'save-vm' | 'shutdown' | 'suspended' | 'watchdog' | 'guest-panicked' | 'colo';

export interface CpuInstanceProperties {
  'node-id'?: number;
  'socket-id'?: number;
  'die-id'?: number;
  'cluster-id'?: number;
  'core-id'?: number;
  'thread-id'?: number;
}

export interface HotpluggableCpu {
  type: string;
  'vcpus-count': number;
  props: CpuInstanceProperties;
  'qom-path'?: string;
}

export interface CpuInfoFast {
  'cpu-index': number;
  'qom-path': string;
  'thread-id': number;
  props?: CpuInstanceProperties;
  target: string;
}

export interface PcDimmDeviceInfo {
  id?: string;
  addr: number;
  size: number;
  slot: number;
  node: number;
  memdev: string;
  hotplugged: boolean;
  hotpluggable: boolean;
}

export interface VirtioMemDeviceInfo {
  id?: string;
  memaddr: number;
  'requested-size': number;
  size: number;
  'max-size': number;
  'block-size': number;
  node: number;
  memdev: string;
}

/** Discriminated on `type`, as in QEMU 7.2's MemoryDeviceInfo union. */
export type MemoryDeviceInfo =
  | { type: 'dimm' | 'nvdimm'; data: PcDimmDeviceInfo }
  | { type: 'virtio-pmem'; data: { id?: string; memaddr: number; size: number; memdev: string } }
  | { type: 'virtio-mem'; data: VirtioMemDeviceInfo }
  | { type: 'sgx-epc'; data: { id?: string; memaddr: number; size: number; node: number; memdev: string } };

export type MigrationStatus =
  | 'none' | 'setup' | 'cancelling' | 'cancelled' | 'active' | 'postcopy-active' | 'postcopy-paused'
  | 'postcopy-recover' | 'completed' | 'failed' | 'colo' | 'pre-switchover' | 'device' | 'wait-unplug';

export interface MigrationRamStats {
  transferred: number;
  remaining: number;
  total: number;
  duplicate: number;
  /** Always 0; removed in QEMU 9.1. */
  skipped?: number;
  normal: number;
  'normal-bytes': number;
  'dirty-pages-rate': number;
  mbps: number;
  'dirty-sync-count': number;
  'postcopy-requests': number;
  'page-size': number;
  'multifd-bytes': number;
  'pages-per-second': number;
  'precopy-bytes': number;
  'downtime-bytes': number;
  'postcopy-bytes': number;
  'dirty-sync-missed-zero-copy': number;
}

export interface MigrationInfo {
  status?: MigrationStatus;
  ram?: MigrationRamStats;
  'xbzrle-cache'?: { 'cache-size': number; bytes: number; pages: number; 'cache-miss': number; 'cache-miss-rate': number; 'encoding-rate': number; overflow: number };
  'total-time'?: number;
  'expected-downtime'?: number;
  downtime?: number;
  'setup-time'?: number;
  'cpu-throttle-percentage'?: number;
  'error-desc'?: string;
  'blocked-reasons'?: string[];
  'postcopy-blocktime'?: number;
  'postcopy-vcpu-blocktime'?: number[];
  /** Block migration (`blk: true`) statistics; same shape as `ram`. */
  disk?: MigrationRamStats;
  vfio?: { transferred: number };
  compression?: { pages: number; busy: number; 'busy-rate': number; 'compressed-size': number; 'compression-rate': number };
  'socket-address'?: Array<Record<string, unknown>>;
}

export type MigrationCapabilityName =
  | 'xbzrle' | 'rdma-pin-all' | 'auto-converge' | 'zero-blocks' | 'compress' | 'events' | 'postcopy-ram'
  | 'x-colo' | 'release-ram' | 'block' | 'return-path' | 'pause-before-switchover' | 'multifd'
  | 'dirty-bitmaps' | 'postcopy-blocktime' | 'late-block-activate' | 'x-ignore-shared' | 'validate-uuid'
  | 'background-snapshot' | 'zero-copy-send' | 'postcopy-preempt'
  /** QEMU >= 9.0: RAM at fixed offsets of a `file:` URI (snapshots). */
  | 'mapped-ram';

/** MigrationParameters of QEMU 7.2 (all optional: set only what you change). */
export interface MigrationParameters {
  'announce-initial'?: number;
  'announce-max'?: number;
  'announce-rounds'?: number;
  'announce-step'?: number;
  'compress-level'?: number;
  'compress-threads'?: number;
  'compress-wait-thread'?: boolean;
  'decompress-threads'?: number;
  'throttle-trigger-threshold'?: number;
  'tls-creds'?: string;
  'tls-hostname'?: string;
  'tls-authz'?: string;
  'x-checkpoint-delay'?: number;
  'block-incremental'?: boolean;
  'multifd-compression'?: 'none' | 'zlib' | 'zstd';
  'multifd-zlib-level'?: number;
  'multifd-zstd-level'?: number;
  'max-bandwidth'?: number;
  'downtime-limit'?: number;
  'cpu-throttle-initial'?: number;
  'cpu-throttle-increment'?: number;
  'cpu-throttle-tailslow'?: boolean;
  'max-cpu-throttle'?: number;
  'multifd-channels'?: number;
  'xbzrle-cache-size'?: number;
  'max-postcopy-bandwidth'?: number;
}

export interface BalloonInfo {
  actual: number;
}

export interface CpuModelInfo {
  name: string;
  props?: Record<string, unknown>;
}

export interface CpuDefinitionInfo {
  name: string;
  'migration-safe'?: boolean;
  static: boolean;
  'unavailable-features'?: string[];
  typename: string;
  'alias-of'?: string;
  deprecated: boolean;
}

type Command<Args, Returns> = { args: Args; returns: Returns };
type NoArgs = Record<string, never> | undefined;

export interface QmpCommandMap {
  qmp_capabilities: Command<{ enable?: string[] } | undefined, Record<string, never>>;
  'query-status': Command<NoArgs, { running: boolean; singlestep: boolean; status: RunState }>;
  'query-version': Command<NoArgs, QmpVersion>;
  'query-kvm': Command<NoArgs, { enabled: boolean; present: boolean }>;
  'query-cpus-fast': Command<NoArgs, CpuInfoFast[]>;
  'query-hotpluggable-cpus': Command<NoArgs, HotpluggableCpu[]>;
  device_add: Command<{ driver: string; id?: string; bus?: string; [prop: string]: unknown }, Record<string, never>>;
  device_del: Command<{ id: string }, Record<string, never>>;
  'object-add': Command<{ 'qom-type': string; id: string; [prop: string]: unknown }, Record<string, never>>;
  'object-del': Command<{ id: string }, Record<string, never>>;
  'query-memory-devices': Command<NoArgs, MemoryDeviceInfo[]>;
  'query-memory-size-summary': Command<NoArgs, { 'base-memory': number; 'plugged-memory'?: number }>;
  balloon: Command<{ value: number }, Record<string, never>>;
  'query-balloon': Command<NoArgs, BalloonInfo>;
  'qom-set': Command<{ path: string; property: string; value: unknown }, Record<string, never>>;
  'qom-get': Command<{ path: string; property: string }, unknown>;
  stop: Command<NoArgs, Record<string, never>>;
  cont: Command<NoArgs, Record<string, never>>;
  quit: Command<NoArgs, Record<string, never>>;
  system_powerdown: Command<NoArgs, Record<string, never>>;
  system_reset: Command<NoArgs, Record<string, never>>;
  migrate: Command<{ uri: string; blk?: boolean; inc?: boolean; detach?: boolean; resume?: boolean }, Record<string, never>>;
  'migrate-incoming': Command<{ uri: string }, Record<string, never>>;
  migrate_cancel: Command<NoArgs, Record<string, never>>;
  'migrate-start-postcopy': Command<NoArgs, Record<string, never>>;
  'query-migrate': Command<NoArgs, MigrationInfo>;
  'migrate-set-capabilities': Command<{ capabilities: Array<{ capability: MigrationCapabilityName; state: boolean }> }, Record<string, never>>;
  'query-migrate-capabilities': Command<NoArgs, Array<{ capability: MigrationCapabilityName; state: boolean }>>;
  'migrate-set-parameters': Command<MigrationParameters, Record<string, never>>;
  'query-migrate-parameters': Command<NoArgs, MigrationParameters>;
  'query-cpu-model-expansion': Command<{ type: 'static' | 'full'; model: CpuModelInfo }, { model: CpuModelInfo }>;
  'query-cpu-definitions': Command<NoArgs, CpuDefinitionInfo[]>;
  'human-monitor-command': Command<{ 'command-line': string; 'cpu-index'?: number }, string>;
}

export type QmpCommandName = keyof QmpCommandMap;

/** Every command of the map, at run time (checked against QEMU's own schema by the tests). */
export const QMP_COMMAND_NAMES = [
  'qmp_capabilities', 'query-status', 'query-version', 'query-kvm', 'query-cpus-fast', 'query-hotpluggable-cpus',
  'device_add', 'device_del', 'object-add', 'object-del', 'query-memory-devices', 'query-memory-size-summary',
  'balloon', 'query-balloon', 'qom-set', 'qom-get', 'stop', 'cont', 'quit', 'system_powerdown', 'system_reset',
  'migrate', 'migrate-incoming', 'migrate_cancel', 'migrate-start-postcopy', 'query-migrate',
  'migrate-set-capabilities', 'query-migrate-capabilities', 'migrate-set-parameters', 'query-migrate-parameters',
  'query-cpu-model-expansion', 'query-cpu-definitions', 'human-monitor-command',
] as const satisfies readonly QmpCommandName[];

// Compile-time proof that the list above names every key of the map.
type Missing = Exclude<QmpCommandName, (typeof QMP_COMMAND_NAMES)[number]>;
const everyCommandListed: [Missing] extends [never] ? true : Missing = true;
void everyCommandListed;
