import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { context, trace } from '@opentelemetry/api';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { hashToken } from '../../pipeline/tenants.ts';
import { startLedgerline } from '../../test/harness/ledgerline.ts';
import { Latencies, report } from '../stats.ts';

/**
 * Shared parts of the otlp-http-logs and otlp-grpc-logs benchmarks: an ExportLogsServiceRequest
 * of N records made and serialized by the OpenTelemetry SDK, the two targets (the receiver
 * alone with a do-nothing consumer, and ledgerline through to the file exporter, each in a
 * child process), and a closed-loop load runner measuring events/s and ack latency.
 */

/** The bearer token the targets accept. */
export const TOKEN = 'bench-token';

/** An ExportLogsServiceRequest of `n` realistic records, serialized by the SDK. */
export async function logsRequest(n: number): Promise<Buffer> {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'service.version': '1.4.2' }),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  const logger = provider.getLogger('bench');
  const ctx = trace.setSpanContext(context.active(), {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: 1,
  });
  for (let i = 0; i < n; i++) {
    logger.emit({
      eventName: 'dashboard.viewed',
      context: ctx,
      severityNumber: 9,
      attributes: {
        'enduser.id': `user-${i % 50}`,
        'entity.type': 'dashboard',
        'entity.id': `dash-${i}`,
        rows: 12,
        adapter: 'postgres',
        'usage.feature': 'dashboards',
      },
    });
  }
  await provider.forceFlush();
  return Buffer.from(ProtobufLogsSerializer.serializeRequest(memory.getFinishedLogRecords())!);
}

/** A running target: its OTLP URLs, what to read after, and how to stop it. */
export interface Target {
  grpc: string;
  http: string;
  /** Lines the file exporter wrote (0 for the receiver alone). */
  written(): number;
  /** CPU seconds (user + system) the target process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** The receiver alone in a child process, with a consumer that does nothing. */
export async function receiverAlone(): Promise<Target> {
  const child: ChildProcess = spawn(
    process.execPath,
    [join(import.meta.dirname, 'null-receiver.ts'), TOKEN],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const urls = JSON.parse(line) as { grpc: string; http: string };
  return {
    ...urls,
    written: () => 0,
    cpuSeconds: () => cpuSeconds(child.pid!),
    async stop() {
      child.stdin!.end();
      const exited = once(child, 'exit');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      await exited;
    },
  };
}

/** ledgerline in a child process: otlp → redaction → file (fsync per group commit). */
export async function throughFile(): Promise<Target> {
  const app = await startLedgerline({
    config: `
tenants: [ { id: bench, keys: ["${hashToken(TOKEN)}"] } ]
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:0, max_recv_msg_size_mib: 16 }, http: { endpoint: 127.0.0.1:0 } } }
processors: { redaction: { allowed_detail_keys: [rows, adapter, service.name] } }
exporters: { file: { path: ./data/events.ndjson } }
service:
  pipelines:
    # Redaction is mandatory in every pipeline (a config invariant), so it is part of the figure.
    activity: { receivers: [otlp], processors: [redaction], exporters: [file] }
`,
  });
  return {
    grpc: app.endpoints['otlp:grpc']!,
    http: app.endpoints['otlp:http']!,
    written: () => readFileSync(join(app.dir, 'data', 'events.ndjson'), 'utf8').split('\n').length - 1,
    cpuSeconds: () => cpuSeconds(app.process.pid!),
    async stop() {
      await app.stop();
      rmSync(app.dir, { recursive: true, force: true });
    },
  };
}

/**
 * CPU seconds a process used, from /proc (Linux): on a shared machine, events per CPU-second
 * of the receiver says more about its cost than events per wall-clock second.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat (utime, stime), counted from after the command name; clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** What one closed-loop run measured. */
export interface LoadResult {
  events: number;
  requests: number;
  refused: number;
  latencies: Latencies;
  /** CPU seconds the target used during the measured window. */
  targetCpu: number;
}

/**
 * Runs `clients` closed loops of `send` (resolves true when the export was accepted) for
 * warmup + duration seconds; counts only the measured window.
 */
export async function closedLoop(
  send: () => Promise<boolean>,
  target: Target,
  o: { clients: number; warmup: number; duration: number; batch: number },
): Promise<LoadResult> {
  const latencies = new Latencies();
  const result: LoadResult = { events: 0, requests: 0, refused: 0, latencies, targetCpu: 0 };
  let measuring = false;
  let cpuAtStart = 0;
  const end = Date.now() + (o.warmup + o.duration) * 1000;
  const timer = setTimeout(() => {
    measuring = true;
    cpuAtStart = target.cpuSeconds();
  }, o.warmup * 1000);
  async function client(): Promise<void> {
    while (Date.now() < end) {
      const t0 = performance.now();
      const ok = await send();
      const ms = performance.now() - t0;
      if (!measuring) continue;
      if (ok) {
        result.events += o.batch;
        result.requests++;
        latencies.add(ms);
      } else result.refused++;
    }
  }
  await Promise.all(Array.from({ length: o.clients }, client));
  clearTimeout(timer);
  result.targetCpu = target.cpuSeconds() - cpuAtStart;
  return result;
}

/**
 * Runs the closed loop against `target`, then `done()` (close the clients), stops the target
 * and prints the scenario's figures; `extra` goes beside batch and clients (e.g. channels).
 */
export async function loadAndReport(
  name: string,
  target: Target,
  send: () => Promise<boolean>,
  o: { clients: number; warmup: number; duration: number; batch: number },
  done: () => void,
  extra: Record<string, number | string> = {},
): Promise<void> {
  const r = await closedLoop(send, target, o);
  done();
  const written = target.written();
  await target.stop();
  report(name, {
    events_per_s: Math.round(r.events / o.duration),
    requests_per_s: Math.round(r.requests / o.duration),
    batch: o.batch,
    clients: o.clients,
    ...extra,
    ack_p50_ms: r.latencies.quantile(0.5),
    ack_p99_ms: r.latencies.quantile(0.99),
    target_cpu_s: r.targetCpu,
    events_per_target_cpu_s: Math.round(r.events / r.targetCpu),
    refused: r.refused,
    lines_written: written,
  });
}

/** Measures the receiver alone and/or through the file exporter, as `--sink none|file|both` says. */
export async function eachTarget(
  scenario: string,
  sink: string,
  measure: (name: string, target: Target) => Promise<void>,
): Promise<void> {
  if (sink === 'none' || sink === 'both')
    await measure(`${scenario} (receiver alone)`, await receiverAlone());
  if (sink === 'file' || sink === 'both') await measure(`${scenario} (→ file exporter)`, await throughFile());
}
