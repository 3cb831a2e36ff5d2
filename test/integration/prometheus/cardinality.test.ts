import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusConfigSchema } from '../../../exporters/prometheus/config.ts';
import { PrometheusExporter } from '../../../exporters/prometheus/exporter.ts';
import type { Settings } from '../../../pipeline/component.ts';
import { testBatch, testEvent, testHost, testSettings } from '../../../pipeline/testing.ts';
import { type PrometheusService, type Sample, startPrometheus } from '../../services/prometheus.ts';

/**
 * A cardinality attack: 100k distinct tenants and tools, every business series carrying the
 * tenant label. Series stay at the cap, the fold counter counts exactly the label sets past it,
 * totals are conserved in `__other__`, and heap does not grow with the number of label sets.
 */

const CAP = 1000;
const DISTINCT = 100_000;
const BATCH = 1000;
const run = `card${Date.now().toString(36)}`;
let dir: string;
let settings: Settings;
let exporter: PrometheusExporter;
let prom: PrometheusService;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapUsed = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'll-prom-card-'));
  const tokenFile = join(dir, 'scrape.token');
  settings = testSettings('prometheus');
  exporter = new PrometheusExporter(
    settings,
    prometheusConfigSchema.parse({
      endpoint: '127.0.0.1:0',
      auth: { bearer_token_file: tokenFile },
      tenant_label: ['usage_events_total', 'usage_latency_seconds', 'llm_tokens_total'],
      max_series_per_metric: CAP,
    }),
  );
  await exporter.start(testHost(settings));
  prom = await startPrometheus({ targets: [{ job: run, url: exporter.url!, bearerTokenFile: tokenFile }] });
});

afterAll(async () => {
  await prom?.stop();
  await exporter?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

const feed = async (from: number, to: number) => {
  for (let start = from; start < to; start += BATCH) {
    const events = [];
    for (let i = start; i < Math.min(start + BATCH, to); i++) {
      events.push(
        testEvent({
          tenant: { id: `${run}-${i}` },
          usage: {
            feature: 'attack',
            tool: `tool-${i}`,
            latency_ms: i % 500,
            provider: 'p',
            tokens: { input: 1 },
          },
        }),
      );
    }
    await exporter.consume(testBatch(events));
  }
};

const one = (s: Sample[]) => (s.length === 1 ? s[0]!.value : Number.NaN);

describe('cardinality cap under 100k distinct tenants and tools', () => {
  it('keeps every series at the cap with a flat heap, and Prometheus sees the right fold count', async () => {
    await feed(0, DISTINCT / 10);
    const heapAfter10k = heapUsed();
    await feed(DISTINCT / 10, DISTINCT);
    const heapAfter100k = heapUsed();

    for (const s of exporter.business.sources()) expect(s.table.size).toBeLessThanOrEqual(CAP);
    expect(exporter.business.usageEvents.table.size).toBe(CAP);
    expect(exporter.business.usageLatency.table.size).toBe(CAP);
    // 90k more label sets than the first 10k, folded: the heap may not grow with them. Kept
    // series would cost well over 100 MB here; the bound leaves room for GC noise only.
    expect(heapAfter100k - heapAfter10k).toBeLessThan(16 * 1024 * 1024);

    const folded = DISTINCT - (CAP - 1);
    const f = (metric: string) => `ledgerline_metric_folded_series_total{job="${run}",metric="${metric}"}`;
    await prom.waitFor(f('usage_events_total'), (s) => one(s) === folded);
    expect(one(await prom.query(f('usage_latency_seconds')))).toBe(folded);
    expect(one(await prom.query(f('llm_tokens_total')))).toBe(folded);
    expect(await prom.query(f('audit_events_total'))).toEqual([]);

    await prom.waitFor(`count(usage_events_total{job="${run}"})`, (s) => one(s) === CAP);
    expect(one(await prom.query(`count(usage_latency_seconds_count{job="${run}"})`))).toBe(CAP);
    // Nothing is lost: what did not get a series of its own is in __other__.
    expect(one(await prom.query(`sum(usage_events_total{job="${run}"})`))).toBe(DISTINCT);
    expect(one(await prom.query(`usage_events_total{job="${run}",tenant="__other__"}`))).toBe(folded);
    expect(one(await prom.query(`sum(usage_latency_seconds_count{job="${run}"})`))).toBe(DISTINCT);
  });
});
