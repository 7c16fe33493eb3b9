export { startLocalMachine, type LocalMachineOptions } from './local-machine.js';
