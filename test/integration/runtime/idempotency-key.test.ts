import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigSources } from '../../../config/load.ts';
import type { LedgerExporter } from '../../../exporters/ledger/exporter.ts';
import type { PostgresExporter } from '../../../exporters/postgres/exporter.ts';
import { factories } from '../../../pipeline/components.ts';
import { Service } from '../../../pipeline/service.ts';
import { hashToken } from '../../../pipeline/tenants.ts';
import type { HttpReceiver } from '../../../receivers/http/receiver.ts';
import { postJson } from '../../harness/http.ts';

// A client that retries a request with the same Idempotency-Key, its events carrying no
// event_id of their own: the retry is a replay in the real sinks (embedded Postgres, ledger),
// so every event is stored once, while the same events sent without a key are stored again.

const TOKEN = 'idempotency-test-token';
const dir = mkdtempSync(join(tmpdir(), 'ledgerline-idem-'));
let service: Service;
let base = '';

beforeAll(async () => {
  const text = `
tenants:
  - { id: acme, keys: ["${hashToken(TOKEN)}"], roles: [tenant, admin] }
receivers:
  http: { endpoint: 127.0.0.1:0 }
processors:
  redaction: {}
exporters:
  postgres: { url: "embedded:${join(dir, 'pg')}" }
  ledger: { dir: "${join(dir, 'ledger')}", generate_key: true }
service:
  pipelines:
    activity: { receivers: [http], processors: [redaction], exporters: [postgres] }
    audit: { receivers: [http], processors: [redaction], exporters: [ledger, postgres] }
`;
  const loaded = loadConfigSources([{ path: 'test.yaml', text }], factories);
  expect(loaded.errors).toEqual([]);
  service = await Service.start(loaded.config!, { logger: pino({ level: 'silent' }) });
  base = (service.getComponent('http') as HttpReceiver).url!;
}, 120_000);

afterAll(async () => {
  await service?.shutdown(AbortSignal.timeout(10_000));
  rmSync(dir, { recursive: true, force: true });
});

const activity = (i: number) => ({
  event_type: 'activity',
  actor: { type: 'user', id: `u-${i}` },
  tenant: { id: 'acme' },
  action: 'report_exported',
});
const audit = (i: number) => ({
  event_type: 'audit',
  actor: { type: 'user', id: `u-${i}` },
  tenant: { id: 'acme' },
  entity: { type: 'policy', id: `p-${i}` },
  action: 'policy_changed',
  result: 'success',
});

async function stored(ids: string[]): Promise<{ usage: number; audit: number; ledger: number }> {
  const pg = service.getComponent('postgres') as PostgresExporter;
  const [u] = await pg.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM usage_events WHERE id = ANY($1::uuid[])',
    [ids],
  );
  const [a] = await pg.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM audit_events WHERE event_id = ANY($1::uuid[])',
    [ids],
  );
  const log = await (service.getComponent('ledger') as LedgerExporter).log('acme');
  return { usage: u!.n, audit: a!.n, ledger: log.size };
}

describe('Idempotency-Key on the http receiver', () => {
  it('turns a retried request into a replay in every sink', async () => {
    const body = [activity(1), activity(2), audit(1), audit(2)];
    const headers = { 'idempotency-key': '"order-4711-attempt"' };
    const first = await postJson(`${base}/api/v1/events`, body, TOKEN, headers);
    expect(first.status).toBe(202);
    const retry = await postJson(`${base}/api/v1/events`, body, TOKEN, headers);
    expect(retry.status).toBe(202);
    expect(retry.body.event_ids).toEqual(first.body.event_ids);
    expect(await stored(first.body.event_ids)).toEqual({ usage: 2, audit: 2, ledger: 2 });

    // Without the key the same events are new events: fresh ids, stored again.
    const again = await postJson(`${base}/api/v1/events`, body, TOKEN);
    expect(again.status).toBe(202);
    expect(again.body.event_ids.some((id: string) => first.body.event_ids.includes(id))).toBe(false);
    expect((await stored(again.body.event_ids)).ledger).toBe(4);
  });

  it('does the same for seed 001 usage events, and refuses a malformed key with 400', async () => {
    const body = { event_type: 'sql_generation', user_id: 'alice', metadata: { rows: 3 } };
    const headers = { 'idempotency-key': 'usage-retry-1' };
    const first = await postJson(`${base}/api/v1/usage/events`, body, TOKEN, headers);
    const retry = await postJson(`${base}/api/v1/usage/events`, body, TOKEN, headers);
    expect([first.status, retry.status]).toEqual([202, 202]);
    expect(retry.body.event_ids).toEqual(first.body.event_ids);
    expect((await stored(first.body.event_ids)).usage).toBe(1);

    const bad = await postJson(`${base}/api/v1/usage/events`, body, TOKEN, {
      'idempotency-key': 'two words',
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/Idempotency-Key/);
  });
});
