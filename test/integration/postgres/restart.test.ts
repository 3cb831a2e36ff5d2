import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../../pipeline/event.ts';
import { testBatch, testEvent } from '../../../pipeline/testing.ts';
import { type PostgresService, startPostgres } from '../../services/postgres.ts';
import { consumeWithRetry, startExporter } from './backends.ts';

/**
 * The server goes away in the middle of a load and comes back: every batch the sink
 * acknowledged is stored exactly once, and batches in flight are retried until they are.
 * (Embedded PGlite lives in the process, so its crash case is the kill test in sink.test.ts.)
 */
describe('postgres sink across a server restart', () => {
  let server: PostgresService;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('stores every acknowledged event once when PostgreSQL stops mid-load and starts again', async () => {
    const url = await server.createDatabase();
    const ex = await startExporter(url, { pool: { max: 2, connect_timeout_ms: 1000 } });
    try {
      const tenant = `restart-${process.pid}-${Date.now().toString(36)}`;
      const batches: Event[][] = [];
      for (let b = 0; b < 30; b++) {
        batches.push(
          Array.from({ length: 400 }, (_, i) =>
            testEvent({
              tenant: { id: tenant },
              actor: { type: 'user', id: `u${i % 13}` },
              action: 'sql_execution',
              occurred_at: new Date(Date.now() - i).toISOString(),
              usage: { count: 1, latency_ms: i },
            }),
          ),
        );
      }
      const acknowledged: Event[][] = [];
      let attemptsTotal = 0;
      let outage: Promise<void> | undefined;
      // Two writers in parallel, as the exporter queue may run them.
      const writer = async (lane: number) => {
        for (let b = lane; b < batches.length; b += 2) {
          if (b === 10 && !outage) {
            outage = (async () => {
              await server.halt();
              await new Promise((r) => setTimeout(r, 1500));
              await server.start();
            })();
          }
          attemptsTotal += await consumeWithRetry(ex, testBatch(batches[b]!));
          acknowledged.push(batches[b]!);
        }
      };
      await Promise.all([writer(0), writer(1)]);
      await outage;
      // The outage must really have been felt, or the test proves nothing.
      expect(attemptsTotal).toBeGreaterThan(batches.length);
      const [raw] = await ex.query<{ rows: number; ids: number }>(
        'SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids FROM usage_events WHERE tenant_id = $1',
        [tenant],
      );
      const ackIds = new Set(acknowledged.flat().map((e) => e.event_id));
      expect(ackIds.size).toBe(30 * 400);
      expect(raw).toEqual({ rows: ackIds.size, ids: ackIds.size });
      const stored = await ex.query<{ id: string }>(
        'SELECT id::text FROM usage_events WHERE tenant_id = $1',
        [tenant],
      );
      for (const { id } of stored) expect(ackIds.has(id)).toBe(true);
      await ex.fold();
      const [rollup] = await ex.query<{ n: number }>(
        'SELECT sum(events)::int AS n FROM usage_rollup_daily_actor WHERE tenant_id = $1',
        [tenant],
      );
      expect(rollup!.n).toBe(ackIds.size);
    } finally {
      await ex.shutdown();
    }
  });
});
