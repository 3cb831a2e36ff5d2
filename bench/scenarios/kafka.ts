import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { kafkaExporterConfigSchema } from '../../exporters/kafka/config.ts';
import { kafkaExporterFactory } from '../../exporters/kafka/factory.ts';
import { BatchReport, type EventBatch } from '../../pipeline/component.ts';
import { parseEvent } from '../../pipeline/event.ts';
import { createTelemetry } from '../../pipeline/telemetry.ts';
import { hashToken, TenantRegistry } from '../../pipeline/tenants.ts';
import { testHost } from '../../pipeline/testing.ts';
import { startLedgerline } from '../../test/harness/ledgerline.ts';
import { kcat, startKafka } from '../../test/services/kafka.ts';
import { Latencies, options, report } from '../stats.ts';

/**
 * Kafka, against a real single-node Apache Kafka 4.x broker (test/services/kafka.sh):
 * 1. produce: the kafka exporter in-process, `clients` concurrent consume() calls of `batch`
 *    events, each resolving on the broker's acks=all; this also fills the topics.
 * 2. consume: a ledgerline child process (kafka receiver → redaction → file exporter, fsync per
 *    batch) drains a json topic pre-filled by kcat (`fill` records) and the otlp_proto topic of
 *    step 1; events/s from the growth of its file sink.
 * 3. commit lag: the same worker on a topic fed at a steady `rate`; (end − committed offset)
 *    sampled every 100 ms.
 */

const opts = options({ produce: 3, fill: 60_000, batch: 500, clients: 4, partitions: 3, rate: 5000, lag: 5 });
const kafka = await startKafka();
const brokers = kafka.brokers;
const admin = new Kafka({ brokers, clientId: 'bench', logLevel: logLevel.NOTHING }).admin();
await admin.connect();

