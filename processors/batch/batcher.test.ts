import { describe, expect, it } from 'vitest';
import type { Consumer, EventBatch } from '../../pipeline/component.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import { CollectingConsumer, testAuth, testBatch, testEvent, testSettings } from '../../pipeline/testing.ts';
import { Batcher } from './batcher.ts';
import { batchConfigSchema } from './config.ts';
import { batchFactory } from './factory.ts';

/** A consumer whose consume calls wait until released, to observe acknowledgement order. */
class GatedConsumer implements Consumer {
  readonly batches: EventBatch[] = [];
  private readonly gates: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  consume(batch: EventBatch): Promise<void> {
    this.batches.push(batch);
    return new Promise((resolve, reject) => this.gates.push({ resolve, reject }));
  }
  release(i: number, err?: unknown): void {
    if (err) this.gates[i]!.reject(err);
    else this.gates[i]!.resolve();
  }
}

const settled = async (p: Promise<void>) => {
  let state = 'pending';
  p.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((r) => setImmediate(r));
  return state;
};

const events = (n: number) => Array.from({ length: n }, () => testEvent());

describe('batch', () => {
  it('merges by size and acknowledges each input only when its merged batch is consumed', async () => {
    const next = new GatedConsumer();
    const b = new Batcher(batchConfigSchema.parse({ send_batch_size: 4, timeout: 60_000 }), next);
    const a = b.consume(testBatch(events(3)));
    const c = b.consume(testBatch(events(3)));
    expect(next.batches.map((x) => x.events.length)).toEqual([4]);
    expect(await settled(a)).toBe('pending');
    next.release(0);
    expect(await settled(a)).toBe('resolved');
    // The second input was split: its last two events wait for the next merged batch.
    expect(await settled(c)).toBe('pending');
    const closing = b.close();
    expect(next.batches.map((x) => x.events.length)).toEqual([4, 2]);
    expect(await settled(c)).toBe('pending');
    next.release(1);
    await closing;
    expect(await settled(c)).toBe('resolved');
  });

  it('sends on the timer', async () => {
    const next = new CollectingConsumer();
    const b = new Batcher(batchConfigSchema.parse({ timeout: 20 }), next);
    await b.consume(testBatch(events(2)));
    expect(next.batches).toHaveLength(1);
  });

  it('sends on the byte limit', async () => {
    const next = new CollectingConsumer();
    const b = new Batcher(batchConfigSchema.parse({ timeout: 60_000, send_batch_max_bytes: 1000 }), next);
    const p = b.consume(testBatch(events(10)));
    await b.close();
    await p;
    expect(next.batches.length).toBeGreaterThan(1);
    expect(next.events).toHaveLength(10);
  });

  it('rejects every input whose events were in a failed merged batch', async () => {
    const next = new GatedConsumer();
    const b = new Batcher(batchConfigSchema.parse({ send_batch_size: 4, timeout: 60_000 }), next);
    const a = b.consume(testBatch(events(2)));
    const c = b.consume(testBatch(events(2)));
    next.release(0, new PipelineError('exporter_unavailable'));
    await expect(a).rejects.toThrow(PipelineError);
    await expect(c).rejects.toThrow(PipelineError);
  });

  it('merges only batches of the same caller and source', async () => {
    const next = new CollectingConsumer();
    const b = new Batcher(batchConfigSchema.parse({ timeout: 60_000 }), next);
    const ps = [
      b.consume(testBatch(events(1), testAuth('acme'))),
      b.consume(testBatch(events(1), testAuth('globex'))),
      b.consume(testBatch(events(1), testAuth('acme'))),
    ];
    await b.close();
    await Promise.all(ps);
    expect(next.batches.map((x) => [x.auth.tenantId, x.events.length])).toEqual([
      ['acme', 2],
      ['globex', 1],
    ]);
  });

  it('routes downstream rejections to the report of the request each event came from', async () => {
    const rejecting: Consumer = {
      async consume(batch) {
        for (const e of batch.events)
          if (e.action === 'bad_event') batch.report.reject(e, 'invalid_event', 'no');
        batch.report.drop('sampled_x', 1);
      },
    };
    const b = new Batcher(batchConfigSchema.parse({ timeout: 60_000 }), rejecting);
    const one = testBatch([testEvent(), testEvent({ action: 'bad_event' })]);
    const two = testBatch([testEvent({ action: 'bad_event' }), testEvent()]);
    const ps = [b.consume(one), b.consume(two)];
    await b.close();
    await Promise.all(ps);
    expect(one.report.rejected.map((r) => r.event_id)).toEqual([one.events[1]!.event_id]);
    expect(two.report.rejected.map((r) => r.event_id)).toEqual([two.events[0]!.event_id]);
    expect(one.report.dropped.get('sampled_x')).toBe(1);
  });

  it('refuses new input after shutdown, reports queued bytes, and shuts down twice', async () => {
    const next = new GatedConsumer();
    const settings = testSettings('batch');
    const p = batchFactory.create(
      settings,
      batchConfigSchema.parse({ timeout: 60_000 }),
      next,
    ) as unknown as Consumer & {
      shutdown(): Promise<void>;
      queuedBytes(): number;
    };
    const pending = p.consume(testBatch(events(3)));
    expect(p.queuedBytes()).toBeGreaterThan(0);
    const closing = p.shutdown();
    next.release(0);
    await closing;
    await pending;
    expect(p.queuedBytes()).toBe(0);
    await expect(p.consume(testBatch(events(1)))).rejects.toMatchObject({ code: 'shutting_down' });
    await p.shutdown();
    expect(await settings.telemetry.registry.metrics()).toContain(
      'ledgerline_batch_size_events_count{component="batch"} 1',
    );
  });
});
