import { Agent, request } from 'node:http';
import { closedLoop, logsRequest, receiverAlone, type Target, TOKEN, throughFile } from '../otlp/load.ts';
import { options, report } from '../stats.ts';

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
  const r = await closedLoop(send, target, opts);
  agent.destroy();
  const written = target.written();
  await target.stop();
  report(name, {
    events_per_s: Math.round(r.events / opts.duration),
    requests_per_s: Math.round(r.requests / opts.duration),
    batch: opts.batch,
    clients: opts.clients,
    ack_p50_ms: r.latencies.quantile(0.5),
    ack_p99_ms: r.latencies.quantile(0.99),
    target_cpu_s: r.targetCpu,
    events_per_target_cpu_s: Math.round(r.events / r.targetCpu),
    refused: r.refused,
    lines_written: written,
  });
}

if (opts.sink === 'none' || opts.sink === 'both')
  await measure('otlp-http-logs (receiver alone)', await receiverAlone());
if (opts.sink === 'file' || opts.sink === 'both')
  await measure('otlp-http-logs (→ file exporter)', await throughFile());
