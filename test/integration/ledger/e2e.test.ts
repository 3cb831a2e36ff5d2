import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../exporters/ledger/checkpoint.ts';
import { verifierFromKey } from '../../../exporters/ledger/note.ts';
import { parseProof, verifyProof } from '../../../exporters/ledger/proof-file.ts';
import { hashToken } from '../../../pipeline/tenants.ts';
import { postJson } from '../../harness/http.ts';
import { type RunningLedgerline, startLedgerline } from '../../harness/ledgerline.ts';
import { runGo } from './go-verifier.ts';

// Audit events through a running ledgerline: HTTP in, redaction, the ledger exporter; read
// back through the ledger API; then the offline tools and the Go verifier check the files.

const CLI = join(import.meta.dirname, '..', '..', '..', 'cli', 'ledgerline.ts');
const ACME = 'ledger-e2e-acme-token';
const GLOBEX = 'ledger-e2e-globex-token';
let app: RunningLedgerline | undefined;
afterEach(async () => {
  await app?.kill();
  app = undefined;
});

const CONFIG = `
tenants:
  - { id: acme, keys: ["${hashToken(ACME)}"], roles: [tenant, admin] }
  - { id: globex, keys: ["${hashToken(GLOBEX)}"] }
receivers:
  http: { endpoint: 127.0.0.1:0 }
processors:
  redaction: {}
exporters:
  ledger: { dir: ./data/ledger, origin: e2e.ledgerline.test, generate_key: true, checkpoint_interval: 200ms }
extensions:
  ledger_api: {}
service:
  extensions: [ledger_api]
  pipelines:
    audit: { receivers: [http], processors: [redaction], exporters: [ledger] }
`;

const audit = (i: number) => ({
  event_type: 'audit',
  actor: { type: 'user', id: `u-${i}` },
  tenant: { id: 'acme' },
  entity: { type: 'policy', id: `p-${i}` },
  action: 'policy_changed',
  result: 'success',
});

describe('ledger end to end', () => {
  it('ledgers audit events, serves proofs to their tenant only, and verifies offline and in Go', async () => {
    app = await startLedgerline({ config: CONFIG });
    const base = app.endpoints.http!;
    const posted = await postJson(
      `${base}/api/v1/events`,
      Array.from({ length: 300 }, (_, i) => audit(i)),
      ACME,
    );
    expect(posted.status).toBe(202);
    const ids = posted.body.event_ids as string[];
    // A replayed event (same event_id) is acknowledged again but not appended twice.
    const replay = await postJson(`${base}/api/v1/events`, [{ ...audit(0), event_id: ids[0] }], ACME);
    expect(replay.status).toBe(202);

    const auth = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });
    const dir = join(app.dir, 'data', 'ledger');
    const vkey = readFileSync(join(dir, 'verifier-keys'), 'utf8').trim();
    // The checkpoint follows the appends within checkpoint_interval.
    let size = 0;
    for (let i = 0; i < 100 && size < 300; i++) {
      const r = await fetch(`${base}/ledger/t/acme/checkpoint`, auth(ACME));
      if (r.status === 200)
        size = openCheckpoint(await r.text(), [verifierFromKey(vkey)], 'e2e.ledgerline.test/t/acme').size;
      if (size < 300) await new Promise((res) => setTimeout(res, 100));
    }
    expect(size).toBe(300);

    const proof = await fetch(`${base}/ledger/t/acme/proof/inclusion?event_id=${ids[123]}`, auth(ACME));
    expect(proof.status).toBe(200);
    const text = await proof.text();
    expect(parseProof(text).index).toBe(123);
    expect(() =>
      verifyProof(text, parseProof(text).extra!, [verifierFromKey(vkey)], 'e2e.ledgerline.test/t/acme'),
    ).not.toThrow();
    expect((await fetch(`${base}/ledger/t/acme/checkpoint`, auth(GLOBEX))).status).toBe(403);
    expect((await fetch(`${base}/ledger/t/acme/checkpoint`)).status).toBe(401);

    // A forensic query answers with proofs and is itself ledgered as an audit event.
    const q = await fetch(`${base}/api/v1/audit/events?actor=u-7&action=policy_changed`, auth(ACME));
    expect(q.status).toBe(200);
    const hits = ((await q.json()) as { events: { index: number }[] }).events;
    expect(hits.map((h) => h.index)).toEqual([7]);
    expect((await fetch(`${base}/api/v1/audit/events`, auth(GLOBEX))).status).toBe(403);

    expect(await app.stop()).toBe(0);
    app = undefined;
    const verify = spawnSync(process.execPath, [CLI, 'ledger', 'verify', dir, '--key', vkey], {
      encoding: 'utf8',
    });
    expect(verify.stdout).toBe('acme: ok, 301 entries, checkpoint 301\n');
    expect(verify.status).toBe(0);
    const [go] = runGo(
      [vkey],
      [{ kind: 'log', dir: join(dir, 'acme'), origin: 'e2e.ledgerline.test/t/acme' }],
    );
    expect(go).toMatchObject({ ok: true, size: 301 });
  }, 120_000);
});
