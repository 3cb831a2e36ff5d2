import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../pipeline/tenants.ts';
import { postJson } from '../harness/http.ts';
import { type RunningLedgerline, startLedgerline } from '../harness/ledgerline.ts';
import { readFileSink } from '../harness/sink.ts';

// `ledgerline run` and `ledgerline validate` as a user runs them: a child process, a config
// file, HTTP requests, events landing in the file sink, and SIGTERM.

const CLI = join(import.meta.dirname, '..', '..', 'cli', 'ledgerline.ts');
const ACME = 'e2e-acme-token';
const GLOBEX = 'e2e-globex-token';
let app: RunningLedgerline | undefined;

afterEach(async () => {
  await app?.kill();
  app = undefined;
});

function config(extra = '') {
  return `
tenants:
  - { id: acme, keys: ["${hashToken(ACME)}"] }
  - { id: globex, keys: ["${hashToken(GLOBEX)}"] }
receivers:
  http: { endpoint: 127.0.0.1:0, max_request_body_size: 65536 }
processors:
  redaction: { allowed_detail_keys: [rows, source] }
exporters:
  file: { path: ./data/events.ndjson }
  ledger: { dir: ./data/ledger, generate_key: true }
${extra}
service:
  pipelines:
    activity: { receivers: [http], processors: [redaction], exporters: [file] }
    audit: { receivers: [http], processors: [redaction], exporters: [ledger, file] }
`;
}

const readEvents = (dir: string) => readFileSink(dir);

const envelope = (overrides: Record<string, unknown> = {}) => ({
  event_type: 'activity',
  occurred_at: '2026-03-04T05:06:07+02:00',
  actor: { type: 'user', id: 'u-42' },
  tenant: { id: 'acme' },
  action: 'dashboard_viewed',
  ...overrides,
});

describe('ledgerline run', () => {
  it('accepts valid events, refuses invalid and unauthenticated ones, and drains on SIGTERM', async () => {
    app = await startLedgerline({ config: config() });
    const base = app.endpoints.http!;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const ok = await postJson(
      `${base}/api/v1/events`,
      [
        envelope(),
        envelope({
          event_type: 'audit',
          entity: { type: 'policy', id: 'p1' },
          result: 'denied',
          action: 'policy_changed',
        }),
      ],
      ACME,
    );
    expect(ok.status).toBe(202);
    expect(ok.body.status).toBe('accepted');
    expect(ok.body.event_ids).toHaveLength(2);

    const usage = await postJson(
      `${base}/api/v1/usage/events`,
      { event_type: 'sql_generation', metadata: { rows: '12' }, user_id: 'u-7', source: 'sqlservice' },
      ACME,
    );
    expect(usage.status).toBe(202);
    expect(usage.body).toMatchObject({ status: 'accepted', accepted: 1 });

    const noToken = await postJson(`${base}/api/v1/events`, envelope());
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('www-authenticate')).toBe('Bearer');
    const wrongToken = await postJson(`${base}/api/v1/events`, envelope(), 'not-a-token');
    expect(wrongToken.status).toBe(401);

    const invalid = await postJson(
      `${base}/api/v1/events`,
      [envelope(), envelope({ action: 'Not Snake', actor: { type: 'user' } })],
      ACME,
    );
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('invalid_event');
    expect(invalid.body.error.details).toEqual([
      { index: 1, path: 'actor.id', message: 'is required' },
      { index: 1, path: 'action', message: 'must be a snake_case verb, e.g. policy_acknowledged' },
    ]);

    const notJson = await postJson(`${base}/api/v1/events`, '{"event_type":', ACME);
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.message).toMatch(/not valid JSON/);

    const wrongType = await postJson(`${base}/api/v1/events`, 'x', ACME, { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);

    const tooBig = await postJson(
      `${base}/api/v1/events`,
      JSON.stringify(Array.from({ length: 2000 }, () => envelope())),
      ACME,
    );
    expect(tooBig.status).toBe(413);

    const get = await fetch(`${base}/api/v1/events`, { headers: { authorization: `Bearer ${ACME}` } });
    expect(get.status).toBe(405);

    const events = readEvents(app.dir);
    expect(events).toHaveLength(3);
    const [activity, audit, usageEvent] = events;
    expect(activity).toMatchObject({
      event_type: 'activity',
      action: 'dashboard_viewed',
      occurred_at: '2026-03-04T03:06:07.000Z',
      tenant: { id: 'acme' },
    });
    expect(activity.event_id).toBe(ok.body.event_ids[0]);
    expect(activity.event_id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(Date.parse(activity.recorded_at)).not.toBeNaN();
    expect(audit).toMatchObject({
      event_type: 'audit',
      result: 'denied',
      entity: { type: 'policy', id: 'p1' },
    });
    expect(usageEvent).toMatchObject({
      event_type: 'activity',
      action: 'sql_generation',
      actor: { type: 'user', id: 'u-7' },
      tenant: { id: 'acme' },
      metadata: { details: { rows: '12', source: 'sqlservice' } },
      usage: { count: 1, sample_rate: 1, outcome: 'ok' },
    });

    // The server is still up after all of that; a tenant writes only under its own id, even
    // in a pipeline without tenant_validation (the fan-out's guard).
    const foreign = await postJson(`${base}/api/v1/events`, envelope(), GLOBEX);
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.code).toBe('tenant_rejected');
    expect(
      (await postJson(`${base}/api/v1/events`, envelope({ tenant: { id: 'globex' } }), GLOBEX)).status,
    ).toBe(202);
    expect(await app.stop()).toBe(0);
    expect(app.logs()).toContain('"msg":"stopped"');
    expect(readEvents(app.dir)).toHaveLength(4);
  });

  it('keeps an event id it was given, so client retries do not mint new ids', async () => {
    app = await startLedgerline({ config: config() });
    const id = '0190f5a4-1c2b-7def-8abc-0123456789ab';
    const r = await postJson(`${app.endpoints.http}/api/v1/events`, envelope({ event_id: id }), ACME);
    expect(r.body.event_ids).toEqual([id]);
    expect(readEvents(app.dir)[0].event_id).toBe(id);
  });

  it('refuses to start on an invalid config and names every error', async () => {
    await expect(
      startLedgerline({
        config: config().replace('max_request_body_size: 65536', 'max_request_body_size: big'),
      }),
    ).rejects.toThrow(
      /config-0\.yaml:6:57 receivers\.http\.max_request_body_size: Invalid input: expected number, received string/,
    );
  });
});

