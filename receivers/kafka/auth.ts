import type { ErrorCode } from '../../pipeline/errors.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import { type AuthContext, TENANT_ID, type TenantRegistry } from '../../pipeline/tenants.ts';
import type { KafkaReceiverConfig } from './config.ts';

/**
 * Who sent a Kafka record, by the configured mode (README.md, "Tenants"). The answer is an
 * AuthContext like the HTTP and OTLP receivers build, so tenant validation downstream treats
 * Kafka input the same way. A record that cannot be authenticated is dead-lettered.
 */

/** The sender of a record, or why there is none. */
export type RecordAuth = { ok: true; auth: AuthContext } | { ok: false; code: ErrorCode; message: string };

/** Finds the sender from a record's headers. */
export type Authenticator = (headers: Record<string, Buffer | undefined>) => RecordAuth;

// Distinct credentials seen are few; the cache spares a SHA-256 per record.
const CACHE_LIMIT = 1024;

function tenantContext(tenantId: string, keyId: string): AuthContext {
  return { tenantId, roles: new Set(['tenant']), actsFor: new Set(), keyId };
}

/** Builds the authenticator of a mode; throws `config_invalid` for a bound tenant that is not configured. */
export function createAuthenticator(
  config: KafkaReceiverConfig['auth'],
  tenants: TenantRegistry,
): Authenticator {
  if (config.mode === 'tenant') {
    if (!tenants.activeTenant(config.tenant)) {
      throw new PipelineError(
        'config_invalid',
        `auth.tenant: tenant "${config.tenant}" is not configured or not active`,
      );
    }
    const result: RecordAuth = { ok: true, auth: tenantContext(config.tenant, 'kafka-topic') };
    return () => result;
  }

  const cache = new Map<string, RecordAuth>();
  const cached = (raw: string, compute: () => RecordAuth): RecordAuth => {
    let r = cache.get(raw);
    if (r) return r;
    r = compute();
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(raw, r);
    return r;
  };
  const header = config.header.toLowerCase();

  if (config.mode === 'bearer') {
    return (headers) => {
      const raw = headers[header]?.toString('utf8');
      if (!raw) return { ok: false, code: 'unauthenticated', message: `the record has no ${header} header` };
      return cached(raw, () => {
        const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(raw);
        const auth = m ? tenants.authenticateToken(m[1]!) : undefined;
        return auth
          ? { ok: true, auth }
          : { ok: false, code: 'unauthenticated', message: 'missing or unknown bearer token' };
      });
    };
  }

  return (headers) => {
    const raw = headers[header]?.toString('utf8');
    if (!raw) return { ok: false, code: 'unauthenticated', message: `the record has no ${header} header` };
    return cached(raw, () => {
      if (!TENANT_ID.test(raw) || !tenants.activeTenant(raw)) {
        return {
          ok: false,
          code: 'unauthenticated',
          message: `tenant "${raw.slice(0, 128)}" is not configured or not active`,
        };
      }
      return { ok: true, auth: tenantContext(raw, 'kafka-gateway') };
    });
  };
}