const event = {
  event_type: 'activity',
  actor: { type: 'user', id: 'user-1234', role: 'analyst' },
  tenant: { id: 'bench' },
  entity: { type: 'dashboard', id: 'dash-77' },
  action: 'dashboard_viewed',
  correlation: { request_id: 'req-1', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' },
  metadata: { details: { rows: 12, adapter: 'postgres' } },
  usage: { feature: 'dashboards', tool: 'viewer', latency_ms: 42, outcome: 'ok' },
};
const auth = {
  tenantId: 'bench',
  roles: new Set(['tenant'] as const),
  actsFor: new Set<string>(),
  keyId: 'bench',
};

function batchOf(n: number): EventBatch {
  const events = Array.from({ length: n }, () => {
    const r = parseEvent(event);
    if (!r.ok) throw new Error('bad bench event');
    return r.event;
  });
  return { events, auth, source: { receiver: 'bench', transport: 'bench' }, report: new BatchReport() };
}

async function exporterFor(topic: string, encoding: 'json' | 'otlp_proto') {
  const settings = {
    id: 'kafka',
    logger: pino({ level: 'silent' }),
    telemetry: createTelemetry(),
    tenants: new TenantRegistry([]),
  };
  const exporter = kafkaExporterFactory.create(
    settings,
    kafkaExporterConfigSchema.parse({ brokers, topic, encoding }),
  );
  await exporter.start(testHost(settings));
  return exporter;
}

/** Produces for `seconds` with concurrent clients (or at `rate` events/s); returns events written. */
async function produce(
  topic: string,
  encoding: 'json' | 'otlp_proto',
  seconds: number,
  rate?: number,
): Promise<number> {
  await admin.createTopics({ topics: [{ topic, numPartitions: opts.partitions }], waitForLeaders: true });
  const exporter = await exporterFor(topic, encoding);
  const latencies = new Latencies();
  let sent = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  const client = async () => {
    while (performance.now() < until) {
      if (rate) {
        // Steady load: wait until this batch is due.
        const due = started + (sent / rate) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const batch = batchOf(opts.batch);
      sent += opts.batch;
      const t = performance.now();
      await exporter.consume(batch);
      latencies.add(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: rate ? 1 : opts.clients }, client));
  const elapsed = (performance.now() - started) / 1000;
  await exporter.shutdown();
  if (!rate) {
    report(`kafka-produce-${encoding}`, {
      events_per_s: Math.round(sent / elapsed),
      batch: opts.batch,
      clients: opts.clients,
      ack_p50_ms: latencies.quantile(0.5),
      ack_p99_ms: latencies.quantile(0.99),
    });
  }
  return sent;
}

async function offsets(group: string, topic: string): Promise<{ committed: number; end: number }> {
  const [g] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const ends = await admin.fetchTopicOffsets(topic);
  const committed = g!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  return { committed, end: ends.reduce((s, p) => s + Number(p.high), 0) };
}

function workerConfig(topic: string, group: string, encoding: string): string {
  return `
tenants: [ { id: bench, keys: ["${hashToken('bench-token')}"] } ]
receivers:
  kafka: { brokers: [${brokers[0]}], topics: [${topic}], group_id: ${group}, encoding: ${encoding}, auth: { mode: gateway } }
processors: { redaction: { allowed_detail_keys: [rows, adapter] } }
exporters: { file: { path: ./data/events.ndjson } }
service:
  pipelines:
    activity: { receivers: [kafka], processors: [redaction], exporters: [file] }
`;
}

/**
 * Drains a pre-filled topic with a ledgerline worker. The file sink's size is sampled every
 * 20 ms: the rate is the events written from the first sample with data to the last growth
 * (group join and process start are not counted).
 */
async function consume(topic: string, encoding: string, total: number): Promise<void> {
  const group = `bench-${topic}`;
  const app = await startLedgerline({ config: workerConfig(topic, group, encoding), startTimeoutMs: 60_000 });
  const file = join(app.dir, 'data', 'events.ndjson');
  const sizes: { t: number; size: number }[] = [];
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const size = existsSync(file) ? statSync(file).size : 0;
      const prev = sizes[sizes.length - 1];
      if (size > 0 && size !== prev?.size) sizes.push({ t: performance.now(), size });
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const deadline = performance.now() + 120_000;
  while ((await offsets(group, topic)).committed < total && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  done = true;
  await sampler;
  await app.stop();
  const lines = readFileSync(file, 'utf8').split('\n').length - 1;
  const first = sizes[0]!;
  const last = sizes[sizes.length - 1]!;
  const atFirst = (first.size / last.size) * lines;
  const seconds = (last.t - first.t) / 1000;
  report(`kafka-consume-${encoding}`, {
    events_per_s: seconds > 0 ? Math.round((lines - atFirst) / seconds) : 0,
    events_written: lines,
    of: total,
    seconds,
  });
}

/** Steady production into a topic a worker consumes; samples the uncommitted records. */
async function commitLag(): Promise<void> {
  const topic = `bench.lag.${Date.now()}`;
  const group = `bench-${topic}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: opts.partitions }], waitForLeaders: true });
  const app = await startLedgerline({ config: workerConfig(topic, group, 'json'), startTimeoutMs: 60_000 });
  // Let the worker join the group before the clock starts.
  await new Promise((r) => setTimeout(r, 4000));
  const lags = new Latencies();
  let producing = true;
  const sampler = (async () => {
    while (producing) {
      const { committed, end } = await offsets(group, topic);
      lags.add(end - committed);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const sent = await produce(topic, 'json', opts.lag, opts.rate);
  producing = false;
  await sampler;
  await app.stop();
  report('kafka-commit-lag', {
    rate_events_per_s: opts.rate,
    sent,
    lag_p50_records: lags.quantile(0.5),
    lag_p99_records: lags.quantile(0.99),
    lag_p50_ms: (lags.quantile(0.5) / opts.rate) * 1000,
    lag_p99_ms: (lags.quantile(0.99) / opts.rate) * 1000,
    samples: lags.count,
  });
}

/** Fills a topic with `n` gateway-format JSON records quickly, with kcat (librdkafka). */
async function fillWithKcat(topic: string, n: number): Promise<number> {
  await admin.createTopics({ topics: [{ topic, numPartitions: opts.partitions }], waitForLeaders: true });
  const r = parseEvent(event);
  if (!r.ok) throw new Error('bad bench event');
  const lines: string[] = [];
  for (let i = 0; i < n; i++)
    lines.push(JSON.stringify({ ...r.event, event_id: undefined, metadata: { details: { rows: i } } }));
  await kcat(
    ['-P', '-b', brokers[0]!, '-t', topic, '-H', 'ledgerline-tenant=bench', '-z', 'gzip'],
    `${lines.join('\n')}\n`,
  );
  return n;
}

try {
  const stamp = Date.now();
  await produce(`bench.produce.${stamp}`, 'json', opts.produce);
  const otlpTopic = `bench.otlp.${stamp}`;
  const otlpCount = await produce(otlpTopic, 'otlp_proto', opts.produce);
  const jsonTopic = `bench.json.${stamp}`;
  const jsonCount = await fillWithKcat(jsonTopic, opts.fill);
  await consume(jsonTopic, 'json', jsonCount);
  await consume(otlpTopic, 'otlp_proto', otlpCount);
  await commitLag();
} finally {
  await admin.disconnect();
  await kafka.stop();
}
