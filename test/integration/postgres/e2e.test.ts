import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../../pipeline/tenants.ts';
import { startLedgerline } from '../../harness/ledgerline.ts';
import { type Backend, type BackendName, openBackend } from './backends.ts';

/**
 * ledgerline as users run it (a child process on a YAML config): seed 001 usage events posted
 * to the http receiver land in the postgres exporter, and the usage API on the same port
 * answers the summary. The exporter URL is the default config's `${env:DATABASE_URL:-...}`:
 * embedded PGlite without DATABASE_URL, a real server with it.
 */

const ADMIN = 'e2e-admin-token';
const USER = 'e2e-user-token';

const config = (tenant: string) => `
tenants:
  - { id: ${tenant}, keys: ["${hashToken(ADMIN)}"], roles: [tenant, admin] }
  - { id: ${tenant}, keys: ["${hashToken(USER)}"], roles: [tenant] }
receivers:
  http: { endpoint: 127.0.0.1:0 }
processors:
  redaction: {}
exporters:
  postgres:
    url: \${env:DATABASE_URL:-embedded:./data/pg}
extensions:
  usage_api: { exporter: postgres }
service:
  extensions: [usage_api]
  pipelines:
    activity: { receivers: [http], processors: [redaction], exporters: [postgres] }
`;

describe.each<BackendName>(['embedded', 'postgres'])(
  'ledgerline with the postgres exporter on %s',
  (name) => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await openBackend(name);
    });
    afterAll(async () => {
      await backend?.close();
    });

    it('stores posted usage events and answers the summary from them', { timeout: 120_000 }, async () => {
      const tenant = `e2e-${process.pid}-${name}`;
      const env: Record<string, string> =
        name === 'postgres' ? { DATABASE_URL: await backend.fresh() } : { DATABASE_URL: '' };
      const app = await startLedgerline({ config: config(tenant), env, startTimeoutMs: 90_000 });
      try {
        const base = app.endpoints.http!;
        const post = async (body: unknown) =>
          await fetch(`${base}/api/v1/usage/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${USER}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
        const sent = [
          { event_type: 'sql_generation', user_id: 'alice', metadata: { rows: 3 } },
          { event_type: 'sql_generation', user_id: 'alice', metadata: {} },
          { event_type: 'sql_generation', user_id: 'bob', metadata: {} },
          { event_type: 'dashboard_publish', user_id: 'bob', metadata: { dashboard_id: 'd1' }, source: 'ui' },
        ];
        for (const e of sent) expect((await post(e)).status).toBe(202);
        const res = await fetch(`${base}/api/v1/usage/summary?days=1`, {
          headers: { authorization: `Bearer ${ADMIN}` },
        });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { summary: unknown; generated_at: string };
        expect(body.summary).toEqual({ sql_generation: { alice: 2, bob: 1 }, dashboard_publish: { bob: 1 } });
        const forbidden = await fetch(`${base}/api/v1/usage/summary`, {
          headers: { authorization: `Bearer ${USER}` },
        });
        expect(forbidden.status).toBe(403);
      } finally {
        await app.stop();
        rmSync(app.dir, { recursive: true, force: true });
      }
    });
  },
);
