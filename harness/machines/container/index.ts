export { startContainerMachine, ContainerMachine, CONTAINER_LABEL, type ContainerSpec } from './machine.js';
export { ensureContainerImage } from './image.js';
export { dockerUnavailableReason } from './docker.js';
