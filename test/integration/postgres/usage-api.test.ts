import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresExporter } from '../../../exporters/postgres/exporter.ts';
import { usageApiConfigSchema } from '../../../extensions/usage_api/config.ts';
import { UsageApi } from '../../../extensions/usage_api/usage-api.ts';
import type { Host } from '../../../pipeline/component.ts';
import type { Event } from '../../../pipeline/event.ts';
import { ApiServer } from '../../../pipeline/http-api.ts';
import { hashToken, type TenantConfig } from '../../../pipeline/tenants.ts';
import { testBatch, testEvent, testSettings } from '../../../pipeline/testing.ts';
import { type Backend, type BackendName, openBackend, startExporter, utcMidnight } from './backends.ts';

/**
 * The usage API over real rollups: random data written in random batches (with replays), then
 * every endpoint's answer compared with an aggregate computed directly over the raw rows;
 * and the access rules: no token 401, tenant token 403, an admin sees only its own tenant.
 */

const run = `${process.pid}-${Date.now().toString(36)}`;
const A = `a-${run}`;
const B = `b-${run}`;
const TENANTS: TenantConfig[] = [
  { id: A, keys: [hashToken(`${A}-admin`)], roles: ['tenant', 'admin'], acts_for: [], active: true },
  { id: A, keys: [hashToken(`${A}-user`)], roles: ['tenant'], acts_for: [], active: true },
  { id: B, keys: [hashToken(`${B}-admin`)], roles: ['tenant', 'admin'], acts_for: [], active: true },
];
const TYPES = [
  'sql_generation',
  'sql_execution',
  'dashboard_publish',
  'dashboard_viewed',
  'spreadsheet_formula',
];

// A small seeded PRNG so a failure can be reproduced from the printed seed.
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomEvents(seed: number, n: number): Event[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const now = Date.now();
  const out: Event[] = [];
  for (let i = 0; i < n; i++) {
    const daysAgo = Math.floor(rnd() * 12);
    const at = Math.min(now, utcMidnight(-daysAgo) + Math.floor(rnd() * 86_400_000));
    const tokens =
      rnd() < 0.3 ? { input: Math.floor(rnd() * 500), output: Math.floor(rnd() * 200) } : undefined;
    out.push(
      testEvent({
        tenant: { id: rnd() < 0.75 ? A : B },
        actor: { type: 'user', id: `user-${Math.floor(rnd() * 12)}` },
        action: pick(TYPES),
        occurred_at: new Date(at).toISOString(),
        usage: {
          count: 1 + Math.floor(rnd() * 4),
          sample_rate: pick([1, 1, 0.5, 0.25]),
          outcome: pick(['ok', 'ok', 'warn', 'error'] as const),
          feature: pick(['nl2sql', 'charts', 'export']),
          provider: pick(['openai', 'anthropic', 'stub']),
          ...(rnd() < 0.8 ? { latency_ms: Math.floor(rnd() * 3000) } : {}),
          ...(tokens ? { tokens } : {}),
        },
      }),
    );
  }
  return out;
}

