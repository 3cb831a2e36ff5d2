import { hash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildEntry, buildLeaf, checkEntry, GENESIS_HASH } from './entry.ts';
import { canonicalize } from './jcs.ts';
import { leafHash } from './merkle.ts';

/**
 * The append path builds entries with cached member orders and assembles the bytes around the
 * integrity member; these properties hold it equal to the definition: the canonical JSON of the
 * envelope with `integrity` set, `hash` over the canonical form without it.
 */

/** RFC 8785 as written, sorting every object afresh: the reference the cached path must equal. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return canonicalize(value);
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const members = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${canonicalize(k)}:${reference(obj[k])}`);
  return `{${members.join(',')}}`;
}

function expected(envelope: Record<string, unknown>, prevHash: string): { bytes: string; hash: string } {
  const { integrity: _, ...rest } = envelope;
  const h = hash('sha256', reference(rest), 'hex');
  return { bytes: reference({ ...rest, integrity: { hash: h, prev_hash: prevHash } }), hash: h };
}

// Envelopes share a few shapes (as real ones do), so cached member orders are reused across
// runs, mixed with free-form members whose names sort before, between and after `integrity`.
const name = fc.constantFrom(
  'a',
  'event_id',
  'integrity',
  'in',
  'j',
  'metadata',
  'z',
  '10',
  '9',
  '__proto__',
  'é',
  '😀',
);
const envelope = fc
  .tuple(
    fc.uuid(),
    fc.dictionary(name, fc.jsonValue(), { maxKeys: 6 }),
    fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }),
  )
  .map(([id, members, free]) => {
    const env: Record<string, unknown> = JSON.parse(JSON.stringify({ event_id: id, ...members }));
    if (Object.keys(free).length > 0) env.metadata = JSON.parse(JSON.stringify(free));
    env.event_id = id;
    return env;
  });
const prev = fc.oneof(fc.constant(GENESIS_HASH), fc.stringMatching(/^[0-9a-f]{64}$/));

describe('ledger entries', () => {
  it('canonicalises like RFC 8785 as written, shape after shape', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 5 }), (values) => {
        for (const v of values) expect(canonicalize(v)).toBe(reference(v));
      }),
      { numRuns: 300 },
    );
  });

  it('builds the canonical envelope with its integrity member, hash and leaf hash', () => {
    fc.assert(
      fc.property(envelope, prev, (env, prevHash) => {
        const want = expected(env, prevHash);
        const built = buildLeaf(env, prevHash);
        expect(built.bytes.toString('utf8')).toBe(want.bytes);
        expect(built.hash).toBe(want.hash);
        expect(built.leaf.equals(leafHash(built.bytes))).toBe(true);
        const plain = buildEntry(env, prevHash);
        expect(plain.bytes.equals(built.bytes)).toBe(true);
        // A stored entry rebuilds to itself, integrity member and all.
        expect(checkEntry(Buffer.from(want.bytes, 'utf8'))).toEqual({
          ok: true,
          hash: want.hash,
          prevHash,
          eventId: env.event_id,
        });
      }),
      { numRuns: 500 },
    );
  });

  it('holds entries longer than any earlier one, and non-ASCII members', () => {
    const long = { event_id: 'e-1', metadata: { text: 'ü€😀'.repeat(30_000) }, z: 'x' };
    const built = buildLeaf(long, GENESIS_HASH);
    expect(built.bytes.toString('utf8')).toBe(expected(long, GENESIS_HASH).bytes);
    expect(buildLeaf({ event_id: 'e-2' }, GENESIS_HASH).bytes.toString('utf8')).toBe(
      expected({ event_id: 'e-2' }, GENESIS_HASH).bytes,
    );
  });
});
