import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testBatch, testEvent, testHost, testSettings } from '../../pipeline/testing.ts';
import { prometheusConfigSchema } from './config.ts';
import { PrometheusExporter } from './exporter.ts';

let dir: string;
const exporters: PrometheusExporter[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'll-prom-unit-'));
});
afterEach(async () => {
  await Promise.all(exporters.splice(0).map((e) => e.shutdown()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(over: Record<string, unknown> = {}) {
  const settings = testSettings('prometheus');
  const config = prometheusConfigSchema.parse({
    endpoint: '127.0.0.1:0',
    auth: { bearer_token_file: join(dir, 'scrape.token') },
    ...over,
  });
  const exporter = new PrometheusExporter(settings, config);
  exporters.push(exporter);
  await exporter.start(testHost(settings));
  const token =
    config.auth.mode === 'bearer' ? readFileSync(config.auth.bearer_token_file, 'utf8').trim() : '';
  return { exporter, settings, token, url: exporter.url! };
}

describe('prometheus exporter endpoint', () => {
  it('creates a 0600 token file and refuses scrapes without it', async () => {
    const { url, token } = await start();
    expect(statSync(join(dir, 'scrape.token')).mode & 0o777).toBe(0o600);
    expect(token.length).toBeGreaterThanOrEqual(16);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect(
      (await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer wrong-token-of-some-length' } }))
        .status,
    ).toBe(401);
    // A tenant credential is not a scrape credential.
    expect(
      (await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer acme-admin-token' } })).status,
    ).toBe(401);
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  });

  it('serves business and self series, OpenMetrics when asked, without renaming counters', async () => {
    const { url, token, exporter, settings } = await start();
    settings.telemetry.receiverAccepted.inc({ receiver: 'http', transport: 'http' }, 5);
    await exporter.consume(testBatch([testEvent({ action: 'sql_generation', usage: { sample_rate: 0.5 } })]));
    const auth = { authorization: `Bearer ${token}` };
    const om = await fetch(`${url}/metrics`, {
      headers: { ...auth, accept: 'application/openmetrics-text;version=1.0.0' },
    });
    expect(om.headers.get('content-type')).toContain('application/openmetrics-text');
    const omText = await om.text();
    expect(omText).toContain('# TYPE usage_events counter');
    expect(omText).toContain('usage_events_total{event_type="sql_generation",outcome="ok"} 2');
    expect(omText.endsWith('# EOF\n')).toBe(true);
    const text = await (await fetch(`${url}/metrics`, { headers: auth })).text();
    expect(text).toContain('# TYPE usage_events_total counter');
    expect(text).toContain('ledgerline_receiver_accepted_events_total{receiver="http",transport="http"} 5');
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).not.toContain('# EOF');
  });

  it('allows open scrapes only with auth.mode none', async () => {
    const { url } = await start({ auth: { mode: 'none' } });
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
  });

  it('fails to start when the token file is missing and may not be created', async () => {
    const settings = testSettings('prometheus');
    const config = prometheusConfigSchema.parse({
      endpoint: '127.0.0.1:0',
      auth: { bearer_token_file: join(dir, 'missing.token'), create_token_file: false },
    });
    await expect(new PrometheusExporter(settings, config).start(testHost(settings))).rejects.toThrow(
      /does not exist/,
    );
  });

  it('answers /healthz, and /readyz from the queue gauges', async () => {
    const { url, settings, exporter } = await start();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    settings.telemetry.exporterQueueCapacity.set({ exporter: 'postgres' }, 100);
    settings.telemetry.exporterQueueSize.set({ exporter: 'postgres' }, 95);
    const r = await fetch(`${url}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({
      status: 'not ready',
      reasons: ['exporter queue postgres above high-water mark'],
    });
    settings.telemetry.exporterQueueSize.set({ exporter: 'postgres' }, 90);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    await exporter.shutdown();
  });

  it('is not ready until the service says every component started', async () => {
    const settings = testSettings('prometheus');
    const config = prometheusConfigSchema.parse({ endpoint: '127.0.0.1:0', auth: { mode: 'none' } });
    const exporter = new PrometheusExporter(settings, config);
    exporters.push(exporter);
    let serviceReady = false;
    await exporter.start({ ...testHost(settings), ready: () => serviceReady } as ReturnType<typeof testHost>);
    const r = await fetch(`${exporter.url}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ status: 'not ready', reasons: ['not started'] });
    serviceReady = true;
    expect((await fetch(`${exporter.url}/readyz`)).status).toBe(200);
    await exporter.shutdown();
    expect((await fetch(`${exporter.url}/healthz`).catch(() => undefined))?.status).toBeUndefined();
  });

  it('gzips large expositions for scrapers that accept it', async () => {
    const { url, token, exporter } = await start({ tenant_label: ['usage_events_total'] });
    await exporter.consume(
      testBatch(Array.from({ length: 500 }, (_, i) => testEvent({ tenant: { id: `t${i}` } }))),
    );
    const res = await fetch(`${url}/metrics`, {
      headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' },
    });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(await res.text()).toContain('usage_events_total{tenant="t499"');
  });
});
