import { describe, expect, it } from 'vitest';
import { formatIp, parseIp, truncateIp } from './ip-address.ts';

describe('ip addresses', () => {
  it.each([
    ['192.0.2.33', '192.0.2.33'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ])('parses and formats %s as %s', (input, expected) => {
    expect(formatIp(parseIp(input)!)).toBe(expected);
  });

  it.each(['999.1.1.1', '1.2.3', 'fe80::1%eth0', 'not an ip', '1:2:3'])('rejects %s', (input) => {
    expect(parseIp(input)).toBeUndefined();
  });

  it('truncates to a prefix', () => {
    expect(formatIp(truncateIp(parseIp('203.0.113.77')!, 24))).toBe('203.0.113.0');
    expect(formatIp(truncateIp(parseIp('203.0.113.77')!, 20))).toBe('203.0.112.0');
    expect(formatIp(truncateIp(parseIp('2001:db8:abcd:1234::1')!, 48))).toBe('2001:db8:abcd::');
  });
});
