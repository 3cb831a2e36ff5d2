import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../exporters/ledger/checkpoint.ts';
import { configSchema } from '../../../exporters/ledger/config.ts';
import { LedgerExporter } from '../../../exporters/ledger/exporter.ts';
import { canonicalize } from '../../../exporters/ledger/jcs.ts';
import { leafHash, verifyInclusion } from '../../../exporters/ledger/merkle.ts';
import { verifierFromKey } from '../../../exporters/ledger/note.ts';
import { tempDir } from '../../../exporters/ledger/testdata/ledger-fixtures.ts';
import type { PostgresExporter } from '../../../exporters/postgres/exporter.ts';
import { ledgerApiConfigSchema } from '../../../extensions/ledger_api/config.ts';
import { ledgerApiFactory } from '../../../extensions/ledger_api/factory.ts';
import type { EventBatch, Extension, Host } from '../../../pipeline/component.ts';
import type { Event } from '../../../pipeline/event.ts';
import { ApiServer } from '../../../pipeline/http-api.ts';
import { hashToken } from '../../../pipeline/tenants.ts';
import {
  TEST_TENANTS,
  testAuth,
  testBatch,
  testEvent,
  testHost,
  testSettings,
} from '../../../pipeline/testing.ts';
import { type Backend, type BackendName, openBackend, startExporter } from '../postgres/backends.ts';

/**
 * The forensic query with `audit_index: postgres`, against real PostgreSQL and PGlite: the
 * audit_events index picks the events (by actor, action, time; oldest first), the ledger
 * supplies their bytes and proofs, leaf indexes learnt from the ledger are written back to
 * the index, and one tenant's events never answer another's query — not even when a producer
 * reuses another tenant's event id.
 */

const ACTORS = ['alice', 'bob', 'carol'];
const TENANTS = [
  ...TEST_TENANTS,
  {
    id: 'globex',
    slug: 'globex',
    keys: [hashToken('globex-admin-token')],
    roles: ['tenant' as const, 'admin' as const],
    acts_for: [],
    active: true,
  },
];
const ACTIONS = ['policy_changed', 'export_requested', 'role_assigned'];

/** Audit events of a tenant with actors, actions and times spread so that filters and order matter. */
function events(tenant: string, n: number): Event[] {
  const out: Event[] = [];
  for (let i = 0; i < n; i++) {
    // Times deliberately out of append order, so "oldest first" differs from the ledger's order.
    const minute = (i * 37) % n;
    out.push(
      testEvent({
        event_type: 'audit',
        tenant: { id: tenant },
        actor: { type: 'user', id: ACTORS[i % ACTORS.length] },
        action: ACTIONS[Math.floor(i / ACTIONS.length) % ACTIONS.length],
        occurred_at: new Date(Date.UTC(2026, 10, 1, 0, minute, i % 60)).toISOString(),
        result: 'success',
        entity: { type: 'policy', id: `p-${i}` },
        metadata: { safe_fields_only: true, details: { n: i } },
      }),
    );
  }
  return out;
}

