import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hashToken } from '../../../pipeline/tenants.ts';
import { type RunningLedgerline, startLedgerline } from '../../harness/ledgerline.ts';

/**
 * A ledgerline child process with the OTLP receiver on free ports and the file exporter, for
 * the OTLP integration suites; each suite gets its own tenant and token.
 */

/** A running ledgerline with its OTLP endpoints and the tenant the suite sends as. */
export interface OtlpLedgerline {
  app: RunningLedgerline;
  grpc: string;
  http: string;
  tenant: string;
  token: string;
  /** A second tenant, whose tag the suite's token may not use. */
  otherTenant: string;
  /** Stops ledgerline and removes its folder. */
  stop(): Promise<void>;
  /** The envelopes in the file sink so far (parsed JSON, read loosely by the assertions). */
  events(): Record<string, any>[];
}

/** Starts ledgerline with `otlp` (gRPC and HTTP on 127.0.0.1:0) → redaction (keeping all details) → `file` (and `ledger` for audit). */
export async function startOtlpLedgerline(
  options: { tenantValidation?: boolean } = {},
): Promise<OtlpLedgerline> {
  const processors = options.tenantValidation ? '[redaction, tenant_validation]' : '[redaction]';
  const suffix = randomBytes(4).toString('hex');
  const tenant = `otlp-it-${suffix}`;
  const token = `otlp-it-token-${randomBytes(12).toString('hex')}`;
  const app = await startLedgerline({
    config: `
tenants:
  - { id: ${tenant}, keys: ["${hashToken(token)}"] }
  - { id: otlp-other-${suffix}, keys: ["${hashToken(`${token}-other`)}"] }
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
processors:
  # Keeps every detail so the tests see the receiver's mapping unchanged by redaction. The
  # digit-run detectors are off: random hex trace ids can contain a Luhn-valid 16-digit run.
  redaction:
    allowed_detail_keys: ["*"]
    key_denylist: []
    record_paths: false
    detectors: { payment_card: "off", phone: "off", iban: "off", us_ssn: "off" }
  tenant_validation: { audit_violations: false }
exporters:
  file: { path: ./data/events.ndjson }
  ledger: { dir: ./data/ledger, generate_key: true }
service:
  pipelines:
    activity: { receivers: [otlp], processors: ${processors}, exporters: [file] }
    audit: { receivers: [otlp], processors: ${processors}, exporters: [ledger, file] }
`,
  });
  const file = join(app.dir, 'data', 'events.ndjson');
  return {
    app,
    grpc: app.endpoints['otlp:grpc']!,
    http: app.endpoints['otlp:http']!,
    tenant,
    token,
    otherTenant: `otlp-other-${suffix}`,
    async stop() {
      await app.stop();
      rmSync(app.dir, { recursive: true, force: true });
    },
    events() {
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
  };
}

/** uuid v7, as the receiver assigns. */
export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** An RFC 3339 UTC time with milliseconds, as envelopes carry. */
export const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
