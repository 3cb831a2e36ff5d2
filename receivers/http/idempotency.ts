import { hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { PipelineError } from '../../pipeline/errors.ts';

/**
 * `Idempotency-Key` (IETF draft-ietf-httpapi-idempotency-key-header): a client that retries a
 * request sends the same key, so that events it sent without an `event_id` get the same ids on
 * every attempt, and every sink recognises the retry as a replay (sinks are idempotent on
 * `event_id`). Without it, each attempt would mint fresh uuid v7s and a retry after a
 * retryable answer could store an event twice.
 *
 * The id is derived, not remembered: SHA-256 over the caller's tenant, the key, the event's
 * position in the request and the event as sent, shaped as an RFC 9562 version 8 UUID. Same
 * key and same event → same id (a replay); the key reused for a different event → another id,
 * so a client that reuses keys by mistake loses nothing. Nothing is stored, so any ledgerline
 * process behind a load balancer derives the same ids.
 */

/** Longest key accepted: the draft leaves it open; Stripe and others take 255. */
const MAX_KEY = 255;
// Visible ASCII only: the key is hashed, never logged or echoed.
const KEY = /^[\x21-\x7e]+$/;

/**
 * The key of a request, if it sent one. The draft's form is a Structured Field string
 * (`"8e03978e-40d5-43e8-bc93-6894a57f9324"`); a bare token is taken as well, as clients send both.
 */
export function idempotencyKey(headers: IncomingHttpHeaders): string | undefined {
  const raw = headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  const quoted = value.length >= 2 && value.startsWith('"') && value.endsWith('"');
  const key = quoted ? value.slice(1, -1) : value.trim();
  if (key.length === 0 || key.length > MAX_KEY || !KEY.test(key) || (quoted && /["\\]/.test(key))) {
    throw new PipelineError(
      'invalid_request',
      `the Idempotency-Key header must be 1..${MAX_KEY} visible ASCII characters, optionally in double quotes`,
    );
  }
  return key;
}

/** The event id of the `index`-th event of a request sent with `key` by `tenant`. */
export function derivedEventId(tenant: string, key: string, index: number, event: unknown): string {
  const digest = hash(
    'sha256',
    `${tenant}\u0000${key}\u0000${index}\u0000${JSON.stringify(event)}`,
    'buffer',
  );
  digest[6] = (digest[6]! & 0x0f) | 0x80; // version 8
  digest[8] = (digest[8]! & 0x3f) | 0x80; // variant 10
  const h = digest.toString('hex', 0, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The event as sent, with a derived `event_id` when the request has a key and the event has
 * no id of its own. Anything that is not an object is left for validation to refuse.
 */
export function withDerivedId(
  item: unknown,
  tenant: string,
  key: string | undefined,
  index: number,
): unknown {
  if (key === undefined || typeof item !== 'object' || item === null || Array.isArray(item)) return item;
  if ((item as { event_id?: unknown }).event_id !== undefined) return item;
  return { event_id: derivedEventId(tenant, key, index, item), ...item };
}
