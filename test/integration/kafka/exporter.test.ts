import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kafkaExporterConfigSchema } from '../../../exporters/kafka/config.ts';
import { TENANT_HEADER } from '../../../exporters/kafka/exporter.ts';
import { kafkaExporterFactory } from '../../../exporters/kafka/factory.ts';
import type { ConsumerComponent } from '../../../pipeline/component.ts';
import { testAuth, testBatch, testEvent, testHost, testSettings } from '../../../pipeline/testing.ts';
import { decodeLogsProto } from '../../../receivers/otlp/proto-logs.ts';
import { type KafkaService, startKafka } from '../../services/kafka.ts';
import { headersOf, readFirstValue, readTopic, uniqueTopic } from './support.ts';

// The kafka exporter (gateway mode) against a real broker, read back with kcat.

let kafka: KafkaService;
const running: ConsumerComponent[] = [];

beforeAll(async () => {
  kafka = await startKafka();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.shutdown()));
});

afterAll(async () => {
  await kafka?.stop();
});

async function startExporter(config: Record<string, unknown>) {
  const settings = testSettings('kafka');
  const exporter = kafkaExporterFactory.create(
    settings,
    kafkaExporterConfigSchema.parse({ brokers: kafka.brokers, ...config }),
  );
  running.push(exporter);
  await exporter.start(testHost(settings));
  return exporter;
}

describe('kafka exporter', () => {
  it('writes one JSON envelope per record, keyed and labelled by tenant, acknowledged by the broker', async () => {
    const topic = uniqueTopic('out');
    const exporter = await startExporter({ topic });
    const events = Array.from({ length: 20 }, (_, i) => testEvent({ metadata: { details: { n: i } } }));
    await exporter.consume(testBatch(events));
    const records = await readTopic(kafka.brokers, topic, 20);
    expect(records).toHaveLength(20);
    expect(records.map((r) => JSON.parse(r.payload!))).toEqual(events);
    for (const r of records) {
      expect(r.key).toBe('acme');
      expect(headersOf(r)).toMatchObject({ [TENANT_HEADER]: 'acme', 'content-type': 'application/json' });
    }
  });

  it('never forwards an event of a tenant its sender may not write for', async () => {
    const topic = uniqueTopic('forged');
    const exporter = await startExporter({ topic });
    const forged = testEvent({ tenant: { id: 'globex' } });
    const batch = testBatch([testEvent(), forged], testAuth('acme'));
    await exporter.consume(batch);
    expect(batch.report.rejected).toEqual([
      { event_id: forged.event_id, code: 'tenant_rejected', message: expect.any(String) },
    ]);
    const records = await readTopic(kafka.brokers, topic, 1);
    expect(records.map((r) => r.key)).toEqual(['acme']);
  });

  it('writes OTLP log requests that an OTLP decoder reads', async () => {
    const topic = uniqueTopic('otlp-out');
    const exporter = await startExporter({ topic, encoding: 'otlp_proto', compression: 'none' });
    const event = testEvent({ usage: { tool: 'sql', count: 2 } });
    await exporter.consume(testBatch([event]));
    const [record] = await readTopic(kafka.brokers, topic, 1);
    const logs = decodeLogsProto(await readFirstValue(kafka.brokers, topic));
    expect(logs).toHaveLength(1);
    expect(logs[0]!.eventName).toBe(event.action);
    expect(JSON.parse(logs[0]!.body as string)).toEqual(event);
    expect(headersOf(record!)['content-type']).toBe('application/x-protobuf');
  });

  it('starts and shuts down twice', async () => {
    const exporter = await startExporter({ topic: uniqueTopic('lifecycle') });
    await exporter.shutdown();
    await exporter.shutdown();
    await expect(exporter.consume(testBatch([testEvent()]))).rejects.toMatchObject({
      code: 'exporter_unavailable',
    });
  });

  it('resumes producing after a broker restart', async () => {
    const topic = uniqueTopic('restart-out');
    const exporter = await startExporter({ topic });
    await exporter.consume(testBatch([testEvent()]));
    await kafka.halt();
    const during = exporter.consume(testBatch([testEvent({ action: 'sent_while_down' })]));
    await kafka.start();
    // The client reconnects within its own retries, or answers retryable for the queue to retry.
    await during.catch(async (err) => {
      expect(err).toMatchObject({ code: 'exporter_unavailable', retryable: true });
      await exporter.consume(testBatch([testEvent({ action: 'sent_while_down' })]));
    });
    await exporter.consume(testBatch([testEvent({ action: 'sent_after' })]));
    const actions = (await readTopic(kafka.brokers, topic, 3)).map((r) => JSON.parse(r.payload!).action);
    expect(actions).toEqual(['dashboard_viewed', 'sent_while_down', 'sent_after']);
  }, 120_000);
});
