import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { closedLoop, logsRequest, receiverAlone, type Target, TOKEN, throughFile } from '../otlp/load.ts';
import { options, report } from '../stats.ts';

/**
 * OTLP/gRPC logs: concurrent calls of LogsService/Export with ExportLogsServiceRequests of
 * `batch` SDK-made records, spread over `channels` connections; prints events/s and ack latency
 * percentiles, first for the receiver alone (a consumer that does nothing), then through to
 * the file exporter. `--sink none|file|both`.
 */

const opts = options({ duration: 10, warmup: 2, clients: 32, channels: 4, batch: 100, sink: 'both' });
const body = await logsRequest(opts.batch);
const PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

async function measure(name: string, target: Target): Promise<void> {
  const address = target.grpc.replace(/^https?:\/\//, '');
  const clients = Array.from(
    { length: opts.channels },
    (_, i) =>
      new Client(address, credentials.createInsecure(), {
        'grpc.max_send_message_length': 16 * 1024 * 1024,
        'grpc-node.channel_id': i,
      }),
  );
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${TOKEN}`);
  let next = 0;
  const send = () =>
    new Promise<boolean>((resolve) => {
      const client = clients[next++ % clients.length]!;
      client.makeUnaryRequest(
        PATH,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        metadata,
        (err, response) => resolve(err === null && response !== undefined && response.length === 0),
      );
    });
  const r = await closedLoop(send, target, opts);
  for (const c of clients) c.close();
  const written = target.written();
  await target.stop();
  report(name, {
    events_per_s: Math.round(r.events / opts.duration),
    requests_per_s: Math.round(r.requests / opts.duration),
    batch: opts.batch,
    clients: opts.clients,
    channels: opts.channels,
    ack_p50_ms: r.latencies.quantile(0.5),
    ack_p99_ms: r.latencies.quantile(0.99),
    target_cpu_s: r.targetCpu,
    events_per_target_cpu_s: Math.round(r.events / r.targetCpu),
    refused: r.refused,
    lines_written: written,
  });
}

if (opts.sink === 'none' || opts.sink === 'both')
  await measure('otlp-grpc-logs (receiver alone)', await receiverAlone());
if (opts.sink === 'file' || opts.sink === 'both')
  await measure('otlp-grpc-logs (→ file exporter)', await throughFile());
