import type { Logger } from 'pino';
import type { z } from 'zod';
import type { ErrorCode } from './errors.ts';
import type { Event } from './event.ts';
import type { Route } from './http-api.ts';
import type { Telemetry } from './telemetry.ts';
import type { AuthContext, TenantRegistry } from './tenants.ts';

/**
 * The component contract (DESIGN §5), in the shape of the OpenTelemetry Collector's:
 * a factory is a plain value naming a type and a config schema; what it creates has only
 * start and shutdown; data moves through `consume`, which resolves only when every exporter
 * downstream has durably accepted the batch.
 */

/** What a component is. Extensions serve APIs and shared resources beside the pipelines. */
export type Kind = 'receiver' | 'processor' | 'exporter' | 'extension';

/** One event refused by a processor or exporter: it goes back to the receiver's caller. */
export interface Rejection {
  event_id: string;
  code: ErrorCode;
  message: string;
}

/**
 * What happened to the events of one incoming request, shared by every fork of its batch.
 * Receivers read it after `consume` resolves to answer with partial success, a 400 or a
 * dead-letter record. Sampled-out events are counted here too: they are not errors.
 */
export class BatchReport {
  readonly rejected: Rejection[] = [];
  /** Events dropped on purpose (sampling), by reason. */
  readonly dropped = new Map<string, number>();

  reject(event: Pick<Event, 'event_id'>, code: ErrorCode, message: string): void {
    this.rejected.push({ event_id: event.event_id, code, message });
  }

  drop(reason: string, n = 1): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + n);
  }
}

/** Where a batch came from. */
export interface BatchSource {
  receiver: string;
  transport: string;
}

/** A batch of events from one authenticated caller, with the report of what became of them. */
export interface EventBatch {
  events: Event[];
  auth: AuthContext;
  source: BatchSource;
  report: BatchReport;
}

/** Returns a batch with other events but the same caller, source and report. */
export function withEvents(batch: EventBatch, events: Event[]): EventBatch {
  return { events, auth: batch.auth, source: batch.source, report: batch.report };
}

/** Anything that takes batches: the next processor, a fan-out, an exporter. */
export interface Consumer {
  /** Resolves once every exporter downstream durably accepted the batch; rejects otherwise. */
  consume(batch: EventBatch): Promise<void>;
}

/** What the runtime offers a component while it runs. */
export interface Host {
  /** The tenant registry, for components that authenticate callers. */
  readonly tenants: TenantRegistry;
  /** Another running component by id (`postgres`, `ledger/eu`), e.g. an API reading a sink. */
  getComponent(id: string): Component | undefined;
  /** Feeds events into the pipelines of their class, as a receiver would (e.g. security events). */
  ingest(batch: EventBatch): Promise<void>;
  /** Routes that extensions contribute to the HTTP API server. */
  apiRoutes(): Route[];
  /** True once every component has started and until shutdown begins (for /readyz). */
  ready(): boolean;
}

/** Lifecycle: start, then shutdown. Shutdown is idempotent and safe without start. */
export interface Component {
  start(host: Host): Promise<void>;
  shutdown(signal?: AbortSignal): Promise<void>;
}

/** A processor is mostly a function from batch to batch; the runtime forwards the result. */
export interface Processor extends Component {
  process(batch: EventBatch): EventBatch | Promise<EventBatch>;
}

/** A component that consumes batches itself: exporters, and processors that must (batch). */
export interface ConsumerComponent extends Component, Consumer {}

/** An extension may contribute routes to the API server. */
export interface Extension extends Component {
  routes?(): Route[];
}

/** What code supplies to a component, as opposed to what the user wrote (its config). */
export interface Settings {
  /** Component id as written in the config: `type` or `type/name`. */
  id: string;
  logger: Logger;
  telemetry: Telemetry;
  tenants: TenantRegistry;
}

/**
 * Facts about a factory the config validator enforces invariants with:
 * `samples` may never be in an audit pipeline, every pipeline needs a `redacts` processor
 * before its exporters, and every audit pipeline must end in a `ledger` exporter — or in a
 * `forwards` exporter (a gateway's Kafka) that hands events durably to workers with ledgers.
 */
export interface Capabilities {
  samples?: boolean;
  redacts?: boolean;
  ledger?: boolean;
  forwards?: boolean;
}

interface FactoryBase<C> {
  type: string;
  configSchema: z.ZodType<C>;
  capabilities?: Capabilities;
  /** One line for the generated configuration reference. */
  description: string;
}

/** Creates receivers; `next` routes to the pipelines the receiver feeds. */
export interface ReceiverFactory<C = unknown> extends FactoryBase<C> {
  kind: 'receiver';
  create(settings: Settings, config: C, next: Consumer): Component;
}

/** Creates processors; `next` is given for processors that forward themselves (batch). */
export interface ProcessorFactory<C = unknown> extends FactoryBase<C> {
  kind: 'processor';
  create(settings: Settings, config: C, next: Consumer): Processor | ConsumerComponent;
}

/** Creates exporters; `consume` resolves when the batch is durably written. */
export interface ExporterFactory<C = unknown> extends FactoryBase<C> {
  kind: 'exporter';
  create(settings: Settings, config: C): ConsumerComponent;
}

/** Creates extensions (APIs, shared resources). */
export interface ExtensionFactory<C = unknown> extends FactoryBase<C> {
  kind: 'extension';
  create(settings: Settings, config: C): Extension;
}

/** Any factory. */
export type Factory<C = unknown> =
  | ReceiverFactory<C>
  | ProcessorFactory<C>
  | ExporterFactory<C>
  | ExtensionFactory<C>;

/** Any factory, whatever its config type: what lists of factories hold. */
// biome-ignore lint/suspicious/noExplicitAny: each factory of a list has its own config type
export type AnyFactory = Factory<any>;

/** True when a processor transforms batches rather than forwarding them itself. */
export function isProcessor(c: Processor | ConsumerComponent): c is Processor {
  return typeof (c as Processor).process === 'function';
}
