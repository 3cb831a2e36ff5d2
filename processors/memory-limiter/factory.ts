import { Counter } from 'prom-client';
import type { EventBatch, Host, Processor, ProcessorFactory, Settings } from '../../pipeline/component.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import { type MemoryLimiterConfig, memoryLimiterConfigSchema } from './config.ts';
import { MemoryGauge } from './memory-gauge.ts';

/**
 * The memory_limiter processor, first in a pipeline: above the soft limit every batch is
 * refused with `memory_limit` (retryable; HTTP 503 with Retry-After, gRPC RESOURCE_EXHAUSTED),
 * so load sheds at the door instead of the process dying of an out-of-memory error. The
 * measurement runs on a timer; a batch costs one field read.
 */

const REFUSED_NAME = 'ledgerline_memory_limiter_refused_events_total';

function refusedCounter(settings: Settings): Counter<'processor' | 'limit'> {
  const existing = settings.telemetry.registry.getSingleMetric(REFUSED_NAME);
  if (existing) return existing as Counter<'processor' | 'limit'>;
  return new Counter({
    name: REFUSED_NAME,
    help: 'Events refused (retryable) because memory was above a limit, by limit (soft, hard).',
    labelNames: ['processor', 'limit'],
    registers: [settings.telemetry.registry],
  });
}

class MemoryLimiterProcessor implements Processor {
  private readonly settings: Settings;
  private readonly config: MemoryLimiterConfig;
  private readonly gauge: MemoryGauge;
  private readonly refused: Counter<'processor' | 'limit'>;
  private timer: NodeJS.Timeout | undefined;

  constructor(settings: Settings, config: MemoryLimiterConfig) {
    this.settings = settings;
    this.config = config;
    this.gauge = new MemoryGauge(config, settings.logger, settings.telemetry.registry);
    this.refused = refusedCounter(settings);
  }

  async start(host: Host): Promise<void> {
    this.gauge.attach(host);
    await this.gauge.measure();
    this.timer ??= setInterval(() => {
      this.gauge
        .measure()
        .catch((err: unknown) => this.settings.logger.error({ err }, 'memory measurement failed'));
    }, this.config.check_interval);
    this.timer.unref();
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  process(batch: EventBatch): EventBatch {
    const pressure = this.gauge.pressure;
    if (pressure === 'ok') return batch;
    this.refused.inc({ processor: this.settings.id, limit: pressure }, batch.events.length);
    throw new PipelineError('memory_limit', `memory above the ${pressure} limit; retry later`, {
      retryable: true,
      retryAfter: Math.max(1, Math.ceil(this.config.check_interval / 1000)),
    });
  }
}

/** The `memory_limiter` processor factory. */
export const memoryLimiterFactory: ProcessorFactory<MemoryLimiterConfig> = {
  type: 'memory_limiter',
  kind: 'processor',
  description:
    'Refuses batches with a retryable error while heap use or queued bytes are above the soft limit, measured on an interval.',
  configSchema: memoryLimiterConfigSchema,
  create: (settings, config) => new MemoryLimiterProcessor(settings, config),
};
