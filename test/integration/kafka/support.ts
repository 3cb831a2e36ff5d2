import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Consumer, EventBatch } from '../../../pipeline/component.ts';
import type { Event } from '../../../pipeline/event.ts';
import { kcat } from '../../services/kafka.ts';

/**
 * Helpers for the Kafka suites: unique topics, producing and reading with kcat (an independent
 * client), committed offsets through the Kafka admin API, and a consumer that records batches.
 */

/** A topic name no other test uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}.${randomBytes(4).toString('hex')}`;
}

/** An envelope as a producer would write it. */
export function envelope(i: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_type: 'activity',
    actor: { type: 'user', id: `u-${i}` },
    tenant: { id: 'acme' },
    action: 'report_exported',
    metadata: { details: { n: i } },
    ...overrides,
  };
}

/** Produces newline-delimited values with kcat, all with the same headers; `-K` keys when given. */
export async function produceLines(
  brokers: string[],
  topic: string,
  lines: string[],
  headers: Record<string, string> = {},
  partition?: number,
): Promise<void> {
  const args = ['-P', '-b', brokers.join(','), '-t', topic, '-X', 'acks=all'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
  if (partition !== undefined) args.push('-p', String(partition));
  await kcat(args, `${lines.join('\n')}\n`);
}

/** Produces one binary value with kcat (from a file, so any bytes go through). */
export async function produceFile(
  brokers: string[],
  topic: string,
  value: Buffer,
  dir: string,
  headers: Record<string, string> = {},
): Promise<void> {
  const file = join(dir, `${randomBytes(4).toString('hex')}.bin`);
  writeFileSync(file, value);
  const args = ['-P', '-b', brokers.join(','), '-t', topic, '-X', 'acks=all'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
  args.push(file);
  await kcat(args);
}

/** One record as kcat -J prints it. */
export interface KcatRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

/** Reads `count` records of a topic from the beginning with kcat. */
export async function readTopic(brokers: string[], topic: string, count: number): Promise<KcatRecord[]> {
  const out = await kcat([
    '-C',
    '-b',
    brokers.join(','),
    '-t',
    topic,
    '-o',
    'beginning',
    '-c',
    String(count),
    '-J',
    '-e',
  ]);
  return out
    .toString('utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as KcatRecord);
}

/** The raw value of the first record of a topic (kcat -J would mangle binary values). */
export async function readFirstValue(brokers: string[], topic: string): Promise<Buffer> {
  return kcat(['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-c', '1', '-e', '-f', '%s']);
}

/** kcat's flat header list as an object. */
export function headersOf(r: KcatRecord): Record<string, string> {
  const h: Record<string, string> = {};
  const list = r.headers ?? [];
  for (let i = 0; i + 1 < list.length; i += 2) h[list[i]!] = list[i + 1]!;
  return h;
}

/** The Kafka admin API (topics, end offsets, committed offsets), through a real client. */
export function admin(brokers: string[]) {
  const kafka = new Kafka({ brokers, clientId: 'ledgerline-test', logLevel: logLevel.NOTHING });
  return {
    async createTopic(topic: string, partitions: number): Promise<void> {
      const a = kafka.admin();
      await a.connect();
      try {
        await a.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
      } finally {
        await a.disconnect();
      }
    },
    /** True when the group committed every partition up to its end (an empty one needs no commit). */
    async fullyCommitted(groupId: string, topic: string): Promise<boolean> {
      const { committed, end } = await this.offsets(groupId, topic);
      return end.every((e, p) => committed[p] === e || (e === 0 && committed[p] === -1));
    },
    /** Committed offset per partition of a group (-1 when none), and the end offset of each. */
    async offsets(groupId: string, topic: string): Promise<{ committed: number[]; end: number[] }> {
      const a = kafka.admin();
      await a.connect();
      try {
        const [group] = await a.fetchOffsets({ groupId, topics: [topic] });
        const ends = await a.fetchTopicOffsets(topic);
        const committed: number[] = [];
        const end: number[] = [];
        for (const p of group!.partitions) committed[p.partition] = Number(p.offset);
        for (const p of ends) end[p.partition] = Number(p.high);
        return { committed, end };
      } finally {
        await a.disconnect();
      }
    },
  };
}

/** Polls until `check` returns true; fails with `what` after the timeout. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      // A broker that just restarted answers "coordinator loading" for a while: not yet.
      last = err;
    }
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A consumer that records batches; `behave` may throw or reject events before they count. */
export class Recorder implements Consumer {
  readonly batches: EventBatch[] = [];
  readonly events: Event[] = [];
  behave: ((batch: EventBatch) => void | Promise<void>) | undefined;

  constructor(behave?: (batch: EventBatch) => void | Promise<void>) {
    this.behave = behave;
  }

  async consume(batch: EventBatch): Promise<void> {
    await this.behave?.(batch);
    this.batches.push(batch);
    this.events.push(...batch.events);
  }

  /** Distinct event ids seen. */
  ids(): Set<string> {
    return new Set(this.events.map((e) => e.event_id));
  }
}
