import { describe, expect, it } from 'vitest';
import type { EventBatch, Processor } from '../../pipeline/component.ts';
import type { Event } from '../../pipeline/event.ts';
import type { AuthContext, TenantConfig } from '../../pipeline/tenants.ts';
import {
  CollectingConsumer,
  TEST_TENANTS,
  testAuth,
  testBatch,
  testEvent,
  testHost,
  testSettings,
} from '../../pipeline/testing.ts';
import { tenantValidationConfigSchema } from './config.ts';
import { tenantValidationFactory } from './factory.ts';
import { escapeClaim } from './violations.ts';

const TENANTS: TenantConfig[] = [
  ...TEST_TENANTS,
  { id: 'initech', slug: 'Initech Corp', keys: [], roles: ['tenant'], acts_for: [], active: true },
  { id: 'suspended', keys: [], roles: ['tenant'], acts_for: [], active: false },
];

const service: AuthContext = {
  tenantId: 'acme',
  roles: new Set(['tenant', 'service']),
  actsFor: new Set(['globex', 'suspended']),
  keyId: 'svc00001',
};

async function setup(overrides: Record<string, unknown> = {}) {
  const settings = testSettings('tenant_validation', TENANTS);
  const audit = new CollectingConsumer();
  const p = tenantValidationFactory.create(
    settings,
    tenantValidationConfigSchema.parse(overrides),
    audit,
  ) as Processor;
  await p.start(testHost(settings, audit));
  return { p, settings, audit };
}

function withTenant(tenant: unknown): Event {
  const e = testEvent();
  (e as { tenant: unknown }).tenant = tenant;
  return e;
}

