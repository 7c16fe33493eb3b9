export { connectSshMachine, type SshMachineOptions } from './ssh-machine.js';
export { openSshConnection, hostLabel } from './connect.js';
export { fingerprint, parseKnownHosts, verifyHostKey } from './known-hosts.js';
