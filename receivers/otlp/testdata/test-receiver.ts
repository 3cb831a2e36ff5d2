import protobuf from 'protobufjs';
import { expect } from 'vitest';
import type { Consumer, EventBatch } from '../../../pipeline/component.ts';
import { testHost, testSettings } from '../../../pipeline/testing.ts';
import { otlpConfigSchema } from '../config.ts';
import { OtlpReceiver } from '../receiver.ts';
import { grpcExport } from './grpc-client.ts';
import { logRecord, logsRequest, tag, validRecordFields } from './raw-requests.ts';

/**
 * An OTLP receiver on free ports (HTTP body limit 1 MiB, gRPC message limit 1 MiB) with a
 * consumer whose behaviour each test sets, and the helpers the transport tests share.
 */

/** A consumer that records batches and does what the test says (reject, throw). */
export class ScriptedConsumer implements Consumer {
  batches: EventBatch[] = [];
  behaviour: (batch: EventBatch) => void = () => {};
  async consume(batch: EventBatch): Promise<void> {
    this.batches.push(batch);
    this.behaviour(batch);
  }
}

/** An HTTP answer, body read. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** A valid one-record ExportLogsServiceRequest. */
export const GOOD = logsRequest(logRecord(...validRecordFields()));

/** A started receiver and how to talk to it. */
export interface TestReceiver {
  consumer: ScriptedConsumer;
  httpUrl: string;
  grpcUrl: string;
  /** POSTs to the HTTP port as `acme-token` (null: no Authorization), protobuf unless told. */
  post(
    path: string,
    body: Buffer | string,
    headers?: Record<string, string>,
    token?: string | null,
  ): Promise<HttpAnswer>;
  /** Expects a good request to succeed over both transports. */
  expectStillServing(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a receiver for one test file. */
export async function startTestReceiver(): Promise<TestReceiver> {
  const consumer = new ScriptedConsumer();
  const settings = testSettings('otlp/test');
  const receiver = new OtlpReceiver(
    settings,
    otlpConfigSchema.parse({
      protocols: {
        grpc: { endpoint: '127.0.0.1:0', max_recv_msg_size_mib: 1 },
        http: { endpoint: '127.0.0.1:0', max_request_body_size: 1024 * 1024 },
      },
    }),
    consumer,
  );
  await receiver.start(testHost(settings));
  const httpUrl = receiver.urls.http!;
  const grpcUrl = receiver.urls.grpc!;
  const post: TestReceiver['post'] = async (path, body, headers = {}, token = 'acme-token') => {
    const h: Record<string, string> = { 'content-type': 'application/x-protobuf', ...headers };
    if (token !== null) h.authorization = `Bearer ${token}`;
    const res = await fetch(`${httpUrl}${path}`, { method: 'POST', headers: h, body });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  };
  return {
    consumer,
    httpUrl,
    grpcUrl,
    post,
    async expectStillServing() {
      consumer.behaviour = () => {};
      expect((await post('/v1/logs', GOOD)).status).toBe(200);
      expect((await grpcExport(grpcUrl, 'logs', GOOD, 'acme-token')).error).toBeNull();
    },
    stop: () => receiver.shutdown(),
  };
}

/** google.rpc.Status { code, message } from protobuf bytes. */
export function decodeStatus(b: Buffer): { code: number; message: string } {
  const r = protobuf.Reader.create(b);
  const out = { code: 0, message: '' };
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t === tag(1, 0)) out.code = r.int32();
    else if (t === tag(2, 2)) out.message = r.string();
    else r.skipType(t & 7);
  }
  return out;
}
