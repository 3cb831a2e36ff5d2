import { describe, expect, it } from 'vitest';
import { hashToken, type TenantConfig, TenantRegistry } from './tenants.ts';

const entry = (id: string, token: string, over: Partial<TenantConfig> = {}): TenantConfig => ({
  id,
  keys: [hashToken(token)],
  roles: ['tenant'],
  acts_for: [],
  active: true,
  ...over,
});

describe('TenantRegistry', () => {
  it('keeps a tenant active while any of its entries is, and refuses the suspended entry’s token', () => {
    const r = new TenantRegistry([
      entry('acme', 'a1'),
      entry('acme', 'a2', { roles: ['tenant', 'admin'], active: false }),
    ]);
    expect(r.activeTenant('acme')?.id).toBe('acme');
    expect(r.authenticateToken('a1')?.tenantId).toBe('acme');
    expect(r.authenticateToken('a2')).toBeUndefined();
  });

  it('treats a tenant whose every entry is suspended as inactive', () => {
    const r = new TenantRegistry([entry('acme', 'a1', { active: false })]);
    expect(r.activeTenant('acme')).toBeUndefined();
    expect(r.authenticateToken('a1')).toBeUndefined();
  });

  it('refuses a token hash configured under two entries, instead of letting the last one win', () => {
    expect(
      () => new TenantRegistry([entry('beta', 'dup'), entry('gamma', 'dup', { roles: ['tenant', 'admin'] })]),
    ).toThrow(/configured twice/);
  });

  it('authenticates only well-formed bearer headers', () => {
    const r = new TenantRegistry([entry('acme', 'tok')]);
    expect(r.authenticate('Bearer tok').tenantId).toBe('acme');
    for (const h of [undefined, '', 'tok', 'Basic dG9r', 'Bearer', 'Bearer other'])
      expect(() => r.authenticate(h)).toThrow();
  });
});
