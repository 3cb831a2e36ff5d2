import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AuthContext, TenantRegistry } from '../../pipeline/tenants.ts';
import { TEST_TENANTS } from '../../pipeline/testing.ts';
import { normalizeSlug, skeleton, TenantChecker } from './tenant-check.ts';

const registry = new TenantRegistry([
  ...TEST_TENANTS,
  { id: 'initech', keys: [], roles: ['tenant'], acts_for: [], active: true },
  { id: 'suspended', keys: [], roles: ['tenant'], acts_for: [], active: false },
]);
const checker = new TenantChecker(registry);
const service: AuthContext = {
  tenantId: 'acme',
  roles: new Set(['tenant', 'service']),
  actsFor: new Set(['globex', 'suspended']),
  keyId: 'k',
};

describe('tenant check', () => {
  it('accepts an id only when it is exactly the caller’s or, for a service, an active acts_for tenant', () => {
    const near = fc
      .tuple(
        fc.constantFrom('acme', 'globex', 'initech', 'suspended'),
        fc.string({ maxLength: 2, unit: 'grapheme' }),
        fc.nat(4),
      )
      .map(([id, extra, at]) => id.slice(0, at) + extra + id.slice(at));
    const id = fc.oneof(
      near,
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.constantFrom('acme', 'globex', 'initech'),
    );
    fc.assert(
      fc.property(id, fc.boolean(), (claimed, asService) => {
        const auth: AuthContext = asService ? service : { ...service, roles: new Set(['tenant']) };
        const accepted = checker.check(claimed, auth) === undefined;
        const allowed = claimed === 'acme' || (asService && claimed === 'globex');
        expect(accepted).toBe(allowed);
      }),
      { numRuns: 5000 },
    );
  });

  it('folds look-alikes to their ASCII skeleton', () => {
    expect(skeleton('\u0430\u0441\u043c\u0435')).toBe('acme');
    expect(skeleton('ＡＣＭＥ')).toBe('acme');
    expect(skeleton('ac\u200dme')).toBe('acme');
  });

  it('normalises slugs', () => {
    expect(normalizeSlug('  ACME  Inc. ')).toBe('acme-inc');
    expect(normalizeSlug('***')).toBeUndefined();
  });
});
