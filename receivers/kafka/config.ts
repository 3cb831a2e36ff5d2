import { z } from 'zod';
import { TENANT_ID } from '../../pipeline/tenants.ts';
import { connectionFields } from './connection.ts';

/** How the receiver learns which tenant sent a message (README.md, "Tenants"). */
export const kafkaAuthSchema = z
  .discriminatedUnion('mode', [
    z.strictObject({
      mode: z
        .literal('bearer')
        .describe('Each message carries a bearer token, checked against `tenants` like HTTP and OTLP.'),
      header: z
        .string()
        .min(1)
        .default('authorization')
        .describe('Record header holding `Bearer <token>`. Default authorization.'),
    }),
    z.strictObject({
      mode: z.literal('tenant').describe('Every message of these topics belongs to one tenant.'),
      tenant: z
        .string()
        .regex(TENANT_ID, 'must be a tenant id')
        .describe('The tenant id; it must be configured and active.'),
    }),
    z.strictObject({
      mode: z
        .literal('gateway')
        .describe(
          'The topics are written only by ledgerline gateways (kafka exporter), which authenticated the sender; the tenant comes from a record header. Restrict who may write with Kafka ACLs.',
        ),
      header: z
        .string()
        .min(1)
        .default('ledgerline-tenant')
        .describe(
          'Record header naming the tenant. Default ledgerline-tenant (what the kafka exporter writes).',
        ),
    }),
  ])
  .default({ mode: 'bearer', header: 'authorization' })
  .describe(
    'Tenant authentication of messages. Default: a bearer token per message in the authorization header.',
  );

/** Settings of the kafka receiver. */
export const kafkaReceiverConfigSchema = z
  .strictObject({
    ...connectionFields,
    topics: z
      .array(z.string().min(1))
      .min(1)
      .default(['ledgerline.events'])
      .describe(
        'Topics to consume. An entry starting with ^ is a regular expression matched against the cluster’s topics at start (dead-letter topics never match). Default [ledgerline.events].',
      ),
    group_id: z
      .string()
      .min(1)
      .default('ledgerline')
      .describe('Consumer group. Instances with the same group share the partitions. Default ledgerline.'),
    encoding: z
      .enum(['json', 'otlp_proto', 'otlp_json'])
      .default('json')
      .describe(
        'Message format. json: one envelope or a JSON array of envelopes; otlp_proto / otlp_json: an OTLP ExportLogsServiceRequest, as the Collector’s kafka exporter writes it. Default json.',
      ),
    auth: kafkaAuthSchema,
    dead_letter_topic: z
      .string()
      .min(1)
      .default('{topic}.dlq')
      .describe(
        'Where messages that cannot be accepted go, with headers naming the reason; {topic} is the source topic. Default {topic}.dlq.',
      ),
    initial_offset: z
      .enum(['earliest', 'latest'])
      .default('earliest')
      .describe('Where a group with no committed offset starts. Default earliest (nothing is skipped).'),
    session_timeout_ms: z
      .number()
      .int()
      .min(6_000)
      .default(30_000)
      .describe(
        'A member silent this long is dropped from the group and its partitions reassigned. Default 30000.',
      ),
    heartbeat_interval_ms: z
      .number()
      .int()
      .positive()
      .default(3_000)
      .describe('Heartbeat interval. Default 3000.'),
    max_bytes_per_partition: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024)
      .describe('Most bytes fetched from one partition at once. Default 1048576.'),
    max_batch_records: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe('Most records handed to the pipelines as one batch; a larger fetch is split. Default 1000.'),
    max_in_flight_batches: z
      .number()
      .int()
      .positive()
      .default(4)
      .describe(
        'Batches per partition that may be in the pipelines at once; past it the partition is paused. Default 4.',
      ),
    max_events_per_message: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe('Most events one message may carry; a larger message is dead-lettered. Default 10000.'),
    retry: z
      .strictObject({
        initial_interval_ms: z.number().int().positive().default(100).describe('First wait. Default 100.'),
        max_interval_ms: z.number().int().positive().default(30_000).describe('Longest wait. Default 30000.'),
      })
      .default({ initial_interval_ms: 100, max_interval_ms: 30_000 })
      .describe(
        'While the pipelines answer retryable (queues full, an exporter down) the partition is paused and the batch retried with exponential backoff, without end: nothing is skipped.',
      ),
  })
  .superRefine((c, ctx) => {
    c.topics.forEach((t, i) => {
      if (!t.startsWith('^')) return;
      try {
        new RegExp(t);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          path: ['topics', i],
          message: `not a valid regular expression: ${(err as Error).message}`,
        });
      }
    });
    for (const t of c.topics) {
      if (!t.startsWith('^') && c.dead_letter_topic.replaceAll('{topic}', t) === t) {
        ctx.addIssue({
          code: 'custom',
          path: ['dead_letter_topic'],
          message: `is the consumed topic ${t} itself`,
        });
      }
    }
    if (c.heartbeat_interval_ms * 3 > c.session_timeout_ms) {
      ctx.addIssue({
        code: 'custom',
        path: ['heartbeat_interval_ms'],
        message: 'must be at most a third of session_timeout_ms',
      });
    }
  });

/** kafka receiver settings. */
export type KafkaReceiverConfig = z.output<typeof kafkaReceiverConfigSchema>;

/** The dead-letter topic of a source topic. */
export function deadLetterTopic(template: string, topic: string): string {
  return template.replaceAll('{topic}', topic);
}

/** True when `topic` is a dead-letter topic of some other topic under this template. */
export function isDeadLetterTopic(template: string, topic: string): boolean {
  const [before, after] = template.split('{topic}', 2) as [string, string | undefined];
  if (after === undefined) return topic === template;
  return topic.length > before.length + after.length && topic.startsWith(before) && topic.endsWith(after);
}
