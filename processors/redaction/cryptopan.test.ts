import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoPan } from './cryptopan.ts';
import { formatIp, parseIp } from './ip-address.ts';
import vectors from './testdata/cryptopan-vectors.json' with { type: 'json' };

const key = Buffer.from(vectors.key_hex, 'hex');

function commonPrefixBits(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length * 8; i++) {
    const bit = (x: Uint8Array) => (x[i >> 3]! >> (7 - (i & 7))) & 1;
    if (bit(a) !== bit(b)) return i;
  }
  return a.length * 8;
}

describe('Crypto-PAn', () => {
  const cp = new CryptoPan(key);

  it.each(vectors.ipv4)('maps %s to %s (reference sample trace)', (input, expected) => {
    expect(formatIp(cp.anonymize(parseIp(input)!))).toBe(expected);
  });

  it.each(vectors.ipv6)('maps %s to %s (128-bit extension)', (input, expected) => {
    expect(formatIp(cp.anonymize(parseIp(input)!))).toBe(expected);
  });

  it('preserves exactly the common prefix of random IPv4 and IPv6 pairs', () => {
    const addr = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
    const pair = fc.oneof(
      fc.tuple(addr(4), addr(4)),
      fc.tuple(addr(16), addr(16)),
      // Pairs sharing a long prefix, which random pairs almost never do.
      fc.tuple(addr(16), fc.integer({ min: 0, max: 127 })).map(([a, bit]) => {
        const b = Uint8Array.from(a);
        b[bit >> 3]! ^= 1 << (7 - (bit & 7));
        return [a, b] as [Uint8Array, Uint8Array];
      }),
    );
    fc.assert(
      fc.property(pair, ([a, b]) => {
        expect(commonPrefixBits(cp.anonymize(a), cp.anonymize(b))).toBe(commonPrefixBits(a, b));
      }),
      { numRuns: 500 },
    );
  });

  it('depends on the key', () => {
    const other = new CryptoPan(Buffer.alloc(32, 7));
    expect(formatIp(other.anonymize(parseIp('128.11.68.132')!))).not.toBe('135.242.180.132');
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => new CryptoPan(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});
