import { z } from 'zod';
import type { AuthContext } from '../../pipeline/tenants.ts';

/**
 * Seed 001's `UsageEventRequest { event_type, metadata, source? }` plus `user_id`, and its
 * mapping onto the envelope: an activity event whose action is the seed's event type, for the
 * caller's tenant, with a usage block counting one.
 */
export const usageRequestSchema = z.strictObject({
  event_type: z
    .string()
    .regex(/^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/, 'must be a snake_case event type, e.g. sql_generation')
    .max(128),
  metadata: z
    .record(z.string().max(256), z.union([z.string(), z.number().finite(), z.boolean()]))
    .default({}),
  source: z.string().max(128).optional(),
  user_id: z.string().min(1).max(256).optional(),
  occurred_at: z.string().optional(),
});

/** A usage request as sent. */
export type UsageRequest = z.output<typeof usageRequestSchema>;

/** The envelope input for a usage request; `parseEvent` validates and completes it. */
export function usageToEnvelope(req: UsageRequest, auth: AuthContext): Record<string, unknown> {
  const details: Record<string, string | number | boolean> = { ...req.metadata };
  if (req.source !== undefined) details.source = req.source;
  const envelope: Record<string, unknown> = {
    event_type: 'activity',
    actor: req.user_id ? { type: 'user', id: req.user_id } : { type: 'service', id: `key:${auth.keyId}` },
    tenant: { id: auth.tenantId },
    action: req.event_type,
    result: 'success',
    metadata: { safe_fields_only: true, details },
    usage: { count: 1 },
  };
  if (req.occurred_at !== undefined) envelope.occurred_at = req.occurred_at;
  return envelope;
}
