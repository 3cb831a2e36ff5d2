import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcExport } from '../../../receivers/otlp/testdata/grpc-client.ts';
import {
  field,
  logRecord,
  logsRequest,
  stringAttribute,
  stringField,
} from '../../../receivers/otlp/testdata/raw-requests.ts';
import { type OtlpLedgerline, startOtlpLedgerline } from './ledgerline.ts';

/**
 * The authenticated tenant travels with the batch: with the tenant_validation processor in the
 * pipelines, a record tagged with another tenant is rejected downstream and the OTLP answer's
 * partial_success counts it, over HTTP/JSON and gRPC, while the caller's own records land.
 */

let ll: OtlpLedgerline;
beforeAll(async () => {
  ll = await startOtlpLedgerline({ tenantValidation: true });
}, 60_000);
afterAll(async () => {
  await ll?.stop();
});

const tag = (what: string) => `${what}-${Math.random().toString(36).slice(2, 8)}`;
const eventsOf = (run: string) => ll.events().filter((e) => e.metadata?.details?.run === run);

describe('tenant validation behind the OTLP receiver', () => {
  it('HTTP/JSON: a foreign tenant tag is rejected downstream and reported as partial success', async () => {
    const run = tag('json');
    const record = (tenant?: string) => ({
      eventName: 'doc.viewed',
      attributes: [
        { key: 'run', value: { stringValue: run } },
        { key: 'enduser.id', value: { stringValue: 'u-1' } },
        ...(tenant ? [{ key: 'tenant.id', value: { stringValue: tenant } }] : []),
      ],
    });
    const res = await fetch(`${ll.http}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ll.token}` },
      body: JSON.stringify({
        resourceLogs: [{ scopeLogs: [{ logRecords: [record(), record(ll.otherTenant)] }] }],
      }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as {
      partialSuccess: { rejectedLogRecords: string; errorMessage: string };
    };
    expect(answer.partialSuccess.rejectedLogRecords).toBe('1');
    expect(answer.partialSuccess.errorMessage).toMatch(
      /^1 of 2 log records rejected: event [0-9a-f-]{36}: tenant_rejected: /,
    );
    const landed = eventsOf(run);
    expect(landed).toHaveLength(1);
    expect(landed[0]!.tenant).toEqual({ id: ll.tenant });
  });

  it('gRPC: the same, with the partial success in the protobuf answer', async () => {
    const run = tag('grpc');
    const fields = (tenant?: string) => [
      stringField(12, 'doc_viewed'),
      field(6, stringAttribute('run', run)),
      field(6, stringAttribute('enduser.id', 'u-2')),
      ...(tenant ? [field(6, stringAttribute('tenant.id', tenant))] : []),
    ];
    const { error, response } = await grpcExport(
      ll.grpc,
      'logs',
      logsRequest(logRecord(...fields()), logRecord(...fields(ll.otherTenant))),
      ll.token,
    );
    expect(error).toBeNull();
    const answer = ProtobufLogsSerializer.deserializeResponse(response!);
    expect(Number(answer.partialSuccess?.rejectedLogRecords)).toBe(1);
    expect(answer.partialSuccess?.errorMessage).toMatch(/tenant_rejected/);
    expect(eventsOf(run)).toHaveLength(1);
  });
});
