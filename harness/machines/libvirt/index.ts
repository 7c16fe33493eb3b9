export { LibvirtMachine } from './machine.js';
export { startLibvirtMachine, type LibvirtMachineOptions } from './start.js';
export { startLibvirtForCell } from './for-cell.js';
export { buildDomainXml, cpuElement } from './domain-xml.js';
export { defaultUri, defaultMigrationUri, instanceUri, libvirtUnavailableReason } from './virsh.js';
export { placeOnLibvirtHost, type LibvirtPlacement, type MigrationHosts } from './migration-hosts.js';
