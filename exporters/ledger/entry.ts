import { hash as digest } from 'node:crypto';
import { canonicalize, memberOrder } from './jcs.ts';

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

/** An entry with its RFC 6962 leaf hash, SHA-256(0x00 ‖ bytes), as the append path needs both. */
export interface BuiltLeaf extends BuiltEntry {
  leaf: Buffer;
}

// Scratch space the canonical form (without integrity) is encoded into once: it is hashed from
// there, and the entry is assembled from its two halves with the integrity member between.
// A larger envelope gets a buffer of its own, so one huge event does not stay allocated.
const scratchSpace = Buffer.allocUnsafeSlow(64 * 1024);

function build(envelope: Record<string, unknown>, prevHash: string, withLeaf: boolean): BuiltLeaf {
  // The members around where `integrity` sorts, canonicalised once; the hash covers both halves.
  const { order, quoted } = memberOrder(Object.keys(envelope));
  let before = '';
  let after = '';
  for (let i = 0; i < order.length; i++) {
    const name = order[i]!;
    const v = envelope[name];
    if (v === undefined || name === 'integrity') continue;
    const member = quoted[i]! + canonicalize(v);
    if (name < 'integrity') before = before === '' ? member : `${before},${member}`;
    else after = after === '' ? member : `${after},${member}`;
  }
  // UTF-8 is at most 3 bytes per UTF-16 code unit.
  const room = 3 * (before.length + after.length) + 8;
  const scratch = room <= scratchSpace.length ? scratchSpace : Buffer.allocUnsafe(room);
  scratch[0] = 0x7b; // {
  const a = 1 + scratch.write(before, 1, 'utf8');
  let b = a;
  if (before !== '' && after !== '') scratch[b++] = 0x2c; // ,
  const afterAt = b;
  b += scratch.write(after, b, 'utf8');
  scratch[b++] = 0x7d; // }
  const hash = digest('sha256', scratch.subarray(0, b), 'hex');
  const integrity = `"integrity":{"hash":"${hash}","prev_hash":"${prevHash}"}`;
  // One leading byte for the leaf-hash prefix 0x00, so the leaf is hashed without a copy.
  const bodyAfter = b - afterAt - 1;
  const size =
    a + (before === '' ? 0 : 1) + Buffer.byteLength(integrity) + (bodyAfter > 0 ? 1 : 0) + bodyAfter + 1;
  const out = Buffer.allocUnsafe(1 + size);
  out[0] = 0x00;
  scratch.copy(out, 1, 0, a);
  let at = 1 + a;
  if (before !== '') out[at++] = 0x2c;
  at += out.write(integrity, at, 'utf8');
  if (bodyAfter > 0) {
    out[at++] = 0x2c;
    scratch.copy(out, at, afterAt, afterAt + bodyAfter);
    at += bodyAfter;
  }
  out[at++] = 0x7d;
  const bytes = out.subarray(1, at);
  const leaf = withLeaf ? digest('sha256', out.subarray(0, at), 'buffer') : EMPTY;
  return { bytes, hash, leaf };
}

const EMPTY = Buffer.alloc(0);

/** Builds the entry of an envelope chained after `prevHash`. Members are canonicalised once. */
export function buildEntry(envelope: Record<string, unknown>, prevHash: string): BuiltEntry {
  const { bytes, hash } = build(envelope, prevHash, false);
  return { bytes, hash };
}

/** `buildEntry` plus the entry's leaf hash: the append path's one call per event. */
export function buildLeaf(envelope: Record<string, unknown>, prevHash: string): BuiltLeaf {
  return build(envelope, prevHash, true);
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
