import { Gauge, type Registry } from 'prom-client';

/**
 * `ledgerline_queued_bytes{component}`: bytes of events a component holds. The batch
 * processor reports here; the memory limiter reads the metric by name from the same
 * registry, so neither imports the other and operators see the same figure. Values are
 * computed when the metric is read, from every registered source.
 */

/** The metric name, the contract between producers and the memory limiter. */
export const QUEUED_BYTES_METRIC = 'ledgerline_queued_bytes';

/** Something that can say how many bytes of events it holds. */
export interface QueuedBytesSource {
  id: string;
  queuedBytes(): number;
}

const sources = new WeakMap<Registry, Set<QueuedBytesSource>>();

/** Registers a source on the registry's gauge (created on first use); returns the undo. */
export function reportQueuedBytes(registry: Registry, source: QueuedBytesSource): () => void {
  let set = sources.get(registry);
  if (!set) {
    const own = new Set<QueuedBytesSource>();
    set = own;
    sources.set(registry, own);
    if (!registry.getSingleMetric(QUEUED_BYTES_METRIC)) {
      new Gauge({
        name: QUEUED_BYTES_METRIC,
        help: 'Estimated bytes of events held by a component (pending batches, in flight).',
        labelNames: ['component'],
        registers: [registry],
        collect() {
          // One processor id may run in several pipelines: sum the instances per id.
          const sums = new Map<string, number>();
          for (const s of own) sums.set(s.id, (sums.get(s.id) ?? 0) + s.queuedBytes());
          this.reset();
          for (const [component, bytes] of sums) this.set({ component }, bytes);
        },
      });
    }
  }
  set.add(source);
  const registered = set;
  return () => registered.delete(source);
}
