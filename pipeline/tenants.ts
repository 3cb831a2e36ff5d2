import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { PipelineError } from './errors.ts';

/**
 * The tenant registry: who may send and read, found from a bearer token. Only SHA-256 hashes of
 * tokens are configured, never the tokens, so the config file is not a secret.
 */

/** Tenant ids: lowercase ASCII, digits, `.`, `_`, `-`; no case or Unicode tricks. */
export const TENANT_ID = /^[a-z0-9](?:[a-z0-9._-]{0,126}[a-z0-9])?$/;

/** A role a credential holds. */
export const roleSchema = z
  .enum(['tenant', 'admin', 'service'])
  .describe(
    'tenant: send and read its own data; admin: also the usage/audit APIs; service: may act for `acts_for`',
  );

/** One tenant as configured. */
export const tenantConfigSchema = z.strictObject({
  id: z
    .string()
    .regex(TENANT_ID, 'must be lowercase letters, digits, ".", "_" or "-" (no spaces, no upper case)')
    .describe('Stable tenant id; events carry it in `tenant.id`.'),
  slug: z.string().max(128).optional().describe('Human-safe name. Empty: none.'),
  keys: z
    .array(
      z
        .string()
        .regex(
          /^sha256:[0-9a-f]{64}$/,
          'must be "sha256:" and 64 lowercase hex digits (the hash of a token)',
        ),
    )
    .default([])
    .describe('SHA-256 of each bearer token, as `sha256:<hex>`. Empty: the tenant cannot authenticate.'),
  roles: z
    .array(roleSchema)
    .default(['tenant'])
    .describe('Roles of every key of this tenant. Default: [tenant].'),
  acts_for: z
    .array(z.string().regex(TENANT_ID))
    .default([])
    .describe('With the service role: tenants this credential may send events for. Empty: none.'),
  active: z.boolean().default(true).describe('false: the tenant is suspended; its keys are refused.'),
});

/** The `tenants` section: an inline list, or a file holding the same list. */
export const tenantsSectionSchema = z
  .union([
    z.array(tenantConfigSchema),
    z.strictObject({
      file: z.string().min(1).describe('YAML file holding the tenant list.'),
      bootstrap: z
        .boolean()
        .default(false)
        .describe(
          'When the file does not exist, create it with one `default` tenant and a random token written beside it (mode 0600). For first runs only.',
        ),
    }),
  ])
  .default([])
  .describe('Tenants and the hashes of their bearer tokens (inline list or `{ file }`).');

/** A configured tenant. */
export type TenantConfig = z.output<typeof tenantConfigSchema>;
/** A role. */
export type Role = z.output<typeof roleSchema>;

/** Who the caller of a request is. */
export interface AuthContext {
  tenantId: string;
  roles: ReadonlySet<Role>;
  /** Tenants a service credential may act for. */
  actsFor: ReadonlySet<string>;
  /** First 8 hex digits of the token hash: identifies the key in logs without revealing it. */
  keyId: string;
}

/** `sha256:<hex>` of a token. */
export function hashToken(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/** Finds callers by token; holds the tenant list. */
export class TenantRegistry {
  readonly tenants: ReadonlyMap<string, TenantConfig>;
  private readonly byKey = new Map<string, AuthContext>();

  constructor(tenants: readonly TenantConfig[]) {
    const seen = new Set<string>();
    const map = new Map<string, TenantConfig>();
    for (const t of tenants) {
      // One tenant may have several entries (an ordinary and an admin token): it is active
      // while any of them is, so suspending one credential does not suspend the tenant.
      if (t.active || !map.has(t.id)) map.set(t.id, t);
      for (const key of t.keys) {
        if (this.byKey.has(key) || seen.has(key)) {
          throw new Error(
            `tenants: key ${key.slice(0, 15)}… is configured twice; each token must belong to one entry`,
          );
        }
        seen.add(key);
      }
      if (!t.active) continue;
      const ctx = (key: string): AuthContext => ({
        tenantId: t.id,
        roles: new Set(t.roles),
        actsFor: new Set(t.acts_for),
        keyId: key.slice(7, 15),
      });
      for (const key of t.keys) this.byKey.set(key, ctx(key));
    }
    this.tenants = map;
  }

  /** The caller of a bearer token, or undefined when unknown or suspended. */
  authenticateToken(token: string): AuthContext | undefined {
    if (!token) return undefined;
    return this.byKey.get(hashToken(token));
  }

  /** The caller of an `Authorization: Bearer <token>` header value; throws `unauthenticated`. */
  authenticate(header: string | undefined): AuthContext {
    const m = header ? /^Bearer[ \t]+(\S+)\s*$/i.exec(header) : null;
    const auth = m ? this.authenticateToken(m[1]!) : undefined;
    if (!auth) throw new PipelineError('unauthenticated');
    return auth;
  }

  /** The tenant, when it is known and active. */
  activeTenant(id: string): TenantConfig | undefined {
    const t = this.tenants.get(id);
    return t?.active ? t : undefined;
  }
}

/** Result of loading tenants, with the path of a token file created by bootstrap. */
export interface LoadedTenants {
  tenants: TenantConfig[];
  bootstrapTokenFile?: string;
}

/**
 * Loads the tenants section. A `{ file, bootstrap: true }` whose file is missing is created
 * with a `default` tenant (roles tenant and admin) and a fresh random token, written to
 * `<file dir>/default.token` readable by the owner only; the token itself is never logged.
 */
export function loadTenants(section: z.output<typeof tenantsSectionSchema>): LoadedTenants {
  if (Array.isArray(section)) return { tenants: section };
  let bootstrapTokenFile: string | undefined;
  if (!existsSync(section.file)) {
    if (!section.bootstrap) throw new Error(`tenants.file: ${section.file} does not exist`);
    const token = `llt_${randomBytes(24).toString('base64url')}`;
    const dir = dirname(section.file);
    mkdirSync(dir, { recursive: true });
    bootstrapTokenFile = `${dir}/default.token`;
    writeFileSync(bootstrapTokenFile, `${token}\n`, { mode: 0o600 });
    chmodSync(bootstrapTokenFile, 0o600);
    const list = [{ id: 'default', slug: 'default', keys: [hashToken(token)], roles: ['tenant', 'admin'] }];
    writeFileSync(section.file, stringifyYaml(list), { mode: 0o600 });
  }
  const raw = parseYaml(readFileSync(section.file, 'utf8')) ?? [];
  const parsed = z.array(tenantConfigSchema).safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`${section.file}: ${first?.path.join('.')}: ${first?.message}`);
  }
  return bootstrapTokenFile ? { tenants: parsed.data, bootstrapTokenFile } : { tenants: parsed.data };
}
