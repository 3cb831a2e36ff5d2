import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../exporters/ledger/config.ts';
import { LedgerExporter } from '../../exporters/ledger/exporter.ts';
import { readVerifierKeys, verifiersOf } from '../../exporters/ledger/keys.ts';
import { LogReader } from '../../exporters/ledger/reader.ts';
import { verifyLog } from '../../exporters/ledger/verify.ts';
import type { Event } from '../../pipeline/event.ts';
import { testBatch, testEvent, testHost, testSettings } from '../../pipeline/testing.ts';
import { uuidv7 } from '../../pipeline/uuid.ts';
import { Latencies, options, report } from '../stats.ts';

/**
 * The ledger exporter alone, in process, on this machine's disk (no HTTP receiver, no
 * redaction): concurrent producers call `consume` in a closed loop with batches built before
 * the clock starts (each call resolves after the fsyncs of its group), first for one tenant,
 * then spread over many tenants. A run ends after `duration` seconds or when the `events`
 * built in advance are used up. Then the offline verifier over the one-tenant log, and the
 * latency of inclusion and consistency proofs read from the tiles.
 */

const opts = options({
  duration: 10,
  clients: 32,
  batch: 100,
  tenants: 1000,
  events: 600_000,
  proofs: 2000,
});

const template = testEvent({
  event_type: 'audit',
  actor: { type: 'user', id: 'user-1234', role: 'analyst', ip: '203.0.113.0' },
  entity: { type: 'policy', id: 'pol-77', version: '3' },
  action: 'policy_changed',
  result: 'success',
  correlation: { request_id: 'req-1', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' },
  metadata: {
    safe_fields_only: true,
    details: { rows: 12, adapter: 'postgres', reason_code: 'quarterly_review' },
  },
});

function batchOf(tenant: string, n: number): Event[] {
  const out: Event[] = [];
  for (let i = 0; i < n; i++) out.push({ ...template, event_id: uuidv7(), tenant: { id: tenant } });
  return out;
}

async function appendLoad(name: string, tenants: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
  const settings = testSettings('ledger');
  const exporter = new LedgerExporter(settings, configSchema.parse({ dir, generate_key: true }));
  await exporter.start(testHost(settings));
  // Open every tenant's log (one event each) before the clock starts: the timed loop measures
  // appends to existing logs, not log creation (a new log also writes its first checkpoint).
  const o0 = performance.now();
  for (let t = 0; t < tenants; t += opts.clients) {
    const opening: Promise<void>[] = [];
    for (let u = t; u < Math.min(tenants, t + opts.clients); u++)
      opening.push(exporter.consume(testBatch(batchOf(`t${u}`, 1))));
    await Promise.all(opening);
  }
  const openSeconds = (performance.now() - o0) / 1000;
  // Every event has its own id (the ledger is idempotent on event_id), made before timing starts.
  const batches: Event[][] = [];
  for (let k = 0; k * opts.batch < opts.events; k++) batches.push(batchOf(`t${k % tenants}`, opts.batch));
  const latencies = new Latencies();
  let events = 0;
  const end = performance.now() + opts.duration * 1000;
  let k = 0;
  const client = async () => {
    while (performance.now() < end && k < batches.length) {
      const batch = testBatch(batches[k++]!);
      const t0 = performance.now();
      await exporter.consume(batch);
      latencies.add(performance.now() - t0);
      events += opts.batch;
    }
  };
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: opts.clients }, client));
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - start) / 1000;
  await exporter.shutdown();
  report(name, {
    events_per_s: Math.round(events / seconds),
    tenants,
    clients: opts.clients,
    batch: opts.batch,
    ack_p50_ms: latencies.quantile(0.5),
    ack_p99_ms: latencies.quantile(0.99),
    // Steadier than events/s on a shared machine: CPU time this process spent per event.
    cpu_us_per_event: (cpu.user + cpu.system) / events,
    logs_opened_per_s: Math.round(tenants / openSeconds),
    // fs calls (fsync included) run on libuv's thread pool: 4 threads unless the env says more.
    uv_threadpool: process.env.UV_THREADPOOL_SIZE ?? '4',
  });
  return dir;
}

const one = await appendLoad('ledger-append-1-tenant', 1);
const many = await appendLoad(`ledger-append-${opts.tenants}-tenants`, opts.tenants);
rmSync(many, { recursive: true, force: true });

// Verify: re-derive the one-tenant log from its files.
const logDir = join(one, 't0');
const verifiers = verifiersOf(readVerifierKeys(one));
const v0 = performance.now();
const verdict = verifyLog(logDir, { origin: 'ledgerline.local/t/t0', verifiers });
const vs = (performance.now() - v0) / 1000;
report('ledger-verify', {
  ok: String(verdict.ok),
  entries: verdict.size,
  entries_per_s: Math.round(verdict.size / vs),
});

// Proofs: inclusion (as tlog-proof files) and consistency, read from tiles on disk.
const reader = new LogReader(logDir);
const size = reader.checkpoint().size;
const incl = new Latencies();
const cons = new Latencies();
for (let i = 0; i < opts.proofs; i++) {
  const index = Math.floor(Math.random() * size);
  let t0 = performance.now();
  reader.proveInclusion(index);
  incl.add(performance.now() - t0);
  t0 = performance.now();
  reader.proveConsistency(1 + Math.floor(Math.random() * (size - 1)), size);
  cons.add(performance.now() - t0);
}
report('ledger-proofs', {
  tree_size: size,
  inclusion_p50_ms: incl.quantile(0.5),
  inclusion_p99_ms: incl.quantile(0.99),
  consistency_p50_ms: cons.quantile(0.5),
  consistency_p99_ms: cons.quantile(0.99),
});
rmSync(one, { recursive: true, force: true });
