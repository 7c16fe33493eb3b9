export { QmpClient, matchesSubset, type QmpEvent, type QmpGreeting, type QmpState } from './client.js';
export { QmpExecuteError, QmpDisconnectedError, QmpProtocolError } from './errors.js';
export type * from './commands.js';
