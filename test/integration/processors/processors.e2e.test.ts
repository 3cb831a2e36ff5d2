import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../../pipeline/tenants.ts';
import { postJson } from '../../harness/http.ts';
import { type RunningLedgerline, startLedgerline } from '../../harness/ledgerline.ts';
import { readFileSink } from '../../harness/sink.ts';

// The processors in a running ledgerline: HTTP receiver → memory_limiter, redaction,
// tenant_validation, sampling, batch → file sink (and the ledger for audit). What reaches the
// file is what any sink would store.

const ACME = 'proc-e2e-acme-token';
const GLOBEX = 'proc-e2e-globex-token';
const SERVICE = 'proc-e2e-service-token';
let app: RunningLedgerline | undefined;

afterEach(async () => {
  await app?.kill();
  app = undefined;
});

const CONFIG = `
tenants:
  - { id: acme, slug: acme, keys: ["${hashToken(ACME)}"] }
  - { id: globex, keys: ["${hashToken(GLOBEX)}"] }
  - { id: ingest-svc, keys: ["${hashToken(SERVICE)}"], roles: [tenant, service], acts_for: [globex] }
receivers:
  http: { endpoint: 127.0.0.1:0 }
processors:
  memory_limiter: {}
  redaction:
    allowed_detail_keys: [country, rows, rejected_event_id, receiver, transport]
    hmac_key: \${env:PROC_E2E_REDACTION_KEY}
  tenant_validation: {}
  sampling:
    rules: [ { name: half, action: search_run, rate: 0.5 } ]
  batch: { timeout: 50 }
exporters:
  file: { path: ./data/events.ndjson }
  ledger: { dir: ./data/ledger, generate_key: true }
service:
  pipelines:
    activity: { receivers: [http], processors: [memory_limiter, redaction, tenant_validation, sampling, batch], exporters: [file] }
    audit: { receivers: [http], processors: [memory_limiter, redaction, tenant_validation, batch], exporters: [ledger, file] }
`;

const envelope = (overrides: Record<string, unknown> = {}) => ({
  event_type: 'activity',
  actor: { type: 'user', id: 'u-42' },
  tenant: { id: 'acme' },
  action: 'dashboard_viewed',
  ...overrides,
});

const readEvents = (dir: string) => readFileSink(dir);

