import type { MapContext } from './map-common.ts';
import { detailValue, numeric, text } from './map-common.ts';
import type { Attributes } from './model.ts';

/**
 * The envelope fields a record's attributes name (the table in README.md), read in one pass
 * over the record's attributes: each key is looked up once in a table of known keys, the rest
 * become metadata details. The resource's share (tenant, actor, event type, usage labels) is
 * read once per resource and cached, since every record of a resource repeats it.
 */

/** Envelope fields, as raw values for `parseEvent` to validate. */
export interface RecordFields {
  event_type: unknown;
  tenant: Record<string, unknown>;
  /** Undefined when neither an actor attribute nor a resource service.name names one. */
  actor: Record<string, unknown> | undefined;
  entity?: Record<string, unknown>;
  result?: unknown;
  reason?: unknown;
  correlation: Record<string, unknown>;
  /** `event.name` (or `event_name`) attribute; undefined when absent. */
  eventName: unknown;
  /** Undefined when no `usage.*` or GenAI attribute is present. */
  usage: Record<string, unknown> | undefined;
  details: Record<string, string | number | boolean>;
}

// Field codes of the known attribute keys.
const TENANT_ID = 1;
const TENANT_SLUG = 2;
const ENDUSER_ID = 3;
const ACTOR_ID = 4;
const ACTOR_TYPE = 5;
const ENDUSER_ROLE = 6;
const ACTOR_ROLE = 7;
const CLIENT_ADDRESS = 8;
const USER_AGENT = 9;
const ENTITY_TYPE = 10;
const ENTITY_ID = 11;
const ENTITY_VERSION = 12;
const EVENT_NAME = 13;
const EVENT_TYPE = 14;
const RESULT = 15;
const REASON = 16;
const ERROR_TYPE = 17;
const REQUEST_ID = 18;
const JOB_ID = 19;
const INPUT_TOKENS = 20;
const OUTPUT_TOKENS = 21;
const GEN_AI_PROVIDER = 22;
const USAGE_TEXT = 23;
const USAGE_NUMBER = 24;

const KNOWN = new Map<string, number>([
  ['tenant.id', TENANT_ID],
  ['tenant.slug', TENANT_SLUG],
  ['enduser.id', ENDUSER_ID],
  ['actor.id', ACTOR_ID],
  ['actor.type', ACTOR_TYPE],
  ['enduser.role', ENDUSER_ROLE],
  ['actor.role', ACTOR_ROLE],
  ['client.address', CLIENT_ADDRESS],
  ['user_agent.original', USER_AGENT],
  ['entity.type', ENTITY_TYPE],
  ['entity.id', ENTITY_ID],
  ['entity.version', ENTITY_VERSION],
  ['event.name', EVENT_NAME],
  ['event_name', EVENT_NAME],
  ['ledgerline.event_type', EVENT_TYPE],
  ['ledgerline.result', RESULT],
  ['ledgerline.reason', REASON],
  ['error.type', ERROR_TYPE],
  ['request.id', REQUEST_ID],
  ['job.id', JOB_ID],
  ['usage.tokens.input', INPUT_TOKENS],
  ['gen_ai.usage.input_tokens', INPUT_TOKENS],
  ['usage.tokens.output', OUTPUT_TOKENS],
  ['gen_ai.usage.output_tokens', OUTPUT_TOKENS],
  ['gen_ai.provider.name', GEN_AI_PROVIDER],
  ['gen_ai.system', GEN_AI_PROVIDER],
  ['usage.feature', USAGE_TEXT],
  ['usage.tool', USAGE_TEXT],
  ['usage.capability', USAGE_TEXT],
  ['usage.provider', USAGE_TEXT],
  ['usage.workspace_id', USAGE_TEXT],
  ['usage.outcome', USAGE_TEXT],
  ['usage.count', USAGE_NUMBER],
  ['usage.latency_ms', USAGE_NUMBER],
  ['usage.sample_rate', USAGE_NUMBER],
]);

/** What a resource contributes to each of its records. */
interface ResourceFields {
  service: string | undefined;
  tenantId: unknown;
  tenantSlug: unknown;
  enduserId: unknown;
  actorId: unknown;
  actorType: unknown;
  enduserRole: unknown;
  actorRole: unknown;
  eventType: unknown;
  /** `usage.*` text labels (feature, tool, ...), applied under the record's own. */
  usage: Record<string, unknown> | undefined;
}

const RESOURCES = new WeakMap<Attributes, ResourceFields>();

function resourceFields(resource: Attributes): ResourceFields {
  let r = RESOURCES.get(resource);
  if (r) return r;
  const service = resource['service.name'];
  r = {
    service: typeof service === 'string' && service !== '' ? service : undefined,
    tenantId: text(resource['tenant.id']),
    tenantSlug: text(resource['tenant.slug']),
    enduserId: text(resource['enduser.id']),
    actorId: text(resource['actor.id']),
    actorType: text(resource['actor.type']),
    enduserRole: text(resource['enduser.role']),
    actorRole: text(resource['actor.role']),
    eventType: text(resource['ledgerline.event_type']),
    usage: undefined,
  };
  for (const key in resource) {
    if (KNOWN.get(key) === USAGE_TEXT) {
      const v = text(resource[key]);
      if (v !== undefined) {
        r.usage ??= {};
        r.usage[key.slice(6)] = v;
      }
    }
  }
  RESOURCES.set(resource, r);
  return r;
}

/**
 * Reads a record's envelope fields from its attributes and resource. The tenant is the
 * record's `tenant.id` (else the resource's, else the authenticated caller's); the actor is
 * `enduser.id`/`actor.id` (record, then resource), else the emitting service.
 */
