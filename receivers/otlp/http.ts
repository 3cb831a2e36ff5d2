import type { IncomingHttpHeaders } from 'node:http';
import { PipelineError } from '../../pipeline/errors.ts';
import type { ApiResponse, Route } from '../../pipeline/http-api.ts';
import type { Ingest } from './ingest.ts';
import type { Signal } from './model.ts';
import { type Encoding, exportResponse, statusMessage } from './response.ts';

/**
 * OTLP/HTTP: `POST /v1/logs`, `/v1/metrics`, `/v1/traces` on the shared API server, in
 * protobuf (`application/x-protobuf`) or JSON (`application/json`), answered in the request's
 * encoding. Failures carry a google.rpc.Status body, with Retry-After when retrying may help.
 */

const CONTENT_TYPE: Record<Encoding, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

/** The encoding a content type names, or undefined when it is neither OTLP encoding. */
export function encodingOf(headers: IncomingHttpHeaders): Encoding | undefined {
  const ct = headers['content-type'];
  if (!ct) return undefined;
  const semi = ct.indexOf(';');
  const type = (semi === -1 ? ct : ct.slice(0, semi)).trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

function requireEncoding(headers: IncomingHttpHeaders): Encoding {
  const enc = encodingOf(headers);
  if (enc === undefined) {
    throw new PipelineError(
      'unsupported_media_type',
      `content type "${headers['content-type'] ?? ''}" is not supported; send application/x-protobuf or application/json`,
    );
  }
  return enc;
}

/** Renders an error as OTLP/HTTP does: a Status in the request's encoding (JSON if unknown). */
function renderError(e: PipelineError, headers: IncomingHttpHeaders): ApiResponse {
  const enc = encodingOf(headers) ?? 'json';
  const out: Record<string, string> = { 'content-type': CONTENT_TYPE[enc] };
  const retryAfter = e.retryable ? (e.retryAfter ?? 1) : undefined;
  if (retryAfter !== undefined) out['retry-after'] = String(retryAfter);
  if (e.code === 'unauthenticated') out['www-authenticate'] = 'Bearer';
  return { status: e.status, headers: out, body: statusMessage(e.grpcCode, e.message, retryAfter, enc) };
}

/** The three OTLP/HTTP routes, each authenticated by bearer token. */
export function otlpHttpRoutes(ingest: Ingest): Route[] {
  return (['logs', 'metrics', 'traces'] as const).map(
    (signal: Signal): Route => ({
      method: 'POST',
      path: `/v1/${signal}`,
      auth: 'tenant',
      checkHeaders: requireEncoding,
      renderError,
      async handle(req) {
        const enc = requireEncoding(req.headers);
        const outcome = await ingest.export(signal, req.body, enc, req.auth!, 'http');
        return {
          status: 200,
          headers: { 'content-type': CONTENT_TYPE[enc] },
          body: exportResponse(signal, outcome.rejected, outcome.message, enc),
        };
      },
    }),
  );
}