describe.each<BackendName>(['embedded', 'postgres'])('forensic query over the audit index on %s', (name) => {
  let backend: Backend;
  let pg: PostgresExporter;
  let ledger: LedgerExporter;
  let api: Extension;
  let server: ApiServer;
  let base = '';
  let refuse = false;
  const tmp = tempDir('forensic-index-');
  const acme = events('acme', 300);
  const globex = events('globex', 20);
  // globex's producer reuses an acme event id: both tenants' rows must be indexed.
  globex[0] = { ...globex[0]!, event_id: acme[5]!.event_id };

  /** Both sinks, like the audit pipeline's fan-out. */
  const sinks = async (batch: EventBatch): Promise<void> => {
    await Promise.all([ledger.consume(batch), pg.consume(batch)]);
  };

  beforeAll(async () => {
    backend = await openBackend(name);
    pg = await startExporter(await backend.fresh());
    const settings = testSettings('ledger', TENANTS);
    ledger = new LedgerExporter(
      settings,
      configSchema.parse({ dir: tmp.dir, generate_key: true, origin: 'forensic.test' }),
    );
    await ledger.start(testHost(settings));
    await sinks(testBatch(acme));
    await sinks(testBatch(globex, testAuth('globex')));
    await (await ledger.log('acme')).checkpoint();
    await (await ledger.log('globex')).checkpoint();
    const host: Host = {
      ...testHost(settings),
      getComponent: (id) => (id === 'ledger' ? ledger : id === 'postgres' ? pg : undefined),
      ingest: async (batch) => {
        if (refuse) {
          for (const e of batch.events) batch.report.reject(e, 'invalid_event', 'refused by a test rule');
          return;
        }
        await sinks(batch);
      },
    };
    api = ledgerApiFactory.create(
      testSettings('ledger_api'),
      ledgerApiConfigSchema.parse({ audit_index: 'postgres' }),
    );
    await api.start(host);
    server = new ApiServer({
      endpoint: '127.0.0.1:0',
      tenants: settings.tenants,
      logger: pino({ level: 'silent' }),
      maxBodyBytes: 1024,
    });
    server.add(api.routes!());
    base = await server.start();
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await api?.shutdown();
    await ledger?.shutdown();
    await pg?.shutdown();
    await backend?.close();
    tmp.cleanup();
  });

  interface Answer {
    tree_size: number;
    checkpoint: string;
    source: string;
    events: {
      event_id: string;
      index: number | null;
      event: Record<string, unknown> | null;
      proof: string[] | null;
      status?: string;
    }[];
  }
  let acmeQueries = 0;
  const query = async (q: string, token = 'acme-admin-token') => {
    if (token === 'acme-admin-token') acmeQueries++;
    return await fetch(`${base}/api/v1/audit/events?${q}`, { headers: { authorization: `Bearer ${token}` } });
  };

  it('finds events through the index, oldest first, each provable against the signed checkpoint', async () => {
    const r = await query('actor=bob&action=export_requested&from=2026-11-01T00:10:00Z&limit=1000');
    expect(r.status).toBe(200);
    const body = (await r.json()) as Answer;
    expect(body.source).toBe('audit_index');
    const from = Date.parse('2026-11-01T00:10:00Z');
    const expected = acme
      .filter(
        (e) => e.actor.id === 'bob' && e.action === 'export_requested' && Date.parse(e.occurred_at) >= from,
      )
      .sort((a, b) => a.occurred_at.localeCompare(b.occurred_at) || a.event_id.localeCompare(b.event_id))
      .map((e) => e.event_id);
    expect(expected.length).toBeGreaterThan(5);
    expect(body.events.map((h) => h.event_id)).toEqual(expected);

    const cp = openCheckpoint(body.checkpoint, [verifierFromKey(ledger.verifierKey)], 'forensic.test/t/acme');
    const log = await ledger.log('acme');
    for (const hit of body.events) {
      expect(hit.index).toBe(log.indexOf(hit.event_id));
      expect(hit.event!.event_id).toBe(hit.event_id);
      // The caller re-derives the entry from the returned event and checks it against the root.
      const proof = hit.proof!.map((p) => Buffer.from(p, 'base64'));
      expect(
        verifyInclusion(leafHash(Buffer.from(canonicalize(hit.event))), hit.index!, cp.size, proof, cp.root),
      ).toBe(true);
    }
    // What the ledger told the query is remembered in the index (written after the answer).
    const remembered = async () =>
      (
        await pg.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1 AND event_id = ANY($2::uuid[]) AND leaf_index = ANY($3::bigint[])',
          ['acme', expected, body.events.map((h) => h.index)],
        )
      )[0]!.n;
    for (let i = 0; i < 100 && (await remembered()) < expected.length; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(await remembered()).toBe(expected.length);
  });

  it('honours limit and the time window', async () => {
    const body = (await (
      await query('from=2026-11-01T00:00:00Z&to=2026-11-01T00:05:00Z&limit=7')
    ).json()) as Answer;
    const expected = acme
      .filter((e) => e.occurred_at < '2026-11-01T00:05:00.000Z')
      .sort((a, b) => a.occurred_at.localeCompare(b.occurred_at) || a.event_id.localeCompare(b.event_id))
      .slice(0, 7)
      .map((e) => e.event_id);
    expect(body.events.map((h) => h.event_id)).toEqual(expected);
  });

  it('answers each tenant from its own rows only, even for a reused event id', async () => {
    const shared = acme[5]!.event_id;
    const mine = (await (await query('limit=1000')).json()) as Answer;
    expect(
      mine.events.every((h) => h.event === null || (h.event.tenant as { id: string }).id === 'acme'),
    ).toBe(true);
    expect(mine.events.some((h) => h.event_id === shared)).toBe(true);

    const theirs = (await (await query('limit=1000', 'globex-admin-token')).json()) as Answer;
    // Their 20 events, and this query's own record (appended, not yet under a checkpoint).
    const proven = theirs.events.filter((h) => h.event !== null);
    expect(proven).toHaveLength(20);
    expect(proven.every((h) => (h.event!.tenant as { id: string }).id === 'globex')).toBe(true);
    const reused = theirs.events.find((h) => h.event_id === shared);
    expect(reused?.event).toMatchObject({ tenant: { id: 'globex' }, entity: { id: 'p-0' } });
    expect(reused!.index).toBe((await ledger.log('globex')).indexOf(shared));
    const rows = await pg.query<{ tenant_id: string }>(
      'SELECT tenant_id FROM audit_events WHERE event_id = $1 ORDER BY tenant_id',
      [shared],
    );
    expect(rows.map((r) => r.tenant_id)).toEqual(['acme', 'globex']);
  });

  it('reports indexed events the ledger does not hold or has not yet checkpointed', async () => {
    // An index row with no ledger entry (e.g. the ledger refused that event): listed, not proven.
    const mallory = (entity: string, at: string) =>
      testEvent({
        event_type: 'audit',
        result: 'success',
        entity: { type: 'policy', id: entity },
        tenant: { id: 'acme' },
        actor: { type: 'user', id: 'mallory' },
        action: 'policy_changed',
        occurred_at: at,
      });
    const orphan = mallory('p-orphan', '2026-11-02T00:00:00.000Z');
    await pg.consume(testBatch([orphan]));
    // An appended entry not yet under a checkpoint: known, proof later.
    const fresh = mallory('p-fresh', '2026-11-02T00:00:01.000Z');
    await pg.consume(testBatch([fresh]));
    const log = await ledger.log('acme');
    const before = log.size;
    await log.append([fresh as unknown as Record<string, unknown> & { event_id: string }]);
    const body = (await (await query('actor=mallory')).json()) as Answer;
    expect(body.events).toEqual([
      { event_id: orphan.event_id, index: null, event: null, proof: null, status: 'not_in_ledger' },
      // The query's own audit record was appended first, so the entry may sit at `before` or later.
      expect.objectContaining({
        event_id: fresh.event_id,
        event: null,
        proof: null,
        status: 'awaiting_checkpoint',
      }),
    ]);
    expect(body.events[1]!.index).toBeGreaterThanOrEqual(before);
    // An index not yet under a checkpoint is not final, so it is not written back to the index.
    await new Promise((r) => setTimeout(r, 300));
    const [row] = await pg.query<{ leaf_index: string | null }>(
      'SELECT leaf_index FROM audit_events WHERE tenant_id = $1 AND event_id = $2',
      ['acme', fresh.event_id],
    );
    expect(row!.leaf_index).toBeNull();
  });

  it('records every query in the index and the ledger, and refuses to answer when the record is refused', async () => {
    const body = (await (await query('action=audit_events_queried&limit=1000')).json()) as Answer;
    // Every query acme's admin made, this one included (it is recorded before it runs).
    expect(body.events).toHaveLength(acmeQueries);
    expect(acmeQueries).toBeGreaterThanOrEqual(5);
    refuse = true;
    try {
      const r = await query('limit=1');
      expect(r.status).toBe(503);
      expect(await r.text()).toMatch(/could not be recorded/);
    } finally {
      refuse = false;
    }
  });
});