async function until<T>(f: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('processors end to end (http → file)', () => {
  it('redacts, validates tenants, samples and batches in a running pipeline', async () => {
    app = await startLedgerline({
      config: CONFIG,
      env: { PROC_E2E_REDACTION_KEY: 'e2e-redaction-key-0123456789' },
    });
    const url = `${app.endpoints.http}/api/v1/events`;
    const secrets = [
      'alice@example.com',
      '4111 1111 1111 1111',
      'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789',
      '198.51.100.23',
      'hunter2hunter2',
      'q=private+search',
    ];

    // Redaction: the 202 comes after the batch reached the file, so it is there now.
    const ok = await postJson(
      url,
      [
        envelope({
          actor: { type: 'user', id: 'alice@example.com', ip: '198.51.100.23', user_agent: 'curl/8.5.0' },
          reason: 'paid with 4111 1111 1111 1111 via https://shop.example/pay?q=private+search',
          metadata: {
            details: {
              country: 'DE',
              password: 'hunter2hunter2',
              note: 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789',
            },
          },
        }),
        envelope({
          event_type: 'audit',
          action: 'role_assigned',
          entity: { type: 'user', id: 'alice@example.com' },
          result: 'success',
        }),
      ],
      ACME,
    );
    expect(ok.status).toBe(202);
    const stored = readEvents(app.dir);
    expect(stored).toHaveLength(2);
    const text = readFileSync(join(app.dir, 'data', 'events.ndjson'), 'utf8');
    for (const s of secrets) expect(text).not.toContain(s);
    const activity = stored.find((e) => e.event_type === 'activity');
    expect(activity.actor).toEqual({
      type: 'user',
      id: expect.stringMatching(/^\[HMAC:email:/),
      ip: '198.51.100.0',
      user_agent: 'curl 8',
    });
    expect(activity.metadata.details).toEqual({ country: 'DE' });
    expect(activity.metadata.redacted).toEqual(
      expect.arrayContaining([
        'actor.id',
        'actor.ip',
        'actor.user_agent',
        'reason',
        'metadata.details.password',
        'metadata.details.note',
      ]),
    );
    // Keyed hashes join: the same address gives the same token in the audit event.
    expect(stored.find((e) => e.event_type === 'audit').entity.id).toBe(activity.actor.id);

    // Tenant validation: a foreign tenant tag is refused with its reason, and audited in the
    // caller's own tenant.
    const cross = await postJson(
      url,
      [envelope(), envelope({ tenant: { id: 'globex' } }), envelope({ tenant: { id: 'ａｃｍｅ' } })],
      ACME,
    );
    expect(cross.status).toBe(202);
    expect(cross.body.rejected).toEqual([
      expect.objectContaining({
        index: 1,
        code: 'tenant_rejected',
        message: 'tenant.id differs from the tenant of the credential',
      }),
      expect.objectContaining({
        index: 2,
        code: 'tenant_rejected',
        message: 'tenant.id imitates a tenant id with look-alike Unicode characters',
      }),
    ]);
    const allForeign = await postJson(url, envelope({ tenant: { id: 'globex' } }), ACME);
    expect(allForeign.status).toBe(400);
    expect(allForeign.body.error.code).toBe('tenant_rejected');
    const violations = await until(() => {
      const v = readEvents(app!.dir).filter((e) => e.action === 'tenant_tag_violation');
      return v.length === 3 ? v : undefined;
    }, 'three tenant_tag_violation audit events');
    expect(violations.map((v) => [v.tenant.id, v.entity.id, v.reason, v.result])).toEqual(
      expect.arrayContaining([
        ['acme', 'globex', 'cross_tenant', 'denied'],
        ['acme', '\\u{ff41}\\u{ff43}\\u{ff4d}\\u{ff45}', 'confusable', 'denied'],
      ]),
    );
    expect(violations[0].actor).toEqual({ type: 'service', id: hashToken(ACME).slice(7, 15) });
    expect(violations[0].metadata.details).toMatchObject({ receiver: 'http' });
    // A service credential may write for the tenants in its acts_for, and only those.
    expect((await postJson(url, envelope({ tenant: { id: 'globex' } }), SERVICE)).status).toBe(202);
    expect((await postJson(url, envelope({ tenant: { id: 'acme' } }), SERVICE)).status).toBe(400);

    // Sampling: search_run at 0.5, errors always kept, and counts estimate the total.
    const before = readEvents(app.dir).length;
    const n = 400;
    const sampled = await postJson(
      url,
      Array.from({ length: n }, (_, i) =>
        envelope({
          action: 'search_run',
          usage: { feature: 'search', outcome: i % 10 === 0 ? 'error' : 'ok' },
        }),
      ),
      ACME,
    );
    expect(sampled.status).toBe(202);
    const kept = readEvents(app.dir)
      .slice(before)
      .filter((e) => e.action === 'search_run');
    expect(kept.length).toBeLessThan(n);
    expect(kept.filter((e) => e.usage.outcome === 'error')).toHaveLength(n / 10);
    for (const e of kept) expect(e.usage.sample_rate).toBe(e.usage.outcome === 'error' ? 1 : 0.5);
    const estimate = kept.reduce((s, e) => s + e.usage.count / e.usage.sample_rate, 0);
    // 360 sampled events at p = 0.5: standard deviation sqrt(360) ≈ 19; allow 5.
    expect(Math.abs(estimate - n)).toBeLessThan(5 * 19);

    expect(await app.stop()).toBe(0);
  });
});

describe('processors end to end (OTLP → file)', () => {
  it('redacts and validates tenants of records sent by the OpenTelemetry SDK', async () => {
    const config = CONFIG.replace(
      'receivers:\n  http: { endpoint: 127.0.0.1:0 }',
      'receivers:\n  http: { endpoint: 127.0.0.1:0 }\n  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }',
    ).replaceAll('receivers: [http]', 'receivers: [http, otlp]');
    app = await startLedgerline({ config, env: { PROC_E2E_REDACTION_KEY: 'e2e-redaction-key-0123456789' } });
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'proc-e2e' }),
      processors: [
        new BatchLogRecordProcessor({
          exporter: new OTLPLogExporter({
            url: `${app.endpoints['otlp:http']}/v1/logs`,
            headers: { Authorization: `Bearer ${ACME}` },
          }),
        }),
      ],
    });
    const logger = provider.getLogger('proc-e2e');
    logger.emit({
      eventName: 'login.succeeded',
      body: 'user carol@example.com logged in with password=hunter2hunter2',
      attributes: { 'enduser.id': 'carol@example.com', country: 'FR', 'client.address': '203.0.113.9' },
    });
    logger.emit({
      body: {
        event_type: 'activity',
        action: 'report_viewed',
        actor: { type: 'user', id: 'u-9' },
        tenant: { id: 'globex' },
      },
    });
    await provider.forceFlush();
    await provider.shutdown();

    const events = await until(() => {
      const all = readEvents(app!.dir);
      return all.some((e) => e.action === 'tenant_tag_violation') &&
        all.some((e) => e.action === 'login_succeeded')
        ? all
        : undefined;
    }, 'the login event and the violation');
    const text = JSON.stringify(events);
    for (const s of ['carol@example.com', 'hunter2hunter2', '203.0.113.9']) expect(text).not.toContain(s);
    const login = events.find((e) => e.action === 'login_succeeded');
    expect(login.actor.id).toMatch(/^\[HMAC:email:/);
    expect(login.metadata.details).toEqual({ country: 'FR' });
    expect(events.some((e) => e.action === 'report_viewed')).toBe(false);
    const violation = events.find((e) => e.action === 'tenant_tag_violation');
    expect(violation).toMatchObject({
      tenant: { id: 'acme' },
      entity: { type: 'tenant', id: 'globex' },
      reason: 'cross_tenant',
    });
    expect(await app.stop()).toBe(0);
  });
});
