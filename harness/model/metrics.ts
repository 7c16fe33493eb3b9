/** Every metric carries its unit, so reports never have to guess. */
export type Unit = 'ms' | 's' | 'ns' | 'bytes' | 'KiB' | 'MiB' | 'count' | 'percent' | 'pages/s' | 'bytes/s' | 'ratio' | 'bool';

export interface Metric {
  value: number;
  unit: Unit;
}

export type Metrics = Record<string, Metric>;

export function metric(value: number, unit: Unit): Metric {
  return { value, unit };
}
