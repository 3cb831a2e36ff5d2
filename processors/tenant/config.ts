import { z } from 'zod';

/** The tenant_validation processor's configuration. */
export const tenantValidationConfigSchema = z.strictObject({
  slug: z
    .enum(['registry', 'normalize', 'keep'])
    .default('registry')
    .describe(
      'What becomes of `tenant.slug` when an event carries one: registry: replaced by the configured slug of the tenant (normalized when none is configured); normalize: NFKC, lower case, runs of other characters to `-`; keep: as sent. Default: registry.',
    ),
  audit_violations: z
    .boolean()
    .default(true)
    .describe(
      'Emit a `tenant_tag_violation` audit event (caller key, claimed tenant, reason; no payload) into the audit pipelines of the authenticated tenant for every rejected event. Default: true.',
    ),
  max_pending_violation_batches: z
    .number()
    .int()
    .min(1)
    .default(16)
    .describe(
      'Violation batches being ingested at once; beyond it, the next batch waits for one to finish (back-pressure on callers that keep sending foreign tenant tags). Default: 16.',
    ),
});

/** Configuration of the tenant_validation processor. */
export type TenantValidationConfig = z.output<typeof tenantValidationConfigSchema>;
