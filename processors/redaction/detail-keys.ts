import type { RedactionConfig } from './config.ts';

/**
 * The key policy of `metadata.details`: fail-closed (a key is kept only when the allowlist
 * names it) and the denylist wins over the allowlist, so allowing `user_*` never lets
 * `user_email` through. Decisions are cached per key because detail keys come from a small
 * vocabulary.
 */

/** Why a detail key was removed, as the `rule` label of the redaction counter. */
export type KeyVerdict = 'keep' | 'not_allowlisted' | 'key_denylist';

const CACHE_LIMIT = 4096;

/** Folds a key to lower snake case: `userEmail`, `user-email`, `User.Email` → `user_email`. */
export function foldKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** Decides, per detail key, whether it is kept. */
export class DetailKeyPolicy {
  private readonly exact: ReadonlySet<string>;
  private readonly prefixes: readonly string[];
  private readonly words: readonly string[];
  private readonly infixes: readonly string[];
  private readonly cache = new Map<string, KeyVerdict>();

  constructor(config: Pick<RedactionConfig, 'allowed_detail_keys' | 'key_denylist'>) {
    const exact = new Set<string>();
    const prefixes: string[] = [];
    for (const k of config.allowed_detail_keys) {
      if (k.endsWith('*')) prefixes.push(k.slice(0, -1));
      else exact.add(k);
    }
    this.exact = exact;
    this.prefixes = prefixes;
    const folded = config.key_denylist.map(foldKey).filter((p) => p !== '');
    this.words = folded.map((p) => `_${p}_`);
    this.infixes = folded.filter((p) => p.replace(/_/g, '').length >= 5).map((p) => p.replace(/_/g, ''));
  }

  /** The verdict for one key. */
  verdict(key: string): KeyVerdict {
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const v = this.decide(key);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, v);
    return v;
  }

  private decide(key: string): KeyVerdict {
    const folded = foldKey(key);
    const wrapped = `_${folded}_`;
    for (const w of this.words) if (wrapped.includes(w)) return 'key_denylist';
    const squashed = folded.replace(/_/g, '');
    for (const p of this.infixes) if (squashed.includes(p)) return 'key_denylist';
    if (this.exact.has(key)) return 'keep';
    for (const p of this.prefixes) if (key.startsWith(p)) return 'keep';
    return 'not_allowlisted';
  }
}
