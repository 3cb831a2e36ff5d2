import { describe, expect, it } from 'vitest';
import { isDeadLetterTopic, kafkaReceiverConfigSchema } from './config.ts';

describe('kafka receiver config', () => {
  it('has safe defaults', () => {
    const c = kafkaReceiverConfigSchema.parse({});
    expect(c).toMatchObject({
      brokers: ['localhost:9092'],
      topics: ['ledgerline.events'],
      group_id: 'ledgerline',
      encoding: 'json',
      auth: { mode: 'bearer', header: 'authorization' },
      dead_letter_topic: '{topic}.dlq',
      initial_offset: 'earliest',
    });
  });

  it('names every mistake by its key', () => {
    const r = kafkaReceiverConfigSchema.safeParse({
      topics: ['^[bad', 'events'],
      dead_letter_topic: '{topic}',
      auth: { mode: 'tenant' },
      heartbeat_interval_ms: 20_000,
      colour: 'blue',
    });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('auth.tenant');
    const all = JSON.stringify(r.error!.issues);
    expect(all).toContain('colour');
  });

  it('checks topic patterns and the dead-letter topic once the keys are known', () => {
    const r = kafkaReceiverConfigSchema.safeParse({
      topics: ['^[bad', 'events'],
      dead_letter_topic: '{topic}',
      heartbeat_interval_ms: 20_000,
    });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['topics.0', 'dead_letter_topic', 'heartbeat_interval_ms']));
  });

  it('recognises dead-letter topics of the template', () => {
    expect(isDeadLetterTopic('{topic}.dlq', 'events.dlq')).toBe(true);
    expect(isDeadLetterTopic('{topic}.dlq', 'events')).toBe(false);
    expect(isDeadLetterTopic('dlq.{topic}', 'dlq.events')).toBe(true);
    expect(isDeadLetterTopic('all-dead', 'all-dead')).toBe(true);
  });
});
