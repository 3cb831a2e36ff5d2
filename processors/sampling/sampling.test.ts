import { describe, expect, it } from 'vitest';
import type { EventBatch, Processor } from '../../pipeline/component.ts';
import type { Event } from '../../pipeline/event.ts';
import { CollectingConsumer, testBatch, testEvent, testSettings } from '../../pipeline/testing.ts';
import { uuidv7 } from '../../pipeline/uuid.ts';
import { samplingConfigSchema } from './config.ts';
import { unitHash } from './decision-hash.ts';
import { samplingFactory } from './factory.ts';
import { Sampler } from './sampler.ts';

function sampler(config: Record<string, unknown>): Sampler {
  return new Sampler(samplingConfigSchema.parse(config));
}

let serial = 0;
/** Events with distinct, deterministic ids, so every run of these tests sees the same hashes. */
function usageEvents(n: number, overrides: Record<string, unknown> = {}): Event[] {
  const base = testEvent({ usage: { feature: 'search', count: 1 }, ...overrides });
  return Array.from({ length: n }, () => ({
    ...base,
    event_id: `01900000-0000-7000-8000-${(serial++).toString(16).padStart(12, '0')}`,
  }));
}

/** Σ count / sample_rate over kept events: the unbiased estimate of the original total. */
function estimate(kept: Event[]): number {
  return kept.reduce((s, e) => s + (e.usage?.count ?? 1) / (e.usage?.sample_rate ?? 1), 0);
}

