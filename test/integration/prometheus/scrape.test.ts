import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusConfigSchema } from '../../../exporters/prometheus/config.ts';
import { PrometheusExporter } from '../../../exporters/prometheus/exporter.ts';
import type { Settings } from '../../../pipeline/component.ts';
import type { Event } from '../../../pipeline/event.ts';
import { testBatch, testEvent, testHost, testSettings } from '../../../pipeline/testing.ts';
import {
  type PrometheusService,
  promtoolCheckMetrics,
  type Sample,
  startPrometheus,
} from '../../services/prometheus.ts';

/**
 * A real Prometheus scrapes the prometheus exporter (run in-process) while the test feeds it a
 * known mix of events; every figure is read back through Prometheus's query API. Prometheus
 * asks for OpenMetrics first (its Accept header), so these scrapes exercise that format.
 */

const run = `t${Date.now().toString(36)}`;
let dir: string;
let settings: Settings;
let exporter: PrometheusExporter;
let prom: PrometheusService;
let tokenFile: string;

const times = (n: number, make: (i: number) => Event) => Array.from({ length: n }, (_, i) => make(i));
const one = (s: Sample[]) => (s.length === 1 ? s[0]!.value : Number.NaN);
const equals = (v: number) => (s: Sample[]) => s.length === 1 && Math.abs(s[0]!.value - v) < 1e-9;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'll-prom-it-'));
  tokenFile = join(dir, 'scrape.token');
  settings = testSettings('prometheus');
  exporter = new PrometheusExporter(
    settings,
    prometheusConfigSchema.parse({ endpoint: '127.0.0.1:0', auth: { bearer_token_file: tokenFile } }),
  );
  await exporter.start(testHost(settings));
  prom = await startPrometheus({ targets: [{ job: run, url: exporter.url!, bearerTokenFile: tokenFile }] });
});

