import {
  accept,
  envelope,
  type MapContext,
  type MapResult,
  NO_ACTOR,
  newResult,
  reject,
  toAction,
} from './map-common.ts';
import type { DataPoint } from './model.ts';
import { recordFields } from './record-fields.ts';

/**
 * Metric data points → usage events (README.md has the table): one event per point, named by
 * the point's `event.name` attribute or else the metric's name, with `usage.count` the point's
 * value (gauge, sum) or its count (histograms, summary). Histograms in `ms` or `s` also give
 * the mean as `usage.latency_ms`.
 */

/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the point marks a gap, not a measurement. */
const NO_RECORDED_VALUE = 1;

/** Maps decoded data points to usage events, collecting the points that are not valid events. */
export function mapMetrics(points: readonly DataPoint[], ctx: MapContext): MapResult {
  const result = newResult();
  const label = (i: number) => `data point ${i} of metric "${points[i]!.metric.name}"`;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (p.flags & NO_RECORDED_VALUE) {
      result.skipped++;
      continue;
    }
    const extra: Record<string, string> = { 'metric.name': p.metric.name, 'metric.type': p.metric.kind };
    if (p.metric.unit) extra['metric.unit'] = p.metric.unit;
    const fields = recordFields(p.attributes, p.metric.origin.resource, ctx, '', '', extra);
    const named = fields.eventName;
    const action = toAction(typeof named === 'string' ? named : p.metric.name);
    if (action === '') {
      reject(result, `${label(i)}: no action: the metric has no name and the point no event.name attribute`);
      continue;
    }
    if (!fields.actor) {
      reject(result, `${label(i)}: ${NO_ACTOR}`);
      continue;
    }
    fields.usage ??= {};
    const usage = fields.usage;
    usage.count = pointCount(p);
    const latency = meanLatencyMs(p);
    if (latency !== undefined && usage.latency_ms === undefined) usage.latency_ms = latency;
    accept(result, envelope(fields, action, p.timeMs), ctx, label, i);
  }
  return result;
}

/** The point's count: its value for gauges and sums, its count otherwise. */
function pointCount(p: DataPoint): number | undefined {
  if (p.metric.kind === 'gauge' || p.metric.kind === 'sum') {
    return typeof p.value === 'bigint' ? Number(p.value) : p.value;
  }
  return p.count;
}

const UNIT_TO_MS = new Map<string, number>([
  ['ms', 1],
  ['s', 1000],
  ['us', 0.001],
  ['ns', 0.000001],
]);

/** Mean of a histogram or summary whose unit is a duration, in milliseconds. */
function meanLatencyMs(p: DataPoint): number | undefined {
  if (p.metric.kind === 'gauge' || p.metric.kind === 'sum') return undefined;
  const scale = UNIT_TO_MS.get(p.metric.unit);
  if (scale === undefined || p.sum === undefined || !p.count) return undefined;
  const mean = (p.sum / p.count) * scale;
  return Number.isFinite(mean) && mean >= 0 ? mean : undefined;
}
