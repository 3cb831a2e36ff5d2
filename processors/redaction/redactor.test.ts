import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Event } from '../../pipeline/event.ts';
import { testBatch, testEvent, testSettings } from '../../pipeline/testing.ts';
import { redactionConfigSchema } from './config.ts';
import { foldKey } from './detail-keys.ts';
import { createRedactor, redactionFactory } from './factory.ts';
import vectors from './testdata/cryptopan-vectors.json' with { type: 'json' };
import { normalizeUserAgent } from './user-agent.ts';

const KEY = 'k'.repeat(32);

function redact(e: Event, overrides: Record<string, unknown> = {}): Event {
  const config = redactionConfigSchema.parse({ hmac_key: KEY, ...overrides });
  return createRedactor(testSettings('redaction'), config, new Map()).redact(e);
}

function run(events: Event[], overrides: Record<string, unknown> = {}) {
  const settings = testSettings('redaction');
  const p = redactionFactory.create(settings, redactionConfigSchema.parse({ hmac_key: KEY, ...overrides }), {
    consume: async () => {},
  });
  if (!('process' in p)) throw new Error('not a processor');
  return { out: p.process(testBatch(events)) as { events: Event[] }, settings };
}

describe('metadata.details', () => {
  it('keeps only allowlisted keys, and the denylist wins over the allowlist', () => {
    const e = testEvent({
      metadata: { details: { country: 'DE', rows: 3, user_email: 'x', sessionId: 's', misc: 1 } },
    });
    const out = redact(e, { allowed_detail_keys: ['country', 'rows', 'user_*', 'session*'] });
    expect(out.metadata.details).toEqual({ country: 'DE', rows: 3 });
    expect(out.metadata.redacted).toEqual([
      'metadata.details.user_email',
      'metadata.details.sessionId',
      'metadata.details.misc',
    ]);
  });

  it('fails closed with an empty allowlist', () => {
    const out = redact(testEvent({ metadata: { details: { country: 'DE' } } }), { allowed_detail_keys: [] });
    expect(out.metadata.details).toEqual({});
  });

  it('never records a key that is itself sensitive', () => {
    const out = redact(testEvent({ metadata: { details: { 'bob@example.com': 1, '4111111111111111': 2 } } }));
    expect(out.metadata.redacted).toEqual(['metadata.details.*', 'metadata.details.*']);
  });

  it('scans large integers as digit strings', () => {
    const out = redact(testEvent({ metadata: { details: { country: 4111111111111111 } } }));
    expect(out.metadata.details.country).toBe('[REDACTED:payment_card]');
  });

  it.each([
    ['userEmail', 'user_email'],
    ['file-name', 'file_name'],
    ['HTTP.Body', 'http_body'],
  ])('folds %s to %s', (key, folded) => {
    expect(foldKey(key)).toBe(folded);
  });
});

describe('actor', () => {
  const ua =
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15';

  it('truncates the IP and normalises the user agent by default', () => {
    const out = redact(
      testEvent({ actor: { type: 'user', id: 'u-1', ip: '198.51.100.23', user_agent: ua } }),
    );
    expect(out.actor).toEqual({
      type: 'user',
      id: 'u-1',
      ip: '198.51.100.0',
      user_agent: 'Safari 17 (macOS)',
    });
    expect(out.metadata.redacted).toEqual(['actor.ip', 'actor.user_agent']);
  });

  it('pseudonymises with Crypto-PAn using the configured key', () => {
    const e = testEvent({ actor: { type: 'user', id: 'u-1', ip: '128.11.68.132' } });
    const out = redact(e, { ip: { mode: 'cryptopan', key: vectors.key_hex } });
    expect(out.actor.ip).toBe('135.242.180.132');
  });

  it('hashes or drops the IP', () => {
    const e = testEvent({ actor: { type: 'user', id: 'u-1', ip: '198.51.100.23' } });
    expect(redact(e, { ip: { mode: 'hmac' } }).actor.ip).toMatch(/^\[HMAC:ip:[0-9a-f]{32}\]$/);
    expect(redact(e, { ip: { mode: 'drop' } }).actor).toEqual({ type: 'user', id: 'u-1' });
  });

  it('masks a required field instead of dropping it', () => {
    const out = redact(testEvent({ actor: { type: 'user', id: 'bob@example.com' } }), {
      detectors: { email: 'drop' },
    });
    expect(out.actor.id).toBe('[REDACTED:email]');
  });

  it.each([
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
      'Chrome 120 (Windows)',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91',
      'Edge 120 (Windows)',
    ],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0', 'Firefox 121 (Linux)'],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
      'Safari 17 (iOS)',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
      'Chrome 120 (Android)',
    ],
    ['curl/8.5.0', 'curl 8'],
    ['my-app bob@example.com', 'Other'],
  ])('normalises %s', (input, expected) => {
    expect(normalizeUserAgent(input)).toBe(expected);
  });
});

