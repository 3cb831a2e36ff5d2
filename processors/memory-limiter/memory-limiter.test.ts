import { describe, expect, it } from 'vitest';
import type { Component, ConsumerComponent, Processor } from '../../pipeline/component.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import { CollectingConsumer, testBatch, testEvent, testHost, testSettings } from '../../pipeline/testing.ts';
import { batchConfigSchema } from '../batch/config.ts';
import { batchFactory } from '../batch/factory.ts';
import { memoryLimiterConfigSchema } from './config.ts';
import { memoryLimiterFactory } from './factory.ts';

async function limiter(config: Record<string, unknown>, components: Record<string, Component> = {}) {
  const settings = testSettings('memory_limiter');
  const p = memoryLimiterFactory.create(
    settings,
    memoryLimiterConfigSchema.parse(config),
    new CollectingConsumer(),
  ) as Processor;
  const host = { ...testHost(settings), getComponent: (id: string) => components[id] };
  await p.start(host);
  return { p, settings };
}

const queue = (bytes: number): Component & { queuedBytes(): number } => ({
  start: async () => {},
  shutdown: async () => {},
  queuedBytes: () => bytes,
});

describe('memory_limiter', () => {
  it('passes batches while under the limits', async () => {
    const { p } = await limiter({});
    const batch = testBatch([testEvent()]);
    expect(await p.process(batch)).toBe(batch);
    await p.shutdown();
  });

  it('refuses with a retryable memory_limit error above the soft heap limit', async () => {
    // Any running node process uses more than 1 MiB of heap.
    const { p, settings } = await limiter({ heap_soft_limit_mib: 1, heap_hard_limit_mib: 1_000_000 });
    let err: unknown;
    try {
      await p.process(testBatch([testEvent(), testEvent()]));
    } catch (e) {
      err = e;
    }
    await p.shutdown();
    expect(err).toBeInstanceOf(PipelineError);
    expect(err).toMatchObject({ code: 'memory_limit', retryable: true, status: 503, retryAfter: 1 });
    expect(await settings.telemetry.registry.metrics()).toContain(
      'ledgerline_memory_limiter_refused_events_total{processor="memory_limiter",limit="soft"} 2',
    );
  });

  it('counts queued bytes of the named components', async () => {
    const mib = 1024 * 1024;
    const soft = await limiter(
      { queued_from: ['batch', 'missing'], queued_soft_limit_mib: 1, queued_hard_limit_mib: 4 },
      { batch: queue(2 * mib) },
    );
    await expect(async () => soft.p.process(testBatch([testEvent()]))).rejects.toMatchObject({
      code: 'memory_limit',
    });
    await soft.p.shutdown();
    const hard = await limiter(
      { queued_from: ['batch'], queued_soft_limit_mib: 1, queued_hard_limit_mib: 4 },
      { batch: queue(5 * mib) },
    );
    await expect(async () => hard.p.process(testBatch([testEvent()]))).rejects.toThrow(/hard limit/);
    await hard.p.shutdown();
    const ok = await limiter({ queued_from: ['batch'], queued_soft_limit_mib: 1 }, { batch: queue(1000) });
    expect((await ok.p.process(testBatch([testEvent()]))).events).toHaveLength(1);
    await ok.p.shutdown();
  });

  it('counts the bytes batch processors hold, read from ledgerline_queued_bytes', async () => {
    const settings = testSettings('memory_limiter');
    const batchSettings = { ...testSettings('batch'), telemetry: settings.telemetry };
    const gate: { release?: () => void } = {};
    const next = { consume: () => new Promise<void>((r) => (gate.release = r)) };
    const batch = batchFactory.create(
      batchSettings,
      batchConfigSchema.parse({ timeout: 0 }),
      next,
    ) as ConsumerComponent;
    await batch.start(testHost(batchSettings));
    // One 1.5 MB event held in flight by the batch processor (its consumer has not returned).
    // (details values have no length limit in the envelope)
    const held = batch.consume(
      testBatch([testEvent({ metadata: { details: { blob: 'x'.repeat(1_500_000) } } })]),
    );
    const p = memoryLimiterFactory.create(
      settings,
      memoryLimiterConfigSchema.parse({ queued_soft_limit_mib: 1, queued_hard_limit_mib: 4 }),
      new CollectingConsumer(),
    ) as Processor;
    await p.start(testHost(settings));
    const metrics = await settings.telemetry.registry.metrics();
    expect(metrics).toMatch(/ledgerline_queued_bytes\{component="batch"\} [1-9]\d{6}/);
    await expect(async () => p.process(testBatch([testEvent()]))).rejects.toMatchObject({
      code: 'memory_limit',
    });
    await p.shutdown();
    gate.release?.();
    await held;
    await batch.shutdown();
    expect(await settings.telemetry.registry.metrics()).not.toMatch(
      /ledgerline_queued_bytes\{component="batch"\} [1-9]/,
    );
  });

  it('validates that soft limits do not exceed hard limits', () => {
    const r = memoryLimiterConfigSchema.safeParse({ heap_soft_limit_mib: 10, heap_hard_limit_mib: 5 });
    expect(r.success).toBe(false);
  });

  it('shuts down without start, twice', async () => {
    const p = memoryLimiterFactory.create(
      testSettings('m'),
      memoryLimiterConfigSchema.parse({}),
      new CollectingConsumer(),
    );
    await p.shutdown();
    await p.shutdown();
  });
});