export function recordFields(
  attrs: Attributes,
  resource: Attributes,
  ctx: MapContext,
  traceId: string,
  spanId: string,
  extra?: Record<string, string | number | boolean>,
): RecordFields {
  const res = resourceFields(resource);
  const details: Record<string, string | number | boolean> = {};
  if (res.service !== undefined) details['service.name'] = res.service;
  if (extra) for (const k in extra) details[k] = extra[k]!;

  let tenantId: unknown;
  let tenantSlug: unknown;
  let enduserId: unknown;
  let actorId: unknown;
  let actorType: unknown;
  let enduserRole: unknown;
  let actorRole: unknown;
  let ip: unknown;
  let userAgent: unknown;
  let entityType: unknown;
  let entityId: unknown;
  let entityVersion: unknown;
  let eventName: unknown;
  let eventType: unknown;
  let result: unknown;
  let reason: unknown;
  let errorType: unknown;
  let requestId: unknown;
  let jobId: unknown;
  let inputTokens: unknown;
  let outputTokens: unknown;
  let provider: unknown;
  let usage: Record<string, unknown> | undefined;

  for (const key in attrs) {
    const raw = attrs[key]!;
    if (raw === null) continue;
    const code = KNOWN.get(key);
    if (code === undefined) {
      if (key.length > 256 || key.startsWith('usage.')) continue;
      const value = detailValue(raw);
      if (value === undefined) continue;
      // Define rather than assign, so a `__proto__` key stays data on this plain object.
      if (key === '__proto__')
        Object.defineProperty(details, key, { value, enumerable: true, writable: true, configurable: true });
      else details[key] = value;
      continue;
    }
    switch (code) {
      case TENANT_ID:
        tenantId = text(raw);
        break;
      case TENANT_SLUG:
        tenantSlug = text(raw);
        break;
      case ENDUSER_ID:
        enduserId = text(raw);
        break;
      case ACTOR_ID:
        actorId = text(raw);
        break;
      case ACTOR_TYPE:
        actorType = text(raw);
        break;
      case ENDUSER_ROLE:
        enduserRole = text(raw);
        break;
      case ACTOR_ROLE:
        actorRole = text(raw);
        break;
      case CLIENT_ADDRESS:
        ip = text(raw);
        break;
      case USER_AGENT:
        userAgent = text(raw);
        break;
      case ENTITY_TYPE:
        entityType = text(raw);
        break;
      case ENTITY_ID:
        entityId = text(raw);
        break;
      case ENTITY_VERSION:
        entityVersion = text(raw);
        break;
      case EVENT_NAME:
        eventName ??= text(raw);
        break;
      case EVENT_TYPE:
        eventType = text(raw);
        break;
      case RESULT:
        result = text(raw);
        break;
      case REASON:
        reason = text(raw);
        break;
      case ERROR_TYPE:
        errorType = text(raw);
        break;
      case REQUEST_ID:
        requestId = text(raw);
        break;
      case JOB_ID:
        jobId = text(raw);
        break;
      case INPUT_TOKENS:
        inputTokens ??= numeric(raw);
        break;
      case OUTPUT_TOKENS:
        outputTokens ??= numeric(raw);
        break;
      case GEN_AI_PROVIDER:
        provider ??= text(raw);
        break;
      case USAGE_TEXT:
        usage ??= {};
        usage[key.slice(6)] = text(raw);
        break;
      case USAGE_NUMBER:
        usage ??= {};
        usage[key.slice(6)] = numeric(raw);
        break;
    }
  }

  if (res.usage) usage = { ...res.usage, ...usage };
  if (provider !== undefined && usage?.provider === undefined) {
    usage ??= {};
    usage.provider = provider;
  }
  if (inputTokens !== undefined || outputTokens !== undefined) {
    const tokens: Record<string, unknown> = {};
    if (inputTokens !== undefined) tokens.input = inputTokens;
    if (outputTokens !== undefined) tokens.output = outputTokens;
    usage ??= {};
    usage.tokens = tokens;
  }

  const tenant: Record<string, unknown> = { id: tenantId ?? res.tenantId ?? ctx.auth.tenantId };
  const slug = tenantSlug ?? res.tenantSlug;
  if (slug !== undefined) tenant.slug = slug;

  let actor: Record<string, unknown> | undefined;
  const id = enduserId ?? actorId ?? res.enduserId ?? res.actorId;
  if (id !== undefined) actor = { type: actorType ?? res.actorType ?? 'user', id };
  else if (res.service !== undefined) actor = { type: 'service', id: res.service };
  if (actor) {
    const role = enduserRole ?? actorRole ?? res.enduserRole ?? res.actorRole;
    if (role !== undefined) actor.role = role;
    if (ip !== undefined) actor.ip = ip;
    if (userAgent !== undefined) actor.user_agent = userAgent;
  }

  const correlation: Record<string, unknown> = {};
  if (traceId) correlation.trace_id = traceId;
  if (spanId) correlation.span_id = spanId;
  if (requestId !== undefined) correlation.request_id = requestId;
  if (jobId !== undefined) correlation.job_id = jobId;

  const out: RecordFields = {
    event_type: eventType ?? res.eventType ?? 'activity',
    tenant,
    actor,
    correlation,
    eventName,
    usage,
    details,
  };
  if (entityType !== undefined || entityId !== undefined) {
    out.entity = { type: entityType, id: entityId };
    if (entityVersion !== undefined) out.entity.version = entityVersion;
  }
  if (result !== undefined) out.result = result;
  if (reason !== undefined || errorType !== undefined) out.reason = reason ?? errorType;
  return out;
}
