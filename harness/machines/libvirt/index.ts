export { startLibvirtMachine, LibvirtMachine } from './machine.js';
export { startLibvirtForCell } from './for-cell.js';
export { buildDomainXml, cpuElement } from './domain-xml.js';
export { defaultUri, defaultMigrationUri, instanceUri, libvirtUnavailableReason } from './virsh.js';
