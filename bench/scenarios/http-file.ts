import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashToken } from '../../pipeline/tenants.ts';
import { startLedgerline } from '../../test/harness/ledgerline.ts';
import { jsonPoster } from '../http-post.ts';
import { Latencies, options, report } from '../stats.ts';

/**
 * http receiver → file exporter: concurrent keep-alive clients POST batches of envelopes to a
 * ledgerline child process; prints events/s and ack latency percentiles. The ack is the 202,
 * sent only after the file exporter's fsync.
 */

const opts = options({ duration: 10, warmup: 2, clients: 32, batch: 100, profile: '' });
const TOKEN = 'bench-token';

// --profile <dir> writes a V8 CPU profile of the ledgerline process there.
const app = await startLedgerline({
  env: opts.profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${opts.profile}` } : {},
  config: `
tenants: [ { id: bench, keys: ["${hashToken(TOKEN)}"] } ]
receivers: { http: { endpoint: 127.0.0.1:0, max_request_body_size: 16777216 } }
processors: { redaction: { allowed_detail_keys: [rows, adapter] } }
exporters: { file: { path: ./data/events.ndjson } }
service:
  pipelines:
    # Redaction is mandatory in every pipeline (a config invariant), so it is part of the figure.
    activity: { receivers: [http], processors: [redaction], exporters: [file] }
`,
});
const { port } = new URL(app.endpoints.http!);

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
const body = Buffer.from(JSON.stringify(Array.from({ length: opts.batch }, () => event)));
const poster = jsonPoster({ port, path: '/api/v1/events', token: TOKEN, body, clients: opts.clients });
const post = poster.post;

const latencies = new Latencies();
let events = 0;
let refused = 0;
let measuring = false;
const end = Date.now() + (opts.warmup + opts.duration) * 1000;
setTimeout(() => (measuring = true), opts.warmup * 1000);

async function client(): Promise<void> {
  while (Date.now() < end) {
    const t0 = performance.now();
    const status = await post();
    const ms = performance.now() - t0;
    if (!measuring) continue;
    if (status === 202) {
      events += opts.batch;
      latencies.add(ms);
    } else refused++;
  }
}

await Promise.all(Array.from({ length: opts.clients }, client));
poster.close();
await app.stop();
const written = readFileSync(join(app.dir, 'data', 'events.ndjson'), 'utf8').split('\n').length - 1;
report('http-file', {
  events_per_s: Math.round(events / opts.duration),
  requests_per_s: Math.round(latencies.count / opts.duration),
  batch: opts.batch,
  clients: opts.clients,
  ack_p50_ms: latencies.quantile(0.5),
  ack_p99_ms: latencies.quantile(0.99),
  refused,
  lines_written: written,
});
