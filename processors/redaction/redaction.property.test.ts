import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Event } from '../../pipeline/event.ts';
import { testBatch, testEvent, testSettings } from '../../pipeline/testing.ts';
import { redactionConfigSchema } from './config.ts';
import { redactionFactory } from './factory.ts';
import { anySecret } from './testdata/secrets.ts';

/**
 * The guarantee the redaction processor exists for: with the default configuration, no
 * planted secret survives anywhere in what a sink would serialise — whatever field, detail
 * key or value it is planted in, and whatever text surrounds it.
 */

/** Free-text fields of the envelope a producer controls. */
const FIELDS = [
  'actor.id',
  'actor.role',
  'actor.user_agent',
  'actor.ip',
  'entity.type',
  'entity.id',
  'entity.version',
  'reason',
  'correlation.request_id',
  'correlation.trace_id',
  'correlation.span_id',
  'correlation.job_id',
  'usage.feature',
  'usage.tool',
  'usage.capability',
  'usage.provider',
  'usage.workspace_id',
  'tenant.slug',
  'metadata.redacted',
  'details.value',
  'details.allowed_value',
  'details.key',
] as const;

type Placement = (typeof FIELDS)[number];

const word = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/);
/** Text around a secret: words and the separators people write next to secrets. */
const context = fc.tuple(
  fc.array(word, { maxLength: 3 }).map((w) => w.join(' ')),
  fc.constantFrom(' ', ': ', ' (', ' "', ', ', '\n'),
  fc.constantFrom(' ', ') ', '" ', '. ', ', ', '\n'),
  fc.array(word, { maxLength: 3 }).map((w) => w.join(' ')),
);

const plant = fc.record({
  secret: anySecret,
  field: fc.constantFrom(...FIELDS),
  wrap: fc.option(context, { nil: undefined }),
});

function embed(secret: string, wrap: [string, string, string, string] | undefined): string {
  if (!wrap) return secret;
  const [before, open, close, after] = wrap;
  return `${before}${open}${secret}${close}${after}`;
}

function placeIn(e: Event, field: Placement, value: string, n: number): void {
  const ev = e as unknown as Record<string, Record<string, unknown>>;
  switch (field) {
    case 'details.value':
      e.metadata.details[`note_${n}`] = value;
      return;
    case 'details.allowed_value':
      e.metadata.details.country = value;
      return;
    case 'details.key':
      e.metadata.details[value] = n;
      return;
    case 'metadata.redacted':
      e.metadata.redacted = [...(e.metadata.redacted ?? []), value];
      return;
    default: {
      const [obj, key] = field.split('.') as [string, string];
      ev[obj] ??= {};
      ev[obj]![key] = value;
    }
  }
}

/** Every string of a value, keys included, joined: what any serialisation could contain. */
function allText(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (typeof v === 'number') out.push(String(v));
  else if (Array.isArray(v)) for (const x of v) allText(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      allText(x, out);
    }
  }
  return out;
}

describe('redaction property: no planted secret survives the default config', () => {
  const settings = testSettings('redaction');
  const processor = redactionFactory.create(settings, redactionConfigSchema.parse({}), {
    consume: async () => {},
  });

  it('holds for secrets of every kind at random fields, keys and contexts', () => {
    fc.assert(
      fc.property(
        fc.array(plant, { minLength: 1, maxLength: 6 }),
        fc.constantFrom('activity', 'audit'),
        (plants, type) => {
          const e = testEvent({
            event_type: type,
            entity: { type: 'doc', id: 'd-1' },
            result: 'success',
            usage: { feature: 'f' },
          });
          for (const [i, p] of plants.entries()) placeIn(e, p.field, embed(p.secret.s, p.wrap), i);
          const before = JSON.stringify(e);
          if (!('process' in processor)) throw new Error('redaction is a processor');
          const out = processor.process(testBatch([e])) as { events: Event[] };
          const json = JSON.stringify(out.events);
          const text = allText(out.events).join('\u0000');
          for (const p of plants) {
            expect(
              json.includes(JSON.stringify(p.secret.s).slice(1, -1)),
              `${p.secret.kind} in ${p.field}`,
            ).toBe(false);
            expect(text.includes(p.secret.s), `${p.secret.kind} in ${p.field}`).toBe(false);
          }
          // The input is never mutated: other pipelines may hold the same event.
          expect(JSON.stringify(e)).toBe(before);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
