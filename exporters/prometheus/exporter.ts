import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { Counter, collectDefaultMetrics, type Registry } from 'prom-client';
import type { ConsumerComponent, EventBatch, Host, Settings } from '../../pipeline/component.ts';
import { ApiServer, type Route } from '../../pipeline/http-api.ts';
import { BusinessMetrics } from './business.ts';
import type { PrometheusConfig } from './config.ts';
import { CONTENT_TYPES, type MetricSource, negotiateFormat, renderExposition } from './exposition.ts';
import { checkReadiness } from './readiness.ts';
import { loadScrapeAuth, type ScrapeAuth } from './scrape-auth.ts';

/**
 * The prometheus exporter: keeps the business series in memory and serves them, together with
 * ledgerline's own metrics, on its endpoint. `consume` only updates in-memory series, so a
 * batch is "durably accepted" as soon as it is counted; a restart starts the counters at zero,
 * which Prometheus treats as a counter reset.
 */

const gzip = promisify(gzipCb);
const FOLDED_METRIC = 'ledgerline_metric_folded_series_total';
/** Expositions above this size are gzipped when the scraper accepts it. */
const GZIP_OVER_BYTES = 8 * 1024;

/** Creates (once per registry) the counter of label sets folded into `__other__`. */
function foldedCounter(registry: Registry): Counter<'exporter' | 'metric'> {
  const existing = registry.getSingleMetric(FOLDED_METRIC);
  if (existing) return existing as Counter<'exporter' | 'metric'>;
  return new Counter({
    name: FOLDED_METRIC,
    help: 'Label sets folded into the __other__ series because a metric reached its series cap (once per batch a label set appears in).',
    labelNames: ['exporter', 'metric'],
    registers: [registry],
  });
}

/**
 * prom-client's gauges that end in `_total` (promtool: non-counters must not); each is only
 * the sum of a per-type gauge that stays (`nodejs_active_handles{type}` ...).
 */
const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Adds the Node.js process metrics to a registry, unless something already did. */
function ensureProcessMetrics(registry: Registry): void {
  if (registry.getSingleMetric('process_cpu_seconds_total')) return;
  collectDefaultMetrics({ register: registry });
  for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);
}

/** The exporter component. */
export class PrometheusExporter implements ConsumerComponent {
  readonly business: BusinessMetrics;
  private readonly settings: Settings;
  private readonly config: PrometheusConfig;
  private readonly folded: Counter<'exporter' | 'metric'>;
  private server: ApiServer | undefined;
  private auth: ScrapeAuth | undefined;
  private started = false;
  private host: Host | undefined;
  private lastSweep = 0;
  private readonly sweepEveryMs: number;
  private readonly now: () => number;
  /** The bound base URL (`http://host:port`), once started. */
  url: string | undefined;

  constructor(settings: Settings, config: PrometheusConfig, now: () => number = Date.now) {
    this.settings = settings;
    this.config = config;
    this.now = now;
    this.business = new BusinessMetrics(config);
    this.folded = foldedCounter(settings.telemetry.registry);
    // Sweeping costs O(series); a tenth of the TTL keeps expiry within 10 % of it.
    this.sweepEveryMs = Math.max(1_000, Math.floor(config.series_ttl_ms / 10));
  }

  async start(host: Host): Promise<void> {
    if (this.server) return;
    this.host = host;
    this.auth = loadScrapeAuth(this.config.auth);
    if (this.auth.created) {
      this.settings.logger.info(
        { file: this.auth.created },
        'created the scrape token file; point Prometheus at it',
      );
    }
    if (this.config.process_metrics) ensureProcessMetrics(this.settings.telemetry.registry);
    const server = new ApiServer({
      endpoint: this.config.endpoint,
      tenants: this.settings.tenants,
      logger: this.settings.logger,
      maxBodyBytes: 1024,
    });
    server.add(this.routes());
    this.server = server;
    this.url = await server.start();
    this.started = true;
    this.settings.logger.info({ url: this.url }, 'listening');
  }

  async consume(batch: EventBatch): Promise<void> {
    const now = this.now();
    const result = this.business.apply(batch.events, now);
    BusinessMetrics.recordFolds(this.folded, this.settings.id, result);
    this.sweep(now);
  }

  async shutdown(signal?: AbortSignal): Promise<void> {
    this.started = false;
    await this.server?.close(signal);
  }

  /** The exposition in the given format (what `/metrics` serves). */
  async exposition(format: 'prometheus' | 'openmetrics'): Promise<string> {
    this.sweep(this.now());
    const self = this.settings.telemetry.registry.getMetricsAsArray() as unknown as MetricSource[];
    return renderExposition([...self, ...this.business.sources()], format);
  }

  private sweep(now: number): void {
    if (this.config.series_ttl_ms === 0 || now - this.lastSweep < this.sweepEveryMs) return;
    this.lastSweep = now;
    this.business.expire(now);
  }

  private routes(): Route[] {
    return [
      {
        method: 'GET',
        path: '/metrics',
        auth: 'none', // checked below against the scrape token, not the tenant registry
        handle: async (req) => {
          this.auth!.check(req.headers.authorization);
          const format = negotiateFormat(req.headers.accept);
          const text = await this.exposition(format);
          const headers: Record<string, string> = { 'content-type': CONTENT_TYPES[format] };
          if (
            text.length > GZIP_OVER_BYTES &&
            /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
          ) {
            headers['content-encoding'] = 'gzip';
            return { status: 200, headers, body: await gzip(text) };
          }
          return { status: 200, headers, body: text };
        },
      },
      {
        method: 'GET',
        path: '/healthz',
        auth: 'none',
        handle: () => ({ status: 200, body: { status: 'ok' } }),
      },
      {
        method: 'GET',
        path: '/readyz',
        auth: 'none',
        handle: async () => {
          // The host answers ready() once every component started and until shutdown.
          const started = this.started && (this.host?.ready() ?? false);
          const r = await checkReadiness(
            this.settings.telemetry.registry,
            this.config.readiness.queue_high_water,
            started,
          );
          return r.ready
            ? { status: 200, body: { status: 'ready' } }
            : {
                status: 503,
                headers: { 'retry-after': '1' },
                body: { status: 'not ready', reasons: r.reasons },
              };
        },
      },
    ];
  }
}
