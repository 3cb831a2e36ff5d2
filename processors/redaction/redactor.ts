import type { Event } from '../../pipeline/event.ts';
import type { RedactionConfig } from './config.ts';
import type { DetailKeyPolicy } from './detail-keys.ts';
import type { IpRewriter } from './ip-rewriter.ts';
import { DROP, type TextScanner } from './text-scanner.ts';
import type { UserAgentNormalizer } from './user-agent.ts';

/**
 * Walks one event and returns its redacted copy. Copy-on-write: objects without findings are
 * shared with the input, so a clean event costs one scan per string and no allocation; the
 * input is never mutated (other pipelines may hold the same event). Every string is scanned
 * except fields whose format is already fixed by the envelope schema (ids, enums, timestamps,
 * `tenant.id`, the ledger's `integrity`). Unknown keys are scanned too, so a field added to the
 * envelope later is redacted by default.
 */

/** Counts of redactions by rule, accumulated over a batch and flushed to the metrics. */
export type RuleCounts = Map<string, number>;

type Obj = Record<string, unknown>;

const SKIP_TOP = new Set(['event_id', 'event_type', 'occurred_at', 'recorded_at', 'result', 'integrity']);
const NONE: ReadonlySet<string> = new Set();
/** Per nested object: fields that may not be dropped (masked instead) and fields not scanned. */
const NESTED = new Map<string, { required: ReadonlySet<string>; skip: ReadonlySet<string> }>([
  ['actor', { required: new Set(['type', 'id']), skip: new Set(['type']) }],
  ['tenant', { required: new Set(['id']), skip: new Set(['id']) }],
  ['entity', { required: new Set(['type', 'id']), skip: NONE }],
  ['usage', { required: NONE, skip: new Set(['outcome']) }],
]);
const PLAIN = { required: NONE, skip: NONE };
const SAFE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
// Integers this long may be card, phone or account numbers written as JSON numbers.
const LARGE_INTEGER = 1e8;

/** Redacts events with the compiled rules of one processor. */
export class Redactor {
  private readonly scanner: TextScanner;
  private readonly ip: IpRewriter;
  private readonly ua: UserAgentNormalizer;
  private readonly keys: DetailKeyPolicy;
  private readonly uaMode: RedactionConfig['user_agent'];
  private readonly recordPaths: boolean;
  private readonly counts: RuleCounts;
  // Reused across events; `pathCount` marks the live part (truncating an array is not free).
  private readonly paths: string[] = [];
  private pathCount = 0;

  constructor(
    config: RedactionConfig,
    parts: { scanner: TextScanner; ip: IpRewriter; ua: UserAgentNormalizer; keys: DetailKeyPolicy },
    counts: RuleCounts,
  ) {
    this.scanner = parts.scanner;
    this.ip = parts.ip;
    this.ua = parts.ua;
    this.keys = parts.keys;
    this.uaMode = config.user_agent;
    this.recordPaths = config.record_paths;
    this.counts = counts;
  }

  /** The redacted copy of `e` (or `e` itself when nothing needed redacting). */
  redact(e: Event): Event {
    this.pathCount = 0;
    const src = e as unknown as Obj;
    let out: Obj | undefined;
    for (const key in src) {
      const v = src[key];
      if (v === undefined || SKIP_TOP.has(key)) continue;
      let r: unknown;
      if (key === 'metadata') r = this.metadata(v as Obj);
      else r = this.value(v, '', key, key === 'action');
      if (r === v) continue;
      out ??= { ...src };
      if (r === DROP) delete out[key];
      else out[key] = r;
    }
    if (this.pathCount && this.recordPaths) {
      out ??= { ...src };
      const meta = (out.metadata as Obj | undefined) ?? { safe_fields_only: true, details: {} };
      const before = (meta.redacted as string[] | undefined) ?? [];
      const redacted = before.slice();
      for (let i = 0; i < this.pathCount; i++) redacted.push(this.paths[i]!);
      out.metadata = { ...meta, redacted };
    }
    return (out ?? src) as unknown as Event;
  }

  private addPath(path: string): void {
    this.paths[this.pathCount++] = path;
  }

  private count(rule: string): void {
    this.counts.set(rule, (this.counts.get(rule) ?? 0) + 1);
  }

  private hit(parent: string, key: string): void {
    for (const rule of this.scanner.hits) this.count(rule);
    this.addPath(parent ? `${parent}.${key}` : key);
  }

