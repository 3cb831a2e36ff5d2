import type { AuthContext } from '../../../pipeline/tenants.ts';

/** An admin caller of the given tenant. */
export function testAdminAuth(tenantId: string): AuthContext {
  return { tenantId, roles: new Set(['tenant', 'admin']), actsFor: new Set(), keyId: 'admin000' };
}
