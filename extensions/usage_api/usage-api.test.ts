import { describe, expect, it } from 'vitest';
import { testHost, testSettings } from '../../pipeline/testing.ts';
import { usageApiFactory } from './factory.ts';

describe('usage_api extension', () => {
  it('serves seed 001 endpoints to admins only', () => {
    const ext = usageApiFactory.create(testSettings('usage_api'), usageApiFactory.configSchema.parse({}));
    const routes = ext.routes!();
    expect(routes.map((r) => r.path)).toEqual(
      expect.arrayContaining([
        '/api/v1/usage/summary',
        '/api/v1/usage/users',
        '/api/v1/usage/queries',
        '/api/v1/usage/dashboards',
        '/api/v1/usage/llm-tokens',
      ]),
    );
    for (const r of routes) expect([r.method, r.auth]).toEqual(['GET', 'admin']);
  });

  it('refuses to start without a postgres exporter, naming it', async () => {
    const settings = testSettings('usage_api');
    const ext = usageApiFactory.create(
      settings,
      usageApiFactory.configSchema.parse({ exporter: 'postgres/eu' }),
    );
    await expect(ext.start(testHost(settings))).rejects.toMatchObject({
      code: 'config_invalid',
      message: expect.stringContaining('postgres/eu'),
    });
    await ext.shutdown();
  });

  it('answers 503 (retryable) before it is started', async () => {
    const ext = usageApiFactory.create(testSettings('usage_api'), usageApiFactory.configSchema.parse({}));
    const summary = ext.routes!().find((r) => r.path.endsWith('/summary'))!;
    await expect(
      summary.handle({
        method: 'GET',
        path: '',
        params: {},
        query: new URLSearchParams(),
        headers: {},
        auth: undefined,
        body: Buffer.alloc(0),
      }),
    ).rejects.toMatchObject({
      code: 'exporter_unavailable',
    });
  });
});
