import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigSources } from '../../../config/load.ts';
import { fileExporterFactory } from '../../../exporters/file/factory.ts';
import { Service } from '../../../pipeline/service.ts';
import { hashToken } from '../../../pipeline/tenants.ts';
import { httpReceiverFactory } from '../../../receivers/http/factory.ts';
import type { HttpReceiver } from '../../../receivers/http/receiver.ts';
import { postJson } from '../../harness/http.ts';
import { calls, received, testExporterFactory } from '../../support/test-exporters.ts';

// The delivery invariants of DESIGN §6, through the real http receiver and runtime, with
// exporters that fail in each way a sink can.

const factories = [httpReceiverFactory, fileExporterFactory, testExporterFactory];
const TOKEN = 'runtime-test-token';
let running: Service | undefined;

afterEach(async () => {
  await running?.shutdown(AbortSignal.timeout(2_000));
  running = undefined;
});

async function start(exporters: string, pipelineExporters: string[], http = '{ endpoint: 127.0.0.1:0 }') {
  const text = `
tenants:
  - { id: acme, keys: ["${hashToken(TOKEN)}"] }
receivers:
  http: ${http}
exporters:
${exporters}
service:
  pipelines:
    activity: { receivers: [http], exporters: [${pipelineExporters.join(', ')}] }
`;
  const loaded = loadConfigSources([{ path: 'test.yaml', text }], factories);
  expect(loaded.errors).toEqual([]);
  running = await Service.start(loaded.config!, { logger: pino({ level: 'silent' }) });
  const url = (running.getComponent('http') as HttpReceiver).url!;
  return `${url}/api/v1/events`;
}

const event = (i: number) => ({
  event_type: 'activity',
  actor: { type: 'user', id: `u${i}` },
  tenant: { id: 'acme' },
  action: 'report_exported',
});

describe('fan-out delivery', () => {
  it('delivers every event exactly once to healthy exporters while one throws, and answers retryable', async () => {
    const url = await start(
      `  test/ok: {}
  test/slow: { mode: slow, delay_ms: 30 }
  test/broken: { mode: throw, queue: { retry: { initial_interval_ms: 5, max_interval_ms: 10, max_elapsed_ms: 60 } } }`,
      ['test/ok', 'test/slow', 'test/broken'],
    );
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => postJson(url, [event(2 * i), event(2 * i + 1)], TOKEN)),
    );
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(a.headers.get('retry-after')).toBe('1');
      expect(a.body.error.code).toBe('exporter_unavailable');
    }
    for (const id of ['test/ok', 'test/slow']) {
      const ids = received
        .get(id)!
        .map((e) => e.actor.id)
        .sort();
      expect(ids).toHaveLength(40);
      expect(new Set(ids).size).toBe(40);
    }
    expect(received.get('test/broken')).toEqual([]);
    expect(calls.get('test/broken')!).toBeGreaterThan(20); // it was retried
  });

  it('answers 202 only once every exporter has the batch; a hanging exporter holds the answer, not the others', async () => {
    const url = await start(
      `  test/ok: {}
  test/hang: { mode: hang, queue: { timeout_ms: 200, retry: { initial_interval_ms: 10, max_elapsed_ms: 500 } } }`,
      ['test/ok', 'test/hang'],
    );
    const answer = await postJson(url, [event(1), event(2)], TOKEN);
    expect(answer.status).toBe(503);
    expect(answer.body.error.message).toContain('test/hang');
    expect(calls.get('test/hang')!).toBeGreaterThanOrEqual(2); // each attempt timed out and was retried
    expect(received.get('test/ok')!.map((e) => e.actor.id)).toEqual(['u1', 'u2']);
  });

  it('retries a flaky exporter until it takes the batch, and only then answers 202', async () => {
    const url = await start(
      `  test/ok: {}
  test/flaky: { mode: flaky, failures: 3, queue: { retry: { initial_interval_ms: 5, max_interval_ms: 20 } } }`,
      ['test/ok', 'test/flaky'],
    );
    const answer = await postJson(url, event(7), TOKEN);
    expect(answer.status).toBe(202);
    expect(answer.body.status).toBe('accepted');
    expect(calls.get('test/flaky')).toBe(4);
    expect(received.get('test/flaky')!.map((e) => e.actor.id)).toEqual(['u7']);
    expect(received.get('test/ok')!.map((e) => e.actor.id)).toEqual(['u7']);
  });

  it('refuses with 429 and Retry-After when an exporter queue is full, instead of growing memory', async () => {
    const url = await start(
      `  test/ok: {}
  test/slow: { mode: slow, delay_ms: 300, queue: { capacity: 4, concurrency: 1 } }`,
      ['test/ok', 'test/slow'],
    );
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => postJson(url, [event(i)], TOKEN)));
    const statuses = answers.map((a) => a.status);
    const refused = answers.filter((a) => a.status === 429);
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.headers.get('retry-after')).toBe('1');
      expect(a.body.error.code).toBe('queue_full');
    }
    // A refused batch entered no exporter: the healthy one holds exactly the accepted events.
    expect(received.get('test/ok')!.length).toBe(statuses.filter((s) => s === 202).length);
    expect(received.get('test/slow')!.length).toBe(statuses.filter((s) => s === 202).length);
  });

  it('answers a permanent exporter failure with a non-retryable 500', async () => {
    const url = await start(`  test/bad: { mode: throw_permanent }`, ['test/bad']);
    const answer = await postJson(url, event(1), TOKEN);
    expect(answer.status).toBe(500);
    expect(answer.headers.get('retry-after')).toBeNull();
    expect(answer.body.error.code).toBe('exporter_failed');
  });

  it('drains in-flight batches on shutdown: the request in progress is answered 202 and written', async () => {
    const url = await start(`  test/slow: { mode: slow, delay_ms: 300 }`, ['test/slow']);
    const pending = postJson(url, [event(1), event(2), event(3)], TOKEN);
    while ((calls.get('test/slow') ?? 0) === 0) await new Promise((r) => setTimeout(r, 5)); // the batch is in the exporter
    const service = running!;
    running = undefined;
    await service.shutdown(AbortSignal.timeout(5_000));
    const answer = await pending;
    expect(answer.status).toBe(202);
    expect(received.get('test/slow')!.map((e) => e.actor.id)).toEqual(['u1', 'u2', 'u3']);
    await expect(postJson(url, event(4), TOKEN)).rejects.toThrow(); // no longer listening
  });
});
