import type { Logger } from 'pino';
import type { Config } from '../config/validate.ts';
import type { Component, EventBatch, Extension, Host } from './component.ts';
import { buildGraph, type Graph, type Node } from './graph.ts';
import type { Route } from './http-api.ts';
import { createTelemetry, type Telemetry } from './telemetry.ts';
import { loadTenants, TenantRegistry } from './tenants.ts';

/**
 * A running ledgerline: the graph plus its lifecycle. Exporters start first, then extensions,
 * processors and receivers; shutdown goes the other way, so receivers stop taking data while
 * everything already accepted drains through the queues (DESIGN §5).
 */

/** Options for starting a service. */
export interface ServiceOptions {
  logger: Logger;
  telemetry?: Telemetry;
}

/** A running instance of ledgerline. */
export class Service implements Host {
  readonly tenants: TenantRegistry;
  readonly telemetry: Telemetry;
  private readonly graph: Graph;
  private readonly logger: Logger;
  private running = false;
  private stopping: Promise<void> | undefined;

  private constructor(config: Config, options: ServiceOptions) {
    this.logger = options.logger;
    this.telemetry = options.telemetry ?? createTelemetry();
    const loaded = loadTenants(config.tenants);
    if (loaded.bootstrapTokenFile) {
      this.logger.warn(
        { token_file: loaded.bootstrapTokenFile },
        'created a first-run tenant "default"; its bearer token is in the token file (readable by you only)',
      );
    }
    this.tenants = new TenantRegistry(loaded.tenants);
    this.graph = buildGraph(config, this.tenants, this.telemetry, this.logger);
  }

  /** Builds and starts everything; on failure, stops what started and throws. */
  static async start(config: Config, options: ServiceOptions): Promise<Service> {
    const service = new Service(config, options);
    const { exporters, extensions, processors, receivers } = service.graph;
    try {
      for (const node of [...exporters, ...extensions, ...processors, ...receivers]) {
        await node.component.start(service);
      }
    } catch (err) {
      await service.shutdown(AbortSignal.timeout(5_000));
      throw err;
    }
    service.running = true;
    return service;
  }

  /** Stops receivers, drains queues until the signal aborts, then stops the rest. Idempotent. */
  shutdown(signal?: AbortSignal): Promise<void> {
    this.stopping ??= this.stop(signal);
    return this.stopping;
  }

  private async stop(signal?: AbortSignal): Promise<void> {
    this.running = false;
    const { exporters, extensions, processors, receivers, queues } = this.graph;
    const stopAll = async (nodes: Node[]) => {
      await Promise.all(
        nodes.map(async (n) => {
          try {
            await n.component.shutdown(signal);
          } catch (err) {
            this.logger.error({ component: n.id, err }, 'shutdown failed');
          }
        }),
      );
    };
    // Shutdown is safe without start, so every node is told, started or not.
    await stopAll(receivers);
    await stopAll(processors);
    await Promise.all(queues.map((q) => q.drain(signal)));
    await stopAll(extensions);
    await stopAll(exporters);
  }

  ready(): boolean {
    return this.running;
  }

  getComponent(id: string): Component | undefined {
    const { exporters, extensions, receivers } = this.graph;
    return [...exporters, ...extensions, ...receivers].find((n) => n.id === id)?.component;
  }

  ingest(batch: EventBatch): Promise<void> {
    return this.graph.ingest.consume(batch);
  }

  apiRoutes(): Route[] {
    return this.graph.extensions.flatMap((n) => (n.component as Extension).routes?.() ?? []);
  }

  /** Events held in exporter queues, by exporter. */
  queueSizes(): Record<string, { size: number; capacity: number }> {
    return Object.fromEntries(this.graph.queues.map((q) => [q.id, { size: q.size, capacity: q.capacity }]));
  }
}