describe('ledgerline validate', () => {
  it('prints every mistake with file:line:col and exits non-zero', () => {
    const dir = join(import.meta.dirname, '..', '..', 'tmp');
    const file = join(dir, `validate-${process.pid}.yaml`);
    require_dir(dir);
    writeFileSync(
      file,
      `receivers:\n  http: { endpoint: 127.0.0.1:0, max_events: 3 }\nexporters:\n  file: {}\nservice:\n  pipelines:\n    activity: { receivers: [http, otlp], exporters: [file] }\n`,
    );
    const r = spawnSync(process.execPath, [CLI, 'validate', '--config', file], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toContain(`${file}:2:34 receivers.http.max_events: unknown key "max_events"`);
    expect(lines).toContain(`${file}:4:9 exporters.file.path: is required`);
    expect(lines).toContain(
      `${file}:7:35 service.pipelines.activity.receivers[1]: receiver "otlp" is not defined under receivers`,
    );
  });

  it('accepts the embedded default config', () => {
    const r = spawnSync(process.execPath, [CLI, 'validate'], { encoding: 'utf8', env: { ...process.env } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^configuration is valid/);
    expect(r.status).toBe(0);
  });

  it('accepts every example config', () => {
    const dir = join(import.meta.dirname, '..', '..', 'config', 'examples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const r = spawnSync(process.execPath, [CLI, 'validate', '--config', join(dir, f)], {
        encoding: 'utf8',
        env: { ...process.env, KAFKA_BROKERS: 'kafka:9092', DATABASE_URL: 'postgres://db/ledgerline' },
      });
      expect(`${f}: ${r.stderr}`).toBe(`${f}: `);
      expect(r.status).toBe(0);
    }
  });

  it('prints help and version', () => {
    expect(spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout).toContain(
      'ledgerline run',
    );
    expect(spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' }).stdout).toMatch(
      /^ledgerline \d+\.\d+\.\d+/,
    );
  });
});

function require_dir(dir: string) {
  spawnSync('mkdir', ['-p', dir]);
}
