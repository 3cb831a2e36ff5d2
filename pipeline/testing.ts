import pino from 'pino';
import { BatchReport, type Consumer, type EventBatch, type Host, type Settings } from './component.ts';
import { type Event, parseEvent } from './event.ts';
import { createTelemetry } from './telemetry.ts';
import { type AuthContext, hashToken, type TenantConfig, TenantRegistry } from './tenants.ts';

/**
 * Helpers for unit tests of components: settings with a silent logger and a fresh metrics
 * registry, a batch builder and a consumer that records what reached it. Not used at run time.
 */

/** Tenants `acme` (token `acme-token`), `globex` (`globex-token`), admin `acme-admin-token`. */
export const TEST_TENANTS: TenantConfig[] = [
  {
    id: 'acme',
    slug: 'acme',
    keys: [hashToken('acme-token')],
    roles: ['tenant'],
    acts_for: [],
    active: true,
  },
  {
    id: 'globex',
    slug: 'globex',
    keys: [hashToken('globex-token')],
    roles: ['tenant'],
    acts_for: [],
    active: true,
  },
];
TEST_TENANTS.push({
  id: 'acme',
  slug: 'acme',
  keys: [hashToken('acme-admin-token')],
  roles: ['tenant', 'admin'],
  acts_for: [],
  active: true,
});

/** Settings for a component under test. */
export function testSettings(id: string, tenants: TenantConfig[] = TEST_TENANTS): Settings {
  return {
    id,
    logger: pino({ level: 'silent' }),
    telemetry: createTelemetry(),
    tenants: new TenantRegistry(tenants),
  };
}

/** A caller of tenant `tenantId` with the given roles. */
export function testAuth(tenantId = 'acme', roles: AuthContext['roles'] = new Set(['tenant'])): AuthContext {
  return { tenantId, roles, actsFor: new Set(), keyId: 'test0000' };
}

/** A valid event with overrides merged in (shallowly per top-level key). */
export function testEvent(overrides: Record<string, unknown> = {}): Event {
  const input = {
    event_type: 'activity',
    occurred_at: '2026-01-02T03:04:05.000Z',
    actor: { type: 'user', id: 'u-1' },
    tenant: { id: 'acme' },
    action: 'dashboard_viewed',
    ...overrides,
  };
  const r = parseEvent(input);
  if (!r.ok) throw new Error(`testEvent: ${JSON.stringify(r.errors)}`);
  return r.event;
}

/** A batch of events from an `acme` caller. */
export function testBatch(events: Event[], auth: AuthContext = testAuth()): EventBatch {
  return { events, auth, source: { receiver: 'test', transport: 'test' }, report: new BatchReport() };
}

/** A consumer that keeps every batch it was given. */
export class CollectingConsumer implements Consumer {
  readonly batches: EventBatch[] = [];
  get events(): Event[] {
    return this.batches.flatMap((b) => b.events);
  }
  async consume(batch: EventBatch): Promise<void> {
    this.batches.push(batch);
  }
}

/** A host with no other components, for starting a component alone. */
export function testHost(settings: Settings, ingest?: Consumer): Host {
  return {
    tenants: settings.tenants,
    getComponent: () => undefined,
    ingest: (b) => (ingest ? ingest.consume(b) : Promise.resolve()),
    apiRoutes: () => [],
    ready: () => true,
  };
}