describe.each<BackendName>(['postgres', 'embedded'])('usage API on %s', (name) => {
  let backend: Backend;
  let exporter: PostgresExporter;
  let api: ApiServer;
  let base: string;
  const seed = Date.now() % 100_000;

  beforeAll(async () => {
    backend = await openBackend(name);
    // Folds only when the test asks: the answers are checked over rollups and pending deltas mixed.
    exporter = await startExporter(await backend.fresh(), {
      retention: { raw_days: 30 },
      batch: { fold_interval_ms: 3_600_000, fold_rows: 10_000_000 },
    });
    const events = randomEvents(seed, 3000);
    const rnd = prng(seed + 1);
    let folded = false;
    for (let i = 0; i < events.length; ) {
      const size = 1 + Math.floor(rnd() * 400);
      const batch = events.slice(i, i + size);
      await exporter.consume(testBatch(batch));
      // Replays of part of what was just written must not count twice.
      if (rnd() < 0.3) await exporter.consume(testBatch(batch.slice(0, Math.ceil(batch.length / 2))));
      i += size;
      if (i >= events.length / 2 && !folded) {
        await exporter.fold();
        folded = true;
      }
    }
    const [pending] = await exporter.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM usage_rollup_pending',
    );
    expect(pending!.n).toBeGreaterThan(0);
    const settings = testSettings('usage_api', TENANTS);
    const ext = new UsageApi(settings, usageApiConfigSchema.parse({}));
    const host: Host = {
      tenants: settings.tenants,
      getComponent: (id) => (id === 'postgres' ? exporter : undefined),
      ingest: async () => undefined,
      apiRoutes: () => [],
      ready: () => true,
    };
    await ext.start(host);
    api = new ApiServer({
      endpoint: '127.0.0.1:0',
      tenants: settings.tenants,
      logger: pino({ level: 'silent' }),
      maxBodyBytes: 1024,
    });
    api.add(ext.routes());
    base = await api.start();
  }, 300_000);

  afterAll(async () => {
    await api?.close();
    await exporter?.shutdown();
    await backend?.close();
  });

  const get = async (path: string, token?: string) => {
    const res = await fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  async function rawTotals(tenant: string, days: number, measure: string, types?: string[]) {
    const expr = { estimated: 'sum(count / sample_rate)', count: 'sum(count)', events: 'count(*)' }[measure]!;
    const from = new Date(utcMidnight(-(days - 1))).toISOString();
    return await exporter.query<{ event_type: string; actor_id: string; v: number; ti: number; to: number }>(
      `SELECT event_type, actor_id, ${expr}::float8 AS v, coalesce(sum(tokens_input), 0)::float8 AS ti, coalesce(sum(tokens_output), 0)::float8 AS "to"
       FROM usage_events WHERE tenant_id = $1 AND occurred_at >= $2 ${types ? 'AND event_type = ANY($3)' : ''}
       GROUP BY event_type, actor_id`,
      types ? [tenant, from, types] : [tenant, from],
    );
  }

  it('summary equals an aggregate over the raw rows for every window and measure', {
    timeout: 120_000,
  }, async () => {
    for (const days of [1, 3, 7, 30]) {
      for (const measure of ['estimated', 'count', 'events']) {
        const res = await get(`/api/v1/usage/summary?days=${days}&measure=${measure}`, `${A}-admin`);
        expect(res.status).toBe(200);
        const expected: Record<string, Record<string, number>> = {};
        for (const r of await rawTotals(A, days, measure)) {
          const users = expected[r.event_type] ?? {};
          users[r.actor_id] = measure === 'estimated' ? Math.round(r.v) : r.v;
          expected[r.event_type] = users;
        }
        expect(res.body.summary, `seed ${seed} days ${days} ${measure}`).toEqual(expected);
        expect(Date.parse(res.body.generated_at)).not.toBeNaN();
      }
    }
  });

  it('answers the same once every pending delta is folded', async () => {
    const before = await get('/api/v1/usage/summary?days=30&measure=count', `${A}-admin`);
    expect(await exporter.fold()).toBeGreaterThan(0);
    expect(await exporter.query('SELECT 1 FROM usage_rollup_pending')).toHaveLength(0);
    const after = await get('/api/v1/usage/summary?days=30&measure=count', `${A}-admin`);
    expect(after.body.summary, `seed ${seed}`).toEqual(before.body.summary);
  });

  it('users, queries, dashboards and llm-tokens equal raw aggregates', async () => {
    const days = 7;
    const byUser = (rows: { actor_id: string; v: number }[]) => {
      const out: Record<string, number> = {};
      for (const r of rows) out[r.actor_id] = (out[r.actor_id] ?? 0) + r.v;
      for (const k of Object.keys(out)) out[k] = Math.round(out[k]!);
      return out;
    };
    const users = await get(`/api/v1/usage/users?days=${days}`, `${A}-admin`);
    expect(users.body.users, `seed ${seed}`).toEqual(byUser(await rawTotals(A, days, 'estimated')));
    const queries = await get(`/api/v1/usage/queries?days=${days}`, `${A}-admin`);
    expect(queries.body.queries).toEqual(
      byUser(await rawTotals(A, days, 'estimated', ['sql_generation', 'sql_execution'])),
    );
    const dashboards = await get(`/api/v1/usage/dashboards?days=${days}`, `${A}-admin`);
    expect(dashboards.body.dashboards).toEqual(
      byUser(await rawTotals(A, days, 'estimated', ['dashboard_publish', 'dashboard_viewed'])),
    );
    const tokens = await get(`/api/v1/usage/llm-tokens?days=${days}`, `${A}-admin`);
    const expected: Record<string, { input: number; output: number; total: number }> = {};
    for (const r of await rawTotals(A, days, 'events')) {
      if (r.ti === 0 && r.to === 0) continue;
      const t = expected[r.actor_id] ?? { input: 0, output: 0, total: 0 };
      expected[r.actor_id] = t;
      t.input += r.ti;
      t.output += r.to;
      t.total += r.ti + r.to;
    }
    expect(tokens.body.llm_tokens).toEqual(expected);
    const latency = await get(`/api/v1/usage/latency?days=${days}`, `${A}-admin`);
    expect(latency.status).toBe(200);
    for (const l of Object.values(latency.body.latency) as {
      p50_ms: number;
      p95_ms: number;
      p99_ms: number;
    }[]) {
      expect(l.p50_ms).toBeLessThanOrEqual(l.p95_ms);
      expect(l.p95_ms).toBeLessThanOrEqual(l.p99_ms);
    }
  });

  it('refuses callers without a token (401) and tenant tokens (403)', async () => {
    for (const path of ['summary', 'users', 'queries', 'dashboards', 'llm-tokens']) {
      expect((await get(`/api/v1/usage/${path}`)).status).toBe(401);
      expect((await get(`/api/v1/usage/${path}`, 'not-a-token')).status).toBe(401);
      const forbidden = await get(`/api/v1/usage/${path}`, `${A}-user`);
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.error.code).toBe('forbidden');
    }
  });

  it('shows an admin only its own tenant', async () => {
    const a = await get('/api/v1/usage/summary?days=30&measure=events', `${A}-admin`);
    const b = await get('/api/v1/usage/summary?days=30&measure=events', `${B}-admin`);
    const total = (s: Record<string, Record<string, number>>) =>
      Object.values(s)
        .flatMap((u) => Object.values(u))
        .reduce((x, y) => x + y, 0);
    const [countA] = await exporter.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1',
      [A],
    );
    const [countB] = await exporter.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1',
      [B],
    );
    expect(countB!.n).toBeGreaterThan(0);
    expect(total(a.body.summary)).toBe(countA!.n);
    expect(total(b.body.summary)).toBe(countB!.n);
  });

  it('answers a clear 400 for a days value outside 1…retention', async () => {
    for (const days of ['0', '31', '-1', '1.5', 'abc', '', '99999999']) {
      const res = await get(`/api/v1/usage/summary?days=${encodeURIComponent(days)}`, `${A}-admin`);
      expect(res.status, `days=${days}`).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message).toMatch(/days must be a whole number from 1 to 30/);
    }
    expect((await get('/api/v1/usage/summary?days=30', `${A}-admin`)).status).toBe(200);
    expect((await get('/api/v1/usage/summary', `${A}-admin`)).body.days).toBe(30);
    expect((await get('/api/v1/usage/summary?measure=bogus', `${A}-admin`)).status).toBe(400);
  });
});
