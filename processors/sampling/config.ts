import { z } from 'zod';

/** One value or a list of values, matched exactly. Empty or absent: any value. */
const oneOrMany = (what: string) =>
  z
    .union([z.string().min(1), z.array(z.string().min(1))])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional()
    .describe(`${what}: one value or a list, matched exactly. Absent: any.`);

const ruleName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be snake_case, at most 32 characters')
  .optional()
  .describe('Name used in the `reason` label of dropped events (`sampled_<name>`). Default: `rule_<index>`.');

/** A sampling-rate rule: the first rule whose conditions all hold sets the rate. */
export const rateRuleSchema = z.strictObject({
  name: ruleName,
  tenant: oneOrMany('tenant.id'),
  action: oneOrMany('action'),
  feature: oneOrMany('usage.feature'),
  tool: oneOrMany('usage.tool'),
  outcome: z
    .union([z.enum(['ok', 'warn', 'error']), z.array(z.enum(['ok', 'warn', 'error']))])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional()
    .describe('usage.outcome: ok, warn, error, or a list. Absent: any.'),
  rate: z.number().gt(0).lte(1).describe('Probability of keeping a matching event, in (0, 1].'),
});

/** A keep rule: events matching all its conditions are never sampled out. */
export const keepRuleSchema = z.strictObject({
  name: ruleName,
  tenant: oneOrMany('tenant.id'),
  action: oneOrMany('action'),
  outcome: z
    .union([z.enum(['ok', 'warn', 'error']), z.array(z.enum(['ok', 'warn', 'error']))])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional()
    .describe('usage.outcome: ok, warn, error, or a list. Absent: any.'),
  result: z
    .union([
      z.enum(['success', 'failure', 'denied', 'pending']),
      z.array(z.enum(['success', 'failure', 'denied', 'pending'])),
    ])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional()
    .describe('result: success, failure, denied, pending, or a list. Absent: any.'),
  latency_ms_over: z
    .number()
    .nonnegative()
    .optional()
    .describe('Matches when usage.latency_ms is greater than this. Absent: no latency condition.'),
});

/** Per-tenant adaptive sampling. */
export const adaptiveSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe('Scale each tenant’s rates down so its kept events stay near the target. Default: false.'),
    target_events_per_second: z
      .number()
      .positive()
      .default(1000)
      .describe('Kept (sampleable) events per second per tenant the adaptive factor aims at. Default: 1000.'),
    window_ms: z
      .number()
      .int()
      .min(100)
      .default(1000)
      .describe(
        'Length of the measuring window; the factor is recomputed at the end of each. Default: 1000.',
      ),
    max_tenants: z
      .number()
      .int()
      .min(1)
      .default(10000)
      .describe('Tenants tracked at once; past it the state is reset (factors return to 1). Default: 10000.'),
  })
  .default({ enabled: false, target_events_per_second: 1000, window_ms: 1000, max_tenants: 10000 })
  .describe('Adaptive mode: per-tenant factor = min(1, target / observed rate after rules).');

/** The sampling processor's configuration. */
export const samplingConfigSchema = z.strictObject({
  default_rate: z
    .number()
    .gt(0)
    .lte(1)
    .default(1)
    .describe('Probability of keeping an activity event no rule matches, in (0, 1]. Default: 1 (keep all).'),
  rules: z.array(rateRuleSchema).default([]).describe('Rate rules, first match wins. Default: none.'),
  keep: z
    .array(keepRuleSchema)
    .default([
      { name: 'errors', outcome: ['error'] },
      { name: 'failures', result: ['failure'] },
      { name: 'denied', result: ['denied'] },
      { name: 'slow', latency_ms_over: 2000 },
    ])
    .describe(
      'Events always kept (the tail-style policy of seed 003). Default: usage.outcome error, result failure or denied, usage.latency_ms over 2000. Empty: nothing is exempt.',
    ),
  adaptive: adaptiveSchema,
  hash_seed: z
    .number()
    .int()
    .min(0)
    .max(0xffffffff)
    .default(0)
    .describe(
      'Seed of the decision hash. Instances that must agree (one trace across workers) need the same seed. Default: 0.',
    ),
});

/** Configuration of the sampling processor. */
export type SamplingConfig = z.output<typeof samplingConfigSchema>;
