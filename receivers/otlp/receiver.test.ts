import { gzipSync, zstdCompressSync } from 'node:zlib';
import { status as grpcStatus } from '@grpc/grpc-js';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineError } from '../../pipeline/errors.ts';
import { grpcExport } from './testdata/grpc-client.ts';
import { logRecord, logsRequest, stringField, validRecordFields } from './testdata/raw-requests.ts';
import {
  decodeStatus,
  GOOD,
  type ScriptedConsumer,
  startTestReceiver,
  type TestReceiver,
} from './testdata/test-receiver.ts';

/**
 * The receiver over real sockets (HTTP and gRPC on free ports) with a consumer standing in for
 * the pipelines: answers per the OTLP spec for accepted, partially rejected and refused
 * requests, and under pressure. Hostile input is in bad-input.test.ts.
 */

let t: TestReceiver;
let post: TestReceiver['post'];
let grpcUrl = '';
let httpUrl = '';
let consumer: ScriptedConsumer;
const expectStillServing = () => t.expectStillServing();

beforeAll(async () => {
  t = await startTestReceiver();
  ({ post, grpcUrl, httpUrl, consumer } = t);
});
afterAll(() => t.stop());

describe('OTLP/HTTP', () => {
  it('accepts protobuf with an empty protobuf answer, and hands the batch on with the caller', async () => {
    consumer.batches = [];
    const res = await post('/v1/logs', GOOD);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect(res.body.length).toBe(0);
    const [batch] = consumer.batches;
    expect(batch!.source).toEqual({ receiver: 'otlp/test', transport: 'http' });
    expect(batch!.auth.tenantId).toBe('acme');
    expect(batch!.events[0]).toMatchObject({
      action: 'doc_viewed',
      tenant: { id: 'acme' },
      actor: { id: 'u-1' },
    });
  });

  it('accepts JSON with `{}`, and gzip and zstd bodies', async () => {
    const json = JSON.stringify({
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                { eventName: 'doc_viewed', attributes: [{ key: 'enduser.id', value: { stringValue: 'u' } }] },
              ],
            },
          ],
        },
      ],
    });
    const res = await post('/v1/logs', json, { 'content-type': 'application/json; charset=utf-8' });
    expect([res.status, res.headers.get('content-type'), res.body.toString()]).toEqual([
      200,
      'application/json',
      '{}',
    ]);
    expect((await post('/v1/logs', gzipSync(GOOD), { 'content-encoding': 'gzip' })).status).toBe(200);
    expect((await post('/v1/logs', zstdCompressSync(GOOD), { 'content-encoding': 'zstd' })).status).toBe(200);
  });

  it('answers partial success naming the reasons, in protobuf and in JSON, counting downstream rejections', async () => {
    consumer.behaviour = (b) =>
      b.report.reject(b.events[0]!, 'tenant_rejected', 'tenant globex is not yours');
    const body = logsRequest(
      logRecord(...validRecordFields()),
      logRecord(...validRecordFields()),
      logRecord(stringField(3, 'INFO')),
    );
    const res = await post('/v1/logs', body);
    expect(res.status).toBe(200);
    const answer = ProtobufLogsSerializer.deserializeResponse(res.body);
    expect(Number(answer.partialSuccess?.rejectedLogRecords)).toBe(2);
    expect(answer.partialSuccess?.errorMessage).toMatch(
      /^2 of 3 log records rejected: log record 2: no action.*; event .*: tenant_rejected: tenant globex is not yours$/,
    );

    const json = JSON.stringify({
      resourceLogs: [
        {
          scopeLogs: [
            { logRecords: [{ eventName: 'Bad Name!', body: { stringValue: '{"action":"x","actor":5}' } }] },
          ],
        },
      ],
    });
    const jres = await post('/v1/logs', json, { 'content-type': 'application/json' });
    const janswer = JsonLogsSerializer.deserializeResponse(jres.body) as unknown as {
      partialSuccess: { rejectedLogRecords: string; errorMessage: string };
    };
    expect(janswer.partialSuccess.rejectedLogRecords).toBe('1');
    expect(janswer.partialSuccess.errorMessage).toMatch(/log record 0: actor: /);
  });

  it('answers pressure with 429/503 and Retry-After', async () => {
    consumer.behaviour = () => {
      throw new PipelineError('queue_full', 'the file exporter queue is full', { retryAfter: 2 });
    };
    const full = await post('/v1/logs', GOOD);
    expect([full.status, full.headers.get('retry-after')]).toEqual([429, '2']);
    expect(decodeStatus(full.body)).toEqual({
      code: grpcStatus.RESOURCE_EXHAUSTED,
      message: 'the file exporter queue is full',
    });
    consumer.behaviour = () => {
      throw new PipelineError('shutting_down');
    };
    const json = JSON.stringify({
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                { eventName: 'e', attributes: [{ key: 'enduser.id', value: { stringValue: 'u' } }] },
              ],
            },
          ],
        },
      ],
    });
    const down = await post('/v1/logs', json, { 'content-type': 'application/json' });
    expect([down.status, down.headers.get('retry-after')]).toEqual([503, '1']);
    expect(JSON.parse(down.body.toString())).toMatchObject({
      code: grpcStatus.UNAVAILABLE,
      details: [{ retryDelay: '1s' }],
    });
    await expectStillServing();
  });

  it('answers 405 to other methods and 404 to other paths', async () => {
    expect(
      (await fetch(`${httpUrl}/v1/logs`, { headers: { authorization: 'Bearer acme-token' } })).status,
    ).toBe(405);
    expect((await post('/v1/profiles', GOOD)).status).toBe(404);
  });
});

describe('OTLP/gRPC', () => {
  it('accepts an Export with an empty answer and hands the batch on as transport grpc', async () => {
    consumer.behaviour = () => {};
    consumer.batches = [];
    const { error, response } = await grpcExport(grpcUrl, 'logs', GOOD, 'acme-token');
    expect(error).toBeNull();
    expect(response!.length).toBe(0);
    expect(consumer.batches[0]!.source).toEqual({ receiver: 'otlp/test', transport: 'grpc' });
  });

  it('answers partial success for invalid records', async () => {
    const { response } = await grpcExport(
      grpcUrl,
      'logs',
      logsRequest(logRecord(...validRecordFields()), logRecord(stringField(3, 'x'))),
      'acme-token',
    );
    const answer = ProtobufLogsSerializer.deserializeResponse(response!);
    expect(Number(answer.partialSuccess?.rejectedLogRecords)).toBe(1);
    expect(answer.partialSuccess?.errorMessage).toMatch(/log record 1: no action/);
  });

  it('answers pressure with RESOURCE_EXHAUSTED/UNAVAILABLE and RetryInfo', async () => {
    consumer.behaviour = () => {
      throw new PipelineError('queue_full', 'full', { retryAfter: 3 });
    };
    const full = await grpcExport(grpcUrl, 'logs', GOOD, 'acme-token');
    expect(full.error?.code).toBe(grpcStatus.RESOURCE_EXHAUSTED);
    const details = full.error!.metadata.get('grpc-status-details-bin')[0] as Buffer;
    expect(details.toString('latin1')).toContain('type.googleapis.com/google.rpc.RetryInfo');
    consumer.behaviour = () => {
      throw new PipelineError('exporter_unavailable');
    };
    expect((await grpcExport(grpcUrl, 'logs', GOOD, 'acme-token')).error?.code).toBe(grpcStatus.UNAVAILABLE);
    await expectStillServing();
  });
});
