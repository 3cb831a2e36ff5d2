import type { BatchReport, Consumer, EventBatch } from '../../pipeline/component.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import type { Event } from '../../pipeline/event.ts';
import type { BatchConfig } from './config.ts';
import { estimateBatchBytesPerEvent } from './event-size.ts';
import { RoutingReport } from './routing-report.ts';

/**
 * Merges incoming batches into larger ones without weakening acknowledgements: each
 * `consume` resolves only once every merged batch holding any of its events was consumed
 * downstream, and rejects if one failed (the caller then retries the whole request; sinks
 * are idempotent on event_id). Only batches of the same caller (tenant and key) from the same
 * receiver and transport are merged, so `auth` and `source` stay true for every event.
 */

interface Pending {
  key: string;
  events: Event[];
  owners: BatchReport[];
  bytes: number;
  template: EventBatch;
  timer: NodeJS.Timeout | undefined;
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Called with the size of every merged batch sent (for the batch-size histogram). */
export type SentHook = (events: number) => void;

/** The merging logic of the batch processor. */
export class Batcher {
  private readonly next: Consumer;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly timeout: number;
  private readonly onSent: SentHook;
  private readonly pending = new Map<string, Pending>();
  private readonly inflight = new Set<Promise<void>>();
  private queued = 0;
  private closed = false;

  constructor(config: BatchConfig, next: Consumer, onSent: SentHook = () => {}) {
    this.next = next;
    this.maxEvents = config.send_batch_size;
    this.maxBytes = config.send_batch_max_bytes || Number.POSITIVE_INFINITY;
    this.timeout = config.timeout;
    this.onSent = onSent;
  }

  /** Estimated bytes held: waiting to be merged or being consumed downstream. */
  queuedBytes(): number {
    return this.queued;
  }

  /** Adds a batch; resolves when all of its events were consumed downstream. */
  consume(batch: EventBatch): Promise<void> {
    if (this.closed) return Promise.reject(new PipelineError('shutting_down'));
    const events = batch.events;
    if (events.length === 0) return Promise.resolve();
    const key = `${batch.auth.tenantId}\u0000${batch.auth.keyId}\u0000${batch.source.receiver}\u0000${batch.source.transport}`;
    const waits: Promise<void>[] = [];
    let p = this.open(key, batch);
    const size = estimateBatchBytesPerEvent(events);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (p.events.length > 0 && (p.events.length >= this.maxEvents || p.bytes + size > this.maxBytes)) {
        this.send(p);
        p = this.open(key, batch);
      }
      p.events.push(e);
      p.owners.push(batch.report);
      p.bytes += size;
      this.queued += size;
      if (waits[waits.length - 1] !== p.done) waits.push(p.done);
    }
    if (p.events.length >= this.maxEvents || p.bytes >= this.maxBytes || this.timeout === 0) this.send(p);
    return waits.length === 1 ? waits[0]! : Promise.all(waits).then(() => undefined);
  }

  /** Sends everything pending and waits for every send in flight. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of [...this.pending.values()]) this.send(p);
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  private open(key: string, batch: EventBatch): Pending {
    const existing = this.pending.get(key);
    if (existing) return existing;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers attach their own handlers; this one keeps an unobserved failure from crashing.
    done.catch(() => {});
    const p: Pending = {
      key,
      events: [],
      owners: [],
      bytes: 0,
      template: batch,
      timer: undefined,
      done,
      resolve,
      reject,
    };
    if (this.timeout > 0) {
      // Not unref'd: a caller is waiting on these events, so the process must live to send them.
      p.timer = setTimeout(() => this.send(p), this.timeout);
    }
    this.pending.set(key, p);
    return p;
  }

  private send(p: Pending): void {
    if (this.pending.get(p.key) === p) this.pending.delete(p.key);
    if (p.timer) clearTimeout(p.timer);
    p.timer = undefined;
    if (p.events.length === 0) {
      p.resolve();
      return;
    }
    const merged: EventBatch = {
      events: p.events,
      auth: p.template.auth,
      source: p.template.source,
      report: new RoutingReport(p.events, p.owners),
    };
    this.onSent(p.events.length);
    let sending: Promise<void>;
    try {
      sending = this.next.consume(merged);
    } catch (err) {
      sending = Promise.reject(err);
    }
    const tracked = sending.then(p.resolve, p.reject).finally(() => {
      this.queued -= p.bytes;
      this.inflight.delete(tracked);
    });
    this.inflight.add(tracked);
  }
}
