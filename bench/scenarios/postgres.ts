import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { postgresConfigSchema } from '../../exporters/postgres/config.ts';
import { PostgresExporter } from '../../exporters/postgres/exporter.ts';
import { USAGE_COLUMNS, usageLine } from '../../exporters/postgres/rows.ts';
import { usageApiConfigSchema } from '../../extensions/usage_api/config.ts';
import { UsageApi } from '../../extensions/usage_api/usage-api.ts';
import type { Event } from '../../pipeline/event.ts';
import { ApiServer } from '../../pipeline/http-api.ts';
import { hashToken } from '../../pipeline/tenants.ts';
import { testBatch, testEvent, testSettings } from '../../pipeline/testing.ts';
import { startPostgres } from '../../test/services/postgres.ts';
import { Latencies, options, report } from '../stats.ts';

/**
 * The postgres sink on a throw-away PostgreSQL (fsync on):
 * 1. sink throughput (COPY into usage_events, rollup deltas, COMMIT, plus the final fold,
 *    `writers` batches in parallel) and `psql \copy` of the very same rows into a table of the
 *    same shape, as a ratio, alternating for `rounds` rounds (0: skip), with the CPU seconds
 *    the sink's rounds took in Node and in the PostgreSQL server;
 * 2. GET /api/v1/usage/summary?days=30 latency over rollups holding `summary_events` events
 *    (loaded with generate_series: raw rows then rollups derived by SQL with `--raw 1`, or the
 *    rollup rows directly with `--raw 0`): repeated requests (the folded totals cached), then
 *    the same number with the tenant's fold generation bumped before each one (outside the
 *    timing), as after a fold — every such request reads the rollups again;
 * 3. the same sink on embedded PGlite.
 */

// Defaults keep a run near a minute; the recorded 10-million-raw-row figure used `--raw 1`
// (about 5 minutes of loading on the project machine).
const opts = options({
  events: 100_000,
  batch: 10_000,
  writers: 2,
  summary_events: 10_000_000,
  users: 500,
  requests: 300,
  raw: 0,
  pglite_events: 20_000,
  dedupe: 24,
  rounds: 2,
});
const TYPES = [
  'sql_generation',
  'sql_execution',
  'dashboard_publish',
  'dashboard_viewed',
  'spreadsheet_formula',
  'policy_hit',
  'llm_call',
  'export',
];

function makeEvents(n: number, tenant: string): Event[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) =>
    testEvent({
      tenant: { id: tenant },
      actor: { type: 'user', id: `user-${i % opts.users}` },
      action: TYPES[i % TYPES.length],
      occurred_at: new Date(now - (i % 3_600_000)).toISOString(),
      metadata: { safe_fields_only: true, details: { rows: i % 100 } },
      usage: {
        feature: `feature-${i % 6}`,
        tool: `tool-${i % 4}`,
        provider: ['openai', 'anthropic', 'stub'][i % 3],
        latency_ms: i % 2000,
        outcome: i % 20 === 0 ? 'error' : 'ok',
      },
    }),
  );
}

/**
 * CPU seconds (user + system) used so far by the PostgreSQL server's processes (the postmaster's
 * children: backends, WAL writer, checkpointer), read from /proc — what the rate alone hides on a
 * shared machine. Linux only; NaN elsewhere.
 */
function serverCpuSeconds(dataDir: string): number {
  try {
    const postmaster = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]!.trim();
    let ticks = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      // Fields after the command (which may hold spaces): state ppid … utime(14) stime(15).
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[1] === postmaster || pid === postmaster) ticks += Number(f[11]) + Number(f[12]);
    }
    return ticks / 100; // USER_HZ
  } catch {
    return Number.NaN;
  }
}

async function sinkThroughput(
  ex: PostgresExporter,
  events: Event[],
): Promise<{ rate: number; lat: Latencies; foldMs: number }> {
  const lat = new Latencies();
  let next = 0;
  const t0 = performance.now();
  const writer = async () => {
    for (;;) {
      const i = next;
      next += opts.batch;
      if (i >= events.length) return;
      const s = performance.now();
      await ex.consume(testBatch(events.slice(i, i + opts.batch)));
      lat.add(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: opts.writers }, writer));
  // The rollup deltas the batches appended are folded before the clock stops: the rate
  // includes all the rollup work.
  const f0 = performance.now();
  await ex.fold();
  const end = performance.now();
  return { rate: events.length / ((end - t0) / 1000), lat, foldMs: end - f0 };
}

