import type { Logger } from 'pino';
import type { Config } from '../config/validate.ts';
import { componentKey } from '../config/validate.ts';
import {
  type Component,
  type Consumer,
  type EventBatch,
  type ExporterFactory,
  type ExtensionFactory,
  isProcessor,
  type Processor,
  type ProcessorFactory,
  type ReceiverFactory,
  type Settings,
} from './component.ts';
import type { EventClass } from './event.ts';
import { FanOut } from './fanout.ts';
import { ExporterQueue } from './queue.ts';
import { Router } from './router.ts';
import type { Telemetry } from './telemetry.ts';
import type { TenantRegistry } from './tenants.ts';

/**
 * Builds the running graph from a validated config, as the Collector does: one instance per
 * receiver and exporter (shared by the pipelines that name them), one instance of each
 * processor per pipeline, a queue in front of every exporter, a router behind every receiver.
 */

/** A component instance with what the lifecycle needs to know. */
export interface Node {
  id: string;
  kind: 'receiver' | 'processor' | 'exporter' | 'extension';
  component: Component;
}

/** The built graph, in start order within each kind. */
export interface Graph {
  exporters: Node[];
  queues: ExporterQueue[];
  extensions: Node[];
  processors: Node[];
  receivers: Node[];
  /** Feeds events into every pipeline of their class (Host.ingest). */
  ingest: Router;
}

/** Forwards a processor's output to the next stage, and notes batch sizes. */
class ProcessorStage implements Consumer {
  private readonly processor: Processor;
  private readonly next: Consumer;

  constructor(processor: Processor, next: Consumer) {
    this.processor = processor;
    this.next = next;
  }

  async consume(batch: EventBatch): Promise<void> {
    const out = await this.processor.process(batch);
    if (out.events.length > 0) await this.next.consume(out);
  }
}

/** Creates every component of the config; nothing is started yet. */
export function buildGraph(
  config: Config,
  tenants: TenantRegistry,
  telemetry: Telemetry,
  logger: Logger,
): Graph {
  const settings = (id: string, extra: Record<string, string> = {}): Settings => ({
    id,
    logger: logger.child({ component: id, ...extra }),
    telemetry,
    tenants,
  });
  const entry = (kind: Node['kind'], id: string) => {
    const e = config.components.get(componentKey(kind, id));
    if (!e) throw new Error(`${kind} ${id} is not configured`);
    return e;
  };

  const exporters: Node[] = [];
  const queues = new Map<string, ExporterQueue>();
  for (const p of config.pipelines) {
    for (const id of p.exporters) {
      if (queues.has(id)) continue;
      const e = entry('exporter', id);
      const s = settings(id);
      const component = (e.factory as ExporterFactory).create(s, e.config);
      exporters.push({ id, kind: 'exporter', component });
      queues.set(id, new ExporterQueue(id, component, e.queue!, telemetry, s.logger));
    }
  }

  const extensions: Node[] = config.extensions.map((id) => {
    const e = entry('extension', id);
    return {
      id,
      kind: 'extension',
      component: (e.factory as ExtensionFactory).create(settings(id), e.config),
    };
  });

  const processors: Node[] = [];
  const heads = new Map<string, Consumer>();
  for (const p of config.pipelines) {
    let next: Consumer = new FanOut(p.exporters.map((id) => queues.get(id)!));
    for (const id of [...p.processors].reverse()) {
      const e = entry('processor', id);
      const instance = (e.factory as ProcessorFactory).create(
        settings(id, { pipeline: p.id }),
        e.config,
        next,
      );
      processors.push({ id: `${p.id}/${id}`, kind: 'processor', component: instance });
      next = isProcessor(instance) ? new ProcessorStage(instance, next) : instance;
    }
    heads.set(p.id, next);
  }

  const byClassFor = (receiver: string | undefined) => {
    const byClass = new Map<EventClass, Consumer[]>();
    for (const p of config.pipelines) {
      if (receiver !== undefined && !p.receivers.includes(receiver)) continue;
      const list = byClass.get(p.eventClass) ?? [];
      list.push(heads.get(p.id)!);
      byClass.set(p.eventClass, list);
    }
    return byClass;
  };

  const receivers: Node[] = [];
  const seen = new Set<string>();
  for (const p of config.pipelines) {
    for (const id of p.receivers) {
      if (seen.has(id)) continue;
      seen.add(id);
      const e = entry('receiver', id);
      const router = new Router(id, byClassFor(id), telemetry);
      receivers.push({
        id,
        kind: 'receiver',
        component: (e.factory as ReceiverFactory).create(settings(id), e.config, router),
      });
    }
  }

  return {
    exporters,
    queues: [...queues.values()],
    extensions,
    processors,
    receivers,
    ingest: new Router('(internal)', byClassFor(undefined), telemetry),
  };
}
