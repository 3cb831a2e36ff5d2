import { z } from 'zod';

/** TLS settings shared by HTTP-serving components. */
export const tlsConfigSchema = z
  .strictObject({
    cert_file: z.string().describe('PEM certificate chain.'),
    key_file: z.string().describe('PEM private key.'),
    client_ca_file: z
      .string()
      .optional()
      .describe('PEM CA bundle; when set, clients must present a certificate it signed (mTLS).'),
  })
  .optional()
  .describe('Serve HTTPS. Absent: plain HTTP (put a TLS proxy in front in production).');

/** Settings of the http receiver. */
export const httpReceiverConfigSchema = z.strictObject({
  endpoint: z
    .string()
    .default('127.0.0.1:8080')
    .describe(
      'host:port to listen on. Default 127.0.0.1:8080 (this machine only); 0.0.0.0:8080 for every interface; port 0 picks a free port.',
    ),
  max_request_body_size: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024)
    .describe('Largest request body in bytes, after decompression. Default 4194304 (4 MiB).'),
  max_events_per_request: z
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe('Most events one POST /api/v1/events may carry. Default 10000.'),
  tls: tlsConfigSchema,
});

/** http receiver settings. */
export type HttpReceiverConfig = z.output<typeof httpReceiverConfigSchema>;
