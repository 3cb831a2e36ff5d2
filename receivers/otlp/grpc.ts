import {
  type handleUnaryCall,
  Metadata,
  Server,
  type ServerCredentials,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { toPipelineError } from '../../pipeline/errors.ts';
import type { AuthContext, TenantRegistry } from '../../pipeline/tenants.ts';
import type { Ingest } from './ingest.ts';
import type { Signal } from './model.ts';
import { exportResponse, statusMessage } from './response.ts';

/**
 * OTLP/gRPC: the logs, metrics and trace `Export` services, defined here in code with
 * pass-through (de)serialisers so the receiver's own decoder reads the request bytes.
 * Authentication is the `authorization` metadata entry (`Bearer <token>`).
 */

const SERVICES: readonly [Signal, string][] = [
  ['logs', '/opentelemetry.proto.collector.logs.v1.LogsService/Export'],
  ['metrics', '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export'],
  ['traces', '/opentelemetry.proto.collector.trace.v1.TraceService/Export'],
];

const raw = (b: Buffer): Buffer => b;

function definition(path: string): ServiceDefinition {
  return {
    Export: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
      originalName: 'export',
    },
  };
}

/** A gRPC error from any thrown value, with RetryInfo in the status details when retryable. */
export function grpcError(err: unknown): Partial<ServiceError> {
  const e = toPipelineError(err);
  const metadata = new Metadata();
  const retryAfter = e.retryable ? (e.retryAfter ?? 1) : undefined;
  if (retryAfter !== undefined) {
    metadata.set('grpc-status-details-bin', statusMessage(e.grpcCode, e.message, retryAfter, 'protobuf'));
  }
  return { code: e.grpcCode, details: e.message, metadata };
}

/** Creates a gRPC server with the three OTLP services; bind it with `bindAsync`. */
export function otlpGrpcServer(
  ingest: Ingest,
  tenants: TenantRegistry,
  maxRecvBytes: number,
  logger: Logger,
): Server {
  const server = new Server({
    'grpc.max_receive_message_length': maxRecvBytes,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
  });
  for (const [signal, path] of SERVICES) {
    const handler: handleUnaryCall<Buffer, Buffer> = (call, callback) => {
      let auth: AuthContext;
      try {
        const header = call.metadata.get('authorization')[0];
        auth = tenants.authenticate(typeof header === 'string' ? header : undefined);
      } catch (err) {
        callback(grpcError(err));
        return;
      }
      ingest.export(signal, call.request, 'protobuf', auth, 'grpc').then(
        (o) => callback(null, exportResponse(signal, o.rejected, o.message, 'protobuf')),
        (err) => {
          const e = toPipelineError(err);
          // As the HTTP server does: only failures that are ours and final are worth a log line.
          if (e.status >= 500 && !e.retryable) logger.error({ err: e, code: e.code }, 'export failed');
          callback(grpcError(e));
        },
      );
    };
    server.addService(definition(path), { Export: handler });
  }
  return server;
}

/** Binds the server; resolves with the bound port. */
export function bind(server: Server, endpoint: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(endpoint, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  });
}
