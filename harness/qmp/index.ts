export { QmpClient, matchesSubset, type QmpEvent, type QmpGreeting, type QmpState } from './client.js';
export { QmpExecuteError, QmpDisconnectedError, QmpProtocolError } from './errors.js';
export type * from './commands.js';
export { eventData, QMP_EVENT_NAMES, type QmpEventDataMap, type QmpEventName } from './events.js';
export { QMP_COMMAND_NAMES } from './commands.js';
