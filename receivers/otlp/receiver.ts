import type { Server } from '@grpc/grpc-js';
import type { Component, Consumer, Host, Settings } from '../../pipeline/component.ts';
import { PipelineError } from '../../pipeline/errors.ts';
import { ApiServer, parseEndpoint } from '../../pipeline/http-api.ts';
import type { OtlpConfig } from './config.ts';
import { bind, otlpGrpcServer } from './grpc.ts';
import { otlpHttpRoutes } from './http.ts';
import { Ingest } from './ingest.ts';
import { grpcCredentials, httpsOptions, watchTls } from './tls.ts';

/**
 * The OTLP receiver: gRPC and/or HTTP servers feeding one `Ingest`. Every request is answered
 * only after the pipelines took its batch (DESIGN §6). Shutdown stops accepting, lets
 * in-flight requests finish, and cuts them off when the signal aborts.
 */
export class OtlpReceiver implements Component {
  private readonly settings: Settings;
  private readonly config: OtlpConfig;
  private readonly ingest: Ingest;
  private http: ApiServer | undefined;
  private grpc: Server | undefined;
  private stopWatching: (() => void) | undefined;
  private stopped = false;
  /** Bound URLs, by protocol, once started (`http://127.0.0.1:4318`). */
  readonly urls: { grpc?: string; http?: string } = {};

  constructor(settings: Settings, config: OtlpConfig, next: Consumer) {
    this.settings = settings;
    this.config = config;
    this.ingest = new Ingest(settings, next);
  }

  async start(_host: Host): Promise<void> {
    const { grpc, http } = this.config.protocols;
    const log = this.settings.logger;
    try {
      if (http) {
        const tls = http.tls ? httpsOptions(http.tls) : undefined;
        this.http = new ApiServer({
          endpoint: http.endpoint,
          tenants: this.settings.tenants,
          logger: log,
          maxBodyBytes: http.max_request_body_size,
          ...(tls ? { tls } : {}),
        });
        this.http.add(otlpHttpRoutes(this.ingest));
        this.urls.http = await this.http.start();
        const server = this.http;
        if (http.tls) this.stopWatching = watchTls(http.tls, (o) => server.setSecureContext(o), log);
        log.info({ url: this.urls.http, protocol: 'http' }, 'listening');
      }
      if (grpc) {
        const { host } = parseEndpoint(grpc.endpoint);
        this.grpc = otlpGrpcServer(
          this.ingest,
          this.settings.tenants,
          Math.floor(grpc.max_recv_msg_size_mib * 1024 * 1024),
          log,
        );
        const port = await bind(this.grpc, grpc.endpoint, grpcCredentials(grpc.tls));
        const shown = host.includes(':') ? `[${host}]` : host;
        this.urls.grpc = `${grpc.tls ? 'https' : 'http'}://${shown}:${port}`;
        log.info({ url: this.urls.grpc, protocol: 'grpc' }, 'listening');
      }
    } catch (err) {
      await this.shutdown();
      if (err instanceof PipelineError) throw err;
      throw new PipelineError(
        'config_invalid',
        `${this.settings.id}: cannot listen: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async shutdown(signal?: AbortSignal): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopWatching?.();
    const grpc = this.grpc;
    const waits: Promise<void>[] = [];
    if (grpc) {
      waits.push(
        new Promise<void>((resolve) => {
          const force = () => grpc.forceShutdown();
          signal?.addEventListener('abort', force, { once: true });
          grpc.tryShutdown(() => {
            signal?.removeEventListener('abort', force);
            resolve();
          });
        }),
      );
    }
    if (this.http) waits.push(this.http.close(signal));
    await Promise.all(waits);
  }
}
