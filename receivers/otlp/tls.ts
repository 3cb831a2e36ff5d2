import { readFileSync, statSync } from 'node:fs';
import type { ServerOptions as HttpsOptions } from 'node:https';
import { experimental, ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { PipelineError } from '../../pipeline/errors.ts';
import type { TlsConfig } from './config.ts';

/**
 * TLS and mutual TLS for both transports, with optional reloading of renewed certificates:
 * gRPC through grpc-js's file-watching certificate provider, HTTPS by swapping the server's
 * secure context when a file's modification time changes.
 */

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new PipelineError('config_invalid', `tls.${what}: cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Options for node:https from the TLS config (client certificates required when a CA is set). */
export function httpsOptions(tls: TlsConfig): HttpsOptions {
  const options: HttpsOptions = {
    cert: read(tls.cert_file, 'cert_file'),
    key: read(tls.key_file, 'key_file'),
  };
  if (tls.client_ca_file) {
    options.ca = read(tls.client_ca_file, 'client_ca_file');
    options.requestCert = true;
    options.rejectUnauthorized = true;
  }
  return options;
}

/** Server credentials for grpc-js: plaintext, static TLS, or TLS re-read every reload interval. */
export function grpcCredentials(tls: TlsConfig | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const mutual = tls.client_ca_file !== undefined;
  if (tls.reload_interval_seconds > 0) {
    // Fail at start on unreadable files rather than serving nothing later.
    httpsOptions(tls);
    const provider = new experimental.FileWatcherCertificateProvider({
      certificateFile: tls.cert_file,
      privateKeyFile: tls.key_file,
      caCertificateFile: tls.client_ca_file,
      refreshIntervalMs: tls.reload_interval_seconds * 1000,
    });
    // grpc-js takes (identity provider, CA provider or null, require client certificate).
    return experimental.createCertificateProviderServerCredentials(
      provider,
      mutual ? provider : (null as never),
      mutual,
    );
  }
  const o = httpsOptions(tls);
  return ServerCredentials.createSsl(
    mutual ? (o.ca as Buffer) : null,
    [{ private_key: o.key as Buffer, cert_chain: o.cert as Buffer }],
    mutual,
  );
}

/**
 * Re-reads the certificate files every interval and hands new options to `apply` when one of
 * them changed. Returns the function that stops watching.
 */
export function watchTls(tls: TlsConfig, apply: (options: HttpsOptions) => void, logger: Logger): () => void {
  if (tls.reload_interval_seconds <= 0) return () => {};
  const files = [tls.cert_file, tls.key_file, tls.client_ca_file].filter((f): f is string => f !== undefined);
  const stamp = () => files.map((f) => statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0).join(':');
  let last = stamp();
  const timer = setInterval(() => {
    const now = stamp();
    if (now === last) return;
    try {
      apply(httpsOptions(tls));
      last = now;
      logger.info('reloaded TLS certificates');
    } catch (err) {
      logger.warn({ err }, 'TLS certificates changed but could not be loaded; keeping the previous ones');
    }
  }, tls.reload_interval_seconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