afterAll(async () => {
  await prom?.stop();
  await exporter?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('prometheus scraping the exporter', () => {
  it('scrapes with the bearer token file, target up', async () => {
    await prom.waitFor(`up{job="${run}"}`, equals(1));
    const [target] = (await prom.targets()).filter((t) => t.job === run);
    expect(target).toEqual({ job: run, health: 'up', lastError: '' });
  });

  it('reports the known mix: re-weighted counts, audit, denials, tokens', async () => {
    const audit = { event_type: 'audit', entity: { type: 'dataset', id: 'd1' } };
    await exporter.consume(
      testBatch([
        ...times(100, () => testEvent({ action: 'sql_generation', usage: { sample_rate: 0.25 } })),
        ...times(10, () => testEvent({ action: 'sql_generation', usage: { outcome: 'error' } })),
        ...times(20, () => testEvent({ action: 'dashboard_publish', usage: { count: 5 } })),
        ...times(7, () =>
          testEvent({ ...audit, action: 'export_requested', result: 'denied', reason: 'no_consent' }),
        ),
        ...times(2, () =>
          testEvent({ ...audit, action: 'export_requested', result: 'denied', reason: 'mfa_missing' }),
        ),
        ...times(3, () => testEvent({ ...audit, action: 'role_assigned', result: 'success' })),
      ]),
    );
    await exporter.consume(
      testBatch(
        times(5, () =>
          testEvent({
            action: 'llm_call',
            usage: { provider: 'openai', sample_rate: 0.5, tokens: { input: 1000, output: 200 } },
          }),
        ),
      ),
    );
    const q = (m: string, l: string) => `${m}{job="${run}",${l}}`;
    await prom.waitFor(q('usage_events_total', 'event_type="sql_generation",outcome="ok"'), equals(400));
    expect(
      one(await prom.query(q('usage_events_total', 'event_type="sql_generation",outcome="error"'))),
    ).toBe(10);
    expect(
      one(await prom.query(q('usage_events_total', 'event_type="dashboard_publish",outcome="ok"'))),
    ).toBe(100);
    expect(one(await prom.query(q('usage_events_total', 'event_type="llm_call"')))).toBe(10);
    expect(one(await prom.query(q('audit_events_total', 'action="export_requested",result="denied"')))).toBe(
      9,
    );
    expect(one(await prom.query(q('audit_events_total', 'action="role_assigned",result="success"')))).toBe(3);
    const leaderboard = await prom.query(`sort_desc(sum by (reason) (denied_events_total{job="${run}"}))`);
    expect(leaderboard.map((s) => [s.metric.reason, s.value])).toEqual([
      ['no_consent', 7],
      ['mfa_missing', 2],
    ]);
    expect(one(await prom.query(q('llm_tokens_total', 'provider="openai",direction="input"')))).toBe(10_000);
    expect(one(await prom.query(q('llm_tokens_total', 'provider="openai",direction="output"')))).toBe(2_000);
  });

  it('answers histogram quantiles within the bucket that holds the true value', async () => {
    // 100 calls at 40 ms and 100 at 200 ms (the second half sampled at 50 %, so 50 events stand for 100).
    await exporter.consume(
      testBatch([
        ...times(100, () => testEvent({ usage: { feature: 'nl2sql', tool: 'warehouse', latency_ms: 40 } })),
        ...times(50, () =>
          testEvent({ usage: { feature: 'nl2sql', tool: 'warehouse', latency_ms: 200, sample_rate: 0.5 } }),
        ),
      ]),
    );
    const sel = `{job="${run}",feature="nl2sql",tool="warehouse"}`;
    await prom.waitFor(`usage_latency_seconds_count${sel}`, equals(200));
    expect(one(await prom.query(`usage_latency_seconds_sum${sel}`))).toBeCloseTo(100 * 0.04 + 100 * 0.2, 9);
    const p50 = one(
      await prom.query(`histogram_quantile(0.5, sum by (le) (usage_latency_seconds_bucket${sel}))`),
    );
    const p90 = one(
      await prom.query(`histogram_quantile(0.9, sum by (le) (usage_latency_seconds_bucket${sel}))`),
    );
    // True p50 is 40 ms (bucket 25..50 ms); true p90 is 200 ms (bucket 100..250 ms).
    expect(p50).toBeGreaterThan(0.025);
    expect(p50).toBeLessThanOrEqual(0.05);
    expect(p90).toBeGreaterThan(0.1);
    expect(p90).toBeLessThanOrEqual(0.25);
  });

  it('serves the self-observability series beside the business ones', async () => {
    settings.telemetry.receiverAccepted.inc({ receiver: 'http', transport: 'http' }, 42);
    settings.telemetry.exporterQueueCapacity.set({ exporter: 'postgres' }, 1000);
    settings.telemetry.exporterQueueSize.set({ exporter: 'postgres' }, 12);
    await prom.waitFor(`ledgerline_receiver_accepted_events_total{job="${run}",receiver="http"}`, equals(42));
    expect(one(await prom.query(`ledgerline_exporter_queue_size{job="${run}",exporter="postgres"}`))).toBe(
      12,
    );
    expect(
      one(await prom.query(`ledgerline_exporter_queue_capacity{job="${run}",exporter="postgres"}`)),
    ).toBe(1000);
    expect((await prom.query(`process_resident_memory_bytes{job="${run}"}`)).length).toBe(1);
  });

  it('exposes lint-clean metrics (promtool check metrics)', async () => {
    const text = await exporter.exposition('prometheus');
    const r = promtoolCheckMetrics(text);
    expect(r.output).toBe('');
    expect(r.ok).toBe(true);
  });
});

describe('the Grafana dashboard on this data', () => {
  const dashboard = JSON.parse(
    readFileSync(
      join(import.meta.dirname, '../../../deploy/grafana/dashboards/ledgerline-overview.json'),
      'utf8',
    ),
  ) as { panels: { title: string; targets?: { expr: string }[] }[] };
  const queries = dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })),
  );

  it('every panel query evaluates on Prometheus and shows data', async () => {
    // Give every pipeline series a value, and push one series past its cap so folds show.
    settings.telemetry.processorDropped.inc({ processor: 'sampling', reason: 'sampled_out' }, 3);
    settings.telemetry.exporterSendFailed.inc({ exporter: 'postgres', reason: 'exporter_unavailable' }, 2);
    settings.telemetry.exporterSent.inc({ exporter: 'postgres' }, 100);
    settings.telemetry.receiverRefused.inc({ receiver: 'http', transport: 'http', reason: 'queue_full' }, 1);
    settings.telemetry.batchSize.observe({ component: 'redaction' }, 50);
    await exporter.consume(testBatch(times(2100, (i) => testEvent({ action: `dash_${i}` }))));
    expect(queries.length).toBeGreaterThanOrEqual(16);
    for (const q of queries) {
      const promql = q.expr
        .replaceAll('$job', run)
        .replaceAll('$__rate_interval', '1m')
        .replaceAll('$__range', '1h');
      const got = await prom.waitFor(promql, (s) => s.length > 0);
      expect(got.length, q.title).toBeGreaterThan(0);
    }
  });
});
