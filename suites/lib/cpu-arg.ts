/**
 * A QEMU `-cpu` argument split into the model and the features it switches: "Nehalem,+vmx,-sse4.2,
 * x2apic=on" → { name: 'Nehalem', props: { vmx: true, 'sse4.2': false, x2apic: true } }, the shape
 * query-cpu-model-expansion takes. Non-boolean properties (level=13, model-id=...) are left out.
 */
export function parseCpuArgument(argument: string): { name: string; props: Record<string, boolean> } {
  const [name = '', ...rest] = argument.split(',');
  const props: Record<string, boolean> = {};
  for (const part of rest) {
    if (part.startsWith('+') || part.startsWith('-')) props[part.slice(1)] = part.startsWith('+');
    else {
      const [key, value] = part.split('=');
      if (key && ['on', 'true', 'yes'].includes(value ?? '')) props[key] = true;
      else if (key && ['off', 'false', 'no'].includes(value ?? '')) props[key] = false;
    }
  }
  return { name, props };
}