  /**
   * A scanned string (or DROP), any value recursively; `required` fields are masked, not
   * dropped. The path is passed as parent and key and joined only when something is found.
   */
  private value(v: unknown, parent: string, key: string, required: boolean): unknown {
    if (typeof v === 'string') {
      const r = this.scanner.scan(v);
      if (r === v) return v;
      this.hit(parent, key);
      if (r === DROP) return required ? `[REDACTED:${this.scanner.hits[0] ?? 'value'}]` : DROP;
      return r;
    }
    if (Array.isArray(v)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const r = this.value(v[i], parent, `${key}[${i}]`, false);
        if (r === v[i] && !out) continue;
        out ??= v.slice(0, i);
        if (r !== DROP) out.push(r);
      }
      return out ?? v;
    }
    if (v !== null && typeof v === 'object') return this.object(v as Obj, parent ? `${parent}.${key}` : key);
    return v;
  }

  private object(o: Obj, path: string): Obj {
    const { required, skip } = NESTED.get(path) ?? PLAIN;
    let out: Obj | undefined;
    for (const key in o) {
      const v = o[key];
      if (v === undefined || skip.has(key)) continue;
      let r: unknown;
      if (path === 'actor' && key === 'ip') r = this.actorIp(v);
      else if (path === 'actor' && key === 'user_agent') r = this.userAgent(v);
      else r = this.value(v, path, key, required.has(key));
      if (r === v) continue;
      out ??= { ...o };
      if (r === DROP) delete out[key];
      else out[key] = r;
    }
    return out ?? o;
  }

  /** `actor.ip`: rewritten as the IP mode says; a value that is not an address is scanned as text. */
  private actorIp(ip: unknown): unknown {
    if (typeof ip !== 'string') return ip;
    if (this.ip.drops) {
      this.count('ip');
      this.addPath('actor.ip');
      return DROP;
    }
    const r = this.ip.rewrite(ip);
    if (r === undefined) return this.value(ip, 'actor', 'ip', false);
    if (r === ip) return ip;
    this.count('ip');
    this.addPath('actor.ip');
    return r;
  }

  /** `actor.user_agent`: normalised to browser family, major version and OS, or dropped. */
  private userAgent(ua: unknown): unknown {
    if (typeof ua !== 'string' || this.uaMode === 'keep') return this.value(ua, 'actor', 'user_agent', false);
    const r = this.uaMode === 'drop' ? DROP : this.ua.normalize(ua);
    if (r === ua) return ua;
    this.count('user_agent');
    this.addPath('actor.user_agent');
    return r;
  }

  private metadata(m: Obj): Obj {
    let out: Obj | undefined;
    const details = m.details as Obj | undefined;
    if (details) {
      const r = this.details(details);
      if (r !== details) out = { ...m, details: r };
    }
    const redacted = m.redacted;
    if (Array.isArray(redacted)) {
      const r = this.value(redacted, 'metadata', 'redacted', false);
      if (r !== redacted) {
        out ??= { ...m };
        out.redacted = r === DROP ? [] : r;
      }
    }
    return out ?? m;
  }

  /**
   * Kept keys are copied into a fresh object rather than removed with `delete`, which would
   * turn the copy into a slow dictionary-mode object for every later reader.
   */
  private details(d: Obj): Obj {
    let out: Obj | undefined;
    let changed = false;
    for (const key in d) {
      const v = d[key];
      const verdict = this.keys.verdict(key);
      let r: unknown = v;
      if (verdict !== 'keep') {
        r = DROP;
        this.count(verdict);
        this.addPath(`metadata.details.${this.safeName(key)}`);
      } else if (typeof v === 'string') r = this.value(v, 'metadata.details', key, false);
      else if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) >= LARGE_INTEGER) {
        const s = this.value(String(v), 'metadata.details', key, false);
        r = s === String(v) ? v : s;
      }
      if (r !== v && !changed) {
        changed = true;
        out = {};
        for (const k in d) {
          if (k === key) break;
          out[k] = d[k];
        }
      }
      if (changed && r !== DROP) out![key] = r;
    }
    return out ?? d;
  }

  /** The key itself when it is a plain name with no finding in it; `*` otherwise. */
  private safeName(key: string): string {
    if (!SAFE_NAME.test(key)) return '*';
    const r = this.scanner.scan(key);
    return r === key ? key : '*';
  }
}
