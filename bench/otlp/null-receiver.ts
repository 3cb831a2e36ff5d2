import pino from 'pino';
import type { Consumer } from '../../pipeline/component.ts';
import { createTelemetry } from '../../pipeline/telemetry.ts';
import { hashToken, TenantRegistry } from '../../pipeline/tenants.ts';
import { testHost } from '../../pipeline/testing.ts';
import { otlpConfigSchema } from '../../receivers/otlp/config.ts';
import { OtlpReceiver } from '../../receivers/otlp/receiver.ts';

/**
 * The OTLP receiver alone, for the otlp-*-logs benchmarks: both protocols on free ports and a
 * consumer that takes every batch at once, so the figure is decoding, mapping, validation and
 * the transport. Prints `{"grpc": url, "http": url}` and runs until stdin closes.
 */

const token = process.argv[2] ?? 'bench-token';
const settings = {
  id: 'otlp',
  logger: pino({ level: 'silent' }),
  telemetry: createTelemetry(),
  tenants: new TenantRegistry([
    { id: 'bench', keys: [hashToken(token)], roles: ['tenant'], acts_for: [], active: true },
  ]),
};
let consumed = 0;
const nothing: Consumer = {
  consume: async (batch) => {
    consumed += batch.events.length;
  },
};
const receiver = new OtlpReceiver(
  settings,
  otlpConfigSchema.parse({
    protocols: {
      grpc: { endpoint: '127.0.0.1:0', max_recv_msg_size_mib: 16 },
      http: { endpoint: '127.0.0.1:0' },
    },
  }),
  nothing,
);
await receiver.start(testHost(settings));
process.stdout.write(`${JSON.stringify(receiver.urls)}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await receiver.shutdown();
  process.stderr.write(`consumed ${consumed} events\n`);
});
