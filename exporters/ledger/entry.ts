import { hash as digest } from 'node:crypto';
import { canonicalize, memberOrder } from './jcs.ts';
import { leafHash } from './merkle.ts';

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

/** An entry's canonical text (before UTF-8 encoding) and its integrity hash. */
export interface EntryText {
  text: string;
  hash: string;
}

/**
 * The canonical text of the entry of `envelope` chained after `prevHash`. The members around
 * where `integrity` sorts are canonicalised once into two halves; the integrity hash covers the
 * object made of both, the entry puts the integrity member between them. (The append path
 * does the same on bytes in a worker thread: see tail.ts.)
 */
export function entryText(envelope: Record<string, unknown>, prevHash: string): EntryText {
  const [before, after] = canonicalHalves(envelope);
  const hash = digest('sha256', `{${before}${before !== '' && after !== '' ? ',' : ''}${after}}`, 'hex');
  const integrity = `"integrity":{"hash":"${hash}","prev_hash":"${prevHash}"}`;
  const text = `{${before === '' ? '' : `${before},`}${integrity}${after === '' ? '' : `,${after}`}}`;
  return { text, hash };
}

/** Characters (and UTF-8 bytes) of the `"integrity":{...}` member: its two hashes are 64 hex digits. */
export const INTEGRITY_MEMBER_LENGTH = '"integrity":{"hash":"","prev_hash":""}'.length + 128;

/**
 * The canonical members of an envelope (without `integrity`) that sort before and after
 * `integrity`, each half comma-separated without braces. Throws on values JCS refuses.
 */
export function canonicalHalves(envelope: Record<string, unknown>): [before: string, after: string] {
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
  return [before, after];
}

/** Builds the entry of an envelope chained after `prevHash`. Members are canonicalised once. */
export function buildEntry(envelope: Record<string, unknown>, prevHash: string): BuiltEntry {
  const { text, hash } = entryText(envelope, prevHash);
  return { bytes: Buffer.from(text, 'utf8'), hash };
}

/** `buildEntry` plus the entry's leaf hash (the append path builds leaves in tail.ts instead). */
export function buildLeaf(envelope: Record<string, unknown>, prevHash: string): BuiltLeaf {
  const { bytes, hash } = buildEntry(envelope, prevHash);
  return { bytes, hash, leaf: leafHash(bytes) };
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