const server = await startPostgres({ fsync: true });
const dir = mkdtempSync(join(tmpdir(), 'ledgerline-bench-pg-'));
try {
  const url = await server.createDatabase('bench');
  const settings = testSettings('postgres');
  const ex = new PostgresExporter(
    settings,
    postgresConfigSchema.parse({ url, batch: { max_rows: opts.batch, dedupe_window_hours: opts.dedupe } }),
  );
  await ex.start();

  // 1. sink vs psql \copy of the same rows, alternating for `rounds` rounds (the machine is
  // shared: best-of-rounds is reported beside each round).
  await sinkThroughput(ex, makeEvents(20_000, 'warmup'));
  await ex.query(
    'CREATE TABLE bench_copy (LIKE usage_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (id, occurred_at)) PARTITION BY RANGE (occurred_at)',
  );
  await ex.query(
    "CREATE TABLE bench_copy_all PARTITION OF bench_copy FOR VALUES FROM ('2000-01-01 00:00+00') TO ('2100-01-01 00:00+00')",
  );
  const psql = join(server.bin, 'psql');
  let bestSink = 0;
  let bestCopy = 0;
  for (let round = 1; round <= opts.rounds; round++) {
    const events = makeEvents(opts.events, `bench-sink-${round}`);
    const pg0 = serverCpuSeconds(join(server.dir, 'data'));
    const node0 = process.cpuUsage();
    const sink = await sinkThroughput(ex, events);
    const nodeCpu = process.cpuUsage(node0);
    const pg1 = serverCpuSeconds(join(server.dir, 'data'));
    const file = join(dir, 'rows.copy');
    writeFileSync(file, events.map((e) => usageLine(e, 'bench')).join(''));
    await ex.query('TRUNCATE bench_copy');
    const c0 = performance.now();
    execFileSync(
      psql,
      [url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy bench_copy (${USAGE_COLUMNS.join(', ')}) from '${file}'`],
      { stdio: 'pipe' },
    );
    const copyRate = events.length / ((performance.now() - c0) / 1000);
    bestSink = Math.max(bestSink, sink.rate);
    bestCopy = Math.max(bestCopy, copyRate);
    report('postgres/sink', {
      round,
      events: events.length,
      batch: opts.batch,
      writers: opts.writers,
      dedupe_window_hours: opts.dedupe,
      sink_events_per_s: Math.round(sink.rate),
      psql_copy_rows_per_s: Math.round(copyRate),
      ratio: Number((sink.rate / copyRate).toFixed(3)),
      batch_p50_ms: sink.lat.quantile(0.5),
      batch_p99_ms: sink.lat.quantile(0.99),
      // CPU seconds of this round's sink: Node, and PostgreSQL (batches and the fold).
      sink_node_cpu_s: Number(((nodeCpu.user + nodeCpu.system) / 1e6).toFixed(2)),
      sink_pg_cpu_s: Number((pg1 - pg0).toFixed(2)),
      // Wall time of the final fold, inside the sink's rate.
      final_fold_ms: Math.round(sink.foldMs),
    });
  }
  if (opts.rounds > 0) {
    report('postgres/sink-best', {
      rounds: opts.rounds,
      sink_events_per_s: Math.round(bestSink),
      psql_copy_rows_per_s: Math.round(bestCopy),
      ratio: Number((bestSink / bestCopy).toFixed(3)),
    });
  }

  // 2. summary latency over rollups of `summary_events` events in 30 days (0: skip).
  if (opts.summary_events > 0) await summaryLatency(ex, url, psql);
  await ex.shutdown();
} finally {
  await server.stop();
}

async function summaryLatency(ex: PostgresExporter, url: string, psql: string): Promise<void> {
  const l0 = performance.now();
  const n = opts.summary_events;
  const types = `ARRAY[${TYPES.map((t) => `'${t}'`).join(',')}]`;
  if (opts.raw) {
    const days = Array.from({ length: 31 }, (_, d) =>
      new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10),
    );
    await ex.query('SELECT 1'); // exporter ready
    for (const day of days) {
      const p = `usage_events_p${day.replaceAll('-', '')}`;
      const to = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      await ex.query(
        `CREATE TABLE IF NOT EXISTS ${p} PARTITION OF usage_events FOR VALUES FROM ('${day} 00:00:00+00') TO ('${to} 00:00:00+00')`,
      );
    }
    execFileSync(psql, [
      url,
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      `INSERT INTO usage_events (id, occurred_at, recorded_at, tenant_id, actor_id, event_type, feature, tool, provider, count, latency_ms, outcome, sample_rate, source)
      SELECT md5(g::text)::uuid, now() - (g % 2592000) * interval '1 second', now(), 'bench-summary', 'user-' || ((g / 8) % ${opts.users}),
        (${types})[g % 8 + 1], 'feature-' || g % 6, 'tool-' || g % 4, 'openai', 1, g % 2000, 'ok', 1, 'bench'
      FROM generate_series(1, ${n}) g`,
    ]);
    execFileSync(psql, [
      url,
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      `INSERT INTO usage_rollup_daily_actor (tenant_id, day, event_type, actor_id, events, count_sum, estimated, tokens_input, tokens_output)
      SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date, event_type, actor_id, count(*), sum(count), sum(count / sample_rate), 0, 0
      FROM usage_events WHERE tenant_id = 'bench-summary' GROUP BY 1, 2, 3, 4`,
    ]);
  } else {
    const perCell = Math.max(1, Math.round(n / (30 * TYPES.length * opts.users)));
    await ex.query(`INSERT INTO usage_rollup_daily_actor (tenant_id, day, event_type, actor_id, events, count_sum, estimated, tokens_input, tokens_output)
      SELECT 'bench-summary', (now() AT TIME ZONE 'UTC')::date - d, (${types})[t], 'user-' || u, ${perCell}, ${perCell}, ${perCell}, 0, 0
      FROM generate_series(0, 29) d, generate_series(1, 8) t, generate_series(0, ${opts.users - 1}) u`);
  }
  // Weeks (ISO, Monday, as the writer computes them) from the days, as the sink would have.
  await ex.query(`INSERT INTO usage_rollup_weekly_actor (tenant_id, week, event_type, actor_id, events, count_sum, estimated, tokens_input, tokens_output)
    SELECT tenant_id, date_trunc('week', day)::date, event_type, actor_id, sum(events), sum(count_sum), sum(estimated), sum(tokens_input), sum(tokens_output)
    FROM usage_rollup_daily_actor WHERE tenant_id = 'bench-summary' GROUP BY 1, 2, 3, 4`);
  // The rollups were written behind the fold's back: bump the generation as a fold would.
  await bumpGeneration(ex);
  await ex.query('VACUUM ANALYZE usage_rollup_daily_actor');
  await ex.query('VACUUM ANALYZE usage_rollup_weekly_actor');
  const loadS = (performance.now() - l0) / 1000;
  const [loaded] = await ex.query<{ rows: number; weekly: number; events: number }>(
    `SELECT count(*)::int AS rows, sum(events)::float8 AS events,
       (SELECT count(*)::int FROM usage_rollup_weekly_actor WHERE tenant_id = 'bench-summary') AS weekly
     FROM usage_rollup_daily_actor WHERE tenant_id = 'bench-summary'`,
  );
  const tenants = [
    {
      id: 'bench-summary',
      keys: [hashToken('bench-admin')],
      roles: ['tenant' as const, 'admin' as const],
      acts_for: [],
      active: true,
    },
  ];
  const apiSettings = testSettings('usage_api', tenants);
  const ext = new UsageApi(apiSettings, usageApiConfigSchema.parse({}));
  await ext.start({
    tenants: apiSettings.tenants,
    getComponent: () => ex,
    ingest: async () => undefined,
    apiRoutes: () => [],
    ready: () => true,
  });
  const api = new ApiServer({
    endpoint: '127.0.0.1:0',
    tenants: apiSettings.tenants,
    logger: pino({ level: 'silent' }),
    maxBodyBytes: 1024,
  });
  api.add(ext.routes());
  const base = await api.start();
  let entries = 0;
  const measure = async (afterFold: boolean): Promise<Latencies> => {
    const lat = new Latencies();
    for (let i = 0; i < opts.requests + 20; i++) {
      if (afterFold) await bumpGeneration(ex);
      const s = performance.now();
      const res = await fetch(`${base}/api/v1/usage/summary?days=30`, {
        headers: { authorization: 'Bearer bench-admin' },
      });
      const body = (await res.json()) as { summary: Record<string, Record<string, number>> };
      if (i >= 20) lat.add(performance.now() - s);
      entries = Object.values(body.summary).reduce((a, u) => a + Object.keys(u).length, 0);
    }
    return lat;
  };
  const lat = await measure(false);
  const uncached = await measure(true);
  await api.close();
  report('postgres/summary', {
    events: loaded!.events,
    daily_rows: loaded!.rows,
    weekly_rows: loaded!.weekly,
    mode: opts.raw ? 'raw+derived' : 'rollups-direct',
    load_s: Number(loadS.toFixed(1)),
    answer_entries: entries,
    requests: lat.count,
    p50_ms: lat.quantile(0.5),
    p99_ms: lat.quantile(0.99),
    after_fold_p50_ms: uncached.quantile(0.5),
    after_fold_p99_ms: uncached.quantile(0.99),
  });
}

/** What a fold of the summary tenant's deltas does to readers' caches (migration 006). */
async function bumpGeneration(ex: PostgresExporter): Promise<void> {
  await ex.query(`INSERT INTO usage_rollup_generation AS g (tenant_id, generation) VALUES ('bench-summary', 1)
    ON CONFLICT (tenant_id) DO UPDATE SET generation = g.generation + 1`);
}

// 3. embedded PGlite, same sink, files in a temp dir (0 events: skip).
const pgliteDir = mkdtempSync(join(tmpdir(), 'ledgerline-bench-pglite-'));
try {
  if (opts.pglite_events > 0) await pgliteThroughput();
} finally {
  rmSync(pgliteDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}

async function pgliteThroughput(): Promise<void> {
  const ex = new PostgresExporter(
    testSettings('postgres'),
    postgresConfigSchema.parse({ url: `embedded:${pgliteDir}`, batch: { max_rows: opts.batch } }),
  );
  await ex.start();
  await sinkThroughput(ex, makeEvents(5_000, 'warmup'));
  const r = await sinkThroughput(ex, makeEvents(opts.pglite_events, 'bench-pglite'));
  report('postgres/pglite', {
    events: opts.pglite_events,
    batch: opts.batch,
    events_per_s: Math.round(r.rate),
    batch_p50_ms: r.lat.quantile(0.5),
    batch_p99_ms: r.lat.quantile(0.99),
  });
  await ex.shutdown();
}
