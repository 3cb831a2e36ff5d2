import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Component, Consumer } from '../../../pipeline/component.ts';
import { PipelineError } from '../../../pipeline/errors.ts';
import { testHost, testSettings } from '../../../pipeline/testing.ts';
import { kafkaReceiverConfigSchema } from '../../../receivers/kafka/config.ts';
import { DLQ_HEADERS } from '../../../receivers/kafka/dead-letter.ts';
import { recordEventId } from '../../../receivers/kafka/decode.ts';
import { kafkaReceiverFactory } from '../../../receivers/kafka/factory.ts';
import { type KafkaService, startKafka } from '../../services/kafka.ts';
import {
  admin,
  envelope,
  headersOf,
  produceFile,
  produceLines,
  Recorder,
  readTopic,
  uniqueTopic,
  waitFor,
} from './support.ts';

// The kafka receiver against a real Apache Kafka 4.x broker, fed by kcat.

let kafka: KafkaService;
let dir: string;
const running: Component[] = [];

beforeAll(async () => {
  kafka = await startKafka();
  dir = mkdtempSync(join(tmpdir(), 'ledgerline-kafka-test-'));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.shutdown(AbortSignal.timeout(10_000))));
});

afterAll(async () => {
  await kafka?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startReceiver(config: Record<string, unknown>, next: Consumer, id = 'kafka') {
  const settings = testSettings(id);
  if (process.env.KAFKA_TEST_DEBUG) settings.logger = pino({ level: 'debug' }).child({ component: id });
  const parsed = kafkaReceiverConfigSchema.parse({
    brokers: kafka.brokers,
    session_timeout_ms: 10_000,
    heartbeat_interval_ms: 1_000,
    ...config,
  });
  const receiver = kafkaReceiverFactory.create(settings, parsed, next);
  running.push(receiver);
  await receiver.start(testHost(settings));
  return { receiver, settings };
}

/** Waits until the group committed every partition up to its end. */
async function allCommitted(group: string, topic: string) {
  await waitFor(`group ${group} to commit all of ${topic}`, () =>
    admin(kafka.brokers).fullyCommitted(group, topic),
  );
}

const ACME = { authorization: 'Bearer acme-token' };
const GLOBEX = { authorization: 'Bearer globex-token' };

describe('kafka receiver', () => {
  it('turns kcat-produced JSON envelopes and arrays into events of the authenticated tenant', async () => {
    const topic = uniqueTopic('json');
    await admin(kafka.brokers).createTopic(topic, 3);
    await produceLines(
      kafka.brokers,
      topic,
      Array.from({ length: 30 }, (_, i) => JSON.stringify(envelope(i))),
      ACME,
    );
    const array = [0, 1, 2].map((i) => envelope(100 + i, { tenant: { id: 'globex' } }));
    await produceLines(kafka.brokers, topic, [JSON.stringify(array)], GLOBEX, 1);

    const rec = new Recorder();
    await startReceiver({ topics: [topic], group_id: `g-${topic}` }, rec);
    await waitFor('33 events', () => rec.events.length >= 33);
    await allCommitted(`g-${topic}`, topic);

    expect(rec.events).toHaveLength(33);
    const details = rec.events.map((e) => e.metadata.details.n).sort((a, b) => Number(a) - Number(b));
    expect(details).toEqual([...Array.from({ length: 30 }, (_, i) => i), 100, 101, 102]);
    for (const b of rec.batches) {
      expect(b.source).toEqual({ receiver: 'kafka', transport: 'kafka' });
      for (const e of b.events) expect(e.tenant.id).toBe(b.auth.tenantId);
    }
    const globex = rec.batches.filter((b) => b.auth.tenantId === 'globex').flatMap((b) => b.events);
    expect(globex).toHaveLength(3);
    // Ids derive from the record position, so a redelivery yields the same ones.
    const byN = new Map(globex.map((e) => [e.metadata.details.n, e.event_id]));
    const offset = (await readTopic(kafka.brokers, topic, 33)).find(
      (r) => r.partition === 1 && r.payload?.startsWith('['),
    )!.offset;
    expect(byN.get(101)).toBe(recordEventId({ topic, partition: 1, offset: String(offset) }, 1));
  });

  it('starts and shuts down twice, committing what it consumed', async () => {
    const topic = uniqueTopic('lifecycle');
    await produceLines(kafka.brokers, topic, [JSON.stringify(envelope(0))], ACME);
    const rec = new Recorder();
    const { receiver } = await startReceiver({ topics: [topic], group_id: `g-${topic}` }, rec);
    await waitFor('the event', () => rec.events.length === 1);
    await receiver.shutdown(AbortSignal.timeout(10_000));
    await receiver.shutdown();
    expect(await admin(kafka.brokers).fullyCommitted(`g-${topic}`, topic)).toBe(true);
  });

  it('subscribes to the topics a pattern matches, never to their dead-letter topics', async () => {
    const prefix = uniqueTopic('pattern');
    const [a, b] = [`${prefix}.a`, `${prefix}.b`];
    await produceLines(kafka.brokers, a, [JSON.stringify(envelope(1))], ACME);
    await produceLines(kafka.brokers, b, [JSON.stringify(envelope(2))], ACME);
    await produceLines(kafka.brokers, `${a}.dlq`, [JSON.stringify(envelope(3))], ACME);
    const rec = new Recorder();
    const escaped = prefix.replaceAll('.', '\\.');
    await startReceiver({ topics: [`^${escaped}\\..*`], group_id: `g-${prefix}` }, rec);
    await waitFor('two events', () => rec.events.length >= 2);
    await waitFor('both topics committed', async () => {
      const x = admin(kafka.brokers);
      return (await x.fullyCommitted(`g-${prefix}`, a)) && (await x.fullyCommitted(`g-${prefix}`, b));
    });
    expect(rec.events.map((e) => e.metadata.details.n).sort()).toEqual([1, 2]);
  });

  it('reads OTLP protobuf written by the OpenTelemetry SDK', async () => {
    const topic = uniqueTopic('otlp');
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'billing' }),
      processors: [new SimpleLogRecordProcessor({ exporter })],
    });
    const logger = provider.getLogger('test');
    logger.emit({
      eventName: 'invoice_sent',
      severityNumber: SeverityNumber.INFO,
      attributes: { 'enduser.id': 'u-7', 'usage.feature': 'billing' },
    });
    logger.emit({
      severityNumber: SeverityNumber.INFO,
      body: JSON.stringify(envelope(5, { event_id: '0192e4a0-0000-7000-8000-00000000abcd' })),
    });
    await provider.forceFlush();
    const bytes = Buffer.from(ProtobufLogsSerializer.serializeRequest(exporter.getFinishedLogRecords())!);
    await produceFile(kafka.brokers, topic, bytes, dir);

    const rec = new Recorder();
    await startReceiver(
      {
        topics: [topic],
        group_id: `g-${topic}`,
        encoding: 'otlp_proto',
        auth: { mode: 'tenant', tenant: 'acme' },
      },
      rec,
    );
    await waitFor('2 events', () => rec.events.length >= 2);
    await allCommitted(`g-${topic}`, topic);
    const [a, b] = rec.events;
    expect(a).toMatchObject({
      event_id: recordEventId({ topic, partition: 0, offset: '0' }, 0),
      action: 'invoice_sent',
      tenant: { id: 'acme' },
      actor: { type: 'user', id: 'u-7' },
      usage: { feature: 'billing' },
    });
    expect(b).toMatchObject({
      event_id: '0192e4a0-0000-7000-8000-00000000abcd',
      action: 'report_exported',
      actor: { id: 'u-5' },
    });
    await provider.shutdown();
  });

  it('dead-letters poison records with the reason and keeps consuming the partition', async () => {
    const topic = uniqueTopic('poison');
    await admin(kafka.brokers).createTopic(topic, 1);
    const good = (i: number) => JSON.stringify(envelope(i));
    await produceLines(
      kafka.brokers,
      topic,
      [good(0), '{not json', JSON.stringify(envelope(1, { actor: undefined }))],
      ACME,
    );
    await produceLines(kafka.brokers, topic, [good(2)], { authorization: 'Bearer stolen' });
    await produceLines(
      kafka.brokers,
      topic,
      [JSON.stringify([envelope(3), envelope(4, { action: 'Bad Action' })]), good(5)],
      ACME,
    );
    await produceLines(
      kafka.brokers,
      topic,
      [JSON.stringify(envelope(6, { action: 'tenant_mismatch' })), good(7)],
      ACME,
    );

    // A processor downstream refuses one event after consume, as tenant validation would.
    const rec = new Recorder((batch) => {
      for (const e of batch.events)
        if (e.action === 'tenant_mismatch')
          batch.report.reject(e, 'tenant_rejected', 'tenant.id does not match');
    });
    const { settings } = await startReceiver({ topics: [topic], group_id: `g-${topic}` }, rec);
    await allCommitted(`g-${topic}`, topic);

    expect(rec.events.map((e) => e.metadata.details.n).filter((n) => n !== 6)).toEqual([0, 3, 5, 7]);
    const dlq = await readTopic(kafka.brokers, `${topic}.dlq`, 5);
    const summary = dlq.map((r) => {
      const h = headersOf(r);
      return {
        offset: h[DLQ_HEADERS.offset],
        index: h[DLQ_HEADERS.index],
        code: h[DLQ_HEADERS.code],
        topic: h[DLQ_HEADERS.topic],
        partition: h[DLQ_HEADERS.partition],
      };
    });
    expect(summary).toEqual(
      expect.arrayContaining([
        { offset: '1', index: undefined, code: 'invalid_request', topic, partition: '0' },
        { offset: '2', index: undefined, code: 'invalid_event', topic, partition: '0' },
        { offset: '3', index: undefined, code: 'unauthenticated', topic, partition: '0' },
        { offset: '4', index: '1', code: 'invalid_event', topic, partition: '0' },
        { offset: '6', index: undefined, code: 'tenant_rejected', topic, partition: '0' },
      ]),
    );
    expect(dlq).toHaveLength(5);
    const byOffset = new Map(dlq.map((r) => [headersOf(r)[DLQ_HEADERS.offset], r]));
    expect(byOffset.get('1')!.payload).toBe('{not json');
    expect(headersOf(byOffset.get('2')!)[DLQ_HEADERS.message]).toContain('actor');
    expect(JSON.parse(byOffset.get('4')!.payload!)).toEqual(envelope(4, { action: 'Bad Action' }));
    // The credential of a refused record never reaches the dead-letter topic.
    expect(headersOf(byOffset.get('3')!).authorization).toBeUndefined();
    const metrics = await settings.telemetry.registry.getSingleMetricAsString(
      'ledgerline_kafka_receiver_dead_lettered_total',
    );
    expect(metrics).toContain('code="invalid_event"} 2');
    expect(metrics).toContain('code="tenant_rejected"} 1');
  });

  it('pauses and retries while the pipelines answer retryable, losing nothing', async () => {
    const topic = uniqueTopic('pressure');
    await admin(kafka.brokers).createTopic(topic, 2);
    await produceLines(
      kafka.brokers,
      topic,
      Array.from({ length: 200 }, (_, i) => JSON.stringify(envelope(i))),
      ACME,
    );
    let refusals = 0;
    const rec = new Recorder(() => {
      if (refusals++ < 5) throw new PipelineError('queue_full', 'full', { retryAfter: 0 });
    });
    const { settings } = await startReceiver(
      { topics: [topic], group_id: `g-${topic}`, retry: { initial_interval_ms: 10, max_interval_ms: 50 } },
      rec,
    );
    await allCommitted(`g-${topic}`, topic);
    expect(rec.ids().size).toBe(200);
    expect(
      await settings.telemetry.registry.getSingleMetricAsString('ledgerline_kafka_receiver_retries_total'),
    ).toMatch(/} [5-9]|} \d\d/);
  });

  it('dead-letters a batch the pipelines refuse for good, and moves on', async () => {
    const topic = uniqueTopic('refused');
    await produceLines(
      kafka.brokers,
      topic,
      [JSON.stringify(envelope(0)), JSON.stringify(envelope(1))],
      ACME,
    );
    const rec = new Recorder(() => {
      throw new PipelineError('exporter_failed', 'the sink refused the batch');
    });
    await startReceiver({ topics: [topic], group_id: `g-${topic}` }, rec);
    await allCommitted(`g-${topic}`, topic);
    const dlq = await readTopic(kafka.brokers, `${topic}.dlq`, 2);
    expect(dlq.map((r) => headersOf(r)[DLQ_HEADERS.code])).toEqual(['exporter_failed', 'exporter_failed']);
  });

  it('shares partitions in a group: stopping one member mid-stream loses nothing', async () => {
    const topic = uniqueTopic('group');
    const group = `g-${topic}`;
    await admin(kafka.brokers).createTopic(topic, 4);
    // Slow consumers, so the stop happens with batches in flight.
    const slow = () => new Promise<void>((r) => setTimeout(r, 20));
    const one = new Recorder(slow);
    const two = new Recorder(slow);
    await startReceiver(
      { topics: [topic], group_id: group, max_bytes_per_partition: 4096 },
      one,
      'kafka/one',
    );
    const second = await startReceiver(
      { topics: [topic], group_id: group, max_bytes_per_partition: 4096 },
      two,
      'kafka/two',
    );

    // Produce in chunks until both members consumed and one of them stopped, then once more.
    let produced = 0;
    let stopped = false;
    const producing = (async () => {
      for (let extra = 2; extra > 0; extra -= stopped ? 1 : 0) {
        const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify(envelope(produced + i)));
        await produceLines(kafka.brokers, topic, lines, ACME);
        produced += lines.length;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await waitFor('both members consuming', () => one.events.length > 0 && two.events.length > 0);
    await second.receiver.shutdown(AbortSignal.timeout(10_000));
    stopped = true;
    await producing;
    await allCommitted(group, topic);
    const seen = new Set([...one.ids(), ...two.ids()]);
    expect(seen.size).toBe(produced);
    expect(new Set([...one.events, ...two.events].map((e) => e.metadata.details.n)).size).toBe(produced);
  });

  it('resumes after a broker restart mid-stream, losing nothing', async () => {
    const topic = uniqueTopic('restart');
    await admin(kafka.brokers).createTopic(topic, 2);
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify(envelope(i)));
    await produceLines(kafka.brokers, topic, lines.slice(0, 1000), ACME);
    // Batches past the first 300 events wait until the broker is going down, so they are in
    // flight (and their commits due) while it is away.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const rec = new Recorder(async () => {
      if (rec.events.length >= 300) await gate;
    });
    await startReceiver({ topics: [topic], group_id: `g-${topic}`, max_bytes_per_partition: 8192 }, rec);
    await waitFor('300 events', () => rec.events.length >= 300);
    const restarting = kafka.restart();
    release();
    await restarting;
    await produceLines(kafka.brokers, topic, lines.slice(1000), ACME);
    await allCommitted(`g-${topic}`, topic);
    expect(rec.ids().size).toBe(2000);
  }, 180_000);
});
