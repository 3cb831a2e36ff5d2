import {
  escapeHelp,
  escapeLabel,
  formatValue,
  type MetricSnapshot,
  type MetricSource,
  type SampleValue,
} from './exposition.ts';

/**
 * Business series under a hard cardinality cap. prom-client's own Counter/Histogram grow without
 * bound and cannot take weighted observations (sampled traffic is re-weighted), so these keep
 * their label sets in a bounded table and report in prom-client's `get()` shape, which the
 * exposition renderer reads like any other metric.
 */

/** Label value every label of the fold series carries. */
export const OTHER = '__other__';

/** One label set and its state. */
export interface Series<V> {
  labels: Record<string, string>;
  value: V;
  /** Last update, in ms since the epoch; the TTL sweep reads it. */
  seen: number;
  /** The labels as exposition text (`a="x",b="y"`), escaped once on first render. */
  text?: string;
}

/** The exposition text of a series' labels, cached on the series. */
function labelText(s: Series<unknown>): string {
  if (s.text === undefined) {
    let t = '';
    for (const name in s.labels) t += `${t ? ',' : ''}${name}="${escapeLabel(s.labels[name]!)}"`;
    s.text = t;
  }
  return s.text;
}

/** The `# HELP` and `# TYPE` lines of a family. */
function header(family: string, help: string, type: string, om: boolean): string {
  return `# HELP ${family} ${escapeHelp(help, om)}\n# TYPE ${family} ${type}\n`;
}

/**
 * Label sets of one metric, at most `max` of them counting the `__other__` series: a new label
 * set that finds the table full is folded into `__other__`. Label sets idle for `ttlMs` go away.
 */
export class SeriesTable<V> {
  private readonly series = new Map<string, Series<V>>();
  private other: Series<V> | undefined;
  private readonly labelNames: readonly string[];
  private readonly max: number;
  private readonly ttlMs: number;
  private readonly init: () => V;

  constructor(labelNames: readonly string[], max: number, ttlMs: number, init: () => V) {
    this.labelNames = labelNames;
    this.max = max;
    this.ttlMs = ttlMs;
    this.init = init;
  }

  /** Label sets held now, `__other__` included. */
  get size(): number {
    return this.series.size + (this.other ? 1 : 0);
  }

  /**
   * The series a label set counts into, and whether it was folded. `key` identifies `values`
   * (built by `seriesKey`); it is passed in because the caller already built it to aggregate.
   */
  slot(key: string, values: readonly string[], now: number): { series: Series<V>; folded: boolean } {
    let s = this.series.get(key);
    if (s) {
      s.seen = now;
      return { series: s, folded: false };
    }
    // One slot stays reserved for `__other__`, so the cap holds with it.
    if (this.series.size < this.max - 1) {
      const labels: Record<string, string> = {};
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]!] = values[i]!;
      s = { labels, value: this.init(), seen: now };
      this.series.set(key, s);
      return { series: s, folded: false };
    }
    if (!this.other) {
      const labels: Record<string, string> = {};
      for (const name of this.labelNames) labels[name] = OTHER;
      this.other = { labels, value: this.init(), seen: now };
    }
    this.other.seen = now;
    return { series: this.other, folded: true };
  }

  /** Removes label sets idle longer than the TTL; returns how many went. */
  expire(now: number): number {
    if (this.ttlMs === 0) return 0;
    const cutoff = now - this.ttlMs;
    let removed = 0;
    for (const [key, s] of this.series) {
      if (s.seen < cutoff) {
        this.series.delete(key);
        removed++;
      }
    }
    if (this.other && this.other.seen < cutoff) {
      this.other = undefined;
      removed++;
    }
    return removed;
  }

  /** Every series, `__other__` last. */
  *entries(): IterableIterator<Series<V>> {
    yield* this.series.values();
    if (this.other) yield this.other;
  }
}

/**
 * A key that identifies a list of label values without ambiguity: each value is prefixed with
 * its length, so no choice of values (separators included) makes two lists collide.
 */
export function seriesKey(values: readonly string[]): string {
  let key = '';
  for (const v of values) key += `${v.length}:${v}`;
  return key;
}

