import { readFileSync } from 'node:fs';
import type { Component, Consumer, Host, Settings } from '../../pipeline/component.ts';
import { ApiServer } from '../../pipeline/http-api.ts';
import type { HttpReceiverConfig } from './config.ts';
import { Ingest, requireJsonType } from './ingest.ts';

/**
 * The http receiver: ledgerline's API server. It serves the ingest routes and mounts every
 * extension's routes (usage summaries, ledger reads) on the same port.
 */
export class HttpReceiver implements Component {
  private readonly settings: Settings;
  private readonly config: HttpReceiverConfig;
  private readonly ingest: Ingest;
  private server: ApiServer | undefined;
  /** The URL the receiver listens on, once started. */
  url: string | undefined;

  constructor(settings: Settings, config: HttpReceiverConfig, next: Consumer) {
    this.settings = settings;
    this.config = config;
    this.ingest = new Ingest(settings.id, next, settings.telemetry, config.max_events_per_request);
  }

  async start(host: Host): Promise<void> {
    const tls = this.config.tls && {
      cert: readFileSync(this.config.tls.cert_file),
      key: readFileSync(this.config.tls.key_file),
      ...(this.config.tls.client_ca_file
        ? { ca: readFileSync(this.config.tls.client_ca_file), requestCert: true, rejectUnauthorized: true }
        : {}),
    };
    const server = new ApiServer({
      endpoint: this.config.endpoint,
      tenants: this.settings.tenants,
      logger: this.settings.logger,
      maxBodyBytes: this.config.max_request_body_size,
      ...(tls ? { tls } : {}),
    });
    server.add([
      {
        method: 'POST',
        path: '/api/v1/events',
        auth: 'tenant',
        checkHeaders: requireJsonType,
        handle: this.ingest.native,
      },
      {
        method: 'POST',
        path: '/api/v1/usage/events',
        auth: 'tenant',
        checkHeaders: requireJsonType,
        handle: this.ingest.usage,
      },
      ...host.apiRoutes(),
    ]);
    const url = await server.start();
    this.server = server;
    this.url = url;
    this.settings.logger.info({ url }, 'listening');
  }

  async shutdown(signal?: AbortSignal): Promise<void> {
    await this.server?.close(signal);
  }
}
