import { Counter } from 'prom-client';
import {
  type EventBatch,
  type Processor,
  type ProcessorFactory,
  type Settings,
  withEvents,
} from '../../pipeline/component.ts';
import { type RedactionConfig, redactionConfigSchema } from './config.ts';
import { DetailKeyPolicy } from './detail-keys.ts';
import { IpRewriter } from './ip-rewriter.ts';
import { KeyedHasher, resolveKeys } from './keys.ts';
import { Redactor, type RuleCounts } from './redactor.ts';
import { TextScanner } from './text-scanner.ts';
import { UrlStripper } from './urls.ts';
import { UserAgentNormalizer } from './user-agent.ts';

/**
 * The redaction processor: every rule is compiled here, once; `process` only walks events.
 * Audit events are redacted like activity events — the ledger must never hold PII.
 */

const COUNTER_NAME = 'ledgerline_redaction_redacted_total';

/** Builds a redactor from a config (also used by tests and the benchmark). */
export function createRedactor(settings: Settings, config: RedactionConfig, counts: RuleCounts): Redactor {
  const keys = resolveKeys(config, settings.logger);
  const hasher = new KeyedHasher(keys.hmac);
  const ip = new IpRewriter(config.ip, hasher, keys.cryptopan);
  const scanner = new TextScanner(config, new UrlStripper(config.urls), hasher, ip);
  return new Redactor(
    config,
    { scanner, ip, ua: new UserAgentNormalizer(), keys: new DetailKeyPolicy(config) },
    counts,
  );
}

function redactionCounter(settings: Settings): Counter<'processor' | 'rule'> {
  const existing = settings.telemetry.registry.getSingleMetric(COUNTER_NAME);
  if (existing) return existing as Counter<'processor' | 'rule'>;
  return new Counter({
    name: COUNTER_NAME,
    help: 'Fields the redaction processor removed or rewrote, by rule (detector kind, url, ip, user_agent, not_allowlisted, key_denylist).',
    labelNames: ['processor', 'rule'],
    registers: [settings.telemetry.registry],
  });
}

class RedactionProcessor implements Processor {
  private readonly id: string;
  private readonly redactor: Redactor;
  private readonly counts: RuleCounts = new Map();
  private readonly counter: Counter<'processor' | 'rule'>;

  constructor(settings: Settings, config: RedactionConfig) {
    this.id = settings.id;
    this.redactor = createRedactor(settings, config, this.counts);
    this.counter = redactionCounter(settings);
  }

  async start(): Promise<void> {}

  async shutdown(): Promise<void> {}

  process(batch: EventBatch): EventBatch {
    const events = batch.events;
    const out: EventBatch['events'] = [];
    for (let i = 0; i < events.length; i++) out.push(this.redactor.redact(events[i]!));
    if (this.counts.size) {
      for (const [rule, n] of this.counts) this.counter.inc({ processor: this.id, rule }, n);
      this.counts.clear();
    }
    return withEvents(batch, out);
  }
}

/** The `redaction` processor factory. */
export const redactionFactory: ProcessorFactory<RedactionConfig> = {
  type: 'redaction',
  kind: 'processor',
  description:
    'Removes and rewrites personal data and secrets: details allowlist and key denylist, value detectors (mask, keyed hash, drop), URL, user-agent and IP minimisation.',
  configSchema: redactionConfigSchema,
  capabilities: { redacts: true },
  create: (settings, config) => new RedactionProcessor(settings, config),
};
