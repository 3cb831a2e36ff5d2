import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fileExporterFactory } from '../exporters/file/factory.ts';
import type { AnyFactory } from '../pipeline/component.ts';
import { httpReceiverFactory } from '../receivers/http/factory.ts';
import { formatDiagnostic, loadConfigFiles, loadConfigSources, mergeConfigs } from './load.ts';

// The validator is tested against a fixed factory list, so the expected messages do not change
// as components are added to the product. The three stand-ins only declare capabilities.
const none = z.strictObject({});
const factories: AnyFactory[] = [
  httpReceiverFactory,
  fileExporterFactory,
  {
    type: 'redaction',
    kind: 'processor',
    description: '',
    configSchema: none,
    capabilities: { redacts: true },
    create: () => ({}) as never,
  },
  {
    type: 'sampling',
    kind: 'processor',
    description: '',
    configSchema: none,
    capabilities: { samples: true },
    create: () => ({}) as never,
  },
  {
    type: 'forwarder',
    kind: 'exporter',
    description: '',
    configSchema: none,
    capabilities: { forwards: true },
    create: () => ({}) as never,
  },
  {
    type: 'ledger',
    kind: 'exporter',
    description: '',
    configSchema: none,
    capabilities: { ledger: true },
    create: () => ({}) as never,
  },
];

const fixture = (name: string) => join(import.meta.dirname, 'testdata', `${name}.yaml`);
const rel = (name: string) => `config/testdata/${name}.yaml`;

function messages(name: string, env: Record<string, string> = {}) {
  const r = loadConfigFiles([fixture(name)], factories, env);
  const strip = (s: string) => s.replace(`${fixture(name)}`, rel(name));
  return {
    errors: r.errors.map((d) => strip(formatDiagnostic(d))),
    warnings: r.warnings.map((d) => strip(formatDiagnostic(d))),
    config: r.config,
  };
}

