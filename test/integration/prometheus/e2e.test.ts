import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factories } from '../../../pipeline/components.ts';
import { hashToken } from '../../../pipeline/tenants.ts';
import { postJson } from '../../harness/http.ts';
import { type RunningLedgerline, startLedgerline } from '../../harness/ledgerline.ts';
import {
  type PrometheusService,
  promtoolCheckMetrics,
  type Sample,
  startPrometheus,
} from '../../services/prometheus.ts';

/**
 * End to end: ledgerline runs as a child process (http receiver → prometheus exporter), a real
 * Prometheus scrapes it with the token file the exporter created on first start, and the test
 * reads the business and pipeline series back from Prometheus after sending a known mix.
 */

const run = `e2e${Date.now().toString(36)}`;
const TOKEN = `${run}-token`;
let app: RunningLedgerline;
let prom: PrometheusService;

// Pipelines must satisfy the config invariants of whatever components are built in.
const hasRedaction = factories.some((f) => f.kind === 'processor' && f.type === 'redaction');
const hasLedger = factories.some((f) => f.kind === 'exporter' && f.type === 'ledger');
const processors = `[${hasRedaction ? 'redaction' : ''}]`;

beforeAll(async () => {
  app = await startLedgerline({
    config: `
tenants: [ { id: ${run}, keys: ["${hashToken(TOKEN)}"] } ]
receivers: { http: { endpoint: 127.0.0.1:0 } }
${hasRedaction ? 'processors: { redaction: {} }' : ''}
exporters:
  prometheus: { endpoint: 127.0.0.1:0, auth: { bearer_token_file: ./data/scrape.token } }
${hasLedger ? '  ledger: { dir: ./data/ledger, generate_key: true }' : ''}
service:
  telemetry: { logs: { level: info } }
  pipelines:
    activity: { receivers: [http], processors: ${processors}, exporters: [prometheus] }
    audit: { receivers: [http], processors: ${processors}, exporters: [${hasLedger ? 'ledger, ' : ''}prometheus] }
`,
  });
  prom = await startPrometheus({
    targets: [
      { job: run, url: app.endpoints.prometheus!, bearerTokenFile: join(app.dir, 'data/scrape.token') },
    ],
  });
});

afterAll(async () => {
  await prom?.stop();
  await app?.stop();
});

const one = (s: Sample[]) => (s.length === 1 ? s[0]!.value : Number.NaN);
const equals = (v: number) => (s: Sample[]) => one(s) === v;

describe('prometheus exporter in a running ledgerline', () => {
  it('logs its endpoint, answers probes, and refuses scrapes without the token', async () => {
    const url = app.endpoints.prometheus!;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(
      401,
    );
  });

  it('shows the known mix of events, re-weighted, and the pipeline series', async () => {
    const http = app.endpoints.http!;
    const envelope = (usage: Record<string, unknown>, action = 'sql_generation') => ({
      event_type: 'activity',
      actor: { type: 'user', id: 'u-1' },
      tenant: { id: run },
      action,
      usage,
    });
    const sampled = Array.from({ length: 40 }, () =>
      envelope({ sample_rate: 0.25, feature: 'nl2sql', tool: 'wh', latency_ms: 30 }),
    );
    const errors = Array.from({ length: 5 }, () =>
      envelope({ outcome: 'error', feature: 'nl2sql', tool: 'wh', latency_ms: 300 }),
    );
    expect((await postJson(`${http}/api/v1/events`, [...sampled, ...errors], TOKEN)).status).toBe(202);
    for (let i = 0; i < 3; i++) {
      const r = await postJson(
        `${http}/api/v1/usage/events`,
        { event_type: 'dashboard_publish', metadata: { adapter: 'pg' } },
        TOKEN,
      );
      expect(r.status).toBe(202);
    }
    // An invalid request is refused whole and counted by reason.
    expect((await postJson(`${http}/api/v1/events`, [envelope({}, 'Not Snake')], TOKEN)).status).toBe(400);

    const sel = (l: string) => `{job="${run}",${l}}`;
    await prom.waitFor(`usage_events_total${sel('event_type="sql_generation",outcome="ok"')}`, equals(160));
    expect(
      one(await prom.query(`usage_events_total${sel('event_type="sql_generation",outcome="error"')}`)),
    ).toBe(5);
    expect(
      one(await prom.query(`usage_events_total${sel('event_type="dashboard_publish",outcome="ok"')}`)),
    ).toBe(3);
    expect(one(await prom.query(`usage_latency_seconds_count${sel('feature="nl2sql",tool="wh"')}`))).toBe(
      165,
    );
    const p50 = one(
      await prom.query(
        `histogram_quantile(0.5, sum by (le) (usage_latency_seconds_bucket${sel('feature="nl2sql"')}))`,
      ),
    );
    expect(p50).toBeGreaterThan(0.025);
    expect(p50).toBeLessThanOrEqual(0.05);

    await prom.waitFor(`sum(ledgerline_receiver_accepted_events_total${sel('receiver="http"')})`, equals(48));
    expect(
      one(await prom.query(`sum(ledgerline_receiver_refused_events_total${sel('reason="invalid_event"')})`)),
    ).toBe(1);
    await prom.waitFor(`ledgerline_exporter_sent_events_total${sel('exporter="prometheus"')}`, equals(48));
    expect(
      one(await prom.query(`ledgerline_exporter_queue_capacity${sel('exporter="prometheus"')}`)),
    ).toBeGreaterThan(0);
    expect((await prom.query(`process_resident_memory_bytes${sel('instance!=""')}`)).length).toBe(1);
  });

  it('counts audit decisions and denials by reason from the audit pipeline', async () => {
    const audit = (action: string, result: string, reason?: string) => ({
      event_type: 'audit',
      actor: { type: 'user', id: 'admin-1' },
      tenant: { id: run },
      entity: { type: 'dataset', id: 'ds-1' },
      action,
      result,
      ...(reason ? { reason } : {}),
    });
    const events = [
      ...Array.from({ length: 4 }, () => audit('export_requested', 'denied', 'no_consent')),
      audit('export_requested', 'denied', 'mfa_missing'),
      ...Array.from({ length: 2 }, () => audit('role_assigned', 'success')),
    ];
    expect((await postJson(`${app.endpoints.http!}/api/v1/events`, events, TOKEN)).status).toBe(202);
    const sel = (l: string) => `{job="${run}",${l}}`;
    await prom.waitFor(`audit_events_total${sel('action="export_requested",result="denied"')}`, equals(5));
    expect(one(await prom.query(`audit_events_total${sel('action="role_assigned",result="success"')}`))).toBe(
      2,
    );
    const board = await prom.query(
      `sort_desc(sum by (reason) (denied_events_total${sel('event_class="audit"')}))`,
    );
    expect(board.map((s) => [s.metric.reason, s.value])).toEqual([
      ['no_consent', 4],
      ['mfa_missing', 1],
    ]);
    if (hasLedger) await prom.waitFor(`ledgerline_ledger_tree_size${sel(`tenant="${run}"`)}`, equals(7));
  });

  it('serves lint-clean metrics from the running process', async () => {
    const token = readFileSync(join(app.dir, 'data/scrape.token'), 'utf8').trim();
    const res = await fetch(`${app.endpoints.prometheus!}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const r = promtoolCheckMetrics(await res.text());
    expect(r.output).toBe('');
    expect(r.ok).toBe(true);
  });
});
