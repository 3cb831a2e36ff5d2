import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { prometheusConfigSchema } from '../../exporters/prometheus/config.ts';
import { PrometheusExporter } from '../../exporters/prometheus/exporter.ts';
import type { Settings } from '../../pipeline/component.ts';
import { factories } from '../../pipeline/components.ts';
import type { Event } from '../../pipeline/event.ts';
import { createTelemetry } from '../../pipeline/telemetry.ts';
import { hashToken, TenantRegistry } from '../../pipeline/tenants.ts';
import { testBatch, testEvent, testHost } from '../../pipeline/testing.ts';
import { startLedgerline } from '../../test/harness/ledgerline.ts';
import { jsonPoster } from '../http-post.ts';
import { Latencies, options, report } from '../stats.ts';

/**
 * The prometheus exporter's cost:
 * - consume: events/s through `consume` in-process (the per-batch aggregation), batch latency;
 * - pipeline: http receiver → file exporter with and without the prometheus exporter beside it,
 *   as child processes; events/s of each and their ratio;
 * - scrape: scrape time (text; OpenMetrics + gzip) and RSS with every business series at the cap.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const opts = options({
  part: 'all',
  duration: 5,
  batch: 1000,
  clients: 16,
  httpBatch: 100,
  cap: 2000,
  scrapes: 40,
  rounds: 2,
});
const parts = opts.part === 'all' ? ['consume', 'pipeline', 'scrape'] : [opts.part];

function mixedEvents(n: number, tenants: number): Event[] {
  const audit = { event_type: 'audit', entity: { type: 'dataset', id: 'd1' } };
  return Array.from({ length: n }, (_, i) => {
    const tenant = { id: `tenant-${i % tenants}` };
    if (i % 20 === 0)
      return testEvent({
        ...audit,
        tenant,
        action: 'export_requested',
        result: i % 40 === 0 ? 'denied' : 'success',
        reason: 'no_consent',
      });
    if (i % 20 === 1)
      return testEvent({
        tenant,
        action: 'llm_call',
        usage: { provider: 'openai', tokens: { input: 900, output: 120 } },
      });
    return testEvent({
      tenant,
      action: i % 3 === 0 ? 'sql_generation' : 'dashboard_viewed',
      usage: {
        feature: `f${i % 7}`,
        tool: `tool-${i % 50}`,
        latency_ms: (i * 37) % 2000,
        sample_rate: i % 2 ? 1 : 0.25,
      },
    });
  });
}

function exporterWith(over: Record<string, unknown>): {
  exporter: PrometheusExporter;
  dir: string;
  settings: Settings;
} {
  const dir = mkdtempSync(join(tmpdir(), 'll-bench-prom-'));
  const settings = {
    id: 'prometheus',
    logger: pino({ level: 'silent' }),
    telemetry: createTelemetry(),
    tenants: new TenantRegistry([]),
  };
  const config = prometheusConfigSchema.parse({
    endpoint: '127.0.0.1:0',
    auth: { bearer_token_file: join(dir, 'token') },
    ...over,
  });
  return { exporter: new PrometheusExporter(settings, config), dir, settings };
}

async function benchConsume(): Promise<void> {
  const { exporter, dir } = exporterWith({ tenant_label: ['usage_events_total'] });
  const batch = testBatch(mixedEvents(opts.batch, 100));
  const lat = new Latencies();
  const warmEnd = performance.now() + 1000;
  while (performance.now() < warmEnd) await exporter.consume(batch);
  let events = 0;
  const end = performance.now() + opts.duration * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    await exporter.consume(batch);
    lat.add(performance.now() - t0);
    events += batch.events.length;
  }
  rmSync(dir, { recursive: true, force: true });
  report('prometheus-consume', {
    events_per_s: Math.round(events / opts.duration),
    batch: opts.batch,
    batch_p50_ms: lat.quantile(0.5),
    batch_p99_ms: lat.quantile(0.99),
  });
}

/** CPU time (user + system) a process used so far, in ms, from /proc (Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function pipelineRate(
  withPrometheus: boolean,
): Promise<{ eventsPerS: number; p50: number; p99: number; cpuUsPerEvent: number }> {
  const token = 'bench-token';
  const hasRedaction = factories.some((f) => f.kind === 'processor' && f.type === 'redaction');
  const app = await startLedgerline({
    config: `
tenants: [ { id: bench, keys: ["${hashToken(token)}"] } ]
receivers: { http: { endpoint: 127.0.0.1:0, max_request_body_size: 16777216 } }
${hasRedaction ? 'processors: { redaction: {} }' : ''}
exporters:
  file: { path: ./data/events.ndjson }
${withPrometheus ? '  prometheus: { endpoint: 127.0.0.1:0 }' : ''}
service:
  telemetry: { logs: { level: info } }
  pipelines:
    activity: { receivers: [http], processors: [${hasRedaction ? 'redaction' : ''}], exporters: [file${withPrometheus ? ', prometheus' : ''}] }
`,
  });
  const { port } = new URL(app.endpoints.http!);
  const event = {
    event_type: 'activity',
    actor: { type: 'user', id: 'user-1234' },
    tenant: { id: 'bench' },
    action: 'sql_generation',
    usage: { feature: 'nl2sql', tool: 'warehouse', latency_ms: 42, outcome: 'ok', sample_rate: 0.5 },
  };
  const body = Buffer.from(JSON.stringify(Array.from({ length: opts.httpBatch }, () => event)));
  const poster = jsonPoster({ port, path: '/api/v1/events', token, body, clients: opts.clients });
  const post = poster.post;
  const lat = new Latencies();
  let events = 0;
  let measuring = false;
  let cpuStart = 0;
  const end = Date.now() + (1 + opts.duration) * 1000;
  const warm = setTimeout(() => {
    measuring = true;
    cpuStart = cpuMs(app.process.pid!);
  }, 1000);
  await Promise.all(
    Array.from({ length: opts.clients }, async () => {
      while (Date.now() < end) {
        const t0 = performance.now();
        const status = await post();
        if (measuring && status === 202) {
          events += opts.httpBatch;
          lat.add(performance.now() - t0);
        }
      }
    }),
  );
  clearTimeout(warm);
  const cpu = cpuMs(app.process.pid!) - cpuStart;
  poster.close();
  await app.stop();
  return {
    eventsPerS: Math.round(events / opts.duration),
    p50: lat.quantile(0.5),
    p99: lat.quantile(0.99),
    cpuUsPerEvent: (cpu * 1000) / events,
  };
}

async function benchPipeline(): Promise<void> {
  // Alternating rounds, so drift in the machine's load hits both sides alike.
  for (let round = 1; round <= opts.rounds; round++) {
    const without = await pipelineRate(false);
    const withProm = await pipelineRate(true);
    report('prometheus-pipeline', {
      round,
      without_events_per_s: without.eventsPerS,
      with_events_per_s: withProm.eventsPerS,
      ratio: withProm.eventsPerS / without.eventsPerS,
      without_cpu_us_per_event: without.cpuUsPerEvent,
      with_cpu_us_per_event: withProm.cpuUsPerEvent,
      cpu_ratio: withProm.cpuUsPerEvent / without.cpuUsPerEvent,
      without_ack_p50_ms: without.p50,
      without_ack_p99_ms: without.p99,
      with_ack_p50_ms: withProm.p50,
      with_ack_p99_ms: withProm.p99,
    });
  }
}

async function benchScrape(): Promise<void> {
  const { exporter, dir, settings } = exporterWith({
    tenant_label: [
      'usage_events_total',
      'usage_latency_seconds',
      'audit_events_total',
      'denied_events_total',
      'llm_tokens_total',
    ],
    max_series_per_metric: opts.cap,
  });
  gc();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  await exporter.start(testHost(settings));
  // Distinct tenants well past the cap, so every business series sits at it.
  await exporter.consume(testBatch(mixedEvents(opts.cap * 5, opts.cap * 5)));
  const series = exporter.business.sources().reduce((n, s) => n + s.table.size, 0);
  const token = readFileSync(join(dir, 'token'), 'utf8').trim();
  // node:http rather than fetch: fetch decompresses, and the bytes on the wire are the figure.
  const { port } = new URL(exporter.url!);
  const scrape = (headers: Record<string, string>) =>
    new Promise<{ ms: number; bytes: number }>((resolve, reject) => {
      const t0 = performance.now();
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/metrics',
          headers: { authorization: `Bearer ${token}`, ...headers },
        },
        (res) => {
          let bytes = 0;
          res.on('data', (c: Buffer) => (bytes += c.length));
          res.on('end', () => resolve({ ms: performance.now() - t0, bytes }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  const text = new Latencies();
  const om = new Latencies();
  let textBytes = 0;
  let omBytes = 0;
  for (let i = 0; i < opts.scrapes; i++) {
    const a = await scrape({});
    text.add(a.ms);
    textBytes = a.bytes;
    const b = await scrape({
      accept: 'application/openmetrics-text;version=1.0.0',
      'accept-encoding': 'gzip',
    });
    om.add(b.ms);
    omBytes = b.bytes;
  }
  gc();
  const rss = process.memoryUsage().rss;
  const heap = process.memoryUsage().heapUsed;
  await exporter.shutdown();
  rmSync(dir, { recursive: true, force: true });
  report('prometheus-scrape', {
    cap: opts.cap,
    business_series: series,
    text_p50_ms: text.quantile(0.5),
    text_p99_ms: text.quantile(0.99),
    text_bytes: textBytes,
    om_gzip_p50_ms: om.quantile(0.5),
    om_gzip_p99_ms: om.quantile(0.99),
    om_gzip_bytes: omBytes,
    rss_mb: Math.round(rss / 1048576),
    rss_growth_mb: Math.round((rss - rssBefore) / 1048576),
    heap_used_mb: Math.round(heap / 1048576),
    heap_growth_mb: Math.round((heap - heapBefore) / 1048576),
  });
}

for (const part of parts) {
  if (part === 'consume') await benchConsume();
  else if (part === 'pipeline') await benchPipeline();
  else if (part === 'scrape') await benchScrape();
  else throw new Error(`unknown --part ${part}; known: consume, pipeline, scrape, all`);
}
