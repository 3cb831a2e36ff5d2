import type { Registry } from 'prom-client';
import type { MetricSource } from './exposition.ts';

/**
 * `/readyz`: ready when the service finished starting and no exporter queue is above its
 * high-water mark, so a load balancer steers new traffic away before callers see 429s. The
 * queue state comes from the runtime's gauges in the registry, not from reaching into queues.
 */

const QUEUE_SIZE = 'ledgerline_exporter_queue_size';
const QUEUE_CAPACITY = 'ledgerline_exporter_queue_capacity';

/** The readiness verdict, with why not. */
export interface Readiness {
  ready: boolean;
  reasons: string[];
}

async function byExporter(registry: Registry, name: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const metric = registry.getSingleMetric(name) as unknown as MetricSource | undefined;
  if (!metric) return out;
  for (const v of (await metric.get()).values) out.set(String(v.labels.exporter ?? ''), v.value);
  return out;
}

/** Decides readiness; `started` says whether every component of the service started. */
export async function checkReadiness(
  registry: Registry,
  highWater: number,
  started: boolean,
): Promise<Readiness> {
  const reasons: string[] = [];
  if (!started) reasons.push('not started');
  const size = await byExporter(registry, QUEUE_SIZE);
  const capacity = await byExporter(registry, QUEUE_CAPACITY);
  for (const [exporter, used] of size) {
    const cap = capacity.get(exporter);
    if (cap !== undefined && cap > 0 && used > cap * highWater)
      reasons.push(`exporter queue ${exporter} above high-water mark`);
  }
  return { ready: reasons.length === 0, reasons };
}
