import { z } from 'zod';

/** The business series this exporter maintains; `tenant_label` may name any of them. */
export const BUSINESS_METRICS = [
  'usage_events_total',
  'usage_latency_seconds',
  'audit_events_total',
  'denied_events_total',
  'llm_tokens_total',
] as const;

/** Name of one business series. */
export type BusinessMetricName = (typeof BUSINESS_METRICS)[number];

/** Default latency buckets, in seconds: 5 ms to 1 min. */
export const DEFAULT_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const DEFAULT_AUTH = {
  mode: 'bearer' as const,
  bearer_token_file: 'data/prometheus-scrape.token',
  create_token_file: true,
};
const DEFAULT_READINESS = { queue_high_water: 0.9 };

/** Who may scrape `/metrics`. `/healthz` and `/readyz` are always open (probes carry no data). */
export const scrapeAuthSchema = z
  .strictObject({
    mode: z
      .enum(['bearer', 'none'])
      .default('bearer')
      .describe(
        'bearer: `/metrics` needs `Authorization: Bearer <token>` with the token of `bearer_token_file` (Prometheus: `authorization: { credentials_file }`). none: open to anyone who can reach the port. Default bearer.',
      ),
    bearer_token_file: z
      .string()
      .min(1)
      .default(DEFAULT_AUTH.bearer_token_file)
      .describe('File holding the scrape token (first line). Default data/prometheus-scrape.token.'),
    create_token_file: z
      .boolean()
      .default(true)
      .describe(
        'When `bearer_token_file` does not exist, create it with a random token (mode 0600) for Prometheus to read. false: a missing file is an error at start. Default true.',
      ),
  })
  .default(DEFAULT_AUTH)
  .describe('Scrape authentication. Default: a bearer token from a file created on first start.');

/** The `prometheus` exporter's settings. */
export const prometheusConfigSchema = z.strictObject({
  endpoint: z
    .string()
    .default('0.0.0.0:9464')
    .describe(
      'host:port serving /metrics, /healthz and /readyz. Port 0 picks a free one. Default 0.0.0.0:9464.',
    ),
  auth: scrapeAuthSchema,
  tenant_label: z
    .array(z.enum(BUSINESS_METRICS))
    .default([])
    .describe(
      'Business series that get a `tenant` label (always under `max_series_per_metric`). Empty: none do.',
    ),
  max_series_per_metric: z
    .number()
    .int()
    .min(2)
    .default(2_000)
    .describe(
      'Hard cap on label sets per business series, `__other__` included: past it, new label sets fold into one series whose labels are all `__other__`, counted by `ledgerline_metric_folded_series_total`. Default 2000.',
    ),
  series_ttl_ms: z
    .number()
    .int()
    .nonnegative()
    .default(3_600_000)
    .describe(
      'A label set not updated for this long is removed (its slot is freed). 0: never expire. Default 3600000 (1 h).',
    ),
  latency_buckets_seconds: z
    .array(z.number().positive())
    .min(1)
    .default(DEFAULT_LATENCY_BUCKETS)
    .refine((b) => b.every((v, i) => i === 0 || v > b[i - 1]!), 'must be strictly increasing')
    .describe('Upper bounds of the `usage_latency_seconds` buckets, increasing. Default 5 ms .. 60 s.'),
  readiness: z
    .strictObject({
      queue_high_water: z
        .number()
        .gt(0)
        .lte(1)
        .default(0.9)
        .describe(
          '`/readyz` fails while any exporter queue holds more than this fraction of its capacity. Default 0.9.',
        ),
    })
    .default(DEFAULT_READINESS)
    .describe('What `/readyz` checks.'),
  process_metrics: z
    .boolean()
    .default(true)
    .describe('Also serve the Node.js process metrics (CPU, memory, event loop lag, handles). Default true.'),
});

/** The `prometheus` exporter's settings, as validated. */
export type PrometheusConfig = z.output<typeof prometheusConfigSchema>;
