import { Agent, request } from 'node:http';
import { eachTarget, loadAndReport, logsRequest, type Target, TOKEN } from '../otlp/load.ts';
import { options } from '../stats.ts';

/**
 * OTLP/HTTP protobuf logs: concurrent keep-alive clients POST ExportLogsServiceRequests of
 * `batch` SDK-made records to /v1/logs; prints events/s and ack latency percentiles, first for
 * the receiver alone (a consumer that does nothing), then through to the file exporter.
 * `--sink none|file|both`.
 */

const opts = options({ duration: 10, warmup: 2, clients: 32, batch: 100, sink: 'both' });
const body = await logsRequest(opts.batch);

async function measure(name: string, target: Target): Promise<void> {
  const { hostname, port } = new URL(target.http);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.clients });
  const headers = {
    'content-type': 'application/x-protobuf',
    authorization: `Bearer ${TOKEN}`,
    'content-length': body.length,
  };
  const send = () =>
    new Promise<boolean>((resolve, reject) => {
      const req = request(
        { host: hostname, port, path: '/v1/logs', method: 'POST', agent, headers },
        (res) => {
          let partial = false;
          res.on('data', (c: Buffer) => (partial ||= c.length > 0));
          res.on('end', () => resolve(res.statusCode === 200 && !partial));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  await loadAndReport(name, target, send, opts, () => agent.destroy());
}

await eachTarget('otlp-http-logs', opts.sink, measure);
