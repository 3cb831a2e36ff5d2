import type { Event } from '../../pipeline/event.ts';
import { AdaptiveRates } from './adaptive.ts';
import type { SamplingConfig } from './config.ts';
import { unitHash } from './decision-hash.ts';
import { compileKeepRules, compileRateRules, type KeepRule, type RateRule } from './rules.ts';

/**
 * The sampling decision for a batch. Audit events and events matching a keep rule pass
 * untouched. Others are kept with probability p = (first matching rule's rate, else the
 * default) × the tenant's adaptive factor, decided by a hash of the trace id (else the event
 * id). A kept event's `usage.sample_rate` is multiplied by p — it already holds any rate a
 * producer applied — so Σ count / sample_rate over kept events estimates the original total
 * without bias. Events without a usage block get one with the envelope's defaults
 * (`count: 1, outcome: ok`) when p < 1, because that is where sinks read the weight.
 */

/** Result of sampling a batch: kept events and the number dropped by rule name. */
export interface SampleResult {
  kept: Event[];
  dropped: Map<string, number> | undefined;
}

/** Applies the compiled rules of one sampling processor. */
export class Sampler {
  private readonly defaultRate: number;
  private readonly rules: RateRule[];
  private readonly keep: KeepRule[];
  private readonly seed: number;
  private readonly adaptive: AdaptiveRates | undefined;

  constructor(config: SamplingConfig) {
    this.defaultRate = config.default_rate;
    this.rules = compileRateRules(config.rules);
    this.keep = compileKeepRules(config.keep);
    this.seed = config.hash_seed;
    this.adaptive = config.adaptive.enabled
      ? new AdaptiveRates(
          config.adaptive.target_events_per_second,
          config.adaptive.window_ms,
          config.adaptive.max_tenants,
        )
      : undefined;
  }

  /** Samples `events` at time `now` (ms, monotonic; only the adaptive mode reads it). */
  sample(events: readonly Event[], now: number): SampleResult {
    const kept: Event[] = [];
    let dropped: Map<string, number> | undefined;
    let mass: Map<string, number> | undefined;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (e.event_type === 'audit' || this.keeps(e)) {
        kept.push(e);
        continue;
      }
      let rate = this.defaultRate;
      let name = 'default';
      for (const r of this.rules) {
        if (r.matches(e)) {
          rate = r.rate;
          name = r.name;
          break;
        }
      }
      let p = rate;
      if (this.adaptive) {
        mass ??= new Map();
        mass.set(e.tenant.id, (mass.get(e.tenant.id) ?? 0) + rate);
        p *= this.adaptive.factor(e.tenant.id);
      }
      if (p >= 1) {
        kept.push(e);
        continue;
      }
      if (unitHash(e.correlation?.trace_id || e.event_id, this.seed) < p) {
        kept.push(withRate(e, p));
        continue;
      }
      dropped ??= new Map();
      dropped.set(name, (dropped.get(name) ?? 0) + 1);
    }
    if (mass) for (const [tenant, m] of mass) this.adaptive!.observe(tenant, m, now);
    return { kept, dropped };
  }

  private keeps(e: Event): boolean {
    for (const k of this.keep) if (k.matches(e)) return true;
    return false;
  }
}

/** Copy of `e` whose sample_rate is multiplied by `p` (the input is shared; never mutated). */
function withRate(e: Event, p: number): Event {
  const usage = e.usage ?? { count: 1, outcome: 'ok' as const, sample_rate: 1 };
  return { ...e, usage: { ...usage, sample_rate: usage.sample_rate * p } };
}
