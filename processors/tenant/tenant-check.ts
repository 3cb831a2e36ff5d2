import type { AuthContext, TenantRegistry } from '../../pipeline/tenants.ts';
import { TENANT_ID } from '../../pipeline/tenants.ts';

/**
 * Whether an event's `tenant.id` may be accepted from a caller. The id must be exactly a
 * configured, active tenant id — no normalisation is applied to ids, because accepting
 * `ACME`, `acme ` or a Cyrillic `аcme` as `acme` would let a producer's bug or an attacker's
 * trick pass silently; they are rejected and named instead.
 */

/** Why a tenant tag was rejected; the suffix of the `reason` metric label. */
export type TenantRejection =
  | 'missing'
  | 'whitespace'
  | 'invisible'
  | 'confusable'
  | 'non_ascii'
  | 'case'
  | 'malformed'
  | 'unknown'
  | 'inactive'
  | 'cross_tenant'
  | 'not_acting_for';

/** Messages in the caller's words, one per rejection. */
export const REJECTION_MESSAGES: Record<TenantRejection, string> = {
  missing: 'tenant.id is missing',
  whitespace: 'tenant.id contains whitespace',
  invisible: 'tenant.id contains invisible or formatting characters',
  confusable: 'tenant.id imitates a tenant id with look-alike Unicode characters',
  non_ascii: 'tenant.id contains non-ASCII characters',
  case: 'tenant.id must be lower case',
  malformed: 'tenant.id must be lowercase letters, digits, ".", "_" or "-"',
  unknown: 'tenant.id is not a known tenant',
  inactive: 'tenant.id names a suspended tenant',
  cross_tenant: 'tenant.id differs from the tenant of the credential',
  not_acting_for: 'tenant.id is not among the tenants this service credential may act for (acts_for)',
};

// Zero-width, bidi, variation selectors and other characters that render as nothing, as
// code point ranges (a regex class would mix in combining marks): Unicode Cf plus friends.
const INVISIBLE_RANGES: readonly [number, number][] = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x061c, 0x061c],
  [0x115f, 0x1160],
  [0x17b4, 0x17b5],
  [0x180b, 0x180f],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2060, 0x206f],
  [0x3164, 0x3164],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
  [0xffa0, 0xffa0],
  [0xfff0, 0xfffb],
  [0xe0000, 0xe0fff],
];
const FORMAT = /\p{Cf}/u;

/** True when `s` holds a character that renders as nothing (zero-width, bidi control, …). */
function hasInvisible(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    for (const [lo, hi] of INVISIBLE_RANGES) if (c >= lo && c <= hi) return true;
    if (c > 0x7f && FORMAT.test(ch)) return true;
  }
  return false;
}
const WHITESPACE = /\s/u;

// Latin look-alikes from Cyrillic, Greek and other scripts that NFKC does not fold.
const CONFUSABLES: Record<string, string> = {
  а: 'a',
  в: 'b',
  с: 'c',
  ԁ: 'd',
  е: 'e',
  һ: 'h',
  і: 'i',
  ј: 'j',
  к: 'k',
  ӏ: 'l',
  м: 'm',
  п: 'n',
  о: 'o',
  р: 'p',
  ԛ: 'q',
  ѕ: 's',
  т: 't',
  у: 'y',
  х: 'x',
  ԝ: 'w',
  ɑ: 'a',
  ɡ: 'g',
  ı: 'i',
  ȷ: 'j',
  ο: 'o',
  α: 'a',
  ν: 'v',
  τ: 't',
  κ: 'k',
  ρ: 'p',
  υ: 'u',
  ι: 'i',
  χ: 'x',
  ӕ: 'ae',
  ᴀ: 'a',
  ʙ: 'b',
  ᴄ: 'c',
  ᴅ: 'd',
  ᴇ: 'e',
  ɢ: 'g',
  ʜ: 'h',
  ɪ: 'i',
  ᴊ: 'j',
  ᴋ: 'k',
  ʟ: 'l',
  ᴍ: 'm',
  ɴ: 'n',
  ᴏ: 'o',
  ᴘ: 'p',
  ʀ: 'r',
  ꜱ: 's',
  ᴛ: 't',
  ᴜ: 'u',
  ᴠ: 'v',
  ᴡ: 'w',
  ʏ: 'y',
  ᴢ: 'z',
};

/** The ASCII skeleton of an id: NFKC, lower case, look-alikes folded, invisible characters removed. */
export function skeleton(id: string): string {
  let out = '';
  for (const ch of id.normalize('NFKC').toLowerCase()) {
    if (hasInvisible(ch)) continue;
    out += CONFUSABLES[ch] ?? ch;
  }
  return out;
}

/** Checks tenant tags against the registry and the caller. */
export class TenantChecker {
  private readonly registry: TenantRegistry;

  constructor(registry: TenantRegistry) {
    this.registry = registry;
  }

  /** Undefined when `id` may be accepted from `auth`; the reason otherwise. */
  check(id: unknown, auth: AuthContext): TenantRejection | undefined {
    if (typeof id !== 'string' || id === '') return 'missing';
    if (id === auth.tenantId) {
      // The caller's own id was validated when the registry was loaded; only suspension remains.
      return this.registry.activeTenant(id) ? undefined : 'inactive';
    }
    const syntax = syntaxRejection(id, (s) => this.registry.tenants.has(s));
    if (syntax) return syntax;
    const tenant = this.registry.tenants.get(id);
    if (!tenant) return 'unknown';
    if (!tenant.active) return 'inactive';
    if (!auth.roles.has('service')) return 'cross_tenant';
    return auth.actsFor.has(id) ? undefined : 'not_acting_for';
  }
}

/** Why an id is not a well-formed tenant id; `known` tells confusables of real tenants apart. */
export function syntaxRejection(id: string, known: (id: string) => boolean): TenantRejection | undefined {
  if (TENANT_ID.test(id)) return undefined;
  if (hasInvisible(id)) return 'invisible';
  if (WHITESPACE.test(id)) return 'whitespace';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is what we test for
  if (/[^\x00-\x7F]/.test(id)) return known(skeleton(id)) ? 'confusable' : 'non_ascii';
  if (id !== id.toLowerCase()) return 'case';
  return 'malformed';
}

/** A slug in canonical form: NFKC, lower case, other runs to `-`; undefined when nothing is left. */
export function normalizeSlug(slug: string): string | undefined {
  const s = slug
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 128);
  return s || undefined;
}
