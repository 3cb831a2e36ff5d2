import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testEvent, testSettings } from '../../pipeline/testing.ts';
import { redactionConfigSchema } from './config.ts';
import { createRedactor } from './factory.ts';
import { formatIp, parseIp } from './ip-address.ts';
import { IpcryptPfx } from './ipcrypt-pfx.ts';
import vectors from './testdata/ipcrypt-pfx-vectors.json' with { type: 'json' };

function commonPrefixBits(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length * 8; i++) {
    const bit = (x: Uint8Array) => (x[i >> 3]! >> (7 - (i & 7))) & 1;
    if (bit(a) !== bit(b)) return i;
  }
  return a.length * 8;
}

describe('ipcrypt-pfx', () => {
  it.each(vectors.vectors)('with key %s maps %s to %s (draft-denis-ipcrypt)', (key, input, expected) => {
    expect(formatIp(new IpcryptPfx(Buffer.from(key, 'hex')).encrypt(parseIp(input)!))).toBe(expected);
  });

  it('preserves exactly the common prefix, and IPv4 stays IPv4', () => {
    const pfx = new IpcryptPfx(Buffer.from(vectors.vectors[0]![0]!, 'hex'));
    const addr = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
    fc.assert(
      fc.property(fc.oneof(fc.tuple(addr(4), addr(4)), fc.tuple(addr(16), addr(16))), ([a, b]) => {
        const ea = pfx.encrypt(a);
        expect(ea.length).toBe(a.length);
        expect(commonPrefixBits(ea, pfx.encrypt(b))).toBe(commonPrefixBits(a, b));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses keys whose halves are equal, in the config too', () => {
    expect(() => new IpcryptPfx(Buffer.alloc(32, 1))).toThrow(/halves/);
    const r = redactionConfigSchema.safeParse({ ip: { mode: 'ipcrypt-pfx', key: '01'.repeat(32) } });
    expect(r.success).toBe(false);
  });

  it('is an ip mode of the redaction processor', () => {
    const [key, input, expected] = vectors.vectors[2]!;
    const config = redactionConfigSchema.parse({
      hmac_key: 'k'.repeat(32),
      ip: { mode: 'ipcrypt-pfx', key },
    });
    const out = createRedactor(testSettings('redaction'), config, new Map()).redact(
      testEvent({ actor: { type: 'user', id: 'u-1', ip: input }, reason: `from ${input}` }),
    );
    expect(out.actor.ip).toBe(expected);
    expect(out.reason).toBe(`from ${expected}`);
  });
});
