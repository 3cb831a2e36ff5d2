import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpLedgerline, startOtlpLedgerline } from './ledgerline.ts';

/**
 * Clients nobody on this team wrote: the Collector project's `telemetrygen` (Go, OTLP over
 * gRPC and HTTP) and curl with a hand-written OTLP/JSON body, against a real ledgerline.
 * telemetrygen comes from test/services/install-telemetrygen.sh, which `npm test` runs first;
 * without it every test here fails, naming the script.
 */

const run = promisify(execFile);
const BINARY =
  process.env.TELEMETRYGEN ?? join(import.meta.dirname, '..', '..', '..', '.cache', 'bin', 'telemetrygen');
const available = existsSync(BINARY);

let ll: OtlpLedgerline;
beforeAll(async () => {
  ll = await startOtlpLedgerline();
}, 60_000);
afterAll(async () => {
  await ll?.stop();
});

function tag(what: string): string {
  return `${what}-${Math.random().toString(36).slice(2, 8)}`;
}

async function telemetrygen(
  signal: 'logs' | 'traces' | 'metrics',
  http: boolean,
  runId: string,
  extra: string[],
): Promise<void> {
  if (!available)
    throw new Error(`telemetrygen is missing at ${BINARY}: run test/services/install-telemetrygen.sh`);
  const endpoint = (http ? ll.http : ll.grpc).replace(/^https?:\/\//, '');
  const args = [
    signal,
    '--otlp-endpoint',
    endpoint,
    '--otlp-insecure',
    '--otlp-header',
    `Authorization="Bearer ${ll.token}"`,
    '--telemetry-attributes',
    `run="${runId}"`,
    '--rate',
    '0',
    ...(http ? ['--otlp-http'] : []),
    ...extra,
  ];
  await run(BINARY, args, { timeout: 60_000 });
}

function eventsOf(runId: string) {
  return ll.events().filter((e) => e.metadata?.details?.run === runId);
}

describe('telemetrygen', () => {
  for (const http of [false, true]) {
    const transport = http ? 'HTTP' : 'gRPC';

    it(`sends logs over ${transport} that land as events of the token's tenant`, async () => {
      const id = tag('tg-logs');
      await telemetrygen('logs', http, id, [
        '--logs',
        '25',
        '--telemetry-attributes',
        'event.name="tg_event"',
      ]);
      const events = eventsOf(id);
      expect(events).toHaveLength(25);
      for (const e of events) {
        expect(e).toMatchObject({
          action: 'tg_event',
          tenant: { id: ll.tenant },
          actor: { type: 'service', id: 'telemetrygen' },
          metadata: { details: { body: 'the message', 'service.name': 'telemetrygen' } },
        });
      }
    });

    it(`sends spans over ${transport} that land as usage events with latency and outcome`, async () => {
      const id = tag('tg-traces');
      await telemetrygen('traces', http, id, [
        '--traces',
        '4',
        '--status-code',
        'Error',
        '--span-duration',
        '5ms',
      ]);
      const events = eventsOf(id);
      // Each trace is a parent span and one child span.
      expect(events).toHaveLength(8);
      for (const e of events) {
        expect(e).toMatchObject({
          tenant: { id: ll.tenant },
          result: 'failure',
          usage: { outcome: 'error', latency_ms: 5 },
        });
        expect(e.correlation.trace_id).toMatch(/^[0-9a-f]{32}$/);
      }
      expect(new Set(events.map((e) => e.action))).toEqual(new Set(['lets_go', 'okey_dokey_0']));
    });

    it(`sends metrics over ${transport} that land as usage events with count`, async () => {
      const id = tag('tg-metrics');
      await telemetrygen('metrics', http, id, ['--metrics', '3', '--metric-type', 'Sum']);
      const events = eventsOf(id);
      expect(events).toHaveLength(3);
      for (const e of events) {
        expect(e).toMatchObject({
          action: 'gen',
          tenant: { id: ll.tenant },
          metadata: { details: { 'metric.type': 'sum' } },
        });
        expect(typeof e.usage.count).toBe('number');
      }
    });
  }
});

describe('curl with a hand-written OTLP/JSON body', () => {
  it('lands the record and answers partial success for the invalid one', async () => {
    const id = tag('curl');
    const body = JSON.stringify({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'curl-app' } }] },
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: '1767323045678901234',
                  eventName: 'invoice.sent',
                  traceId: '5b8efff798038103d269b633813fc60c',
                  spanId: 'eee19b7ec3c1b174',
                  attributes: [
                    { key: 'run', value: { stringValue: id } },
                    { key: 'enduser.id', value: { stringValue: 'u-9' } },
                    { key: 'amount', value: { intValue: '12345678901234567' } },
                    { key: 'paid', value: { boolValue: false } },
                  ],
                },
                {
                  body: { stringValue: 'no event name here' },
                  attributes: [{ key: 'run', value: { stringValue: id } }],
                },
              ],
            },
          ],
        },
      ],
    });
    const { stdout } = await run('curl', [
      '-sS',
      '-X',
      'POST',
      `${ll.http}/v1/logs`,
      '-H',
      'content-type: application/json',
      '-H',
      `authorization: Bearer ${ll.token}`,
      '--data-binary',
      body,
      '-w',
      '\n%{http_code}',
    ]);
    const [answer, status] = stdout.split('\n');
    expect(status).toBe('200');
    expect(JSON.parse(answer!)).toEqual({
      partialSuccess: {
        rejectedLogRecords: '1',
        errorMessage: expect.stringMatching(/^1 of 2 log records rejected: log record 1: no action/),
      },
    });
    const [e] = eventsOf(id);
    expect(e).toMatchObject({
      action: 'invoice_sent',
      occurred_at: '2026-01-02T03:04:05.678Z',
      tenant: { id: ll.tenant },
      actor: { type: 'user', id: 'u-9' },
      correlation: { trace_id: '5b8efff798038103d269b633813fc60c', span_id: 'eee19b7ec3c1b174' },
      metadata: { details: { 'service.name': 'curl-app', amount: '12345678901234567', paid: false } },
    });
  });
});
