import { gzipSync } from 'node:zlib';
import { status as grpcStatus } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcExport } from './testdata/grpc-client.ts';
import {
  deepBodyRecord,
  deepJsonRequest,
  emptyRecordsRequest,
  field,
  logRecord,
  logsRequest,
  stringAttribute,
  tag,
  validRecordFields,
} from './testdata/raw-requests.ts';
import {
  decodeStatus,
  GOOD,
  type ScriptedConsumer,
  startTestReceiver,
  type TestReceiver,
} from './testdata/test-receiver.ts';

/**
 * Bad input over real sockets, each answered with the right status and a clear message, and
 * the server still serving a good request afterwards: truncated protobuf, wrong wire types,
 * invalid UTF-8, 10,000-deep nesting, oversized bodies, a gzip bomb, wrong content type,
 * missing and foreign tokens; unknown fields are ignored as protobuf requires.
 */

let t: TestReceiver;
let post: TestReceiver['post'];
let grpcUrl = '';
let consumer: ScriptedConsumer;
const expectStillServing = () => t.expectStillServing();

beforeAll(async () => {
  t = await startTestReceiver();
  ({ post, grpcUrl, consumer } = t);
});
afterAll(() => t.stop());

describe('OTLP/HTTP bad input', () => {
  const bad: [name: string, send: () => ReturnType<typeof post>, status: number, message: RegExp][] = [
    [
      'truncated protobuf',
      () => post('/v1/logs', GOOD.subarray(0, GOOD.length - 3)),
      400,
      /malformed OTLP protobuf: truncated/,
    ],
    [
      'a known field with the wrong wire type',
      () => post('/v1/logs', logsRequest(logRecord(...validRecordFields(), Buffer.from([tag(1, 0), 5])))),
      400,
      /LogRecord.time_unix_nano has wire type varint, expected fixed64/,
    ],
    [
      'invalid UTF-8 in a string field',
      () =>
        post(
          '/v1/logs',
          logsRequest(
            logRecord(
              ...validRecordFields(),
              field(
                6,
                stringAttribute(
                  'k',
                  Buffer.from([
                    0x61, 0xff, 0xfe, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
                    0x6e, 0x6f,
                  ]),
                ),
              ),
            ),
          ),
        ),
      400,
      /invalid UTF-8 in string field AnyValue.string_value/,
    ],
    [
      'invalid UTF-8 in a short key',
      () =>
        post(
          '/v1/logs',
          logsRequest(logRecord(...validRecordFields(), field(6, stringAttribute(Buffer.from([0xc3]), 'v')))),
        ),
      400,
      /invalid UTF-8 in string field KeyValue.key/,
    ],
    [
      'invalid UTF-8 in a JSON body',
      () => post('/v1/logs', Buffer.from([0x7b, 0xff, 0x7d]), { 'content-type': 'application/json' }),
      400,
      /not valid UTF-8/,
    ],
    [
      '10,000-deep nesting (protobuf)',
      () => post('/v1/logs', logsRequest(deepBodyRecord(10_000))),
      400,
      /nested deeper than 64 levels/,
    ],
    [
      '10,000-deep nesting (JSON)',
      () => post('/v1/logs', deepJsonRequest(10_000), { 'content-type': 'application/json' }),
      400,
      /nested deeper than 64 levels/,
    ],
    [
      'JSON with a wrong field type',
      () =>
        post('/v1/logs', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":{}}]}]}]}', {
          'content-type': 'application/json',
        }),
      400,
      /timeUnixNano must be nanoseconds/,
    ],
    [
      'not JSON',
      () => post('/v1/logs', '{nope', { 'content-type': 'application/json' }),
      400,
      /the body is not JSON/,
    ],
    [
      'a body over the limit',
      () => post('/v1/logs', Buffer.alloc(2 * 1024 * 1024)),
      413,
      /the limit is 1048576/,
    ],
    [
      'a gzip bomb (64 MiB of zeros in 64 KiB)',
      () => post('/v1/logs', gzipSync(Buffer.alloc(64 * 1024 * 1024)), { 'content-encoding': 'gzip' }),
      413,
      /after decompression/,
    ],
    [
      '200,000 empty log records in 400 KB (memory, not bytes, is the limit)',
      () => post('/v1/logs', emptyRecordsRequest(200_000)),
      413,
      /more than 100000 records; send smaller batches/,
    ],
    [
      '100,001 empty JSON log records',
      () =>
        post('/v1/logs', `{"resourceLogs":[{"scopeLogs":[{"logRecords":[${'{},'.repeat(100_000)}{}]}]}]}`, {
          'content-type': 'application/json',
        }),
      413,
      /more than 100000 records/,
    ],
    [
      'a wrong content type',
      () => post('/v1/logs', 'x', { 'content-type': 'text/plain' }),
      415,
      /application\/x-protobuf or application\/json/,
    ],
    ['no token', () => post('/v1/logs', GOOD, {}, null), 401, /bearer token/],
    ['an unknown token', () => post('/v1/logs', GOOD, {}, 'stolen-token'), 401, /bearer token/],
  ];
  for (const [name, send, status, message] of bad) {
    it(`refuses ${name} with ${status} and a clear message, and keeps serving`, async () => {
      const res = await send();
      expect(res.status).toBe(status);
      const text =
        res.headers.get('content-type') === 'application/json'
          ? JSON.parse(res.body.toString()).message
          : decodeStatus(res.body).message;
      expect(text).toMatch(message);
      await expectStillServing();
    });
  }

  it('ignores unknown fields of every wire type (protobuf rules)', async () => {
    consumer.batches = [];
    const w = protobuf.Writer.create();
    w.uint32(tag(13, 0)).uint32(1);
    w.uint32(tag(14, 1)).fixed64(0);
    w.uint32(tag(15, 5)).fixed32(0);
    w.uint32(tag(100, 2)).string('ignored');
    w.uint32(tag(20, 3)).uint32(tag(1, 0)).uint32(7).uint32(tag(20, 4));
    const res = await post(
      '/v1/logs',
      logsRequest(logRecord(...validRecordFields(), Buffer.from(w.finish()))),
    );
    expect(res.status).toBe(200);
    expect(consumer.batches[0]!.events).toHaveLength(1);
  });
});

