import type { RedactionConfig } from './config.ts';
import {
  BUILTIN_DETECTORS,
  type CompiledDetector,
  compileDetectors,
  type DetectorDef,
  mayMatchBuiltin,
} from './detectors.ts';
import type { IpRewriter } from './ip-rewriter.ts';
import type { KeyedHasher } from './keys.ts';
import type { UrlStripper } from './urls.ts';

/**
 * Scans one string: URLs are minimised, then every detector match is masked, hashed or marks
 * the field for dropping. The scanner is built once per processor; per call it only runs the
 * two precompiled regular expressions and records which rules fired in `hits`.
 */

/** Returned by `scan` when a `drop` detector matched: the caller removes the field. */
export const DROP: unique symbol = Symbol('drop');

/** Scans strings with the compiled detectors. */
export class TextScanner {
  /** Rules that fired during the last `scan` call, in order; reset on every call. */
  readonly hits: string[] = [];
  private readonly regex: RegExp | undefined;
  private readonly prefilter: boolean;
  private readonly detectors: CompiledDetector[];
  private readonly groupNames: string[];
  private readonly urls: UrlStripper;
  private readonly hasher: KeyedHasher;
  private readonly ip: IpRewriter;
  private dropped = false;

  constructor(config: RedactionConfig, urls: UrlStripper, hasher: KeyedHasher, ip: IpRewriter) {
    const defs: (DetectorDef & { action: RedactionConfig['detectors']['email']; custom?: boolean })[] = [];
    for (const d of BUILTIN_DETECTORS) {
      if (d.kind === 'ip') {
        if (config.ip.detect_in_text) defs.push({ ...d, action: 'mask' });
        continue;
      }
      defs.push({ ...d, action: config.detectors[d.kind as keyof RedactionConfig['detectors']] });
    }
    for (const c of config.custom_detectors)
      defs.push({ kind: c.name, source: c.pattern, action: c.action, custom: true });
    const compiled = compileDetectors(defs);
    this.regex = compiled.regex;
    this.prefilter = compiled.prefilter;
    this.detectors = compiled.groups;
    this.groupNames = compiled.groups.map((_, i) => `d${i}`);
    this.urls = urls;
    this.hasher = hasher;
    this.ip = ip;
  }

  /** `s` with URLs minimised and detector matches replaced, or DROP. Sets `hits`. */
  scan(s: string): string | typeof DROP {
    if (this.hits.length) this.hits.length = 0;
    this.dropped = false;
    // Every URL contains `:`, which the prefilter looks for, so a string it passes over has
    // neither URLs nor detector matches.
    if (this.prefilter && !mayMatchBuiltin(s)) return s;
    let out = s;
    if (!this.urls.disabled) {
      out = this.urls.strip(s);
      if (this.urls.changed) this.hits.push('url');
    }
    if (this.regex) out = this.replaceAll(out, this.regex);
    return this.dropped ? DROP : out;
  }

  /**
   * Replaces detector matches left to right. A match that fails its check (Luhn, mod-97, an
   * IPv6 that does not parse) is retried one character later rather than skipped, so that
   * `1234 4111-1111-1111-1111` still finds the card after a failed longer candidate.
   */
  private replaceAll(s: string, re: RegExp): string {
    re.lastIndex = 0;
    let out = '';
    let last = 0;
    let replaced = false;
    let m: RegExpExecArray | null = re.exec(s);
    while (m !== null) {
      // An empty match (possible in a custom pattern) is never replaced: move on.
      const replacement = m[0] === '' ? undefined : this.replaceMatch(m[0], m.groups!);
      if (replacement === undefined) {
        re.lastIndex = m.index + 1;
      } else {
        out += s.slice(last, m.index) + replacement;
        replaced = true;
        last = m.index + m[0].length;
        re.lastIndex = last;
      }
      m = re.exec(s);
    }
    return replaced ? out + s.slice(last) : s;
  }

  /** The replacement of a match, or undefined when the match fails its detector's check. */
  private replaceMatch(match: string, groups: Record<string, string | undefined>): string | undefined {
    let i = 0;
    while (i < this.groupNames.length && groups[this.groupNames[i]!] === undefined) i++;
    const d = this.detectors[i];
    if (!d) return undefined;
    if (d.validate && !d.validate(match)) return undefined;
    if (d.kind === 'ip') {
      const rewritten = this.ip.rewrite(match);
      if (rewritten === undefined) return undefined;
      this.hits.push('ip');
      return rewritten;
    }
    this.hits.push(d.kind);
    switch (d.action) {
      case 'hash':
        return this.hasher.token(d.kind, d.kind === 'email' ? match.toLowerCase() : match);
      case 'drop':
        this.dropped = true;
        return `[REDACTED:${d.kind}]`;
      default:
        return `[REDACTED:${d.kind}]`;
    }
  }
}
