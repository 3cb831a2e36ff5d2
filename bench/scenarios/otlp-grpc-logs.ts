import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { eachTarget, loadAndReport, logsRequest, type Target, TOKEN } from '../otlp/load.ts';
import { options } from '../stats.ts';

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
  await loadAndReport(
    name,
    target,
    send,
    opts,
    () => {
      for (const c of clients) c.close();
    },
    { channels: opts.channels },
  );
}

await eachTarget('otlp-grpc-logs', opts.sink, measure);
