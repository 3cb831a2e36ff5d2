import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../../pipeline/tenants.ts';
import { recordEventId } from '../../../receivers/kafka/decode.ts';
import { postJson } from '../../harness/http.ts';
import { type RunningLedgerline, startLedgerline } from '../../harness/ledgerline.ts';
import { type KafkaService, startKafka } from '../../services/kafka.ts';
import { admin, envelope, produceLines, readTopic, uniqueTopic, waitFor } from './support.ts';

// ledgerline processes (cli run) against a real broker: a crash while consuming, and the
// gateway → Kafka → worker deployment of DESIGN §11.

const TOKEN = 'kafka-e2e-token';
let kafka: KafkaService;
const processes: RunningLedgerline[] = [];

beforeAll(async () => {
  kafka = await startKafka();
});

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await kafka?.stop();
});

async function start(config: string, dir?: string): Promise<RunningLedgerline> {
  const ll = await startLedgerline({ config, ...(dir ? { dir } : {}), startTimeoutMs: 60_000 });
  processes.push(ll);
  return ll;
}

/** The events of the file sink; a line that is not JSON fails the test. */
function sink(dir: string): { event_id: string; tenant: { id: string }; action: string }[] {
  let text: string;
  try {
    text = readFileSync(join(dir, 'data', 'events.ndjson'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

const tenants = `tenants:\n  - { id: acme, keys: ["${hashToken(TOKEN)}"] }\n  - { id: globex, keys: ["${hashToken('globex-e2e-token')}"] }`;

describe('kafka end to end', () => {
  it('kill -9 while consuming, restart: every record is in the sink, exactly once after dedupe on event_id', async () => {
    const topic = uniqueTopic('crash');
    const group = `g-${topic}`;
    await admin(kafka.brokers).createTopic(topic, 3);
    const total = 20_000;
    const lines = Array.from({ length: total }, (_, i) => JSON.stringify(envelope(i)));
    await produceLines(kafka.brokers, topic, lines.slice(0, 15_000), { authorization: `Bearer ${TOKEN}` });
    const config = `${tenants}
receivers:
  kafka: { brokers: [${kafka.brokers[0]}], topics: [${topic}], group_id: ${group}, session_timeout_ms: 6000, heartbeat_interval_ms: 1000 }
processors:
  redaction: {}
exporters:
  file: { path: ./data/events.ndjson }
service:
  pipelines:
    activity: { receivers: [kafka], processors: [redaction], exporters: [file] }
`;
    const first = await start(config);
    await waitFor('the first events in the sink', () => sink(first.dir).length >= 1000);
    await first.kill();
    const atKill = sink(first.dir).length;
    expect(atKill).toBeLessThan(15_000);
    // More arrive while the worker is down.
    await produceLines(kafka.brokers, topic, lines.slice(15_000), { authorization: `Bearer ${TOKEN}` });

    const second = await start(config, first.dir);
    await waitFor(
      `all ${total} events in the sink`,
      () => new Set(sink(second.dir).map((e) => e.event_id)).size >= total,
      120_000,
    );
    await waitFor('every offset committed', () => admin(kafka.brokers).fullyCommitted(group, topic));
    await second.stop();

    const records = await readTopic(kafka.brokers, topic, total);
    const expected = new Set(
      records.map((r) => recordEventId({ topic, partition: r.partition, offset: String(r.offset) }, 0)),
    );
    const written = sink(second.dir);
    const distinct = new Set(written.map((e) => e.event_id));
    expect(distinct).toEqual(expected);
    expect(written.length).toBeGreaterThanOrEqual(total);
  }, 240_000);

  it('two workers in one group, one killed mid-stream: the other takes its partitions, nothing is lost', async () => {
    const topic = uniqueTopic('members');
    const group = `g-${topic}`;
    await admin(kafka.brokers).createTopic(topic, 4);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const config = `${tenants}
receivers:
  kafka: { brokers: [${kafka.brokers[0]}], topics: [${topic}], group_id: ${group}, session_timeout_ms: 6000, heartbeat_interval_ms: 1000, max_batch_records: 50 }
processors:
  redaction: {}
exporters:
  file: { path: ./data/events.ndjson }
service:
  pipelines:
    activity: { receivers: [kafka], processors: [redaction], exporters: [file] }
`;
    const one = await start(config);
    const two = await start(config);
    let produced = 0;
    let killed = false;
    const producing = (async () => {
      for (let extra = 3; extra > 0; extra -= killed ? 1 : 0) {
        const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify(envelope(produced + i)));
        await produceLines(kafka.brokers, topic, lines, auth);
        produced += lines.length;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await waitFor('both workers writing', () => sink(one.dir).length > 0 && sink(two.dir).length > 0);
    await two.kill();
    killed = true;
    await producing;
    await waitFor('every offset committed', () => admin(kafka.brokers).fullyCommitted(group, topic), 120_000);
    const ids = new Set([...sink(one.dir), ...sink(two.dir)].map((e) => e.event_id));
    const records = await readTopic(kafka.brokers, topic, produced);
    expect(ids).toEqual(
      new Set(
        records.map((r) => recordEventId({ topic, partition: r.partition, offset: String(r.offset) }, 0)),
      ),
    );
  }, 180_000);

  it('gateway → Kafka → worker: events sent over OTLP and HTTP to one process land in the sink of another', async () => {
    const topic = uniqueTopic('gateway');
    await admin(kafka.brokers).createTopic(topic, 2);
    const gateway = await start(`${tenants}
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
  http: { endpoint: 127.0.0.1:0 }
processors:
  redaction: {}
  tenant_validation: {}
exporters:
  kafka: { brokers: [${kafka.brokers[0]}], topic: ${topic} }
service:
  pipelines:
    activity: { receivers: [otlp, http], processors: [redaction, tenant_validation], exporters: [kafka] }
`);
    const worker = await start(`${tenants}
receivers:
  kafka: { brokers: [${kafka.brokers[0]}], topics: [${topic}], group_id: workers-${topic}, auth: { mode: gateway } }
processors:
  redaction: {}
  tenant_validation: {}
exporters:
  file: { path: ./data/events.ndjson }
service:
  pipelines:
    activity: { receivers: [kafka], processors: [redaction, tenant_validation], exporters: [file] }
`);

    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout' }),
      processors: [
        new BatchLogRecordProcessor({
          exporter: new OTLPLogExporter({
            url: `${gateway.endpoints['otlp:http']}/v1/logs`,
            headers: { Authorization: `Bearer ${TOKEN}` },
          }),
        }),
      ],
    });
    const logger = provider.getLogger('e2e');
    for (let i = 0; i < 10; i++)
      logger.emit({ eventName: 'cart_checked_out', attributes: { 'enduser.id': `u-${i}` } });
    await provider.forceFlush();
    await provider.shutdown();

    const answer = await postJson(
      `${gateway.endpoints.http}/api/v1/events`,
      [0, 1, 2, 3, 4].map((i) => envelope(i, { tenant: { id: 'globex' } })),
      'globex-e2e-token',
    );
    expect(answer.status).toBe(202);

    await waitFor('15 events at the worker', () => sink(worker.dir).length >= 15);
    const events = sink(worker.dir);
    expect(events.filter((e) => e.action === 'cart_checked_out' && e.tenant.id === 'acme')).toHaveLength(10);
    const globex = events.filter((e) => e.tenant.id === 'globex');
    expect(new Set(globex.map((e) => e.event_id))).toEqual(new Set(answer.body.event_ids));
  }, 180_000);
});
