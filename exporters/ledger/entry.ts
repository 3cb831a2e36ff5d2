import { hash as digest } from 'node:crypto';
import { canonicalize } from './jcs.ts';

/**
 * A ledger entry: the RFC 8785 canonical JSON of the full envelope with `integrity` set.
 * `integrity.hash` is the SHA-256 of the canonical form without `integrity`, and
 * `integrity.prev_hash` the previous entry's hash (64 zeros first), chaining the entries.
 */

/** prev_hash of the first entry of a log. */
export const GENESIS_HASH = '0'.repeat(64);

/** An entry ready to append, with its chain hash. */
export interface BuiltEntry {
  bytes: Buffer;
  hash: string;
}

/** Builds the entry of an envelope chained after `prevHash`. Members are canonicalised once. */
export function buildEntry(envelope: Record<string, unknown>, prevHash: string): BuiltEntry {
  const keys = Object.keys(envelope).filter((k) => k !== 'integrity' && envelope[k] !== undefined);
  keys.push('integrity');
  keys.sort();
  const members: string[] = [];
  let at = -1;
  for (const k of keys) {
    if (k === 'integrity') at = members.length;
    else members.push(`${canonicalize(k)}:${canonicalize(envelope[k])}`);
  }
  const before = members.slice(0, at).join(',');
  const after = members.slice(at).join(',');
  const sep = (a: string, b: string) => (a && b ? `${a},${b}` : a || b);
  const hash = digest('sha256', `{${sep(before, after)}}`, 'hex');
  const integrity = `"integrity":{"hash":"${hash}","prev_hash":"${prevHash}"}`;
  return { bytes: Buffer.from(`{${sep(sep(before, integrity), after)}}`, 'utf8'), hash };
}

/** What checking one stored entry found. */
export type EntryCheck =
  | { ok: true; hash: string; prevHash: string; eventId: string }
  | { ok: false; reason: string };

/** Checks a stored entry: canonical JSON, an envelope, and an integrity hash that matches. */
export function checkEntry(bytes: Uint8Array): EntryCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { ok: false, reason: 'not a JSON object' };
  const env = parsed as Record<string, unknown>;
  const integrity = env.integrity as { hash?: unknown; prev_hash?: unknown } | undefined;
  if (typeof integrity?.hash !== 'string' || typeof integrity.prev_hash !== 'string')
    return { ok: false, reason: 'no integrity block' };
  if (typeof env.event_id !== 'string') return { ok: false, reason: 'no event_id' };
  // Rebuilding the entry from its own fields must give back the very same bytes: that checks
  // the canonical form, the integrity hash and that nothing was added, in one canonicalisation.
  let rebuilt: BuiltEntry;
  try {
    rebuilt = buildEntry(env, integrity.prev_hash);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  if (rebuilt.hash !== integrity.hash)
    return { ok: false, reason: 'integrity.hash does not match the entry' };
  if (!rebuilt.bytes.equals(bytes)) return { ok: false, reason: 'not in RFC 8785 canonical form' };
  return { ok: true, hash: integrity.hash, prevHash: integrity.prev_hash, eventId: env.event_id };
}

const EVENT_ID_KEY = Buffer.from('"event_id":"');

/**
 * The event_id of a stored entry without parsing it. In canonical form the first `"event_id":"`
 * is the top-level key: it sorts before every member that may hold free-form keys (metadata,
 * usage), and a quote inside a string value is always escaped.
 */
export function entryEventId(bytes: Buffer): string | undefined {
  const at = bytes.indexOf(EVENT_ID_KEY);
  if (at < 0) return undefined;
  const start = at + EVENT_ID_KEY.length;
  const end = bytes.indexOf(0x22, start);
  return end < 0 ? undefined : bytes.toString('utf8', start, end);
}