describe('config validation: one fixture per error class', () => {
  it('points an unknown component key at the key', () => {
    expect(messages('unknown-key').errors).toEqual([
      `${rel('unknown-key')}:5:31 exporters.file.fsnyc: unknown key "fsnyc"`,
    ]);
  });

  it('suggests the right top-level key for a typo', () => {
    expect(messages('top-level-typo').errors).toEqual([
      `${rel('top-level-typo')}:1:1 recievers: unknown key "recievers" (did you mean "receivers"?)`,
      `${rel('top-level-typo')}:8:29 service.pipelines.activity.receivers[0]: receiver "http" is not defined under receivers`,
    ]);
  });

  it('reports a wrong type at the value', () => {
    expect(messages('wrong-type').errors).toEqual([
      `${rel('wrong-type')}:4:28 receivers.http.max_request_body_size: Invalid input: expected number, received string`,
    ]);
  });

  it('reports a reference to an undefined component', () => {
    expect(messages('undefined-reference').errors).toEqual([
      `${rel('undefined-reference')}:11:25 service.pipelines.activity.exporters[1]: exporter "file/archive" is not defined under exporters`,
    ]);
  });

  it('reports an unknown component type with a suggestion', () => {
    expect(messages('unknown-type').errors).toEqual([
      `${rel('unknown-type')}:2:3 receivers.htp: unknown receiver type "htp" (did you mean "http"?); known: http`,
    ]);
  });

  it('warns about unused components without failing', () => {
    const m = messages('unused');
    expect(m.errors).toEqual([]);
    expect(m.warnings).toEqual([
      `${rel('unused')}:6:3 exporters.file/spare: warning: exporter "file/spare" is defined but not used by any pipeline`,
    ]);
    expect(m.config).toBeDefined();
  });

  it('forbids sampling in an audit pipeline', () => {
    expect(messages('sampling-in-audit').errors).toEqual([
      `${rel('sampling-in-audit')}:10:31 service.pipelines.audit.processors[1]: "sampling" samples events; audit events must never be sampled, so it may not be in an audit pipeline`,
    ]);
  });

  it('requires a ledger exporter in audit pipelines', () => {
    expect(messages('audit-without-ledger').errors).toEqual([
      `${rel('audit-without-ledger')}:8:69 service.pipelines.audit.exporters: an audit pipeline must export to a ledger exporter (or forward to workers that have one, e.g. kafka), so every audit event is in the tamper-evident log`,
    ]);
  });

  it('accepts an audit pipeline that forwards to workers with ledgers (gateway mode)', () => {
    const m = messages('audit-forwarded');
    expect(m.errors).toEqual([]);
    expect(m.config).toBeDefined();
  });

  it('requires redaction in every pipeline', () => {
    expect(messages('no-redaction').errors).toEqual([
      `${rel('no-redaction')}:7:15 service.pipelines.activity.processors: every pipeline needs a redaction processor before its exporters, so no PII reaches a sink`,
    ]);
  });

  it('requires pipeline ids to name an event class', () => {
    expect(messages('bad-pipeline-id').errors).toEqual([
      `${rel('bad-pipeline-id')}:8:5 service.pipelines.logs: pipeline ids are \`activity\` or \`audit\`, optionally with \`/name\``,
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const errors = messages('syntax-error').errors;
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/^config\/testdata\/syntax-error\.yaml:\d+:\d+ /);
  });

  it('reports every error of a file at once, in file order', () => {
    expect(messages('several-errors').errors).toEqual([
      `${rel('several-errors')}:2:9 tenants[0].id: must be lowercase letters, digits, ".", "_" or "-" (no spaces, no upper case)`,
      `${rel('several-errors')}:3:13 tenants[0].keys[0]: must be "sha256:" and 64 lowercase hex digits (the hash of a token)`,
      `${rel('several-errors')}:6:5 receivers.http.endpont: unknown key "endpont"`,
      `${rel('several-errors')}:9:9 exporters.file.path: is required`,
      `${rel('several-errors')}:13:25 service.pipelines.activity.receivers[1]: receiver "kafka" is not defined under receivers`,
      `${rel('several-errors')}:18:31 service.pipelines.audit.processors[1]: processor "sampling" is not defined under processors`,
      `${rel('several-errors')}:19:19 service.pipelines.audit.exporters[0]: exporter "ledger" is not defined under exporters`,
    ]);
  });
});

describe('environment substitution', () => {
  const base = (endpoint: string) => `
receivers:
  http: { endpoint: ${endpoint}, max_request_body_size: \${env:BODY_LIMIT:-1024} }
processors: { redaction: {} }
exporters:
  file: { path: "./data/$$HOME/\${env:FILE_NAME:-events}.ndjson" }
service:
  pipelines:
    activity: { receivers: [http], processors: [redaction], exporters: [file] }
`;

  it('substitutes variables and defaults, types whole values, and keeps $$ as a literal $', () => {
    const r = loadConfigSources([{ path: 'a.yaml', text: base('${env:EP}') }], factories, {
      EP: '127.0.0.1:9999',
      FILE_NAME: 'x',
    });
    expect(r.errors).toEqual([]);
    const http = r.config!.components.get('receiver:http')!.config as Record<string, unknown>;
    expect(http.endpoint).toBe('127.0.0.1:9999');
    expect(http.max_request_body_size).toBe(1024);
    const file = r.config!.components.get('exporter:file')!.config as Record<string, unknown>;
    expect(file.path).toBe('./data/$HOME/x.ndjson');
  });

  it('reports an unset variable without a default at its position', () => {
    const r = loadConfigSources([{ path: 'a.yaml', text: base('${env:EP}') }], factories, {});
    expect(r.errors.map(formatDiagnostic)).toEqual([
      'a.yaml:3:21 environment variable EP is not set (write ${env:EP:-default} for a default)',
    ]);
  });

  it('rejects a reference that is not env:', () => {
    const r = loadConfigSources([{ path: 'a.yaml', text: base('${file:/etc/passwd}') }], factories, {});
    expect(r.errors[0]!.message).toContain('is not a reference');
  });
});

describe('merging several files', () => {
  it('lets later files win, merging maps and replacing lists', () => {
    expect(mergeConfigs({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 })).toEqual({
      a: { b: 1, c: [3] },
      d: 1,
      e: 2,
    });
  });

  it('reports errors in the file that wrote the value', () => {
    const first = `receivers:\n  http: { endpoint: 127.0.0.1:0 }\nprocessors: { redaction: {} }\nexporters:\n  file: { path: ./a.ndjson }\nservice:\n  pipelines:\n    activity: { receivers: [http], processors: [redaction], exporters: [file] }\n`;
    const second = `receivers:\n  http:\n    max_request_body_size: -1\n`;
    const r = loadConfigSources(
      [
        { path: 'base.yaml', text: first },
        { path: 'override.yaml', text: second },
      ],
      factories,
    );
    expect(r.errors.map(formatDiagnostic)).toEqual([
      'override.yaml:3:28 receivers.http.max_request_body_size: Too small: expected number to be >0',
    ]);
    const ok = loadConfigSources(
      [
        { path: 'base.yaml', text: first },
        { path: 'override.yaml', text: 'receivers:\n  http: { max_request_body_size: 10 }\n' },
      ],
      factories,
    );
    const http = ok.config!.components.get('receiver:http')!.config as Record<string, unknown>;
    expect(http).toMatchObject({ endpoint: '127.0.0.1:0', max_request_body_size: 10 });
  });
});
