import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresExporterFactory } from '../../exporters/postgres/factory.ts';
import type { Host } from '../../pipeline/component.ts';
import { testBatch, testEvent, testHost, testSettings } from '../../pipeline/testing.ts';
import { usageApiFactory } from './factory.ts';
import { testAdminAuth } from './testdata/admin-auth.ts';

// Answers are keyed by stored data (event types, actor ids). A tenant that stores an event type
// `constructor` or an actor `__proto__` must get them back as plain keys, and must not be able
// to reach Object.prototype for the whole process (found in review: prototype pollution).

const pg = postgresExporterFactory.create(
  testSettings('postgres'),
  postgresExporterFactory.configSchema.parse({
    url: `embedded:${mkdtempSync(join(tmpdir(), 'usage-proto-'))}`,
  }),
);
afterAll(() => pg.shutdown());

describe('usage API with hostile keys', () => {
  it('returns constructor and __proto__ as keys and leaves Object.prototype alone', async () => {
    const settings = testSettings('postgres');
    await pg.start(testHost(settings));
    const now = new Date().toISOString();
    await pg.consume(
      testBatch([
        testEvent({
          action: 'constructor',
          actor: { type: 'user', id: 'keys' },
          occurred_at: now,
          usage: { count: 2 },
        }),
        testEvent({
          action: 'llm_call',
          actor: { type: 'user', id: '__proto__' },
          occurred_at: now,
          usage: { count: 1, tokens: { input: 5, output: 7 } },
        }),
      ]),
    );
    await (pg as unknown as { fold?: () => Promise<void> }).fold?.();
    const api = usageApiFactory.create(testSettings('usage_api'), usageApiFactory.configSchema.parse({}));
    const host: Host = { ...testHost(settings), getComponent: (id) => (id === 'postgres' ? pg : undefined) };
    await api.start(host);
    const call = async (name: string) => {
      const route = api.routes!().find((r) => r.path.endsWith(`/${name}`))!;
      const res = await route.handle({
        method: 'GET',
        path: route.path,
        params: {},
        query: new URLSearchParams('days=1'),
        headers: {},
        auth: testAdminAuth('acme'),
        body: Buffer.alloc(0),
      });
      return JSON.parse(JSON.stringify(res.body));
    };
    const summary = await call('summary');
    expect(summary.summary.constructor).toEqual({ keys: 2 });
    const tokens = await call('llm-tokens');
    expect(Object.getOwnPropertyDescriptor(tokens.llm_tokens, '__proto__')?.value).toEqual({
      input: 5,
      output: 7,
      total: 12,
    });
    expect(typeof Object.keys).toBe('function');
    expect(({} as Record<string, unknown>).input).toBeUndefined();
    await api.shutdown();
  });
});
