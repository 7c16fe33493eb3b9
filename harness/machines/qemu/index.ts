export { startQemuMachine, QemuMachine, type QemuMachineOptions } from './machine.js';
export { probeKvm, resolveAccel, type KvmProbe } from './accel.js';
export { buildQemuArgv, type QemuLaunchConfig } from './argv.js';
export { qemuVersion } from './binary.js';
