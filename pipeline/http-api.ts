import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Transform } from 'node:stream';
import { createGunzip, createInflate, createZstdDecompress } from 'node:zlib';
import type { Logger } from 'pino';
import { PipelineError, toPipelineError } from './errors.ts';
import type { AuthContext, TenantRegistry } from './tenants.ts';

/**
 * A small HTTP API server on node:http shared by every component that serves HTTP: routes
 * with bearer authentication by role, a body limit enforced after decompression (so a gzip
 * bomb is refused), and errors answered from the PipelineError table with Retry-After.
 */

/** One parsed request, with the body already read (and decompressed) within the limit. */
export interface ApiRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The authenticated caller; absent only on routes with `auth: 'none'`. */
  auth: AuthContext | undefined;
  body: Buffer;
}

/** An answer: objects are sent as JSON, strings and Buffers as they are. */
export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** One route. `path` may hold `:name` segments and end in `*` (the rest, as params['*']). */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** none: public; tenant: any valid token; admin: a token with the admin role. */
  auth: 'none' | 'tenant' | 'admin';
  handle(req: ApiRequest): ApiResponse | Promise<ApiResponse>;
  /** Checks the headers before the body is read (e.g. content type); throws to refuse early. */
  checkHeaders?(headers: IncomingHttpHeaders): void;
  /** Answers this route's errors in its own wire format (e.g. OTLP's protobuf Status). */
  renderError?(err: PipelineError, headers: IncomingHttpHeaders): ApiResponse;
}

/** Options of an API server. */
export interface ApiServerOptions {
  /** `host:port`; port 0 picks a free one. */
  endpoint: string;
  tenants: TenantRegistry;
  logger: Logger;
  /** Largest body accepted, after decompression, in bytes. */
  maxBodyBytes: number;
  tls?: HttpsOptions;
}

interface CompiledRoute {
  route: Route;
  segments: string[];
  wildcard: boolean;
}

/** Splits `host:port` (with `[::1]:port` for IPv6). */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(endpoint);
  if (!m) throw new PipelineError('config_invalid', `endpoint "${endpoint}" must be host:port`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) };
}

/** Renders an error as the JSON answer every route uses. */
export function errorResponse(err: unknown): ApiResponse {
  const e = toPipelineError(err);
  const headers: Record<string, string> = {};
  if (e.retryable && e.retryAfter !== undefined) headers['retry-after'] = String(e.retryAfter);
  if (e.code === 'unauthenticated') headers['www-authenticate'] = 'Bearer';
  const error: Record<string, unknown> = { code: e.code, message: e.message };
  if (e.details !== undefined) error.details = e.details;
  return { status: e.status, headers, body: { error } };
}

/** The HTTP API server. */
export class ApiServer {
  private readonly routes: CompiledRoute[] = [];
  private server: Server | undefined;
  private closed = false;
  private readonly options: ApiServerOptions;

  constructor(options: ApiServerOptions) {
    this.options = options;
  }

  /** Adds routes; call before start. */
  add(routes: readonly Route[]): void {
    for (const route of routes) {
      const wildcard = route.path.endsWith('*');
      const path = wildcard ? route.path.slice(0, -1) : route.path;
      this.routes.push({ route, segments: path.split('/').filter(Boolean), wildcard });
    }
  }

  /** Listens; resolves with the bound address as `http://host:port`. */
  async start(): Promise<string> {
    const { host, port } = parseEndpoint(this.options.endpoint);
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = this.options.tls ? createHttpsServer(this.options.tls, handler) : createHttpServer(handler);
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address() as AddressInfo;
    const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return `${this.options.tls ? 'https' : 'http'}://${shown}:${addr.port}`;
  }

  /** The bound port (after start). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Replaces the TLS certificate and key (and CA) for new connections, e.g. after renewal. */
  setSecureContext(tls: HttpsOptions): void {
    const server = this.server as (Server & { setSecureContext?: (o: HttpsOptions) => void }) | undefined;
    server?.setSecureContext?.(tls);
  }

  /** Stops accepting, lets in-flight requests finish until the signal aborts. Idempotent. */
  async close(signal?: AbortSignal): Promise<void> {
    if (this.closed || !this.server) return;
    this.closed = true;
    const server = this.server;
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const onAbort = () => server.closeAllConnections();
    signal?.addEventListener('abort', onAbort, { once: true });
    await done;
    signal?.removeEventListener('abort', onAbort);
  }

