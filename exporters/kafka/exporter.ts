import type { ConsumerComponent, EventBatch, Settings } from '../../pipeline/component.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import type { Event } from '../../pipeline/event.ts';
import {
  isTransientKafkaError,
  type KafkaClient,
  type KafkaProducer,
  type ProducedMessage,
} from '../../receivers/kafka/client.ts';
import type { KafkaExporterConfig } from './config.ts';
import { encodeEventAsOtlpLogs } from './otlp-encode.ts';

/**
 * Gateway mode (DESIGN §11): writes each event as one record keyed by its tenant id, so a
 * tenant's events stay in one partition (one writer per tenant ledger downstream). A batch is
 * acknowledged only when every in-sync replica has it (acks=all).
 */

/** Header naming the tenant; a worker's kafka receiver in `auth.mode: gateway` trusts it. */
export const TENANT_HEADER = 'ledgerline-tenant';

/** Writes batches to a Kafka topic. */
export class KafkaExporter implements ConsumerComponent {
  private readonly settings: Settings;
  private readonly config: KafkaExporterConfig;
  private readonly client: KafkaClient;
  private producer: KafkaProducer | undefined;
  private readonly contentType: string;

  constructor(settings: Settings, config: KafkaExporterConfig, client: KafkaClient) {
    this.settings = settings;
    this.config = config;
    this.client = client;
    this.contentType = config.encoding === 'json' ? 'application/json' : 'application/x-protobuf';
  }

  async start(): Promise<void> {
    const producer = this.client.producer({
      compression: this.config.compression,
      timeoutMs: this.config.timeout_ms,
    });
    await producer.connect();
    this.producer = producer;
    this.settings.logger.info({ brokers: this.config.brokers, topic: this.config.topic }, 'producing');
  }

  async consume(batch: EventBatch): Promise<void> {
    if (!this.producer) throw new PipelineError('exporter_unavailable', 'kafka exporter is not started');
    const { auth } = batch;
    const messages: ProducedMessage[] = [];
    for (const e of batch.events) {
      const tenant = e.tenant.id;
      // Workers trust the tenant header: never forward an event its sender may not write.
      if (tenant !== auth.tenantId && !(auth.roles.has('service') && auth.actsFor.has(tenant))) {
        batch.report.reject(e, 'tenant_rejected', `the sender may not write events of tenant ${tenant}`);
        continue;
      }
      const json = JSON.stringify(withoutIntegrity(e));
      messages.push({
        key: tenant,
        value: this.config.encoding === 'json' ? json : encodeEventAsOtlpLogs(e, json),
        headers: { [TENANT_HEADER]: tenant, 'content-type': this.contentType },
      });
    }
    if (messages.length === 0) return;
    try {
      await this.producer.send(this.config.topic, messages);
    } catch (err) {
      const message = `producing to ${this.config.topic}: ${(err as Error).message}`;
      if (isTransientKafkaError(err))
        throw new PipelineError('exporter_unavailable', message, { cause: err });
      throw new PipelineError('exporter_failed', message, { cause: err });
    }
  }

  async shutdown(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect();
  }
}

/** The hash chain belongs to the ledger that wrote it; a worker's ledger sets its own. */
function withoutIntegrity(e: Event): Event {
  if (e.integrity === undefined) return e;
  const { integrity: _, ...rest } = e;
  return rest;
}
