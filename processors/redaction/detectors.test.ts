import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ibanValid, luhnValid } from './checksums.ts';
import { redactionConfigSchema } from './config.ts';
import { BUILTIN_DETECTORS, compileDetectors, mayMatchBuiltin } from './detectors.ts';
import { IpRewriter } from './ip-rewriter.ts';
import { KeyedHasher } from './keys.ts';
import { anySecret } from './testdata/secrets.ts';
import { TextScanner } from './text-scanner.ts';
import { UrlStripper } from './urls.ts';

function scanner(overrides: Record<string, unknown> = {}): TextScanner {
  const config = redactionConfigSchema.parse({ hmac_key: 'k'.repeat(32), ...overrides });
  const hasher = new KeyedHasher(Buffer.from(config.hmac_key));
  const ip = new IpRewriter(config.ip, hasher, Buffer.alloc(32));
  return new TextScanner(config, new UrlStripper(config.urls), hasher, ip);
}

describe('checksums', () => {
  it('Luhn', () => {
    expect(luhnValid('4111 1111 1111 1111')).toBe(true);
    expect(luhnValid('4111 1111 1111 1112')).toBe(false);
    expect(luhnValid('378282246310005')).toBe(true);
  });
  it('IBAN mod-97', () => {
    expect(ibanValid('DE89 3704 0044 0532 0130 00')).toBe(true);
    expect(ibanValid('GB82WEST12345698765432')).toBe(true);
    expect(ibanValid('GB82WEST12345698765433')).toBe(false);
  });
});

describe('value detectors (default actions)', () => {
  const s = scanner();
  it.each([
    ['mail bob.smith+x@example.co.uk now', /^mail \[HMAC:email:[0-9a-f]{32}\] now$/],
    ['card 4111-1111-1111-1111.', 'card [REDACTED:payment_card].'],
    ['order 2024 4111 1111 1111 1111', 'order 2024 [REDACTED:payment_card]'],
    ['ssn 123-45-6789', 'ssn [REDACTED:us_ssn]'],
    ['iban DE89 3704 0044 0532 0130 00', 'iban [REDACTED:iban]'],
    ['call +49 151 1234 5678', 'call [REDACTED:phone]'],
    ['call (415) 555-0132', 'call [REDACTED:phone]'],
    ['Authorization: Bearer abcdefghijklmnop', 'Authorization: [REDACTED:bearer_token]'],
    ['password=hunter22', '[REDACTED:bearer_token]'],
    ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', '[REDACTED:jwt]'],
    ['key sk-proj-abcdefghijklmnopqrstuvwxyz012345', 'key [REDACTED:api_key]'],
    ['ghp_abcdefghijklmnopqrstuvwxyz0123456789', '[REDACTED:api_key]'],
    ['AKIAIOSFODNN7EXAMPLE', '[REDACTED:cloud_key]'],
    ['-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY----- tail', '[REDACTED:private_key] tail'],
    ['from 203.0.113.77 via 2001:db8:abcd:12::7', 'from 203.0.113.0 via 2001:db8:abcd::'],
    ['https://bob:pw@example.com/a/b?q=secret#x', 'https://example.com/a/b'],
  ])('%s', (input, expected) => {
    const out = s.scan(input);
    if (expected instanceof RegExp) expect(out).toMatch(expected);
    else expect(out).toBe(expected);
  });

  it.each([
    'dashboard_viewed',
    '4bf92f3577b34da6a3ce929d0e0e4736',
    // A trace id whose digit run is Luhn-valid: digits inside a word are not a card number.
    'c9177b4e49c2950d4111111111111111',
    '4111111111111111abcdef0123456789',
    '01936f4e-8d3a-7c1a-9a55-0f1e2d3c4b5a',
    '2026-01-02T03:04:05.000Z',
    'order 4111 1111 1111 1112',
    'version 1.2.3',
    'rows 120',
    'github.pr_summary',
  ])('leaves %s alone', (input) => {
    expect(s.scan(input)).toBe(input);
  });

  it('hashes consistently, case-insensitively for e-mail, and per key', () => {
    expect(s.scan('A@Example.com')).toBe(s.scan('a@example.com'));
    expect(scanner({ hmac_key: 'x'.repeat(32) }).scan('a@example.com')).not.toBe(s.scan('a@example.com'));
  });

  it('marks the field for dropping with action drop, and skips detectors that are off', () => {
    const d = scanner({ detectors: { email: 'drop', phone: 'off' } });
    expect(typeof d.scan('a@example.com')).toBe('symbol');
    expect(d.scan('call (415) 555-0132')).toBe('call (415) 555-0132');
  });

  it('applies custom detectors', () => {
    const c = scanner({ custom_detectors: [{ name: 'ticket', pattern: 'TCK-\\d{6}' }] });
    expect(c.scan('see TCK-123456')).toBe('see [REDACTED:ticket]');
  });
});

describe('prefilter', () => {
  const { regex } = compileDetectors(BUILTIN_DETECTORS.map((d) => ({ ...d, action: 'mask' as const })));
  it('is a necessary condition of every built-in detector', () => {
    const alphabet = fc.constantFrom(
      ...'abcxyzAKSGJeoknmpt0123456789 .-_=:@+/\n'.split(''),
      'sk-',
      'ghp_',
      'xox',
      'eyJ',
      '-----',
      'Bearer ',
      'AKIA',
    );
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 40 }).map((a) => a.join('')),
        (s) => {
          regex!.lastIndex = 0;
          if (regex!.test(s)) expect(mayMatchBuiltin(s)).toBe(true);
        },
      ),
      { numRuns: 20000 },
    );
  });
  it('lets every generated secret through to the full scan', () => {
    fc.assert(
      fc.property(anySecret, fc.string({ maxLength: 8 }), (secret, before) => {
        expect(mayMatchBuiltin(`${before} ${secret.s}`)).toBe(true);
        expect(mayMatchBuiltin(secret.s)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
  it('rejects plain ids', () => {
    expect(mayMatchBuiltin('4bf92f3577b34da6a3ce929d0e0e4736')).toBe(false);
    expect(mayMatchBuiltin('u-12345')).toBe(false);
  });
});
