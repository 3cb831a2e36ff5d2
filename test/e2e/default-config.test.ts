import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../exporters/ledger/checkpoint.ts';
import { canonicalize } from '../../exporters/ledger/jcs.ts';
import { leafHash, verifyInclusion } from '../../exporters/ledger/merkle.ts';
import { verifierFromKey } from '../../exporters/ledger/note.ts';
import { postJson } from '../harness/http.ts';
import { type RunningLedgerline, startLedgerline } from '../harness/ledgerline.ts';

/**
 * What `npm start` runs: the shipped config/ledgerline.yaml, unchanged, in an empty working
 * directory with no database and no tenants file (only the listen addresses moved to free
 * ports). On first start it bootstraps a tenant and its token; seed 001 usage events land in
 * embedded Postgres and answer the summary; audit events land in the ledger and answer the
 * forensic query through the Postgres audit index, with proofs against the signed checkpoint.
 */

const SHIPPED = readFileSync(join(import.meta.dirname, '..', '..', 'config', 'ledgerline.yaml'), 'utf8');
let app: RunningLedgerline | undefined;
afterAll(async () => {
  if (!app) return;
  await app.kill();
  rmSync(app.dir, { recursive: true, force: true });
});

describe('the embedded default config', () => {
  it('stores usage in embedded Postgres and audit events in the ledger, with no setup', {
    timeout: 180_000,
  }, async () => {
    app = await startLedgerline({
      config: SHIPPED,
      startTimeoutMs: 120_000,
      env: {
        DATABASE_URL: '',
        LEDGERLINE_HTTP_ENDPOINT: '127.0.0.1:0',
        LEDGERLINE_OTLP_GRPC_ENDPOINT: '127.0.0.1:0',
        LEDGERLINE_OTLP_HTTP_ENDPOINT: '127.0.0.1:0',
        LEDGERLINE_METRICS_ENDPOINT: '127.0.0.1:0',
      },
    });
    const base = app.endpoints.http!;
    const token = readFileSync(join(app.dir, 'data', 'default.token'), 'utf8').trim();
    const auth = { headers: { authorization: `Bearer ${token}` } };

    for (const user of ['alice', 'alice', 'bob'])
      expect(
        (
          await postJson(
            `${base}/api/v1/usage/events`,
            { event_type: 'sql_generation', user_id: user },
            token,
          )
        ).status,
      ).toBe(202);
    const summary = await fetch(`${base}/api/v1/usage/summary?days=1`, auth);
    expect(summary.status).toBe(200);
    expect(((await summary.json()) as { summary: unknown }).summary).toEqual({
      sql_generation: { alice: 2, bob: 1 },
    });

    const audit = {
      event_type: 'audit',
      actor: { type: 'user', id: 'dana' },
      tenant: { id: 'default' },
      entity: { type: 'policy', id: 'retention' },
      action: 'policy_changed',
      result: 'success',
    };
    expect((await postJson(`${base}/api/v1/events`, [audit], token)).status).toBe(202);
    // The ledger signs a checkpoint at least every checkpoint_interval (1 s by default).
    let hits: { event: Record<string, unknown> | null; index: number; proof: string[] | null }[] = [];
    let body: { source?: string; checkpoint?: string } = {};
    for (let i = 0; i < 50; i++) {
      const r = await fetch(`${base}/api/v1/audit/events?actor=dana`, auth);
      expect(r.status).toBe(200);
      body = (await r.json()) as typeof body & { events: typeof hits };
      hits = (body as { events: typeof hits }).events;
      if (hits.length === 1 && hits[0]!.proof) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(body.source).toBe('audit_index');
    expect(hits).toHaveLength(1);
    expect(hits[0]!.event).toMatchObject({ actor: { id: 'dana' }, action: 'policy_changed' });
    const vkey = readFileSync(join(app.dir, 'data', 'ledger', 'verifier-keys'), 'utf8')
      .trim()
      .split('\n')
      .at(-1)!;
    const cp = openCheckpoint(body.checkpoint!, [verifierFromKey(vkey)], 'ledgerline.local/t/default');
    const proof = hits[0]!.proof!.map((p) => Buffer.from(p, 'base64'));
    expect(
      verifyInclusion(
        leafHash(Buffer.from(canonicalize(hits[0]!.event))),
        hits[0]!.index,
        cp.size,
        proof,
        cp.root,
      ),
    ).toBe(true);

    expect(await app.stop()).toBe(0);
  });
});
