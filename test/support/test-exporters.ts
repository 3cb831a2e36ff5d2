import { z } from 'zod';
import type { ConsumerComponent, EventBatch, ExporterFactory } from '../../pipeline/component.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import type { Event } from '../../pipeline/event.ts';

/**
 * Exporters that misbehave on purpose, for testing the runtime's delivery guarantees: one that
 * records, one that always throws, one that never answers, one that is slow, one that fails
 * a set number of times before succeeding. They stand in for a broken sink, not for a service.
 */

const configSchema = z.strictObject({
  mode: z.enum(['ok', 'throw', 'throw_permanent', 'hang', 'slow', 'flaky']).default('ok'),
  delay_ms: z.number().default(50),
  failures: z.number().default(2),
});

/** What each test exporter received, by component id. */
export const received = new Map<string, Event[]>();
/** Calls per exporter id, successful or not. */
export const calls = new Map<string, number>();

class TestExporter implements ConsumerComponent {
  private readonly id: string;
  private readonly config: z.output<typeof configSchema>;
  private failuresLeft: number;
  constructor(id: string, config: z.output<typeof configSchema>) {
    this.id = id;
    this.config = config;
    this.failuresLeft = config.failures;
    received.set(id, []);
    calls.set(id, 0);
  }
  async start() {}
  async shutdown() {}
  async consume(batch: EventBatch): Promise<void> {
    calls.set(this.id, (calls.get(this.id) ?? 0) + 1);
    switch (this.config.mode) {
      case 'throw':
        throw new PipelineError('exporter_unavailable', 'the sink is down');
      case 'throw_permanent':
        throw new PipelineError('exporter_failed', 'the sink refuses this data', { retryable: false });
      case 'hang':
        return new Promise<void>(() => {});
      case 'slow':
        await new Promise((r) => setTimeout(r, this.config.delay_ms));
        break;
      case 'flaky':
        if (this.failuresLeft-- > 0) throw new PipelineError('exporter_unavailable', 'transient failure');
        break;
    }
    received.get(this.id)!.push(...batch.events);
  }
}

/** The `test` exporter factory. */
export const testExporterFactory: ExporterFactory<z.output<typeof configSchema>> = {
  type: 'test',
  kind: 'exporter',
  description: 'Test exporter with a chosen failure mode.',
  configSchema,
  create: (settings, config) => new TestExporter(settings.id, config),
};
