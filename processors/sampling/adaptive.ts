/**
 * Per-tenant adaptive factor: every window the rate of sampleable events a tenant would keep
 * under the rules is measured (an exponentially weighted average over windows), and the
 * factor becomes min(1, target / rate). A tenant that bursts is thinned; a quiet tenant keeps
 * everything. Decisions stay unbiased because the factor is part of `usage.sample_rate`.
 */

interface TenantWindow {
  start: number;
  mass: number;
  rate: number | undefined;
  factor: number;
}

/** Smoothing of the observed rate across windows (weight of the newest window). */
const ALPHA = 0.5;

/** Tracks per-tenant rates and the factors derived from them. */
export class AdaptiveRates {
  private readonly tenants = new Map<string, TenantWindow>();
  private readonly target: number;
  private readonly windowMs: number;
  private readonly maxTenants: number;

  constructor(target: number, windowMs: number, maxTenants: number) {
    this.target = target;
    this.windowMs = windowMs;
    this.maxTenants = maxTenants;
  }

  /** The current factor of a tenant, in (0, 1]. */
  factor(tenant: string): number {
    return this.tenants.get(tenant)?.factor ?? 1;
  }

  /** Adds the expected kept mass (sum of rule rates) of a tenant's events seen at `now` (ms). */
  observe(tenant: string, mass: number, now: number): void {
    let w = this.tenants.get(tenant);
    if (!w) {
      if (this.tenants.size >= this.maxTenants) this.tenants.clear();
      w = { start: now, mass: 0, rate: undefined, factor: 1 };
      this.tenants.set(tenant, w);
    }
    w.mass += mass;
    const elapsed = now - w.start;
    if (elapsed < this.windowMs) return;
    const observed = (w.mass * 1000) / elapsed;
    w.rate = w.rate === undefined ? observed : ALPHA * observed + (1 - ALPHA) * w.rate;
    w.factor = w.rate > this.target ? this.target / w.rate : 1;
    w.start = now;
    w.mass = 0;
  }
}
