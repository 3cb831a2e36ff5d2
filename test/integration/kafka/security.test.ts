import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kafkaExporterConfigSchema } from '../../../exporters/kafka/config.ts';
import { kafkaExporterFactory } from '../../../exporters/kafka/factory.ts';
import type { Component } from '../../../pipeline/component.ts';
import { testBatch, testEvent, testHost, testSettings } from '../../../pipeline/testing.ts';
import { kafkaReceiverConfigSchema } from '../../../receivers/kafka/config.ts';
import { kafkaReceiverFactory } from '../../../receivers/kafka/factory.ts';
import { type KafkaService, startKafka } from '../../services/kafka.ts';
import { admin, envelope, produceLines, Recorder, uniqueTopic, waitFor } from './support.ts';

// The connection's security settings against a broker that also listens with SASL_PLAINTEXT
// (PLAIN) and with TLS: the configured credentials and CA reach the broker; wrong ones fail.

const USER = { username: 'ledgerline', password: 'sasl-test-password' };
let kafka: KafkaService;
const running: Component[] = [];

beforeAll(async () => {
  kafka = await startKafka({ saslPlain: USER, tls: true });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.shutdown(AbortSignal.timeout(10_000))));
});

afterAll(async () => {
  await kafka?.stop();
});

const sasl = (password: string) => ({ mechanism: 'plain', username: USER.username, password });

describe('kafka connection security', () => {
  it('SASL/PLAIN: consumes and produces with the configured credentials', async () => {
    const topic = uniqueTopic('sasl');
    await produceLines(kafka.brokers, topic, [JSON.stringify(envelope(1))], {
      authorization: 'Bearer acme-token',
    });
    const rec = new Recorder();
    const settings = testSettings('kafka');
    const receiver = kafkaReceiverFactory.create(
      settings,
      kafkaReceiverConfigSchema.parse({
        brokers: kafka.saslBrokers,
        sasl: sasl(USER.password),
        topics: [topic],
        group_id: `g-${topic}`,
      }),
      rec,
    );
    running.push(receiver);
    await receiver.start(testHost(settings));
    await waitFor('the event', () => rec.events.length === 1);
    await waitFor('the commit', () => admin(kafka.brokers).fullyCommitted(`g-${topic}`, topic));

    const out = uniqueTopic('sasl-out');
    const exporter = kafkaExporterFactory.create(
      settings,
      kafkaExporterConfigSchema.parse({ brokers: kafka.saslBrokers, sasl: sasl(USER.password), topic: out }),
    );
    running.push(exporter);
    await exporter.start(testHost(settings));
    await exporter.consume(testBatch([testEvent()]));
  });

  it('SASL/PLAIN: refuses to start with a wrong password', async () => {
    const settings = testSettings('kafka');
    const exporter = kafkaExporterFactory.create(
      settings,
      kafkaExporterConfigSchema.parse({ brokers: kafka.saslBrokers, sasl: sasl('wrong'), topic: 'never' }),
    );
    running.push(exporter);
    await expect(exporter.start(testHost(settings))).rejects.toThrow(/SASL|[Aa]uthentication/);
  });

  it('TLS: consumes from the SSL listener, verifying the broker against the configured CA', async () => {
    const topic = uniqueTopic('tls');
    await produceLines(kafka.brokers, topic, [JSON.stringify(envelope(7))], {
      authorization: 'Bearer acme-token',
    });
    const rec = new Recorder();
    const settings = testSettings('kafka');
    const receiver = kafkaReceiverFactory.create(
      settings,
      kafkaReceiverConfigSchema.parse({
        brokers: kafka.tlsBrokers,
        tls: { ca_file: kafka.caFile },
        topics: [topic],
        group_id: `g-${topic}`,
      }),
      rec,
    );
    running.push(receiver);
    await receiver.start(testHost(settings));
    await waitFor('the event', () => rec.events.length === 1);
    expect(rec.events[0]!.metadata.details.n).toBe(7);
  });

  it('TLS: refuses a broker whose certificate the configured CAs did not sign', async () => {
    const settings = testSettings('kafka');
    const exporter = kafkaExporterFactory.create(
      settings,
      kafkaExporterConfigSchema.parse({
        brokers: kafka.tlsBrokers,
        tls: {},
        topic: 'never',
        connect_timeout_ms: 2000,
      }),
    );
    running.push(exporter);
    await expect(exporter.start(testHost(settings))).rejects.toThrow(/certificate/i);
  });
});
