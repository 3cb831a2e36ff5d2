import { describe, expect, it } from 'vitest';
import { testSettings } from '../../pipeline/testing.ts';
import { createAuthenticator } from './auth.ts';

const tenants = testSettings('kafka').tenants;
const h = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));

describe('kafka record authentication', () => {
  it('bearer: a token of the registry names the tenant; anything else is refused', () => {
    const auth = createAuthenticator({ mode: 'bearer', header: 'authorization' }, tenants);
    expect(auth(h({ authorization: 'Bearer globex-token' }))).toMatchObject({
      ok: true,
      auth: { tenantId: 'globex' },
    });
    expect(auth(h({ authorization: 'Bearer nope' }))).toMatchObject({ ok: false, code: 'unauthenticated' });
    expect(auth(h({ authorization: 'globex-token' }))).toMatchObject({ ok: false, code: 'unauthenticated' });
    expect(auth({})).toMatchObject({
      ok: false,
      code: 'unauthenticated',
      message: expect.stringContaining('no authorization header'),
    });
  });

  it('tenant: every record belongs to the bound tenant, which must be configured', () => {
    expect(createAuthenticator({ mode: 'tenant', tenant: 'acme' }, tenants)({})).toMatchObject({
      ok: true,
      auth: { tenantId: 'acme' },
    });
    expect(() => createAuthenticator({ mode: 'tenant', tenant: 'initech' }, tenants)).toThrow(
      /not configured/,
    );
  });

  it('gateway: the tenant header must name a configured, active tenant', () => {
    const auth = createAuthenticator({ mode: 'gateway', header: 'ledgerline-tenant' }, tenants);
    const ok = auth(h({ 'ledgerline-tenant': 'globex' }));
    expect(ok).toMatchObject({ ok: true, auth: { tenantId: 'globex' } });
    if (ok.ok) expect([...ok.auth.roles]).toEqual(['tenant']);
    expect(auth(h({ 'ledgerline-tenant': 'initech' }))).toMatchObject({ ok: false, code: 'unauthenticated' });
    expect(auth(h({ 'ledgerline-tenant': 'ACME' }))).toMatchObject({ ok: false, code: 'unauthenticated' });
    expect(auth({})).toMatchObject({ ok: false, code: 'unauthenticated' });
  });
});
