import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { prometheusConfigSchema } from './config.ts';
import { type MetricSource, negotiateFormat, renderExposition, renderFamily } from './exposition.ts';
import { CappedCounter, CappedHistogram, seriesKey } from './series.ts';

describe('exposition', () => {
  it('negotiates OpenMetrics from the Accept header Prometheus sends, text otherwise', () => {
    const prom =
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    expect(negotiateFormat(prom)).toBe('openmetrics');
    expect(negotiateFormat('text/plain')).toBe('prometheus');
    expect(negotiateFormat(undefined)).toBe('prometheus');
    expect(negotiateFormat('application/openmetrics-text;q=0, text/plain')).toBe('prometheus');
  });

  it('escapes label values and help, and renders counters both ways', async () => {
    const registry = new Registry();
    const c = new Counter({
      name: 'x_total',
      help: 'a "quoted"\\help\nline',
      labelNames: ['l'],
      registers: [registry],
    });
    c.inc({ l: 'a"b\\c\nd' }, 1.5);
    const sources = registry.getMetricsAsArray() as unknown as MetricSource[];
    expect(await renderExposition(sources, 'prometheus')).toBe(
      '# HELP x_total a "quoted"\\\\help\\nline\n# TYPE x_total counter\nx_total{l="a\\"b\\\\c\\nd"} 1.5\n',
    );
    expect(await renderExposition(sources, 'openmetrics')).toBe(
      '# HELP x a \\"quoted\\"\\\\help\\nline\n# TYPE x counter\nx_total{l="a\\"b\\\\c\\nd"} 1.5\n# EOF\n',
    );
    // The shared metric keeps its name (prom-client's own OpenMetrics path would strip _total).
    expect(registry.getSingleMetric('x_total')).toBeDefined();
  });

  it('renders a family once when two sources hold the same name', async () => {
    const a: MetricSource = {
      get: () => ({ name: 'g', help: 'h', type: 'gauge', values: [{ labels: {}, value: 1 }] }),
    };
    expect(await renderExposition([a, a], 'prometheus')).toBe('# HELP g h\n# TYPE g gauge\ng 1\n');
  });
});

describe('capped series rendering', () => {
  it('renders the same text directly as through get()', () => {
    const h = new CappedHistogram('h_seconds', 'help "x"', ['a', 'b'], [0.1, 1], 3, 0);
    const c = new CappedCounter('c_total', 'help', ['a'], 3, 0);
    for (const [i, v] of ['x', 'y"\\', 'z', 'w'].entries()) {
      h.merge(`k${i}`, [v, 'b'], { counts: Float64Array.from([1, 0.5, 2]), sum: 3.25, count: 3.5 }, 0);
      c.add(`k${i}`, [v], 0.25 * (i + 1), 0);
    }
    for (const om of [false, true]) {
      expect(h.render(om)).toBe(`${renderFamily(h.get(), om)}\n`);
      expect(c.render(om)).toBe(`${renderFamily(c.get(), om)}\n`);
    }
    expect(h.render(false)).toContain('h_seconds_bucket{a="__other__",b="__other__",le="+Inf"} 7');
  });
});

describe('series keys', () => {
  it('never collide across different label value lists', () => {
    expect(seriesKey(['a\u0000b', 'c'])).not.toBe(seriesKey(['a', 'b\u0000c']));
    expect(seriesKey(['1:a', ''])).not.toBe(seriesKey(['', '1:a']));
    expect(seriesKey(['ab', 'c'])).not.toBe(seriesKey(['a', 'bc']));
  });
});

describe('config', () => {
  it('defaults to a secure, scrapeable endpoint', () => {
    const c = prometheusConfigSchema.parse({});
    expect(c.endpoint).toBe('0.0.0.0:9464');
    expect(c.auth).toEqual({
      mode: 'bearer',
      bearer_token_file: 'data/prometheus-scrape.token',
      create_token_file: true,
    });
    expect(c.tenant_label).toEqual([]);
  });

  it('refuses unknown keys, unknown series names and unordered buckets', () => {
    expect(prometheusConfigSchema.safeParse({ port: 1 }).success).toBe(false);
    expect(prometheusConfigSchema.safeParse({ tenant_label: ['nope_total'] }).success).toBe(false);
    expect(prometheusConfigSchema.safeParse({ latency_buckets_seconds: [1, 0.5] }).success).toBe(false);
  });
});
