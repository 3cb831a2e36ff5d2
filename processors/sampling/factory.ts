import { performance } from 'node:perf_hooks';
import {
  type EventBatch,
  type Processor,
  type ProcessorFactory,
  type Settings,
  withEvents,
} from '../../pipeline/component.ts';
import { type SamplingConfig, samplingConfigSchema } from './config.ts';
import { Sampler } from './sampler.ts';

/**
 * The sampling processor. It declares `samples`, so the config validator refuses it in audit
 * pipelines; audit events reaching it anyway (an activity pipeline fed by a mixed receiver)
 * still pass untouched. Drops are not errors: they are counted in the batch report and in
 * `ledgerline_processor_dropped_events_total{reason="sampled_<rule>"}`.
 */
class SamplingProcessor implements Processor {
  private readonly settings: Settings;
  private readonly sampler: Sampler;

  constructor(settings: Settings, config: SamplingConfig) {
    this.settings = settings;
    this.sampler = new Sampler(config);
  }

  async start(): Promise<void> {}

  async shutdown(): Promise<void> {}

  process(batch: EventBatch): EventBatch {
    const { kept, dropped } = this.sampler.sample(batch.events, performance.now());
    if (dropped) {
      for (const [rule, n] of dropped) {
        const reason = `sampled_${rule}`;
        batch.report.drop(reason, n);
        this.settings.telemetry.processorDropped.inc({ processor: this.settings.id, reason }, n);
      }
    }
    return withEvents(batch, kept);
  }
}

/** The `sampling` processor factory. */
export const samplingFactory: ProcessorFactory<SamplingConfig> = {
  type: 'sampling',
  kind: 'processor',
  description:
    'Deterministic (trace id / event id hash) sampling of activity events by rule, with keep rules and a per-tenant adaptive mode; sets usage.sample_rate. Never samples audit events.',
  configSchema: samplingConfigSchema,
  capabilities: { samples: true },
  create: (settings, config) => new SamplingProcessor(settings, config),
};