describe('the processor', () => {
  it('redacts audit events too, and leaves the input untouched', () => {
    const e = testEvent({
      event_type: 'audit',
      entity: { type: 'user', id: 'alice@example.com' },
      result: 'success',
      reason: 'reset for +1 415 555 0132',
    });
    const before = structuredClone(e);
    const { out } = run([e]);
    expect(out.events[0]!.entity!.id).toMatch(/^\[HMAC:email:/);
    expect(out.events[0]!.reason).toBe('reset for [REDACTED:phone]');
    expect(e).toEqual(before);
  });

  it('returns clean events as they are', () => {
    const e = testEvent({ metadata: { details: { country: 'DE' } } });
    expect(run([e]).out.events[0]).toBe(e);
  });

  it('counts redactions by rule on the registry', async () => {
    const { settings } = run([
      testEvent({ reason: 'a@b.example and c@d.example', metadata: { details: { x: 1 } } }),
    ]);
    const text = await settings.telemetry.registry.metrics();
    expect(text).toContain('ledgerline_redaction_redacted_total{processor="redaction",rule="email"} 2');
    expect(text).toContain(
      'ledgerline_redaction_redacted_total{processor="redaction",rule="not_allowlisted"} 1',
    );
  });

  it('declares the redacts capability', () => {
    expect(redactionFactory.capabilities).toEqual({ redacts: true });
  });

  it('warns, without the key, when it has to generate one', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const settings = { ...testSettings('redaction'), logger: pino(sink) };
    createRedactor(settings, redactionConfigSchema.parse({ ip: { mode: 'cryptopan' } }), new Map());
    expect(lines.some((l) => l.includes('"field":"hmac_key"'))).toBe(true);
    expect(lines.some((l) => l.includes('"field":"ip.key"'))).toBe(true);
  });

  it('shares the generated key across instances, so pipelines of one process join', () => {
    const config = redactionConfigSchema.parse({});
    const e = testEvent({ actor: { type: 'user', id: 'carol@example.com' } });
    const a = createRedactor(testSettings('redaction'), config, new Map()).redact(e);
    const b = createRedactor(testSettings('redaction'), config, new Map()).redact(e);
    expect(a.actor.id).toMatch(/^\[HMAC:email:/);
    expect(b.actor.id).toBe(a.actor.id);
  });

  it('rejects malformed keys and custom patterns in the config', () => {
    expect(redactionConfigSchema.safeParse({ hmac_key: 'short' }).success).toBe(false);
    expect(redactionConfigSchema.safeParse({ ip: { key: 'nothex' } }).success).toBe(false);
    expect(redactionConfigSchema.safeParse({ custom_detectors: [{ name: 'x', pattern: '(' }] }).success).toBe(
      false,
    );
    expect(redactionConfigSchema.safeParse({ unknown: 1 }).success).toBe(false);
  });
});
