import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpLedgerline, startOtlpLedgerline } from './ledgerline.ts';

/**
 * "An app using the stock OpenTelemetry SDK, pointed at ledgerline with a tenant token": a
 * child process running @opentelemetry/sdk-node configured only by OTEL_* variables, over
 * each OTLP protocol, lands its log, span and metric as envelopes of the token's tenant.
 */

const run = promisify(execFile);
const APP = join(import.meta.dirname, 'testdata', 'app.ts');

let ll: OtlpLedgerline;
beforeAll(async () => {
  ll = await startOtlpLedgerline();
}, 60_000);
afterAll(async () => {
  await ll?.stop();
});

describe.each(['grpc', 'http/protobuf', 'http/json'])(
  'NodeSDK with OTEL_EXPORTER_OTLP_PROTOCOL=%s',
  (protocol) => {
    it('lands a log record, a span and a metric point', async () => {
      const id = `node-${protocol.replace('/', '-')}-${Math.random().toString(36).slice(2, 8)}`;
      await run(process.execPath, [APP], {
        timeout: 60_000,
        env: {
          ...process.env,
          RUN: id,
          OTEL_SERVICE_NAME: 'shop',
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_ENDPOINT: protocol === 'grpc' ? ll.grpc : ll.http,
          OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer%20${ll.token}`,
          OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
          OTEL_NODE_RESOURCE_DETECTORS: 'env',
        },
      });
      const events = ll.events().filter((e) => e.metadata?.details?.run === id);
      const byAction = Object.fromEntries(events.map((e) => [e.action, e]));
      expect(Object.keys(byAction).sort()).toEqual(['checkout', 'order_placed', 'orders_placed']);
      for (const e of events) {
        expect(e).toMatchObject({ tenant: { id: ll.tenant }, actor: { type: 'user', id: 'buyer-1' } });
        expect(e.metadata.details['service.name']).toBe('shop');
      }
      expect(byAction.order_placed.metadata.details.items).toBe(3);
      expect(byAction.checkout.usage).toMatchObject({ outcome: 'ok', count: 1 });
      expect(byAction.checkout.correlation.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(byAction.orders_placed.usage).toMatchObject({ count: 2 });
    });
  },
);
