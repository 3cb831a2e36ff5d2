import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnyFactory, Component, Host } from '../../../pipeline/component.ts';
import { factories } from '../../../pipeline/components.ts';
import { CollectingConsumer, testHost, testSettings } from '../../../pipeline/testing.ts';

// The shared contract suite (STYLE §10): every factory in the product's list is taken through
// create → start → shutdown, a second shutdown, and shutdown without start. Components that
// need a service reachable only through their own integration suite (a Kafka broker) are
// started there; here they still go through create and shutdown-without-start.

const dir = () => mkdtempSync(join(tmpdir(), 'ledgerline-contract-'));

/** Settings a component needs to start on this machine with no external service. */
const CONFIGS: Record<string, () => unknown> = {
  'receiver/http': () => ({ endpoint: '127.0.0.1:0' }),
  'receiver/otlp': () => ({
    protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } },
  }),
  'receiver/kafka': () => ({ brokers: ['127.0.0.1:9'], topics: ['contract'], group_id: 'contract' }),
  'exporter/file': () => ({ path: join(dir(), 'events.ndjson') }),
  'exporter/kafka': () => ({ brokers: ['127.0.0.1:9'], topic: 'contract' }),
  'exporter/ledger': () => ({ dir: dir(), generate_key: true }),
  'exporter/prometheus': () => ({
    endpoint: '127.0.0.1:0',
    auth: { bearer_token_file: join(dir(), 'scrape.token') },
  }),
  'exporter/postgres': () => ({ url: `embedded:${dir()}` }),
};
/** Components whose start needs a service brought up by their own suite. */
const NEEDS_SERVICE = new Set(['receiver/kafka', 'exporter/kafka']);

function create(f: AnyFactory, config: unknown): Component {
  const settings = testSettings(f.type);
  const next = new CollectingConsumer();
  switch (f.kind) {
    case 'receiver':
    case 'processor':
      return f.create(settings, config, next);
    default:
      return f.create(settings, config);
  }
}

describe.each(factories.map((f) => [`${f.kind}/${f.type}`, f] as const))('%s', (key, factory) => {
  const config = () => factory.configSchema.parse(CONFIGS[key]?.() ?? {});

  it('has a described config whose defaults parse', () => {
    expect(factory.description.length).toBeGreaterThan(10);
    expect(() => config()).not.toThrow();
  });

  it('shuts down safely without start, twice', async () => {
    const c = create(factory, config());
    await c.shutdown();
    await c.shutdown();
  });
});

// Kafka's receiver and exporter are started against a real broker in test/integration/kafka.
const startable = factories.filter((f) => !NEEDS_SERVICE.has(`${f.kind}/${f.type}`));

describe.each(startable.map((f) => [`${f.kind}/${f.type}`, f] as const))('%s lifecycle', (key, factory) => {
  const config = () => factory.configSchema.parse(CONFIGS[key]?.() ?? {});

  it('starts and shuts down (twice)', async () => {
    // Extensions read exporters (postgres, ledger) through the host, as at run time.
    const deps = new Map<string, Component>();
    if (factory.kind === 'extension') {
      for (const type of ['postgres', 'ledger']) {
        const f = factories.find((x) => x.type === type && x.kind === 'exporter');
        if (!f) continue;
        const dep = create(f, f.configSchema.parse(CONFIGS[`exporter/${type}`]!()));
        await dep.start(testHost(testSettings(type)));
        deps.set(type, dep);
      }
    }
    const settings = testSettings(factory.type);
    const host: Host = { ...testHost(settings), getComponent: (id) => deps.get(id) };
    const c = create(factory, config());
    await c.start(host);
    await c.shutdown();
    await c.shutdown();
    for (const d of deps.values()) await d.shutdown();
  });
});