/** A counter under a cardinality cap that accepts fractional (re-weighted) increments. */
export class CappedCounter implements MetricSource {
  readonly name: string;
  readonly help: string;
  readonly table: SeriesTable<{ n: number }>;

  constructor(name: string, help: string, labelNames: readonly string[], max: number, ttlMs: number) {
    this.name = name;
    this.help = help;
    this.table = new SeriesTable(labelNames, max, ttlMs, () => ({ n: 0 }));
  }

  /** Adds `amount` to a label set; returns true when it was folded into `__other__`. */
  add(key: string, values: readonly string[], amount: number, now: number): boolean {
    const { series, folded } = this.table.slot(key, values, now);
    series.value.n += amount;
    return folded;
  }

  get(): MetricSnapshot {
    const values: SampleValue[] = [];
    for (const s of this.table.entries()) values.push({ labels: s.labels, value: s.value.n });
    return { name: this.name, help: this.help, type: 'counter', values };
  }

  /** The family as exposition text, straight from the table (scrapes at the cap stay cheap). */
  render(om: boolean): string {
    const family = om ? this.name.replace(/_total$/, '') : this.name;
    const sample = om ? `${family}_total` : this.name;
    let out = header(family, this.help, 'counter', om);
    for (const s of this.table.entries()) {
      const labels = labelText(s);
      out += `${sample}${labels ? `{${labels}}` : ''} ${formatValue(s.value.n)}\n`;
    }
    return out;
  }
}

/** Bucket counts of one histogram series (per bucket, not cumulative; the last is +Inf). */
export interface HistogramState {
  counts: Float64Array;
  sum: number;
  count: number;
}

/** A histogram under a cardinality cap whose observations carry a weight. */
export class CappedHistogram implements MetricSource {
  readonly name: string;
  readonly help: string;
  readonly bounds: readonly number[];
  readonly table: SeriesTable<HistogramState>;

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    bounds: readonly number[],
    max: number,
    ttlMs: number,
  ) {
    this.name = name;
    this.help = help;
    this.bounds = bounds;
    this.table = new SeriesTable(labelNames, max, ttlMs, () => ({
      counts: new Float64Array(bounds.length + 1),
      sum: 0,
      count: 0,
    }));
  }

  /** Index of the bucket a value falls in (`le` semantics; the last index is +Inf). */
  bucketOf(value: number): number {
    const b = this.bounds;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (value <= b[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Merges pre-aggregated observations into a label set; returns true when folded. */
  merge(key: string, values: readonly string[], add: HistogramState, now: number): boolean {
    const { series, folded } = this.table.slot(key, values, now);
    const v = series.value;
    for (let i = 0; i < add.counts.length; i++) v.counts[i]! += add.counts[i]!;
    v.sum += add.sum;
    v.count += add.count;
    return folded;
  }

  get(): MetricSnapshot {
    const values: SampleValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.table.entries()) {
      let cumulative = 0;
      const { counts, sum } = s.value;
      for (let i = 0; i < counts.length; i++) {
        cumulative += counts[i]!;
        const le = i < this.bounds.length ? String(this.bounds[i]) : '+Inf';
        values.push({ labels: { ...s.labels, le }, value: cumulative, metricName: bucket });
      }
      values.push({ labels: s.labels, value: sum, metricName: `${this.name}_sum` });
      // _count is the +Inf bucket itself, so float rounding of weights cannot make them differ.
      values.push({ labels: s.labels, value: cumulative, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', values };
  }

  /** The family as exposition text, straight from the table. */
  render(om: boolean): string {
    const les = [...this.bounds.map((b) => `le="${b}"`), 'le="+Inf"'];
    let out = header(this.name, this.help, 'histogram', om);
    for (const s of this.table.entries()) {
      const labels = labelText(s);
      const prefix = labels ? `${labels},` : '';
      const braces = labels ? `{${labels}}` : '';
      let cumulative = 0;
      const counts = s.value.counts;
      for (let i = 0; i < counts.length; i++) {
        cumulative += counts[i]!;
        out += `${this.name}_bucket{${prefix}${les[i]}} ${formatValue(cumulative)}\n`;
      }
      out += `${this.name}_sum${braces} ${formatValue(s.value.sum)}\n${this.name}_count${braces} ${formatValue(cumulative)}\n`;
    }
    return out;
  }
}
