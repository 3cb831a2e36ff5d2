import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testBatch, testEvent, testHost, testSettings } from '../../pipeline/testing.ts';
import { postgresExporterFactory } from './factory.ts';

describe('postgres exporter factory', () => {
  it('has documented defaults: embedded PGlite, 30 days raw, 13 months of rollups', () => {
    const c = postgresExporterFactory.configSchema.parse({});
    expect(c.url).toBe('embedded:./data/pg');
    expect(c.retention).toEqual({ raw_days: 30, rollup_days: 396, dead_letter_days: 30 });
  });

  it('refuses an unknown key and a URL that is neither postgres:// nor embedded:', () => {
    expect(postgresExporterFactory.configSchema.safeParse({ urll: 'x' }).success).toBe(false);
    const bad = postgresExporterFactory.configSchema.safeParse({ url: 'mysql://x' });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain('embedded:<dir>');
  });

  it('shuts down safely without start, and twice', async () => {
    const settings = testSettings('postgres');
    const c = postgresExporterFactory.create(
      settings,
      postgresExporterFactory.configSchema.parse({ url: 'embedded:memory://' }),
    );
    await c.shutdown();
    await c.shutdown();
    await expect(c.consume(testBatch([testEvent()]))).rejects.toMatchObject({
      code: 'exporter_unavailable',
      retryable: true,
    });
  });

  it('creates, starts, consumes and shuts down on embedded PGlite', { timeout: 60_000 }, async () => {
    const settings = testSettings('postgres');
    const c = postgresExporterFactory.create(
      settings,
      postgresExporterFactory.configSchema.parse({ url: 'embedded:memory://' }),
    );
    await c.start(testHost(settings));
    await c.consume(testBatch([testEvent({ occurred_at: new Date().toISOString() })]));
    await c.shutdown();
    await c.shutdown();
  });

  it('refuses a second exporter on the same embedded directory while the first runs', {
    timeout: 60_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledgerline-pglite-lock-'));
    const settings = testSettings('postgres');
    const config = postgresExporterFactory.configSchema.parse({ url: `embedded:${dir}` });
    const first = postgresExporterFactory.create(settings, config);
    const second = postgresExporterFactory.create(settings, config);
    try {
      await first.start(testHost(settings));
      await expect(second.start(testHost(settings))).rejects.toThrow(/in use by process/);
      await first.shutdown();
      // Released on shutdown: the directory can be opened again.
      await second.start(testHost(settings));
    } finally {
      await first.shutdown();
      await second.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
