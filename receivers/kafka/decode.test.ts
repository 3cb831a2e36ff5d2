import { describe, expect, it } from 'vitest';
import { encodeEventAsOtlpLogs } from '../../exporters/kafka/otlp-encode.ts';
import { testAuth, testEvent } from '../../pipeline/testing.ts';
import { decodeJsonRecord, recordEventId } from './decode.ts';
import { decodeOtlpRecord } from './decode-otlp.ts';

const pos = { topic: 't', partition: 2, offset: '41' };
const now = new Date('2026-03-04T05:06:07.000Z');
const envelope = {
  event_type: 'activity',
  actor: { type: 'user', id: 'u-1' },
  tenant: { id: 'acme' },
  action: 'dashboard_viewed',
};
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('decodeJsonRecord', () => {
  it('takes one envelope and derives a stable event id from the record position', () => {
    const a = decodeJsonRecord(json(envelope), pos, now, 10);
    const b = decodeJsonRecord(json(envelope), pos, new Date(), 10);
    expect(a.refusals).toEqual([]);
    expect(a.layout).toBe('single');
    expect(a.events[0]!.event_id).toBe(recordEventId(pos, 0));
    expect(b.events[0]!.event_id).toBe(a.events[0]!.event_id);
    expect(a.events[0]!.event_id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(recordEventId({ ...pos, offset: '42' }, 0)).not.toBe(a.events[0]!.event_id);
    expect(a.events[0]!.recorded_at).toBe(now.toISOString());
  });

  it('keeps recorded_at only for records a gateway wrote', () => {
    const given = { ...envelope, recorded_at: '2026-01-01T00:00:00Z' };
    expect(decodeJsonRecord(json(given), pos, now, 10).events[0]!.recorded_at).toBe(now.toISOString());
    expect(decodeJsonRecord(json(given), pos, now, 10, true).events[0]!.recorded_at).toBe(
      '2026-01-01T00:00:00.000Z',
    );
    expect(decodeJsonRecord(json(envelope), pos, now, 10, true).events[0]!.recorded_at).toBe(
      now.toISOString(),
    );
  });

  it('keeps an event id the producer gave', () => {
    const id = '0192e4a0-0000-7000-8000-000000000001';
    expect(decodeJsonRecord(json({ ...envelope, event_id: id }), pos, now, 10).events[0]!.event_id).toBe(id);
  });

  it('refuses one bad element of an array and keeps the others', () => {
    const bad = { ...envelope, action: 'Not Snake' };
    const d = decodeJsonRecord(json([envelope, bad, envelope]), pos, now, 10);
    expect(d.layout).toBe('json_array');
    expect(d.events.map((e) => e.event_id)).toEqual([recordEventId(pos, 0), recordEventId(pos, 2)]);
    expect(d.indexes).toEqual([0, 2]);
    expect(d.refusals).toHaveLength(1);
    expect(d.refusals[0]!.index).toBe(1);
    expect(d.refusals[0]!.code).toBe('invalid_event');
    expect(d.refusals[0]!.message).toContain('action');
    // The dead-letter value is the element as the producer wrote it (no derived id added).
    expect(JSON.parse(d.refusals[0]!.value!.toString())).toEqual(bad);
  });

  it.each([
    ['no value', null, 'invalid_request', 'no value'],
    ['not JSON', Buffer.from('{nope'), 'invalid_request', 'not valid JSON'],
    ['an empty array', json([]), 'invalid_request', 'no events'],
    ['too many events', json([envelope, envelope, envelope]), 'payload_too_large', 'limit is 2'],
  ])('refuses a record with %s as a whole', (_what, value, code, message) => {
    const d = decodeJsonRecord(value as Buffer | null, pos, now, 2);
    expect(d.events).toEqual([]);
    expect(d.refusals).toEqual([
      { index: undefined, code, message: expect.stringContaining(message), value: undefined },
    ]);
  });

  it('refuses a single invalid envelope as a whole record', () => {
    const d = decodeJsonRecord(json({ ...envelope, actor: undefined }), pos, now, 10);
    expect(d.refusals).toEqual([
      {
        index: undefined,
        code: 'invalid_event',
        message: expect.stringContaining('actor'),
        value: undefined,
      },
    ]);
  });
});

describe('decodeOtlpRecord', () => {
  it('reads back what the kafka exporter encodes, keeping the event id', () => {
    const e = testEvent({ usage: { feature: 'sql', count: 3 } });
    const value = encodeEventAsOtlpLogs(e, JSON.stringify(e));
    const d = decodeOtlpRecord('proto', value, pos, now, testAuth(), 10);
    expect(d.refusals).toEqual([]);
    expect(d.layout).toBe('otlp');
    const { recorded_at: _a, ...got } = d.events[0]!;
    const { recorded_at: _b, ...want } = e;
    expect(got).toEqual(want);
  });

  it('derives ids for records that name none, and refuses records that are not events', () => {
    const request = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'billing' } }] },
          scopeLogs: [
            {
              logRecords: [
                { eventName: 'invoice_sent', timeUnixNano: '1767000000000000000' },
                { timeUnixNano: '1767000000000000000' },
              ],
            },
          ],
        },
      ],
    };
    const d = decodeOtlpRecord('json', json(request), pos, now, testAuth('globex'), 10);
    expect(d.events).toHaveLength(1);
    expect(d.events[0]!.event_id).toBe(recordEventId(pos, 0));
    expect(d.events[0]!.tenant.id).toBe('globex');
    expect(d.events[0]!.actor).toEqual({ type: 'service', id: 'billing' });
    expect(d.refusals).toEqual([
      { index: 1, code: 'invalid_event', message: expect.stringContaining('no action'), value: undefined },
    ]);
  });

  it('refuses malformed protobuf as a whole record', () => {
    const d = decodeOtlpRecord('proto', Buffer.from([0x0a, 0xff]), pos, now, testAuth(), 10);
    expect(d.refusals[0]).toMatchObject({ index: undefined, code: 'invalid_request' });
  });
});
