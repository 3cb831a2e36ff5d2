/**
 * Renders metrics in the Prometheus text format (0.0.4) or OpenMetrics 1.0, from prom-client's
 * `get()` shape. prom-client's own OpenMetrics path renames counters in place (it strips
 * `_total` from the shared metric object), which would corrupt the next text-format scrape and
 * the OTLP bridge reading the same registry; rendering here leaves the metrics untouched.
 */

/** One sample as prom-client's `get()` reports it. */
export interface SampleValue {
  labels: Record<string, string | number | undefined>;
  value: number;
  /** Sample name when it differs from the family (`_bucket`, `_sum`, `_count`). */
  metricName?: string;
}

/** One metric family at scrape time. */
export interface MetricSnapshot {
  name: string;
  help: string;
  type: string;
  values: SampleValue[];
}

/** Anything that reports like a prom-client metric. */
export interface MetricSource {
  get(): MetricSnapshot | Promise<MetricSnapshot>;
  /** Renders itself (each line ending in a newline), skipping `get()`'s per-sample objects. */
  render?(om: boolean): string;
  name?: string;
}

/** The two exposition formats. */
export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** Content-Type of each format. */
export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** OpenMetrics when the Accept header offers it (as Prometheus does), the text format otherwise. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'prometheus';
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (type !== 'application/openmetrics-text') continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return 'openmetrics';
  }
  return 'prometheus';
}

/** A sample value as exposition text. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** Escapes a label value (backslash, newline, double quote). */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Escapes help text; OpenMetrics also escapes double quotes. */
export function escapeHelp(v: string, om: boolean): string {
  const s = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return om ? s.replace(/"/g, '\\"') : s;
}

function formatLabels(labels: SampleValue['labels']): string {
  let out = '';
  for (const name in labels) {
    const v = labels[name];
    if (v === undefined) continue;
    out += `${out ? ',' : ''}${name}="${escapeLabel(String(v))}"`;
  }
  return out ? `{${out}}` : '';
}

/** Renders one family; `om` selects OpenMetrics naming (counter family without `_total`). */
export function renderFamily(m: MetricSnapshot, om: boolean): string {
  const counter = m.type === 'counter';
  const family = om && counter ? m.name.replace(/_total$/, '') : m.name;
  const type = ['counter', 'gauge', 'histogram', 'summary'].includes(m.type)
    ? m.type
    : om
      ? 'unknown'
      : 'untyped';
  const lines = [`# HELP ${family} ${escapeHelp(m.help, om)}`, `# TYPE ${family} ${type}`];
  for (const v of m.values) {
    const name = v.metricName ?? (om && counter ? `${family}_total` : m.name);
    lines.push(`${name}${formatLabels(v.labels)} ${formatValue(v.value)}`);
  }
  return lines.join('\n');
}

/**
 * Renders every family of every source, in order. A family name seen twice (two registries
 * holding the same metric) is rendered once, since a repeated family is invalid exposition.
 */
export async function renderExposition(
  sources: Iterable<MetricSource>,
  format: ExpositionFormat,
): Promise<string> {
  const om = format === 'openmetrics';
  const seen = new Set<string>();
  const parts: string[] = [];
  const rendered = await Promise.all(
    Array.from(sources, async (s) => {
      if (s.render && s.name !== undefined) return { name: s.name, text: s.render(om) };
      const m = await s.get();
      return { name: m.name, text: `${renderFamily(m, om)}\n` };
    }),
  );
  for (const r of rendered) {
    if (seen.has(r.name)) continue;
    seen.add(r.name);
    parts.push(r.text);
  }
  // The text format separates families with a blank line; OpenMetrics allows none and ends in # EOF.
  return om ? `${parts.join('')}# EOF\n` : parts.join('\n');
}
