import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { testEvent } from '../../pipeline/testing.ts';
import { encodeEventAsOtlpLogs } from './otlp-encode.ts';

// Decoded with protobufjs from the field numbers of opentelemetry-proto's logs.proto, so the
// encoder is checked against a second reading of the schema, not against itself.
const root = protobuf.Root.fromJSON({
  nested: {
    AnyValue: { fields: { stringValue: { type: 'string', id: 1 }, intValue: { type: 'int64', id: 3 } } },
    KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
    Resource: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
    InstrumentationScope: { fields: { name: { type: 'string', id: 1 }, version: { type: 'string', id: 2 } } },
    LogRecord: {
      fields: {
        timeUnixNano: { type: 'fixed64', id: 1 },
        severityNumber: { type: 'int32', id: 2 },
        body: { type: 'AnyValue', id: 5 },
        attributes: { rule: 'repeated', type: 'KeyValue', id: 6 },
        traceId: { type: 'bytes', id: 9 },
        observedTimeUnixNano: { type: 'fixed64', id: 11 },
        eventName: { type: 'string', id: 12 },
      },
    },
    ScopeLogs: {
      fields: {
        scope: { type: 'InstrumentationScope', id: 1 },
        logRecords: { rule: 'repeated', type: 'LogRecord', id: 2 },
      },
    },
    ResourceLogs: {
      fields: {
        resource: { type: 'Resource', id: 1 },
        scopeLogs: { rule: 'repeated', type: 'ScopeLogs', id: 2 },
      },
    },
    ExportLogsServiceRequest: { fields: { resourceLogs: { rule: 'repeated', type: 'ResourceLogs', id: 1 } } },
  },
});
const Request = root.lookupType('ExportLogsServiceRequest');

describe('encodeEventAsOtlpLogs', () => {
  it('writes one log record carrying the envelope, its time, name and routing attributes', () => {
    const event = testEvent({ occurred_at: '2026-05-06T07:08:09.123Z', tenant: { id: 'globex' } });
    const json = JSON.stringify(event);
    const decoded = Request.toObject(Request.decode(encodeEventAsOtlpLogs(event, json)), {
      longs: String,
    }) as any;
    expect(decoded.resourceLogs).toHaveLength(1);
    const scopeLogs = decoded.resourceLogs[0].scopeLogs;
    expect(scopeLogs[0].scope.name).toBe('ledgerline');
    const [record] = scopeLogs[0].logRecords;
    expect(scopeLogs[0].logRecords).toHaveLength(1);
    expect(record.timeUnixNano).toBe(String(Date.parse('2026-05-06T07:08:09.123Z') * 1_000_000));
    expect(record.observedTimeUnixNano).toBe(String(Date.parse(event.recorded_at) * 1_000_000));
    expect(record.eventName).toBe(event.action);
    expect(record.body.stringValue).toBe(json);
    expect(record.attributes).toEqual([
      { key: 'tenant.id', value: { stringValue: 'globex' } },
      { key: 'ledgerline.event_type', value: { stringValue: 'activity' } },
    ]);
  });

  it('handles bodies longer than one varint byte of length', () => {
    const event = testEvent({ metadata: { details: { text: 'x'.repeat(70_000) } } });
    const json = JSON.stringify(event);
    const decoded = Request.toObject(Request.decode(encodeEventAsOtlpLogs(event, json))) as any;
    expect(decoded.resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue).toBe(json);
  });
});
