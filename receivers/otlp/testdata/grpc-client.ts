import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';

/**
 * A minimal OTLP/gRPC client on grpc-js with raw bytes in and out, for tests that send what
 * the SDK exporters never would.
 */

const PATHS = {
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
} as const;

/** The answer to one Export call. */
export interface GrpcAnswer {
  error: ServiceError | null;
  response: Buffer | undefined;
}

/** Calls Export of `signal` on `url` (http://host:port) with `body`, as `token`. */
export function grpcExport(
  url: string,
  signal: keyof typeof PATHS,
  body: Buffer,
  token?: string,
  compression?: 'gzip',
): Promise<GrpcAnswer> {
  const options: Record<string, unknown> = { 'grpc.max_send_message_length': 64 * 1024 * 1024 };
  if (compression) options['grpc.default_compression_algorithm'] = 2;
  const client = new Client(url.replace(/^https?:\/\//, ''), credentials.createInsecure(), options);
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      PATHS[signal],
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      metadata,
      (error, response) => {
        client.close();
        resolve({ error, response });
      },
    );
  });
}
