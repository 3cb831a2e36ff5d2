import { describe, expect, it } from 'vitest';
import { classify, toExportError } from './failures.ts';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('failure classification', () => {
  it('retries connection loss, shutdowns, timeouts and deadlocks', () => {
    for (const e of [
      pgError('ECONNREFUSED'),
      pgError('57P01'),
      pgError('08006'),
      pgError('40P01'),
      pgError('53300'),
      new Error('Connection terminated unexpectedly'),
      pgError('23514', 'no partition of relation "usage_events" found for row'),
    ]) {
      expect(classify(e)).toBe('retry');
    }
    expect(toExportError(pgError('57014')).code).toBe('timeout');
    expect(toExportError(pgError('ECONNRESET')).retryable).toBe(true);
    // Five upper-case letters like a SQLSTATE, but Node's: the server went away mid-COPY (seen in CI).
    expect(classify(pgError('EPIPE'))).toBe('retry');
    expect(toExportError(pgError('EPIPE')).retryable).toBe(true);
  });

  it('treats bad bytes, checks and oversized rows as data errors', () => {
    for (const code of ['22021', '22P05', '23502', '23514', '54000'])
      expect(classify(pgError(code))).toBe('data');
  });

  it('does not retry programming errors', () => {
    expect(classify(pgError('42P01'))).toBe('fatal');
    const e = toExportError(pgError('42P01'));
    expect(e.code).toBe('exporter_failed');
    expect(e.retryable).toBe(false);
  });
});