  private match(
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } | 'method' | undefined {
    const parts = path.split('/').filter(Boolean);
    let methodMismatch = false;
    for (const c of this.routes) {
      if (c.wildcard ? parts.length < c.segments.length : parts.length !== c.segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < c.segments.length && ok; i++) {
        const s = c.segments[i]!;
        if (s.startsWith(':')) params[s.slice(1)] = decodePart(parts[i]!);
        else ok = s === parts[i];
      }
      if (!ok) continue;
      if (c.wildcard) params['*'] = parts.slice(c.segments.length).join('/');
      if (c.route.method !== method) {
        methodMismatch = true;
        continue;
      }
      return { route: c.route, params };
    }
    return methodMismatch ? 'method' : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let answer: ApiResponse;
    let matched: Route | undefined;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
      const found = this.match(method, url.pathname);
      if (found === undefined) throw new PipelineError('not_found', `no route for ${url.pathname}`);
      if (found === 'method')
        throw new PipelineError('method_not_allowed', `${req.method} is not allowed on ${url.pathname}`);
      const { route, params } = found;
      matched = route;
      let auth: AuthContext | undefined;
      if (route.auth !== 'none') {
        auth = this.options.tenants.authenticate(req.headers.authorization);
        if (route.auth === 'admin' && !auth.roles.has('admin')) {
          throw new PipelineError('forbidden', 'this endpoint needs a token with the admin role');
        }
      }
      route.checkHeaders?.(req.headers);
      const body = method === 'GET' ? Buffer.alloc(0) : await readBody(req, this.options.maxBodyBytes);
      answer = await route.handle({
        method,
        path: url.pathname,
        params,
        query: url.searchParams,
        headers: req.headers,
        auth,
        body,
      });
    } catch (err) {
      const e = toPipelineError(err);
      answer = matched?.renderError ? matched.renderError(e, req.headers) : errorResponse(err);
      if (e.status >= 500 && !e.retryable)
        this.options.logger.error({ err: e, code: e.code }, 'request failed');
    }
    send(req, res, answer);
  }
}

/** A path segment, percent-decoded; a malformed escape is the client's error, not ours. */
function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new PipelineError('invalid_request', `malformed percent-escape in the path segment "${part}"`);
  }
}

function send(req: IncomingMessage, res: ServerResponse, answer: ApiResponse): void {
  let payload: Buffer | string | undefined;
  const headers: Record<string, string> = { ...answer.headers };
  if (answer.body === undefined) payload = undefined;
  else if (Buffer.isBuffer(answer.body) || answer.body instanceof Uint8Array)
    payload = Buffer.from(answer.body as Uint8Array);
  else if (typeof answer.body === 'string') payload = answer.body;
  else {
    payload = JSON.stringify(answer.body);
    headers['content-type'] ??= 'application/json';
  }
  if (!req.complete) {
    // The body was refused before it was read: close instead of draining an attacker's upload.
    headers.connection = 'close';
  }
  res.writeHead(answer.status, headers);
  res.end(req.method === 'HEAD' ? undefined : payload);
  if (!req.complete) req.destroy();
}

function decoder(encoding: string | undefined): Transform | undefined {
  switch ((encoding ?? 'identity').trim().toLowerCase()) {
    case 'identity':
    case '':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'zstd':
      return createZstdDecompress();
    default:
      throw new PipelineError('unsupported_media_type', `unsupported content-encoding "${encoding}"`);
  }
}

/** Reads a request body, decompressing it, and refuses it as soon as it passes the limit. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    throw new PipelineError('payload_too_large', `the body is ${declared} bytes; the limit is ${limit}`);
  }
  const dec = decoder(req.headers['content-encoding']);
  const source = dec ? req.pipe(dec) : req;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        throw new PipelineError(
          'payload_too_large',
          `the body is over the limit of ${limit} bytes${dec ? ' after decompression' : ''}`,
        );
      }
      chunks.push(chunk);
    }
  } catch (err) {
    dec?.destroy();
    if (err instanceof PipelineError) throw err;
    throw new PipelineError('invalid_request', `the body could not be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}