describe('tenant_validation', () => {
  it.each<[string, unknown, AuthContext, string | undefined]>([
    ['own tenant', { id: 'acme' }, testAuth('acme'), undefined],
    [
      'cross-tenant',
      { id: 'globex' },
      testAuth('acme'),
      'tenant.id differs from the tenant of the credential',
    ],
    ['missing id', { id: '' }, testAuth('acme'), 'tenant.id is missing'],
    ['missing tenant block', undefined, testAuth('acme'), 'tenant.id is missing'],
    ['unknown tenant', { id: 'umbrella' }, testAuth('acme'), 'tenant.id is not a known tenant'],
    ['suspended tenant', { id: 'suspended' }, testAuth('acme'), 'tenant.id names a suspended tenant'],
    ['upper case', { id: 'ACME' }, testAuth('acme'), 'tenant.id must be lower case'],
    ['trailing space', { id: 'acme ' }, testAuth('acme'), 'tenant.id contains whitespace'],
    ['no-break space', { id: '\u00a0acme' }, testAuth('acme'), 'tenant.id contains whitespace'],
    [
      'zero-width space',
      { id: 'ac\u200bme' },
      testAuth('acme'),
      'tenant.id contains invisible or formatting characters',
    ],
    [
      'right-to-left override',
      { id: '\u202eemca' },
      testAuth('acme'),
      'tenant.id contains invisible or formatting characters',
    ],
    [
      'Cyrillic a',
      { id: '\u0430cme' },
      testAuth('acme'),
      'tenant.id imitates a tenant id with look-alike Unicode characters',
    ],
    [
      'fullwidth letters',
      { id: '\uff41\uff43\uff4d\uff45' },
      testAuth('acme'),
      'tenant.id imitates a tenant id with look-alike Unicode characters',
    ],
    [
      'Greek omicron',
      { id: 'gl\u03bfbex' },
      testAuth('acme'),
      'tenant.id imitates a tenant id with look-alike Unicode characters',
    ],
    ['other non-ASCII', { id: 'ünknown' }, testAuth('acme'), 'tenant.id contains non-ASCII characters'],
    [
      'malformed',
      { id: 'acme/../globex' },
      testAuth('acme'),
      'tenant.id must be lowercase letters, digits, ".", "_" or "-"',
    ],
    ['service acting for an allowed tenant', { id: 'globex' }, service, undefined],
    ['service acting for itself', { id: 'acme' }, service, undefined],
    [
      'service acting for a tenant not in acts_for',
      { id: 'initech' },
      service,
      'tenant.id is not among the tenants this service credential may act for (acts_for)',
    ],
    [
      'service acting for a suspended tenant',
      { id: 'suspended' },
      service,
      'tenant.id names a suspended tenant',
    ],
    [
      'acts_for without the service role',
      { id: 'globex' },
      { ...service, roles: new Set(['tenant']) },
      'tenant.id differs from the tenant of the credential',
    ],
  ])('%s', async (_name, tenant, auth, rejection) => {
    const { p, settings, audit } = await setup();
    const e = withTenant(tenant);
    const batch = testBatch([e], auth);
    const out = (await p.process(batch)) as EventBatch;
    await p.shutdown();
    if (rejection === undefined) {
      expect(out.events).toEqual([e]);
      expect(batch.report.rejected).toEqual([]);
      expect(audit.events).toEqual([]);
      return;
    }
    expect(out.events).toEqual([]);
    expect(batch.report.rejected).toEqual([
      { event_id: e.event_id, code: 'tenant_rejected', message: rejection },
    ]);
    const metrics = await settings.telemetry.registry.metrics();
    expect(metrics).toMatch(
      /ledgerline_processor_dropped_events_total\{processor="tenant_validation",reason="tenant_[a-z_]+"\} 1/,
    );
    // One security audit event in the caller's own tenant: who, what, why; no payload.
    expect(audit.batches).toHaveLength(1);
    expect(audit.batches[0]!.auth).toBe(auth);
    const v = audit.events[0]!;
    expect(v).toMatchObject({
      event_type: 'audit',
      action: 'tenant_tag_violation',
      result: 'denied',
      actor: { type: 'service', id: auth.keyId },
      tenant: { id: auth.tenantId },
      entity: { type: 'tenant', id: escapeClaim((tenant as { id?: unknown } | undefined)?.id) },
    });
    expect(v.metadata.details).toEqual({
      rejected_event_id: e.event_id,
      receiver: 'test',
      transport: 'test',
    });
  });

  it('keeps valid events of a mixed batch in order and emits one ingest for the batch', async () => {
    const { p, audit } = await setup();
    const events = [testEvent(), withTenant({ id: 'globex' }), testEvent(), withTenant({ id: 'nope' })];
    const batch = testBatch(events);
    const out = (await p.process(batch)) as EventBatch;
    await p.shutdown();
    expect(out.events).toEqual([events[0], events[2]]);
    expect(batch.report.rejected.map((r) => r.event_id)).toEqual([events[1]!.event_id, events[3]!.event_id]);
    expect(audit.batches).toHaveLength(1);
    expect(audit.events.map((e) => e.reason)).toEqual(['cross_tenant', 'unknown']);
  });

  it('rejects and audits an event once when the request runs through two pipelines', async () => {
    const settings = testSettings('tenant_validation', TENANTS);
    const audit = new CollectingConsumer();
    const make = async () => {
      const p = tenantValidationFactory.create(
        settings,
        tenantValidationConfigSchema.parse({}),
        audit,
      ) as Processor;
      await p.start(testHost(settings, audit));
      return p;
    };
    const [a, b] = [await make(), await make()];
    const batch = testBatch([withTenant({ id: 'globex' })]);
    await a.process(batch);
    await b.process(batch);
    await a.shutdown();
    await b.shutdown();
    expect(batch.report.rejected).toHaveLength(1);
    expect(audit.events).toHaveLength(1);
  });

  it('escapes invisible characters of the claim in the audit record', () => {
    expect(escapeClaim('ac\u200bme')).toBe('ac\\u{200b}me');
    expect(escapeClaim(undefined)).toBe('(missing)');
  });

  it('normalises the slug from the registry, or canonically', async () => {
    const { p } = await setup();
    const out = (await p.process(testBatch([withTenant({ id: 'acme', slug: 'ACME Inc.' })]))) as EventBatch;
    expect(out.events[0]!.tenant).toEqual({ id: 'acme', slug: 'acme' });
    const { p: q } = await setup({ slug: 'normalize' });
    const out2 = (await q.process(
      testBatch([withTenant({ id: 'acme', slug: ' ACME  Inc. ' })]),
    )) as EventBatch;
    expect(out2.events[0]!.tenant).toEqual({ id: 'acme', slug: 'acme-inc' });
  });

  it('does not audit when audit_violations is false', async () => {
    const { p, audit } = await setup({ audit_violations: false });
    const batch = testBatch([withTenant({ id: 'globex' })]);
    await p.process(batch);
    expect(batch.report.rejected).toHaveLength(1);
    expect(audit.events).toEqual([]);
  });

  it('counts a failed violation ingest instead of failing the batch', async () => {
    const settings = testSettings('tenant_validation', TENANTS);
    const p = tenantValidationFactory.create(
      settings,
      tenantValidationConfigSchema.parse({}),
      new CollectingConsumer(),
    ) as Processor;
    await p.start(testHost(settings, { consume: async () => Promise.reject(new Error('ledger down')) }));
    const out = (await p.process(testBatch([withTenant({ id: 'globex' }), testEvent()]))) as EventBatch;
    await p.shutdown();
    expect(out.events).toHaveLength(1);
    expect(await settings.telemetry.registry.metrics()).toContain(
      'ledgerline_tenant_violation_audit_failed_total{processor="tenant_validation"} 1',
    );
  });

  it('shuts down without start', async () => {
    const settings = testSettings('tenant_validation', TENANTS);
    const p = tenantValidationFactory.create(
      settings,
      tenantValidationConfigSchema.parse({}),
      new CollectingConsumer(),
    );
    await p.shutdown();
    await p.shutdown();
  });
});
