import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { promtool } from '../../services/prometheus.ts';

/** The shipped Prometheus config and alerting rules, checked and unit-tested with promtool. */

const DEPLOY = join(import.meta.dirname, '../../../deploy/prometheus');
const dir = mkdtempSync(join(tmpdir(), 'll-prom-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('deploy/prometheus', () => {
  it('alerting rules pass promtool check rules', () => {
    const r = promtool(['check', 'rules', join(DEPLOY, 'rules/ledgerline.rules.yml')]);
    expect(r.output).toContain('SUCCESS: 6 rules found');
    expect(r.ok).toBe(true);
  });

  it('alerting rules pass their promtool unit tests', () => {
    const r = promtool(['test', 'rules', join(DEPLOY, 'tests/ledgerline.rules.test.yml')]);
    expect(r.output).toContain('SUCCESS');
    expect(r.ok).toBe(true);
  });

  it('promtool test rules fails when an expectation is wrong (the suite can fail)', () => {
    cpSync(DEPLOY, join(dir, 'broken'), { recursive: true });
    const file = join(dir, 'broken/tests/ledgerline.rules.test.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('exporter: postgres }', 'exporter: ledger }'));
    const r = promtool(['test', 'rules', file]);
    expect(r.ok).toBe(false);
    expect(r.output).toContain('LedgerlineExporterQueueNearCapacity');
  });

  it('the scrape config passes promtool check config (with its token file present)', () => {
    cpSync(DEPLOY, join(dir, 'config'), { recursive: true });
    const token = join(dir, 'scrape.token');
    writeFileSync(token, 'a-test-token-that-is-long-enough\n', { mode: 0o600 });
    const file = join(dir, 'config/prometheus.yml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('/etc/prometheus/secrets/ledgerline-scrape.token', token),
    );
    const r = promtool(['check', 'config', file]);
    expect(r.output).toContain('SUCCESS');
    expect(r.ok).toBe(true);
  });
});