describe('OTLP/gRPC bad input', () => {
  it('answers UNAUTHENTICATED without or with a foreign token', async () => {
    expect((await grpcExport(grpcUrl, 'logs', GOOD)).error?.code).toBe(grpcStatus.UNAUTHENTICATED);
    expect((await grpcExport(grpcUrl, 'logs', GOOD, 'nope')).error?.code).toBe(grpcStatus.UNAUTHENTICATED);
  });

  it('answers INVALID_ARGUMENT to undecodable input and keeps serving', async () => {
    const truncated = await grpcExport(grpcUrl, 'logs', GOOD.subarray(0, 5), 'acme-token');
    expect(truncated.error?.code).toBe(grpcStatus.INVALID_ARGUMENT);
    expect(truncated.error?.details).toMatch(/truncated/);
    const deep = await grpcExport(grpcUrl, 'logs', logsRequest(deepBodyRecord(10_000)), 'acme-token');
    expect(deep.error?.details).toMatch(/nested deeper than 64 levels/);
    await expectStillServing();
  });

  it('refuses messages over max_recv_msg_size_mib, also when compressed', async () => {
    const big = logsRequest(
      logRecord(...validRecordFields(), field(6, stringAttribute('k', 'x'.repeat(2 * 1024 * 1024)))),
    );
    expect((await grpcExport(grpcUrl, 'logs', big, 'acme-token')).error?.code).toBe(
      grpcStatus.RESOURCE_EXHAUSTED,
    );
    expect((await grpcExport(grpcUrl, 'logs', big, 'acme-token', 'gzip')).error?.code).toBe(
      grpcStatus.RESOURCE_EXHAUSTED,
    );
    await expectStillServing();
  });
});
