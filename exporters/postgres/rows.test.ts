import { describe, expect, it } from 'vitest';
import { testEvent } from '../../pipeline/testing.ts';
import { outcomeOf, USAGE_COLUMNS, usageLine } from './rows.ts';

describe('usage rows', () => {
  it('escapes COPY control characters so every value stays one field', () => {
    const e = testEvent({
      actor: { type: 'user', id: 'a\tb\nc\\d\re' },
      usage: { feature: '\\.', count: 2 },
    });
    const line = usageLine(e, 'http');
    expect(line.endsWith('\n')).toBe(true);
    const fields = line.slice(0, -1).split('\t');
    expect(fields).toHaveLength(USAGE_COLUMNS.length);
    expect(fields[USAGE_COLUMNS.indexOf('actor_id')]).toBe('a\\tb\\nc\\\\d\\re');
    expect(fields[USAGE_COLUMNS.indexOf('feature')]).toBe('\\\\.');
    expect(fields[USAGE_COLUMNS.indexOf('tool')]).toBe('\\N');
    expect(fields[USAGE_COLUMNS.indexOf('count')]).toBe('2');
  });

  it('defaults count and sample rate for events without a usage block and derives the outcome', () => {
    const e = testEvent({ result: 'failure' });
    const fields = usageLine(e, 'http').slice(0, -1).split('\t');
    expect(fields[USAGE_COLUMNS.indexOf('count')]).toBe('1');
    expect(fields[USAGE_COLUMNS.indexOf('sample_rate')]).toBe('1');
    expect(fields[USAGE_COLUMNS.indexOf('outcome')]).toBe('error');
    expect(fields[USAGE_COLUMNS.indexOf('source')]).toBe('http');
    expect(outcomeOf(testEvent({ result: 'denied' }))).toBe('warn');
    expect(outcomeOf(testEvent({ result: 'failure', usage: { outcome: 'ok' } }))).toBe('ok');
  });

  it('keeps safe metadata but never the actor ip', () => {
    const e = testEvent({
      actor: { type: 'user', id: 'u', ip: '10.0.0.1' },
      metadata: { safe_fields_only: true, details: { rows: 3 } },
    });
    const meta = JSON.parse(usageLine(e, 'x').slice(0, -1).split('\t').at(-1)!);
    expect(meta.details).toEqual({ rows: 3 });
    expect(JSON.stringify(meta)).not.toContain('10.0.0.1');
  });
});
