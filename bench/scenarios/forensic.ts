import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { configSchema } from '../../exporters/ledger/config.ts';
import { LedgerExporter } from '../../exporters/ledger/exporter.ts';
import { postgresConfigSchema } from '../../exporters/postgres/config.ts';
import { PostgresExporter } from '../../exporters/postgres/exporter.ts';
import { ledgerApiConfigSchema } from '../../extensions/ledger_api/config.ts';
import { ledgerApiFactory } from '../../extensions/ledger_api/factory.ts';
import type { EventBatch, Host } from '../../pipeline/component.ts';
import type { Event } from '../../pipeline/event.ts';
import { ApiServer } from '../../pipeline/http-api.ts';
import { testBatch, testEvent, testHost, testSettings } from '../../pipeline/testing.ts';
import { uuidv7 } from '../../pipeline/uuid.ts';
import { startPostgres } from '../../test/services/postgres.ts';
import { Latencies, options, report } from '../stats.ts';

/**
 * The forensic query (`GET /api/v1/audit/events`) over real HTTP, on one tenant's log of
 * `events` audit events (`actors` actors × `actions` actions, spread over 30 days), answered
 * two ways: through the Postgres audit_events index (a throw-away PostgreSQL cluster) with the
 * ledger proving each hit, and by scanning the ledger. Each query is recorded as an audit event
 * in both sinks first, as in the real pipeline, so that cost is in the latency too.
 */

const opts = options({ events: 200_000, actors: 1000, actions: 20, requests: 200, limit: 100 });

const pgService = await startPostgres();
const ledgerDir = mkdtempSync(join(tmpdir(), 'forensic-bench-'));
const settings = testSettings('bench');
const pg = new PostgresExporter(
  settings,
  postgresConfigSchema.parse({ url: await pgService.createDatabase() }),
);
const ledger = new LedgerExporter(settings, configSchema.parse({ dir: ledgerDir, generate_key: true }));
await pg.start();
await ledger.start(testHost(settings));
const sinks = async (batch: EventBatch): Promise<void> => {
  await Promise.all([ledger.consume(batch), pg.consume(batch)]);
};

try {
  const template = testEvent({
    event_type: 'audit',
    entity: { type: 'policy', id: 'p-1' },
    result: 'success',
    action: 'policy_changed',
    metadata: { safe_fields_only: true, details: { reason_code: 'quarterly_review' } },
  });
  const start = Date.now() - 30 * 86_400_000;
  const l0 = performance.now();
  for (let i = 0; i < opts.events; i += 10_000) {
    const batch: Event[] = [];
    for (let j = i; j < Math.min(opts.events, i + 10_000); j++) {
      batch.push({
        ...template,
        event_id: uuidv7(),
        occurred_at: new Date(start + Math.floor((j / opts.events) * 30 * 86_400_000)).toISOString(),
        actor: { type: 'user', id: `user-${j % opts.actors}` },
        action: `action_${(j * 7) % opts.actions}`,
      });
    }
    await sinks(testBatch(batch));
  }
  await (await ledger.log('acme')).checkpoint();
  const loadSeconds = (performance.now() - l0) / 1000;

  for (const mode of ['audit_index', 'ledger_scan'] as const) {
    const host: Host = {
      ...testHost(settings),
      getComponent: (id) => (id === 'ledger' ? ledger : id === 'postgres' ? pg : undefined),
      ingest: sinks,
    };
    const api = ledgerApiFactory.create(
      testSettings('ledger_api'),
      ledgerApiConfigSchema.parse(mode === 'audit_index' ? { audit_index: 'postgres' } : {}),
    );
    await api.start(host);
    const server = new ApiServer({
      endpoint: '127.0.0.1:0',
      tenants: settings.tenants,
      logger: pino({ level: 'silent' }),
      maxBodyBytes: 1024,
    });
    server.add(api.routes!());
    const base = await server.start();
    // The scan reads the whole log for each request: fewer of them.
    const requests = mode === 'audit_index' ? opts.requests : Math.max(5, Math.floor(opts.requests / 20));
    const latencies = new Latencies();
    let hits = 0;
    for (let i = -5; i < requests; i++) {
      const actor = `user-${Math.floor(Math.random() * opts.actors)}`;
      const t0 = performance.now();
      const r = await fetch(`${base}/api/v1/audit/events?actor=${actor}&limit=${opts.limit}`, {
        headers: { authorization: 'Bearer acme-admin-token' },
      });
      const body = (await r.json()) as { events: unknown[] };
      if (r.status !== 200) throw new Error(`forensic query answered ${r.status}`);
      if (i >= 0) {
        latencies.add(performance.now() - t0);
        hits += body.events.length;
      }
    }
    await server.close();
    await api.shutdown();
    report(`forensic-${mode}`, {
      events: opts.events,
      actors: opts.actors,
      limit: opts.limit,
      load_s: Math.round(loadSeconds),
      requests,
      hits_per_answer: Math.round(hits / requests),
      p50_ms: latencies.quantile(0.5),
      p99_ms: latencies.quantile(0.99),
    });
  }
} finally {
  await ledger.shutdown();
  await pg.shutdown();
  await pgService.stop();
  rmSync(ledgerDir, { recursive: true, force: true });
}
