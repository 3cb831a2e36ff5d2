import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS, deadLetterRecord } from './dead-letter.ts';

describe('deadLetterRecord', () => {
  const message = {
    offset: '17',
    key: Buffer.from('acme'),
    value: Buffer.from('[1,2]'),
    headers: { authorization: Buffer.from('Bearer secret'), trace: Buffer.from('x') },
  };

  it('names the source and the reason, keeps other headers, drops the credential', () => {
    const r = deadLetterRecord(
      'kafka/in',
      { topic: 'events', partition: 3, message },
      { index: 1, code: 'invalid_event', message: 'actor: required', value: Buffer.from('2') },
      'authorization',
    );
    expect(r.key).toEqual(Buffer.from('acme'));
    expect(r.value).toEqual(Buffer.from('2'));
    expect(r.headers).toEqual({
      trace: Buffer.from('x'),
      [DLQ_HEADERS.topic]: 'events',
      [DLQ_HEADERS.partition]: '3',
      [DLQ_HEADERS.offset]: '17',
      [DLQ_HEADERS.index]: '1',
      [DLQ_HEADERS.code]: 'invalid_event',
      [DLQ_HEADERS.message]: 'actor: required',
      [DLQ_HEADERS.receiver]: 'kafka/in',
    });
  });

  it('dead-letters the record value itself when the whole record is refused', () => {
    const r = deadLetterRecord(
      'kafka',
      { topic: 'events', partition: 0, message },
      { index: undefined, code: 'unauthenticated', message: 'no', value: undefined },
      undefined,
    );
    expect(r.value).toEqual(Buffer.from('[1,2]'));
    expect(r.headers![DLQ_HEADERS.index]).toBeUndefined();
    expect(r.headers!.authorization).toEqual(Buffer.from('Bearer secret'));
  });
});
