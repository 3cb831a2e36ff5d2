import { randomBytes } from 'node:crypto';
import type { Consumer, ConsumerComponent, EventBatch, Processor } from '../../pipeline/component.ts';
import { isProcessor } from '../../pipeline/component.ts';
import type { Event } from '../../pipeline/event.ts';
import { testBatch, testEvent, testHost, testSettings } from '../../pipeline/testing.ts';
import { uuidv7 } from '../../pipeline/uuid.ts';
import { batchConfigSchema } from '../../processors/batch/config.ts';
import { batchFactory } from '../../processors/batch/factory.ts';
import { memoryLimiterConfigSchema } from '../../processors/memory-limiter/config.ts';
import { memoryLimiterFactory } from '../../processors/memory-limiter/factory.ts';
import { redactionConfigSchema } from '../../processors/redaction/config.ts';
import { redactionFactory } from '../../processors/redaction/factory.ts';
import { samplingConfigSchema } from '../../processors/sampling/config.ts';
import { samplingFactory } from '../../processors/sampling/factory.ts';
import { tenantValidationConfigSchema } from '../../processors/tenant/config.ts';
import { tenantValidationFactory } from '../../processors/tenant/factory.ts';
import { Latencies, options, report } from '../stats.ts';

/**
 * Each processor alone, then the whole chain, on one core: batches of a standard usage event
 * (a user with IP and browser user agent, an entity, trace and request ids, two details, a
 * usage block) with default rules, in a closed loop. Events are made distinct by a JSON round
 * trip, as a receiver's parser would, so no string is shared between events and caches see
 * realistic keys: 1000 client addresses, 5 user agents, unique ids.
 */

const opts = options({ seconds: 3, batch: 100, pool: 8192 });

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
  'curl/8.5.0',
];

function standardEvents(n: number): Event[] {
  const template = testEvent({
    actor: { type: 'user', id: 'user-1234', role: 'analyst' },
    entity: { type: 'dashboard', id: 'dash-77' },
    action: 'dashboard_viewed',
    metadata: { safe_fields_only: true, details: { country: 'DE', rows: 120 } },
    usage: { feature: 'dashboards', tool: 'github.pr_summary', count: 1, latency_ms: 35, outcome: 'ok' },
  });
  const events: Event[] = [];
  for (let i = 0; i < n; i++) {
    events.push({
      ...template,
      event_id: uuidv7(),
      actor: {
        ...template.actor,
        ip: `198.51.${(i % 1000) >> 8}.${i % 250}`,
        user_agent: AGENTS[i % AGENTS.length]!,
      },
      correlation: { trace_id: randomBytes(16).toString('hex'), request_id: `req-${i}` },
    });
  }
  return JSON.parse(JSON.stringify(events)) as Event[];
}

const pool = standardEvents(opts.pool);
const batches: Event[][] = [];
for (let i = 0; i + opts.batch <= pool.length; i += opts.batch) batches.push(pool.slice(i, i + opts.batch));

const sink: Consumer = { consume: async () => {} };

type Stage = Processor | ConsumerComponent;

async function through(stages: Stage[], batch: EventBatch): Promise<void> {
  let b = batch;
  for (const s of stages) {
    if (isProcessor(s)) b = await s.process(b);
    else return s.consume(b);
  }
}

async function measure(name: string, make: (next: Consumer) => Stage[]): Promise<number> {
  const settings = testSettings(name);
  const stages = make(sink);
  for (const s of stages) await s.start(testHost(settings));
  // Warm-up: let the JIT settle and the caches fill, as in a running process. Not awaited one
  // by one: the batch processor would hold each for its timeout.
  const warm: Promise<void>[] = [];
  for (let i = 0; i < 200; i++) warm.push(through(stages, testBatch(batches[i % batches.length]!)));
  await Promise.all(warm);
  const lat = new Latencies();
  const end = performance.now() + opts.seconds * 1000;
  let events = 0;
  let i = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const pendingAcks: Promise<void>[] = [];
  const acksLater = stages.some((s) => !isProcessor(s));
  while (performance.now() < end) {
    const t = performance.now();
    const p = through(stages, testBatch(batches[i++ % batches.length]!));
    events += opts.batch;
    if (acksLater) {
      // The batch processor acknowledges when the merged batch holding these events was
      // consumed: the latency recorded is that wait, which the size and time triggers bound.
      pendingAcks.push(p.then(() => lat.add(performance.now() - t)));
      // Yield now and then so the batch timer can fire, as a server's event loop would.
      if (i % 64 === 0) await new Promise((r) => setImmediate(r));
    } else {
      await p;
      lat.add(performance.now() - t);
    }
  }
  await Promise.all(pendingAcks);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  // Per CPU-second is the figure for "one core": the machine is shared, so wall time also
  // counts other processes' turns on the cores.
  const rate = events / cpuSeconds;
  report(`processors/${name}`, {
    events_per_cpu_s: Math.round(rate),
    events_per_wall_s: Math.round(events / seconds),
    cpu_share: cpuSeconds / seconds,
    batch: opts.batch,
    p50_us_per_batch: lat.quantile(0.5) * 1000,
    p99_us_per_batch: lat.quantile(0.99) * 1000,
  });
  for (const s of stages) await s.shutdown();
  return rate;
}

const s = (id: string) => testSettings(id);
const memoryLimiter = () =>
  memoryLimiterFactory.create(s('memory_limiter'), memoryLimiterConfigSchema.parse({}), sink);
const redaction = (cfg: Record<string, unknown> = {}) =>
  redactionFactory.create(
    s('redaction'),
    redactionConfigSchema.parse({ hmac_key: 'bench-key-0123456789abcdef', ...cfg }),
    sink,
  );
const tenant = () =>
  tenantValidationFactory.create(s('tenant_validation'), tenantValidationConfigSchema.parse({}), sink);
// The sampling of DESIGN §4: a quarter of ordinary events, errors and slow calls always.
const sampling = () =>
  samplingFactory.create(s('sampling'), samplingConfigSchema.parse({ default_rate: 0.25 }), sink);
const batch = (next: Consumer) => batchFactory.create(s('batch'), batchConfigSchema.parse({}), next);

await measure('memory_limiter', () => [memoryLimiter()]);
await measure('redaction', () => [redaction()]);
await measure('redaction_cryptopan', () => [redaction({ ip: { mode: 'cryptopan', key: 'ab'.repeat(32) } })]);
await measure('redaction_ipcrypt_pfx', () => [
  redaction({ ip: { mode: 'ipcrypt-pfx', key: `${'ab'.repeat(16)}${'cd'.repeat(16)}` } }),
]);
await measure('tenant_validation', () => [tenant()]);
await measure('sampling', () => [sampling()]);
await measure('batch', (next) => [batch(next)]);
await measure('chain', (next) => [memoryLimiter(), redaction(), tenant(), sampling(), batch(next)]);
