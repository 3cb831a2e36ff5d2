import { SpanStatusCode } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTracesJson } from './json-signals.ts';
import { decodeTracesProto } from './proto-traces.ts';
import { normalise } from './testdata/sdk-records.ts';

/**
 * The span decoders on spans made by the OpenTelemetry SDK and serialized by
 * @opentelemetry/otlp-transformer: ids, times, status, events and links, and random
 * attribute sets (scalars and homogeneous arrays, which is what span attributes may hold).
 */

const spanAttributes = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 10 }).filter((k) => k !== '__proto__'),
  fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 10 }),
    fc.integer(),
    fc.boolean(),
    fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  ),
  { maxKeys: 6 },
);

async function spans(attrs: Record<string, unknown>[], status: SpanStatusCode) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'api' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('t', '1');
  for (const a of attrs) {
    const span = tracer.startSpan('GET /users', {
      attributes: a as never,
      startTime: [1_700_000_000, 100_000],
    });
    span.addEvent('e1');
    span.setStatus({ code: status, message: status === SpanStatusCode.ERROR ? 'boom' : '' });
    span.end([1_700_000_000, 2_600_000]);
  }
  await provider.forceFlush();
  const finished = exporter.getFinishedSpans();
  await provider.shutdown();
  return finished;
}

describe('span decoders', () => {
  it('decode SDK spans the same from protobuf and JSON, with random attributes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(spanAttributes, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(SpanStatusCode.OK, SpanStatusCode.ERROR, SpanStatusCode.UNSET),
        async (attrs, code) => {
          const sent = await spans(attrs, code);
          const pb = Buffer.from(ProtobufTraceSerializer.serializeRequest(sent)!);
          const json = Buffer.from(JsonTraceSerializer.serializeRequest(sent)!);
          for (const decoded of [decodeTracesProto(pb), decodeTracesJson(json)]) {
            expect(decoded).toHaveLength(sent.length);
            for (let i = 0; i < sent.length; i++) {
              const d = decoded[i]!;
              const s = sent[i]!;
              expect(normalise(d.attributes)).toEqual(normalise(s.attributes as never));
              expect(d.traceId).toBe(s.spanContext().traceId);
              expect(d.spanId).toBe(s.spanContext().spanId);
              expect(d.name).toBe('GET /users');
              expect(d.kind).toBe(1);
              expect([d.startMs, d.startSubNs, d.endMs, d.endSubNs]).toEqual([
                1_700_000_000_000, 100_000, 1_700_000_000_002, 600_000,
              ]);
              expect(d.statusCode).toBe(code);
              expect(d.statusMessage).toBe(code === SpanStatusCode.ERROR ? 'boom' : '');
              expect(d.eventCount).toBe(1);
              expect(d.origin.resource['service.name']).toBe('api');
            }
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('accepts base64 ids in JSON (plain protobuf JSON mapping) and names for enums', () => {
    const body = {
      resource_spans: [
        {
          scope_spans: [
            {
              spans: [
                {
                  trace_id: Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex').toString('base64'),
                  span_id: Buffer.from('0102030405060708', 'hex').toString('base64'),
                  name: 's',
                  kind: 'SPAN_KIND_SERVER',
                  status: { code: 'STATUS_CODE_ERROR' },
                },
              ],
            },
          ],
        },
      ],
    };
    const [s] = decodeTracesJson(Buffer.from(JSON.stringify(body)));
    expect(s).toMatchObject({
      traceId: '0102030405060708090a0b0c0d0e0f10',
      spanId: '0102030405060708',
      kind: 2,
      statusCode: 2,
    });
  });
});
