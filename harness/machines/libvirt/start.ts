import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnsupportedError, attachCleanupError } from '../../core/errors.js';
import type { ResourceScope } from '../../core/scope.js';
import { makeTempDir } from '../../core/temp-dir.js';
import type { MachineSpec } from '../../model/machine-spec.js';
import { metric } from '../../model/metrics.js';
import { tailConsole } from './console-tail.js';
import { buildDomainXml, type DomainBoot } from './domain-xml.js';
import { LibvirtMachine } from './machine.js';
import { fixedPeer, type MigrationHosts } from './migration-hosts.js';
import { domainName, registerDomain, withOwnerMetadata } from './owner.js';
import { libvirtUnavailableReason, virsh } from './virsh.js';

export interface LibvirtMachineOptions {
  scope: ResourceScope;
  accel: 'kvm' | 'tcg';
  uri: string;
  name: string;
  /** A second libvirtd to migrate to (stands for another host). */
  migrationTargetUri?: string;
  /** Or: slots on the other hosts of a pool, leased per migration. */
  migrationHosts?: MigrationHosts;
  /** Why the domain cannot migrate, when neither is given. */
  noMigrationReason?: string;
  timeoutMs?: number;
}

/** Define and start a domain from the typed spec; teardown (destroy + undefine) is registered before start. */
export async function startLibvirtMachine(spec: MachineSpec, boot: DomainBoot, options: LibvirtMachineOptions): Promise<LibvirtMachine> {
  const reason = await libvirtUnavailableReason(options.uri);
  if (reason) throw new UnsupportedError('LIBVIRT_UNAVAILABLE', reason);
  const scope = options.scope.child(`libvirt-${options.name}`);
  const started = performance.now();
  const domain = domainName(options.name);
  try {
    const runDir = makeTempDir(`libvirt-${options.name.slice(0, 20)}-`);
    scope.registerTempDir(runDir);
    const xml = buildDomainXml(spec, {
      name: domain,
      accel: options.accel,
      boot,
      channels: { app: join(runDir, 'app.sock'), heartbeat: join(runDir, 'heartbeat.sock'), consoleLog: join(runDir, 'console.log') },
    });
    // Owner metadata: the next harness start removes the domain if this harness dies with it running.
    writeFileSync(join(runDir, 'domain.xml'), withOwnerMetadata(xml));
    registerDomain(scope, options.uri, domain);
    await virsh(options.uri, ['define', join(runDir, 'domain.xml')]);
    await virsh(options.uri, ['start', domain]);
    const defined = performance.now();
    const machine = new LibvirtMachine(options.name, domain, spec, options.accel, options.uri, scope, runDir, { boot_ms: metric(0, 'ms') }, options.migrationHosts ?? (options.migrationTargetUri ? fixedPeer(options.uri, options.migrationTargetUri) : undefined), options.noMigrationReason);
    await tailConsole(join(runDir, 'console.log'), machine.output, scope);
    await machine.attachPorts();
    await machine.agent.waitUntilAnswering(options.timeoutMs ?? 90_000);
    Object.assign(machine.startMetrics, { define_start_ms: metric(defined - started, 'ms'), boot_ms: metric(performance.now() - started, 'ms') });
    return machine;
  } catch (error) {
    for (const cleanupError of await scope.dispose()) attachCleanupError(error, cleanupError);
    throw error;
  }
}
