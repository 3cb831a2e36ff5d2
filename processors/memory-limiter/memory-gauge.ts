import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Component, Host } from '../../pipeline/component.ts';
import type { MemoryLimiterConfig } from './config.ts';

/**
 * Measures memory on a timer and keeps a verdict that batches read for free. Heap use comes
 * from process.memoryUsage(); queued bytes from the `ledgerline_queued_bytes` metric of the
 * instance's registry (the batch processors report there), plus `queuedBytes()` of the
 * components named in `queued_from` (exporters or extensions that expose it).
 */

/** The metric holding queued bytes by component (see processors/batch/queued-bytes-gauge.ts). */
const QUEUED_BYTES_METRIC = 'ledgerline_queued_bytes';

/** A component that can say how many bytes of events it holds. */
export interface QueuedBytesSource {
  queuedBytes(): number;
}

/** What the last measurement said. */
export type Pressure = 'ok' | 'soft' | 'hard';

const MIB = 1024 * 1024;

function hasQueuedBytes(c: Component | undefined): c is Component & QueuedBytesSource {
  return typeof (c as Partial<QueuedBytesSource> | undefined)?.queuedBytes === 'function';
}

/** The limits in bytes, with the V8-relative defaults resolved. */
export interface Limits {
  heapSoft: number;
  heapHard: number;
  queuedSoft: number;
  queuedHard: number;
}

/** Resolves the configured limits (0 heap limits are fractions of the V8 heap limit). */
export function resolveLimits(config: MemoryLimiterConfig): Limits {
  const v8Limit = getHeapStatistics().heap_size_limit;
  return {
    heapSoft: config.heap_soft_limit_mib ? config.heap_soft_limit_mib * MIB : Math.floor(v8Limit * 0.7),
    heapHard: config.heap_hard_limit_mib ? config.heap_hard_limit_mib * MIB : Math.floor(v8Limit * 0.85),
    queuedSoft: config.queued_soft_limit_mib ? config.queued_soft_limit_mib * MIB : Number.POSITIVE_INFINITY,
    queuedHard: config.queued_hard_limit_mib ? config.queued_hard_limit_mib * MIB : Number.POSITIVE_INFINITY,
  };
}

/** Periodic memory measurement and the resulting pressure. */
export class MemoryGauge {
  readonly limits: Limits;
  pressure: Pressure = 'ok';
  heapUsed = 0;
  queued = 0;
  private readonly ids: readonly string[];
  private readonly logger: Logger;
  private readonly registry: Registry;
  private host: Host | undefined;

  constructor(config: MemoryLimiterConfig, logger: Logger, registry: Registry) {
    this.limits = resolveLimits(config);
    this.ids = config.queued_from;
    this.logger = logger;
    this.registry = registry;
  }

  /** Remembers the host whose components report queued bytes. */
  attach(host: Host): void {
    this.host = host;
  }

  /** Measures now and updates `pressure`; logs transitions. */
  async measure(): Promise<Pressure> {
    this.heapUsed = process.memoryUsage().heapUsed;
    let queued = 0;
    const metric = this.registry.getSingleMetric(QUEUED_BYTES_METRIC);
    if (metric) for (const v of (await metric.get()).values) queued += v.value;
    if (this.host) {
      for (const id of this.ids) {
        const c = this.host.getComponent(id);
        if (hasQueuedBytes(c)) queued += c.queuedBytes();
      }
    }
    this.queued = queued;
    const l = this.limits;
    const next: Pressure =
      this.heapUsed >= l.heapHard || queued >= l.queuedHard
        ? 'hard'
        : this.heapUsed >= l.heapSoft || queued >= l.queuedSoft
          ? 'soft'
          : 'ok';
    if (next !== this.pressure) {
      const fields = { heap_used: this.heapUsed, queued_bytes: queued, from: this.pressure, to: next };
      if (next === 'hard') this.logger.error(fields, 'memory above the hard limit: refusing data');
      else if (next === 'soft') this.logger.warn(fields, 'memory above the soft limit: refusing data');
      else this.logger.info(fields, 'memory back under the limits: accepting data');
    }
    if (next === 'hard') (globalThis as { gc?: () => void }).gc?.();
    this.pressure = next;
    return next;
  }
}
