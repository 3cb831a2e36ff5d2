import type {
  Consumer,
  ConsumerComponent,
  EventBatch,
  ProcessorFactory,
  Settings,
} from '../../pipeline/component.ts';
import { Batcher } from './batcher.ts';
import { type BatchConfig, batchConfigSchema } from './config.ts';
import { reportQueuedBytes } from './queued-bytes-gauge.ts';

/**
 * The batch processor: the one processor that forwards by itself, because it holds events
 * across calls. What it holds is reported as `ledgerline_queued_bytes{component}`, which the
 * memory limiter reads.
 */
class BatchProcessor implements ConsumerComponent {
  private readonly batcher: Batcher;
  private readonly settings: Settings;
  private unreport: (() => void) | undefined;

  constructor(settings: Settings, config: BatchConfig, next: Consumer) {
    const histogram = settings.telemetry.batchSize;
    this.settings = settings;
    this.batcher = new Batcher(config, next, (n) => histogram.observe({ component: settings.id }, n));
  }

  async start(): Promise<void> {
    this.unreport ??= reportQueuedBytes(this.settings.telemetry.registry, {
      id: this.settings.id,
      queuedBytes: () => this.batcher.queuedBytes(),
    });
  }

  /** Sends what is pending and waits for it downstream; safe without start and twice. */
  async shutdown(): Promise<void> {
    await this.batcher.close();
    this.unreport?.();
    this.unreport = undefined;
  }

  consume(batch: EventBatch): Promise<void> {
    return this.batcher.consume(batch);
  }

  /** Estimated bytes held by this processor (pending and in flight). */
  queuedBytes(): number {
    return this.batcher.queuedBytes();
  }
}

/** The `batch` processor factory. */
export const batchFactory: ProcessorFactory<BatchConfig> = {
  type: 'batch',
  kind: 'processor',
  description:
    'Merges batches of the same caller by size, time and bytes (8192 events / 200 ms by default); every request is acknowledged only when all its events were consumed downstream.',
  configSchema: batchConfigSchema,
  create: (settings, config, next) => new BatchProcessor(settings, config, next),
};
