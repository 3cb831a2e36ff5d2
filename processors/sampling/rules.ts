import type { Event } from '../../pipeline/event.ts';
import type { SamplingConfig } from './config.ts';

/**
 * Rules compiled into predicates once: each condition becomes a Set lookup, and a rule is the
 * conjunction of its conditions. Absent conditions are not evaluated at all.
 */

type Predicate = (e: Event) => boolean;

/** A compiled rate rule. */
export interface RateRule {
  name: string;
  rate: number;
  matches: Predicate;
}

/** A compiled keep rule. */
export interface KeepRule {
  name: string;
  matches: Predicate;
}

function inSet(
  values: readonly string[] | undefined,
  get: (e: Event) => string | undefined,
): Predicate | undefined {
  if (!values || values.length === 0) return undefined;
  const set = new Set(values);
  return (e) => {
    const v = get(e);
    return v !== undefined && set.has(v);
  };
}

function all(preds: (Predicate | undefined)[]): Predicate {
  const ps = preds.filter((p): p is Predicate => p !== undefined);
  if (ps.length === 0) return () => true;
  if (ps.length === 1) return ps[0]!;
  return (e) => {
    for (const p of ps) if (!p(e)) return false;
    return true;
  };
}

/** Compiles the rate rules in order. */
export function compileRateRules(rules: SamplingConfig['rules']): RateRule[] {
  return rules.map((r, i) => ({
    name: r.name ?? `rule_${i}`,
    rate: r.rate,
    matches: all([
      inSet(r.tenant, (e) => e.tenant.id),
      inSet(r.action, (e) => e.action),
      inSet(r.feature, (e) => e.usage?.feature),
      inSet(r.tool, (e) => e.usage?.tool),
      inSet(r.outcome, (e) => e.usage?.outcome),
    ]),
  }));
}

/** Compiles the keep rules. */
export function compileKeepRules(rules: SamplingConfig['keep']): KeepRule[] {
  return rules.map((r, i) => {
    const over = r.latency_ms_over;
    return {
      name: r.name ?? `keep_${i}`,
      matches: all([
        inSet(r.tenant, (e) => e.tenant.id),
        inSet(r.action, (e) => e.action),
        inSet(r.outcome, (e) => e.usage?.outcome),
        inSet(r.result, (e) => e.result),
        over === undefined ? undefined : (e) => (e.usage?.latency_ms ?? -1) > over,
      ]),
    };
  });
}
