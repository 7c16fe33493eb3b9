/**
 * A QEMU `-cpu` argument split into the model and the features it switches: "Nehalem,+vmx,-sse4.2,
 * x2apic=on" → { name: 'Nehalem', props: { vmx: true, 'sse4.2': false, x2apic: true } }, the shape
 * query-cpu-model-expansion takes. Non-boolean properties (level=13, model-id=...) are left out.
 */
export { parseModel as parseCpuArgument } from '../../harness/cpu/model-flags.js';
