export { GuestAgent, type GuestVcpu, type GuestExecStatus, type GuestExecOptions } from './client.js';
export { AgentError, AgentSilentError, AgentDisconnectedError } from './errors.js';
