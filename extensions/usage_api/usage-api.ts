import { type ActorTotals, hasUsageStore, type UsageStore } from '../../exporters/postgres/queries.ts';
import type { Extension, Host, Settings } from '../../pipeline/component.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import type { ApiRequest, ApiResponse, Route } from '../../pipeline/http-api.ts';
import type { UsageApiConfig } from './config.ts';

/**
 * A map keyed by stored data (event types, actor ids): without a prototype, so a key such as
 * `constructor` or `__proto__` is just a key and can never reach Object.prototype.
 */
function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * Seed 001's usage endpoints. Every route needs an admin token (ApiServer answers 401/403)
 * and reads only the caller's tenant. `days=N` is today (UTC, so far) and the N − 1 days
 * before it, answered from daily rollups. `measure` picks the number reported:
 * `estimated` (default: Σ count / sample_rate, rounded — what happened before sampling),
 * `count` (Σ usage.count as stored) or `events` (stored events).
 */

const MEASURES = ['estimated', 'count', 'events'] as const;
type Measure = (typeof MEASURES)[number];

/** The usage API extension. */
export class UsageApi implements Extension {
  private readonly settings: Settings;
  private readonly config: UsageApiConfig;
  private store: UsageStore | undefined;

  constructor(settings: Settings, config: UsageApiConfig) {
    this.settings = settings;
    this.config = config;
  }

  async start(host: Host): Promise<void> {
    const component = host.getComponent(this.config.exporter);
    if (!hasUsageStore(component)) {
      throw new PipelineError(
        'config_invalid',
        `${this.settings.id}: exporter "${this.config.exporter}" ${component ? 'is not a postgres exporter' : 'is not configured'}`,
      );
    }
    this.store = component.usage;
  }

  async shutdown(): Promise<void> {
    this.store = undefined;
  }

  routes(): Route[] {
    const route = (
      path: string,
      handle: (req: ApiRequest, store: UsageStore, days: number) => Promise<unknown>,
    ): Route => ({
      method: 'GET',
      path: `/api/v1/usage/${path}`,
      auth: 'admin',
      handle: async (req): Promise<ApiResponse> => {
        const store = this.store;
        if (!store) throw new PipelineError('exporter_unavailable', 'the usage API is not started');
        const days = this.days(req, store);
        const body = (await handle(req, store, days)) as Record<string, unknown>;
        return {
          status: 200,
          body: { ...body, days, from: store.windowStart(days), generated_at: new Date().toISOString() },
        };
      },
    });
    const byUser = (name: string, types: () => readonly string[] | undefined) =>
      route(name, async (req, store, days) => {
        const m = measure(req);
        const rows = await store.actorTotals(tenantOf(req), days, types());
        const out: Record<string, number> = dict();
        for (const r of rows) out[r.actor_id] = (out[r.actor_id] ?? 0) + r[m];
        for (const k of Object.keys(out)) out[k] = present(out[k]!, m);
        return { [name]: out, measure: m };
      });
    return [
      route('summary', async (req, store, days) => {
        const m = measure(req);
        const summary: Record<string, Record<string, number>> = dict();
        for (const r of await store.actorTotals(tenantOf(req), days)) {
          const users = summary[r.event_type] ?? dict<number>();
          users[r.actor_id] = present(r[m], m);
          summary[r.event_type] = users;
        }
        return { summary, measure: m };
      }),
      byUser('users', () => undefined),
      byUser('queries', () => this.config.query_event_types),
      byUser('dashboards', () => this.config.dashboard_event_types),
      route('llm-tokens', async (req, store, days) => {
        const tokens: Record<string, { input: number; output: number; total: number }> = dict();
        for (const r of await store.actorTotals(tenantOf(req), days)) {
          if (r.tokens_input === 0 && r.tokens_output === 0) continue;
          const t = tokens[r.actor_id] ?? { input: 0, output: 0, total: 0 };
          tokens[r.actor_id] = t;
          t.input += r.tokens_input;
          t.output += r.tokens_output;
          t.total += r.tokens_input + r.tokens_output;
        }
        return { llm_tokens: tokens };
      }),
      route('latency', async (req, store, days) => {
        const latency: Record<string, unknown> = dict();
        for (const l of await store.latency(tenantOf(req), days)) {
          latency[l.event_type] = {
            mean_ms: l.mean_ms,
            p50_ms: l.p50_ms,
            p95_ms: l.p95_ms,
            p99_ms: l.p99_ms,
            weight: l.weight,
          };
        }
        return { latency };
      }),
    ];
  }

  private days(req: ApiRequest, store: UsageStore): number {
    const max = store.maxDays;
    const raw = req.query.get('days');
    if (raw === null) return Math.min(this.config.default_days, max);
    const n = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(n >= 1 && n <= max)) {
      throw new PipelineError(
        'invalid_request',
        `days must be a whole number from 1 to ${max} (the retention), got "${raw.slice(0, 32)}"`,
        {
          details: [{ path: 'days', message: `must be a whole number from 1 to ${max}` }],
        },
      );
    }
    return n;
  }
}

function tenantOf(req: ApiRequest): string {
  if (!req.auth) throw new PipelineError('unauthenticated');
  return req.auth.tenantId;
}

function measure(req: ApiRequest): Measure {
  const raw = req.query.get('measure') ?? 'estimated';
  if (!(MEASURES as readonly string[]).includes(raw)) {
    throw new PipelineError('invalid_request', `measure must be one of ${MEASURES.join(', ')}`, {
      details: [{ path: 'measure', message: `must be one of ${MEASURES.join(', ')}` }],
    });
  }
  return raw as Measure;
}

// Estimates are sums of count / sample_rate: report whole numbers, as seed 001's counts are.
function present(v: number, m: keyof ActorTotals & Measure): number {
  return m === 'estimated' ? Math.round(v) : v;
}
