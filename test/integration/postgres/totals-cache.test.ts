import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresExporter } from '../../../exporters/postgres/exporter.ts';
import type { ActorTotals } from '../../../exporters/postgres/queries.ts';
import type { Event } from '../../../pipeline/event.ts';
import { testBatch, testEvent } from '../../../pipeline/testing.ts';
import { type Backend, type BackendName, openBackend, startExporter, utcMidnight } from './backends.ts';

/**
 * The usage totals cache stays exact across writers: a reader that cached a tenant's folded
 * totals answers right after another exporter (another process, on the server) appended
 * deltas, and after it folded them — the answer always equals an aggregate over the raw rows.
 */

const run = `${process.pid}-${Date.now().toString(36)}`;
const FOLD_ONLY_WHEN_ASKED = { batch: { fold_interval_ms: 3_600_000, fold_rows: 10_000_000 } };

function events(tenant: string, n: number, offset: number): Event[] {
  return Array.from({ length: n }, (_, i) =>
    testEvent({
      tenant: { id: tenant },
      actor: { type: 'user', id: `user-${(i + offset) % 7}` },
      action: ['sql_generation', 'dashboard_viewed', 'export'][(i + offset) % 3],
      occurred_at: new Date(utcMidnight(-((i + offset) % 5)) + 1000 * i).toISOString(),
      usage: { count: 1 + (i % 3), sample_rate: [1, 0.5, 0.25][i % 3], tokens: { input: i, output: 1 } },
    }),
  );
}

function sorted(rows: readonly ActorTotals[]): ActorTotals[] {
  return rows
    .map((r) => ({ ...r }))
    .sort((a, b) => `${a.event_type} ${a.actor_id}`.localeCompare(`${b.event_type} ${b.actor_id}`));
}

describe.each<BackendName>(['postgres', 'embedded'])('usage totals cache on %s', (name) => {
  let backend: Backend;
  let reader: PostgresExporter;
  let writer: PostgresExporter;

  beforeAll(async () => {
    backend = await openBackend(name);
    const url = await backend.fresh();
    reader = await startExporter(url, FOLD_ONLY_WHEN_ASKED);
    // Embedded PGlite has one process per directory: there the reader writes too.
    writer = name === 'postgres' ? await startExporter(url, FOLD_ONLY_WHEN_ASKED) : reader;
  }, 120_000);

  afterAll(async () => {
    if (writer !== reader) await writer?.shutdown();
    await reader?.shutdown();
    await backend?.close();
  });

  async function generation(tenant: string): Promise<number> {
    const [g] = await reader.query<{ generation: number }>(
      'SELECT generation::float8 AS generation FROM usage_rollup_generation WHERE tenant_id = $1',
      [tenant],
    );
    return g?.generation ?? 0;
  }

  async function raw(tenant: string): Promise<ActorTotals[]> {
    const from = new Date(utcMidnight(-29)).toISOString();
    return await reader.query<ActorTotals>(
      `SELECT event_type, actor_id, count(*)::float8 AS events, sum(count)::float8 AS count,
         sum(count / sample_rate)::float8 AS estimated, sum(tokens_input)::float8 AS tokens_input,
         sum(tokens_output)::float8 AS tokens_output
       FROM usage_events WHERE tenant_id = $1 AND occurred_at >= $2 GROUP BY event_type, actor_id`,
      [tenant, from],
    );
  }

  it('answers exactly after another writer appends and folds', { timeout: 120_000 }, async () => {
    const t = `cache-${run}`;
    await reader.consume(testBatch(events(t, 200, 0)));
    await reader.fold();
    const folded = await generation(t);
    expect(folded).toBeGreaterThan(0);
    const first = await reader.usage.actorTotals(t, 30);
    expect(sorted(first)).toEqual(sorted(await raw(t)));
    // Cached now; the same answer again.
    expect(sorted(await reader.usage.actorTotals(t, 30))).toEqual(sorted(first));

    // Appended by the other writer, not folded: cached folded part + fresh pending part.
    await writer.consume(testBatch(events(t, 150, 3)));
    expect(sorted(await reader.usage.actorTotals(t, 30))).toEqual(sorted(await raw(t)));

    // Folded by the other writer: the tenant's generation moved, the reader reads again.
    expect(await writer.fold()).toBeGreaterThan(0);
    expect(await reader.query('SELECT 1 FROM usage_rollup_pending WHERE tenant_id = $1', [t])).toHaveLength(
      0,
    );
    expect(sorted(await reader.usage.actorTotals(t, 30))).toEqual(sorted(await raw(t)));
    expect(await generation(t)).toBeGreaterThan(folded);

    // Filtered by event type, through the same cache and generation.
    const queries = await reader.usage.actorTotals(t, 30, ['sql_generation']);
    expect(sorted(queries)).toEqual(sorted((await raw(t)).filter((r) => r.event_type === 'sql_generation')));
  });

  it('leaves the cache of one tenant valid when another tenant is folded', async () => {
    const a = `cache-a-${run}`;
    const b = `cache-b-${run}`;
    await writer.consume(testBatch(events(a, 50, 1)));
    await writer.fold();
    const before = await reader.usage.actorTotals(a, 7);
    const ga = await generation(a);
    await writer.consume(testBatch(events(b, 50, 2)));
    await writer.fold();
    expect(await generation(a)).toBe(ga);
    expect(sorted(await reader.usage.actorTotals(a, 7))).toEqual(sorted(before));
  });
});
