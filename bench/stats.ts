/**
 * Latency recording and reporting for benchmarks: percentiles from the recorded samples,
 * printed in one format for every scenario.
 */

/** Collects latency samples in milliseconds. */
export class Latencies {
  private samples = new Float64Array(1 << 16);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  /** The q-quantile (0..1) of what was recorded. */
  quantile(q: number): number {
    if (this.n === 0) return Number.NaN;
    const sorted = this.samples.slice(0, this.n).sort();
    return sorted[Math.min(this.n - 1, Math.floor(q * this.n))]!;
  }
}

/** Parses `--name value` options with numeric defaults. */
export function options<T extends Record<string, number | string>>(defaults: T): T {
  const out: Record<string, number | string> = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]!.replace(/^--/, '');
    if (!(key in defaults))
      throw new Error(`unknown option ${argv[i]}; known: ${Object.keys(defaults).join(', ')}`);
    const value = argv[++i] ?? '';
    out[key] = typeof defaults[key] === 'number' ? Number(value) : value;
  }
  return out as T;
}

/** Prints one result line as a table row and as JSON, for docs/performance.md. */
export function report(scenario: string, fields: Record<string, number | string>): void {
  const pretty = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(2)) : v}`)
    .join('  ');
  process.stdout.write(`${scenario}: ${pretty}\n`);
  process.stdout.write(`${JSON.stringify({ scenario, ...fields })}\n`);
}
