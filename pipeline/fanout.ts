import { type Consumer, type EventBatch, withEvents } from './component.ts';
import { PipelineError } from './errors.ts';
import type { ExporterQueue } from './queue.ts';

/**
 * The end of a pipeline: hands each batch to every exporter's queue. Room is reserved in all
 * queues first, so a batch enters either every exporter or none (DESIGN §6.2); `consume`
 * resolves once every exporter durably accepted it (§6.1).
 */
export class FanOut implements Consumer {
  private readonly queues: readonly ExporterQueue[];

  constructor(queues: readonly ExporterQueue[]) {
    this.queues = queues;
  }

  async consume(input: EventBatch): Promise<void> {
    const batch = ownTenantOnly(input);
    const n = batch.events.length;
    if (n === 0) return;
    for (let i = 0; i < this.queues.length; i++) {
      const q = this.queues[i]!;
      if (!q.reserve(n)) {
        for (let j = 0; j < i; j++) this.queues[j]!.release(n);
        throw new PipelineError(
          'queue_full',
          `exporter ${q.id} has ${q.size} of ${q.capacity} events queued; retry later`,
          {
            retryAfter: 1,
          },
        );
      }
    }
    if (this.queues.length === 1) return this.queues[0]!.submit(batch);
    await Promise.all(this.queues.map((q) => q.submit(batch)));
  }
}

/**
 * The last guard before any sink: an event may only be written under the caller's own tenant,
 * or a tenant a service credential acts for. tenant_validation rejects such events earlier
 * (and audits the attempt); this holds even in a pipeline configured without it.
 */
function ownTenantOnly(batch: EventBatch): EventBatch {
  const { auth, events } = batch;
  const mayActFor = (id: string) => auth.roles.has('service') && auth.actsFor.has(id);
  let kept: EventBatch['events'] | undefined;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const ok = e.tenant.id === auth.tenantId || mayActFor(e.tenant.id);
    if (ok) {
      kept?.push(e);
      continue;
    }
    kept ??= events.slice(0, i);
    batch.report.reject(e, 'tenant_rejected', `tenant "${e.tenant.id}" is not the caller's tenant`);
  }
  return kept ? withEvents(batch, kept) : batch;
}