describe('sampling', () => {
  it('estimates the true count without bias over many seeds', () => {
    const N = 4000;
    const events = [
      ...usageEvents(N / 2, { action: 'query_run' }),
      ...usageEvents(N / 4, { action: 'dashboard_viewed' }),
      // A producer that already sampled at 0.5: each of these stands for two events.
      ...usageEvents(N / 4, {
        action: 'export_started',
        usage: { feature: 'search', count: 1, sample_rate: 0.5 },
      }),
    ];
    const truth = N / 2 + N / 4 + (N / 4) * 2;
    const config = { default_rate: 0.3, rules: [{ action: 'query_run', rate: 0.1 }], keep: [] };
    // Var of the estimate = Σ w_i² (1 - p_i) / p_i; its standard deviation bounds each seed.
    const variance = (N / 2) * (0.9 / 0.1) + (N / 4) * (0.7 / 0.3) + (N / 4) * 4 * (0.7 / 0.3);
    const sd = Math.sqrt(variance);
    const seeds = 200;
    let sum = 0;
    for (let seed = 0; seed < seeds; seed++) {
      const est = estimate(sampler({ ...config, hash_seed: seed }).sample(events, 0).kept);
      expect(Math.abs(est - truth)).toBeLessThan(5 * sd);
      sum += est;
    }
    // The mean over seeds converges on the truth: within 5 standard errors.
    expect(Math.abs(sum / seeds - truth)).toBeLessThan((5 * sd) / Math.sqrt(seeds));
  });

  it('keeps error, failure, denied and slow events always, at their original weight', () => {
    const s = sampler({ default_rate: 0.01 });
    const kept = [
      ...usageEvents(500, { usage: { outcome: 'error' } }),
      ...usageEvents(500, { result: 'failure' }),
      ...usageEvents(500, { result: 'denied' }),
      ...usageEvents(500, { usage: { latency_ms: 2500 } }),
    ];
    const out = s.sample(kept, 0);
    expect(out.kept).toHaveLength(2000);
    expect(out.kept.every((e) => (e.usage?.sample_rate ?? 1) === 1)).toBe(true);
    expect(out.dropped).toBeUndefined();
  });

  it('never samples audit events', () => {
    const audit = Array.from({ length: 1000 }, () =>
      testEvent({
        event_type: 'audit',
        entity: { type: 'doc', id: 'd' },
        result: 'success',
        event_id: uuidv7(),
      }),
    );
    const out = sampler({ default_rate: 0.01, keep: [] }).sample(audit, 0);
    expect(out.kept).toHaveLength(1000);
    expect(out.kept.every((e, i) => e === audit[i])).toBe(true);
  });

  it('decides by trace id, so a trace is kept or dropped whole', () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const events = usageEvents(200, { correlation: { trace_id: trace } });
    const n = sampler({ default_rate: 0.5, keep: [] }).sample(events, 0).kept.length;
    expect([0, 200]).toContain(n);
    expect(n === 200).toBe(unitHash(trace, 0) < 0.5);
  });

  it('creates the usage block of a sampled event that has none', () => {
    const events = Array.from({ length: 100 }, () => testEvent({ event_id: uuidv7() }));
    const { kept } = sampler({ default_rate: 0.5, keep: [] }).sample(events, 0);
    expect(kept.length).toBeGreaterThan(0);
    for (const e of kept) expect(e.usage).toEqual({ count: 1, outcome: 'ok', sample_rate: 0.5 });
    expect(events.every((e) => e.usage === undefined)).toBe(true);
  });

  it('applies the first matching rule by tenant, feature, tool and outcome', () => {
    const s = sampler({
      keep: [],
      rules: [
        { name: 'globex_search', tenant: 'globex', feature: 'search', rate: 0.25 },
        { name: 'gh_tool', tool: ['github.pr_summary'], rate: 0.5 },
        { name: 'warns', outcome: 'warn', rate: 0.2 },
      ],
    });
    const rateOf = (e: Event) => {
      for (let seed = 0; seed < 64; seed++) {
        const kept = s.sample([{ ...e, event_id: uuidv7() }], 0).kept[0];
        if (kept) return kept.usage!.sample_rate;
      }
      return undefined;
    };
    expect(rateOf(testEvent({ tenant: { id: 'globex' }, usage: { feature: 'search' } }))).toBe(0.25);
    expect(rateOf(testEvent({ usage: { tool: 'github.pr_summary' } }))).toBe(0.5);
    expect(rateOf(testEvent({ usage: { outcome: 'warn' } }))).toBe(0.2);
    expect(rateOf(testEvent({ usage: { feature: 'search' } }))).toBe(1);
  });

  it('thins a bursting tenant towards the adaptive target and keeps estimates unbiased', () => {
    const s = sampler({
      keep: [],
      adaptive: { enabled: true, target_events_per_second: 100, window_ms: 1000 },
    });
    let t = 0;
    let kept = 0;
    let est = 0;
    let total = 0;
    for (let second = 0; second < 10; second++) {
      for (let tick = 0; tick < 10; tick++) {
        const events = usageEvents(100);
        total += events.length;
        const out = s.sample(events, t);
        if (second >= 5) kept += out.kept.length;
        est += estimate(out.kept);
        t += 100;
      }
    }
    // 1000 events/s offered, target 100/s: after warm-up roughly 100/s are kept.
    expect(kept / 5).toBeGreaterThan(50);
    expect(kept / 5).toBeLessThan(200);
    expect(Math.abs(est - total) / total).toBeLessThan(0.2);
  });

  it('reports drops by rule in the batch report and the metrics', async () => {
    const settings = testSettings('sampling');
    const p = samplingFactory.create(
      settings,
      samplingConfigSchema.parse({
        default_rate: 0.5,
        keep: [],
        rules: [{ name: 'q', action: 'query_run', rate: 0.1 }],
      }),
      new CollectingConsumer(),
    ) as Processor;
    const batch = testBatch([...usageEvents(500), ...usageEvents(500, { action: 'query_run' })]);
    const out = (await p.process(batch)) as EventBatch;
    const dropped =
      (batch.report.dropped.get('sampled_default') ?? 0) + (batch.report.dropped.get('sampled_q') ?? 0);
    expect(out.events.length + dropped).toBe(1000);
    expect(batch.report.dropped.get('sampled_q')).toBeGreaterThan(400);
    const metrics = await settings.telemetry.registry.metrics();
    expect(metrics).toContain(`reason="sampled_q"} ${batch.report.dropped.get('sampled_q')}`);
    expect(samplingFactory.capabilities).toEqual({ samples: true });
  });
});
