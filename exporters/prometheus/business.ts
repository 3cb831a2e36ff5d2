import type { Counter } from 'prom-client';
import type { Event } from '../../pipeline/event.ts';
import type { BusinessMetricName, PrometheusConfig } from './config.ts';
import { CappedCounter, CappedHistogram, type HistogramState } from './series.ts';

/**
 * The business series of seeds 000/001/002, computed from events. Sampled usage is re-weighted
 * (`count / sample_rate`), so a 25 % sample still sums to the traffic it stands for. Each batch
 * is aggregated per label set first, then applied once per series: the per-event work is one
 * key and one map lookup per metric.
 */

/** The label names of each business series, before an optional leading `tenant`. */
const LABELS: Record<BusinessMetricName, readonly string[]> = {
  usage_events_total: ['event_type', 'outcome'],
  usage_latency_seconds: ['feature', 'tool'],
  audit_events_total: ['action', 'result'],
  denied_events_total: ['event_class', 'action', 'reason'],
  llm_tokens_total: ['provider', 'direction'],
};

const HELP: Record<BusinessMetricName, string> = {
  usage_events_total:
    'Usage events by event type (the action) and outcome, re-weighted by count / sample_rate (seed 001).',
  usage_latency_seconds: 'Latency of usage events by feature and tool, weighted by count / sample_rate.',
  audit_events_total: 'Audit events by action and result.',
  denied_events_total:
    'Events with result "denied", by event class, action and reason (the deny-reason leaderboard).',
  llm_tokens_total: 'LLM tokens by provider and direction (input, output), re-weighted by 1 / sample_rate.',
};

interface CounterAcc {
  values: string[];
  n: number;
}

interface HistogramAcc {
  values: string[];
  state: HistogramState;
}

/** What one batch did to the business series. */
export interface ApplyResult {
  /** Label sets folded into `__other__`, by metric. */
  folded: Map<BusinessMetricName, number>;
}

/** One label value's part of a series key; the same scheme as `seriesKey`. */
const part = (v: string) => `${v.length}:${v}`;

/**
 * One batch's work on one series, keyed by label values. The key is built from the values
 * directly and the values array only for a label set's first event in the batch, so the
 * per-event cost is one string and one map lookup.
 */
class BatchSeries<A> {
  readonly acc = new Map<string, A>();
  private readonly tenant: boolean;

  constructor(tenant: boolean) {
    this.tenant = tenant;
  }

  key(tenant: string, a: string, b: string, c?: string): string {
    return (this.tenant ? part(tenant) : '') + part(a) + part(b) + (c === undefined ? '' : part(c));
  }

  values(tenant: string, a: string, b: string, c?: string): string[] {
    const v = c === undefined ? [a, b] : [a, b, c];
    if (this.tenant) v.unshift(tenant);
    return v;
  }
}

/** Adds `n` to a label set of a counter's batch. */
function bump(s: BatchSeries<CounterAcc>, n: number, tenant: string, a: string, b: string, c?: string): void {
  const key = s.key(tenant, a, b, c);
  const x = s.acc.get(key);
  if (x) x.n += n;
  else s.acc.set(key, { values: s.values(tenant, a, b, c), n });
}

/** The business series of one exporter. */
export class BusinessMetrics {
  readonly usageEvents: CappedCounter;
  readonly usageLatency: CappedHistogram;
  readonly auditEvents: CappedCounter;
  readonly deniedEvents: CappedCounter;
  readonly llmTokens: CappedCounter;
  private readonly withTenant: ReadonlySet<BusinessMetricName>;

  constructor(
    config: Pick<
      PrometheusConfig,
      'tenant_label' | 'max_series_per_metric' | 'series_ttl_ms' | 'latency_buckets_seconds'
    >,
  ) {
    this.withTenant = new Set(config.tenant_label);
    const labels = (m: BusinessMetricName) => (this.withTenant.has(m) ? ['tenant', ...LABELS[m]] : LABELS[m]);
    const max = config.max_series_per_metric;
    const ttl = config.series_ttl_ms;
    const counter = (m: BusinessMetricName) => new CappedCounter(m, HELP[m], labels(m), max, ttl);
    this.usageEvents = counter('usage_events_total');
    this.auditEvents = counter('audit_events_total');
    this.deniedEvents = counter('denied_events_total');
    this.llmTokens = counter('llm_tokens_total');
    this.usageLatency = new CappedHistogram(
      'usage_latency_seconds',
      HELP.usage_latency_seconds,
      labels('usage_latency_seconds'),
      config.latency_buckets_seconds,
      max,
      ttl,
    );
  }

