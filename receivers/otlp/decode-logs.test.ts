import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLogsJson } from './json-signals.ts';
import type { LogRecord } from './model.ts';
import { decodeLogsProto } from './proto-logs.ts';
import { hrTimeMs, logRecords, normalise, type SdkLogRecord } from './testdata/sdk-records.ts';

/**
 * Property tests of the log decoders against the OpenTelemetry SDK's own serializers: random
 * attribute trees and records, encoded as protobuf and as OTLP/JSON by
 * @opentelemetry/otlp-transformer, decode to the values that went in.
 */

function serialize(records: SdkLogRecord[], encoding: 'protobuf' | 'json'): Buffer {
  const serializer = encoding === 'protobuf' ? ProtobufLogsSerializer : JsonLogsSerializer;
  return Buffer.from(serializer.serializeRequest(records as never)!);
}

function expectSame(decoded: LogRecord[], sent: SdkLogRecord[]): void {
  expect(decoded).toHaveLength(sent.length);
  for (let i = 0; i < sent.length; i++) {
    const d = decoded[i]!;
    const s = sent[i]!;
    expect(normalise(d.attributes)).toEqual(normalise(s.attributes));
    expect(normalise(d.body)).toEqual(normalise(s.body));
    expect(normalise(d.origin.resource)).toEqual(normalise(s.resource.attributes as never));
    expect(d.origin.scope.name).toBe(s.instrumentationScope.name);
    expect(d.timeMs).toBe(hrTimeMs(s.hrTime));
    expect(d.observedTimeMs).toBe(hrTimeMs(s.hrTimeObserved));
    expect(d.severityNumber).toBe(s.severityNumber ?? 0);
    expect(d.severityText).toBe(s.severityText ?? '');
    expect(d.eventName).toBe(s.eventName ?? '');
    expect(d.traceId).toBe(s.spanContext?.traceId ?? '');
    expect(d.spanId).toBe(s.spanContext?.spanId ?? '');
  }
}

describe('log decoders against the SDK serializers', () => {
  it('protobuf: random records decode to the values sent', () => {
    fc.assert(
      fc.property(logRecords, (records) =>
        expectSame(decodeLogsProto(serialize(records, 'protobuf')), records),
      ),
      { numRuns: 300 },
    );
  });

  it('OTLP/JSON: random records decode to the values sent', () => {
    fc.assert(
      fc.property(logRecords, (records) => expectSame(decodeLogsJson(serialize(records, 'json')), records)),
      { numRuns: 300 },
    );
  });

  it('protobuf and JSON decode the same request to the same records', () => {
    fc.assert(
      fc.property(logRecords, (records) => {
        const a = decodeLogsProto(serialize(records, 'protobuf'));
        const b = decodeLogsJson(serialize(records, 'json'));
        expect(a.map((r) => normalise(r.attributes))).toEqual(b.map((r) => normalise(r.attributes)));
      }),
      { numRuns: 100 },
    );
  });

  it('keeps int64 values past 2^53 exact (as bigint) and negative integers', () => {
    const [rec] = fc.sample(logRecords, { numRuns: 1, seed: 1 })[0]!;
    const sent = {
      ...rec!,
      attributes: { big: 2 ** 60, neg: -5, min: -(2 ** 63), minSafe: Number.MIN_SAFE_INTEGER },
    };
    const [d] = decodeLogsProto(serialize([sent], 'protobuf'));
    expect(d!.attributes.big).toBe(2n ** 60n);
    expect(d!.attributes.neg).toBe(-5);
    expect(d!.attributes.min).toBe(-(2n ** 63n));
    expect(d!.attributes.minSafe).toBe(Number.MIN_SAFE_INTEGER);
  });
});
