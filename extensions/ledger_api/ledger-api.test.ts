import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../exporters/ledger/checkpoint.ts';
import { configSchema } from '../../exporters/ledger/config.ts';
import { LedgerExporter } from '../../exporters/ledger/exporter.ts';
import { canonicalize } from '../../exporters/ledger/jcs.ts';
import { leafHash, verifyConsistency, verifyInclusion } from '../../exporters/ledger/merkle.ts';
import { verifierFromKey } from '../../exporters/ledger/note.ts';
import { parseProof, verifyProof } from '../../exporters/ledger/proof-file.ts';
import { auditEvents, tempDir } from '../../exporters/ledger/testdata/ledger-fixtures.ts';
import type { Host } from '../../pipeline/component.ts';
import { ApiServer } from '../../pipeline/http-api.ts';
import { CollectingConsumer, testBatch, testHost, testSettings } from '../../pipeline/testing.ts';
import { ledgerApiConfigSchema } from './config.ts';
import { ledgerApiFactory } from './factory.ts';

const tmp = tempDir('ledger-api-');
const settings = testSettings('ledger');
const exporter = new LedgerExporter(
  settings,
  configSchema.parse({ dir: tmp.dir, generate_key: true, origin: 'api.test' }),
);
const events = auditEvents(300, 'acme');
let server: ApiServer;
let base = '';
const ingested = new CollectingConsumer();

beforeAll(async () => {
  await exporter.start(testHost(settings));
  await exporter.consume(testBatch(events));
  await exporter.consume(testBatch(auditEvents(3, 'globex')));
  await (await exporter.log('acme')).checkpoint();
  const host: Host = {
    ...testHost(settings, ingested),
    getComponent: (id) => (id === 'ledger' ? exporter : undefined),
  };
  const api = ledgerApiFactory.create(testSettings('ledger_api'), ledgerApiConfigSchema.parse({}));
  await api.start(host);
  server = new ApiServer({
    endpoint: '127.0.0.1:0',
    tenants: settings.tenants,
    logger: pino({ level: 'silent' }),
    maxBodyBytes: 1024,
  });
  server.add(api.routes!());
  base = await server.start();
});
afterAll(async () => {
  await server.close();
  await exporter.shutdown();
  tmp.cleanup();
});

const get = (path: string, token = 'acme-token') =>
  fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
const vkey = () => verifierFromKey(exporter.verifierKey);

describe('ledger read API', () => {
  it('serves the tenant its signed checkpoint', async () => {
    const r = await get('/ledger/t/acme/checkpoint');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(openCheckpoint(await r.text(), [vkey()], 'api.test/t/acme').size).toBe(300);
  });

  it('refuses other tenants and callers without a token', async () => {
    expect((await get('/ledger/t/acme/checkpoint', 'globex-token')).status).toBe(403);
    expect((await get('/ledger/t/acme/tile/0/000', 'globex-token')).status).toBe(403);
    expect((await get('/ledger/t/acme/proof/inclusion?event_id=x', 'globex-token')).status).toBe(403);
    expect((await get('/ledger/t/acme/checkpoint', '')).status).toBe(401);
    expect((await get('/ledger/t/globex/checkpoint', 'globex-token')).status).toBe(200);
  });

  it('serves tiles of the checkpoint as immutable bytes, and nothing else', async () => {
    const r = await get('/ledger/t/acme/tile/0/000');
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toMatch(/immutable/);
    expect((await r.arrayBuffer()).byteLength).toBe(256 * 32);
    expect((await get('/ledger/t/acme/tile/entries/001.p/44')).status).toBe(200);
    expect((await get('/ledger/t/acme/tile/entries/001.p/45')).status).toBe(404);
    expect((await get('/ledger/t/acme/tile/0/001')).status).toBe(404);
    expect((await get('/ledger/t/acme/tile/0/..%2F..%2Fsigning.key')).status).toBe(404);
    expect((await get('/ledger/t/acme/tile/0/x000/000')).status).toBe(404);
  });

  it('answers inclusion proofs by event id as tlog-proof files', async () => {
    const r = await get(`/ledger/t/acme/proof/inclusion?event_id=${events[257]!.event_id}`);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(parseProof(text).index).toBe(257);
    expect(() => verifyProof(text, parseProof(text).extra!, [vkey()], 'api.test/t/acme')).not.toThrow();
    expect((await get('/ledger/t/acme/proof/inclusion?event_id=nope')).status).toBe(404);
  });

  it('answers consistency proofs between sizes', async () => {
    const r = await get('/ledger/t/acme/proof/consistency?from=7&to=300');
    expect(r.status).toBe(200);
    const b = (await r.json()) as { root_from: string; root_to: string; proof: string[] };
    const h = (s: string) => Buffer.from(s, 'base64');
    expect(verifyConsistency(7, 300, b.proof.map(h), h(b.root_from), h(b.root_to))).toBe(true);
    expect((await get('/ledger/t/acme/proof/consistency?from=7&to=301')).status).toBe(400);
  });
});

describe('forensic query', () => {
  it('answers admins with audit events, leaf indexes and proofs, and records the query', async () => {
    const r = await get(
      '/api/v1/audit/events?actor=u-1&action=policy_acknowledged&limit=5',
      'acme-admin-token',
    );
    expect(r.status).toBe(200);
    const body = (await r.json()) as {
      checkpoint: string;
      events: { index: number; event: Record<string, unknown>; proof: string[] }[];
    };
    expect(body.events.map((e) => e.index)).toEqual([0, 1, 2, 3, 4]);
    const cp = openCheckpoint(body.checkpoint, [vkey()], 'api.test/t/acme');
    for (const hit of body.events) {
      // The caller re-derives the entry from the event and checks it against the signed root.
      const leaf = leafHash(Buffer.from(canonicalize(hit.event)));
      expect(
        verifyInclusion(
          leaf,
          hit.index,
          cp.size,
          hit.proof.map((p) => Buffer.from(p, 'base64')),
          cp.root,
        ),
      ).toBe(true);
    }
    const recorded = ingested.events.filter((e) => e.action === 'audit_events_queried');
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      event_type: 'audit',
      tenant: { id: 'acme' },
      metadata: { details: { actor: 'u-1', limit: 5 } },
    });
  });

  it('filters by time and refuses non-admins', async () => {
    const later = await get('/api/v1/audit/events?from=2026-01-03T00:00:00Z', 'acme-admin-token');
    expect(((await later.json()) as { events: unknown[] }).events).toEqual([]);
    const within = await get(
      '/api/v1/audit/events?from=2026-01-02T00:00:00Z&to=2026-01-03T00:00:00Z&limit=1000',
      'acme-admin-token',
    );
    expect(((await within.json()) as { events: unknown[] }).events).toHaveLength(300);
    expect((await get('/api/v1/audit/events', 'acme-token')).status).toBe(403);
    expect((await get('/api/v1/audit/events?from=yesterday', 'acme-admin-token')).status).toBe(400);
  });
});