  /** Every business series, for the exposition. */
  sources(): (CappedCounter | CappedHistogram)[] {
    return [this.usageEvents, this.usageLatency, this.auditEvents, this.deniedEvents, this.llmTokens];
  }

  /** Counts one batch; `now` stamps the series for the TTL. */
  apply(events: readonly Event[], now: number): ApplyResult {
    const t = this.withTenant;
    const usage = new BatchSeries<CounterAcc>(t.has('usage_events_total'));
    const audit = new BatchSeries<CounterAcc>(t.has('audit_events_total'));
    const denied = new BatchSeries<CounterAcc>(t.has('denied_events_total'));
    const tokens = new BatchSeries<CounterAcc>(t.has('llm_tokens_total'));
    const latency = new BatchSeries<HistogramAcc>(t.has('usage_latency_seconds'));
    const nBuckets = this.usageLatency.bounds.length + 1;

    for (const e of events) {
      const tenant = e.tenant.id;
      const u = e.usage;
      // A sampled-in event stands for 1 / sample_rate events; audit events are never sampled.
      const perEvent = u ? 1 / u.sample_rate : 1;
      const weight = u ? u.count * perEvent : 1;
      if (e.event_type === 'audit') bump(audit, 1, tenant, e.action, e.result);
      if (u || e.event_type === 'activity') {
        const outcome = u ? u.outcome : e.result === 'failure' || e.result === 'denied' ? 'error' : 'ok';
        bump(usage, weight, tenant, e.action, outcome);
      }
      if (e.result === 'denied') bump(denied, weight, tenant, e.event_type, e.action, e.reason ?? '');
      if (!u) continue;
      if (u.latency_ms !== undefined && weight > 0) {
        const feature = u.feature ?? '';
        const tool = u.tool ?? '';
        const key = latency.key(tenant, feature, tool);
        let h = latency.acc.get(key);
        if (!h) {
          h = {
            values: latency.values(tenant, feature, tool),
            state: { counts: new Float64Array(nBuckets), sum: 0, count: 0 },
          };
          latency.acc.set(key, h);
        }
        const seconds = u.latency_ms / 1000;
        h.state.counts[this.usageLatency.bucketOf(seconds)]! += weight;
        h.state.sum += seconds * weight;
        h.state.count += weight;
      }
      if (u.tokens) {
        const provider = u.provider ?? '';
        if (u.tokens.input) bump(tokens, u.tokens.input * perEvent, tenant, provider, 'input');
        if (u.tokens.output) bump(tokens, u.tokens.output * perEvent, tenant, provider, 'output');
      }
    }

    const folded = new Map<BusinessMetricName, number>();
    const fold = (m: BusinessMetricName, n: number) => {
      if (n > 0) folded.set(m, (folded.get(m) ?? 0) + n);
    };
    const applyCounter = (c: CappedCounter, batch: BatchSeries<CounterAcc>) => {
      let n = 0;
      for (const [key, a] of batch.acc) if (c.add(key, a.values, a.n, now)) n++;
      fold(c.name as BusinessMetricName, n);
    };
    applyCounter(this.usageEvents, usage);
    applyCounter(this.auditEvents, audit);
    applyCounter(this.deniedEvents, denied);
    applyCounter(this.llmTokens, tokens);
    let n = 0;
    for (const [key, h] of latency.acc) if (this.usageLatency.merge(key, h.values, h.state, now)) n++;
    fold('usage_latency_seconds', n);
    return { folded };
  }

  /** Drops label sets idle past the TTL; returns how many went. */
  expire(now: number): number {
    let removed = 0;
    for (const s of this.sources()) removed += s.table.expire(now);
    return removed;
  }

  /** Adds a batch's fold counts to `ledgerline_metric_folded_series_total`. */
  static recordFolds(counter: Counter<'exporter' | 'metric'>, exporter: string, result: ApplyResult): void {
    for (const [metric, n] of result.folded) counter.inc({ exporter, metric }, n);
  }
}
