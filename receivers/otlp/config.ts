import { z } from 'zod';

/**
 * Configuration of the OTLP receiver, shaped like the OpenTelemetry Collector's:
 * `protocols: { grpc: { endpoint, max_recv_msg_size_mib, tls }, http: { endpoint,
 * max_request_body_size, tls } }`. A protocol that is not listed is not served.
 */

/** TLS for one protocol; with `client_ca_file` it is mutual TLS. */
export const tlsSchema = z
  .strictObject({
    cert_file: z.string().min(1).describe('PEM certificate chain the server presents. Required.'),
    key_file: z.string().min(1).describe('PEM private key of the certificate. Required.'),
    client_ca_file: z
      .string()
      .min(1)
      .optional()
      .describe(
        'PEM CA bundle; when set, clients must present a certificate it signed (mTLS). Empty: no client certificates asked.',
      ),
    reload_interval_seconds: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe(
        'How often the certificate, key and CA files are re-read, so renewed certificates apply without a restart. Default 0: never.',
      ),
  })
  .describe('TLS settings. Absent: plaintext.');

/** gRPC (port 4317) settings. */
export const grpcSchema = z
  .strictObject({
    endpoint: z
      .string()
      .default('0.0.0.0:4317')
      .describe('host:port to listen on. Default 0.0.0.0:4317; port 0 picks a free port.'),
    max_recv_msg_size_mib: z
      .number()
      .positive()
      .default(4)
      .describe(
        'Largest request message accepted, in MiB (after decompression). Default 4, as the Collector.',
      ),
    tls: tlsSchema.optional(),
  })
  .describe(
    'OTLP/gRPC: the logs, metrics and trace Export services. `grpc: {}` serves it with the defaults.',
  );

/** HTTP (port 4318) settings. */
export const httpSchema = z
  .strictObject({
    endpoint: z
      .string()
      .default('0.0.0.0:4318')
      .describe('host:port to listen on. Default 0.0.0.0:4318; port 0 picks a free port.'),
    max_request_body_size: z
      .number()
      .int()
      .positive()
      .default(20 * 1024 * 1024)
      .describe(
        'Largest request body accepted, in bytes, after decompression (a gzip bomb is refused). Default 20971520 (20 MiB).',
      ),
    tls: tlsSchema.optional(),
  })
  .describe(
    'OTLP/HTTP: POST /v1/logs, /v1/metrics, /v1/traces, protobuf or JSON. `http: {}` serves it with the defaults.',
  );

/** The receiver's config. */
export const otlpConfigSchema = z.strictObject({
  protocols: z
    .strictObject({
      grpc: grpcSchema.optional(),
      http: httpSchema.optional(),
    })
    .refine((p) => p.grpc !== undefined || p.http !== undefined, {
      message: 'list at least one of grpc and http',
    })
    .default({ grpc: grpcSchema.parse({}), http: httpSchema.parse({}) })
    .describe('Protocols to serve. Default: both, on 0.0.0.0:4317 (gRPC) and 0.0.0.0:4318 (HTTP).'),
});

/** The OTLP receiver's configuration. */
export type OtlpConfig = z.output<typeof otlpConfigSchema>;
/** TLS settings of one protocol. */
export type TlsConfig = z.output<typeof tlsSchema>;
/** gRPC settings. */
export type GrpcConfig = z.output<typeof grpcSchema>;
/** HTTP settings. */
export type HttpConfig = z.output<typeof httpSchema>;
