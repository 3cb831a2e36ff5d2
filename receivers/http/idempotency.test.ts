import { describe, expect, it } from 'vitest';
import { PipelineError } from '../../pipeline/errors.ts';
import { parseEvent } from '../../pipeline/event.ts';
import { derivedEventId, idempotencyKey, withDerivedId } from './idempotency.ts';

describe('Idempotency-Key', () => {
  it('reads the draft’s quoted form and a bare token, and no header as none', () => {
    expect(idempotencyKey({ 'idempotency-key': '"8e03978e-40d5-43e8-bc93-6894a57f9324"' })).toBe(
      '8e03978e-40d5-43e8-bc93-6894a57f9324',
    );
    expect(idempotencyKey({ 'idempotency-key': 'retry-7' })).toBe('retry-7');
    expect(idempotencyKey({})).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['empty quotes', '""'],
    ['a space inside', 'two words'],
    ['non-ASCII', 'clé'],
    ['too long', 'k'.repeat(256)],
    ['a quote inside a quoted key', '"a"b"'],
  ])('refuses a key that is %s, naming the header', (_name, value) => {
    let err: unknown;
    try {
      idempotencyKey({ 'idempotency-key': value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PipelineError);
    expect((err as PipelineError).code).toBe('invalid_request');
    expect((err as Error).message).toMatch(/Idempotency-Key/);
  });

  it('derives the same valid version 8 uuid for the same tenant, key, position and event', () => {
    const event = { event_type: 'activity', action: 'x' };
    const id = derivedEventId('acme', 'k1', 0, event);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedEventId('acme', 'k1', 0, { ...event })).toBe(id);
    // Anything else that differs gives another id: a reused key never swallows another event.
    const others = [
      derivedEventId('globex', 'k1', 0, event),
      derivedEventId('acme', 'k2', 0, event),
      derivedEventId('acme', 'k1', 1, event),
      derivedEventId('acme', 'k1', 0, { ...event, action: 'y' }),
    ];
    expect(new Set([id, ...others]).size).toBe(5);
  });

  it('fills only a missing event_id, and the envelope accepts it', () => {
    const input = {
      event_type: 'activity',
      actor: { type: 'user', id: 'u-1' },
      tenant: { id: 'acme' },
      action: 'dashboard_viewed',
    };
    const filled = withDerivedId(input, 'acme', 'k1', 3) as { event_id: string };
    expect(filled.event_id).toBe(derivedEventId('acme', 'k1', 3, input));
    const parsed = parseEvent(filled);
    expect(parsed.ok && parsed.event.event_id).toBe(filled.event_id);
    const own = { ...input, event_id: '0190b2a4-8f4e-7c1a-9d2b-3c4d5e6f7a8b' };
    expect(withDerivedId(own, 'acme', 'k1', 3)).toBe(own);
    expect(withDerivedId(input, 'acme', undefined, 3)).toBe(input);
    expect(withDerivedId('not an event', 'acme', 'k1', 0)).toBe('not an event');
  });
});
