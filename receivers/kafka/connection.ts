import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { z } from 'zod';

/**
 * How to reach a Kafka cluster: brokers, client id, SASL and TLS. Shared by the kafka receiver
 * and the kafka exporter (which imports it from here), so both are configured the same way.
 */

/** SASL authentication to the brokers. */
export const saslConfigSchema = z
  .strictObject({
    mechanism: z
      .enum(['plain', 'scram-sha-256', 'scram-sha-512'])
      .describe('SASL mechanism. Use TLS as well with plain: the password travels as written.'),
    username: z.string().min(1).describe('SASL user name.'),
    password: z
      .string()
      .min(1)
      .describe(
        'SASL password; reference an environment variable (env:VAR substitution), never write it inline.',
      ),
  })
  .optional()
  .describe('SASL authentication. Absent: none.');

/** TLS to the brokers. */
export const kafkaTlsConfigSchema = z
  .strictObject({
    ca_file: z
      .string()
      .optional()
      .describe('PEM CA bundle the brokers are verified against. Absent: the system CAs.'),
    cert_file: z
      .string()
      .optional()
      .describe('PEM client certificate (mTLS). Absent: no client certificate.'),
    key_file: z.string().optional().describe('PEM private key of cert_file.'),
    server_name: z
      .string()
      .optional()
      .describe('Name the broker certificates must carry. Absent: the broker host.'),
    insecure_skip_verify: z
      .boolean()
      .default(false)
      .describe('Do not verify the broker certificates. Default false; for tests only.'),
  })
  .refine((t) => (t.cert_file === undefined) === (t.key_file === undefined), {
    message: 'cert_file and key_file go together',
  })
  .optional()
  .describe('TLS to the brokers. Absent: plaintext.');

/** The connection fields, spread into the receiver's and exporter's schemas. */
export const connectionFields = {
  brokers: z
    .array(z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port'))
    .min(1)
    .default(['localhost:9092'])
    .describe('Bootstrap brokers as host:port. Default [localhost:9092].'),
  client_id: z
    .string()
    .min(1)
    .default('ledgerline')
    .describe('Client id the brokers see in logs and quotas. Default ledgerline.'),
  sasl: saslConfigSchema,
  tls: kafkaTlsConfigSchema,
  connect_timeout_ms: z
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe('Time to establish a broker connection. Default 10000.'),
};

/** The connection part of a receiver or exporter config. */
export interface ConnectionConfig {
  brokers: string[];
  client_id: string;
  sasl?: z.output<typeof saslConfigSchema>;
  tls?: z.output<typeof kafkaTlsConfigSchema>;
  connect_timeout_ms: number;
}

/** Node TLS options from the config, reading the PEM files once. */
export function tlsOptions(tls: NonNullable<ConnectionConfig['tls']>): ConnectionOptions {
  const options: ConnectionOptions = { rejectUnauthorized: !tls.insecure_skip_verify };
  if (tls.ca_file) options.ca = readFileSync(tls.ca_file);
  if (tls.cert_file) options.cert = readFileSync(tls.cert_file);
  if (tls.key_file) options.key = readFileSync(tls.key_file);
  if (tls.server_name) options.servername = tls.server_name;
  return options;
}
