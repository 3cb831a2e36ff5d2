import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testHost, testSettings } from '../../pipeline/testing.ts';
import { otlpConfigSchema } from './config.ts';
import { OtlpReceiver } from './receiver.ts';
import { logRecord, logsRequest, validRecordFields } from './testdata/raw-requests.ts';

/**
 * TLS and mutual TLS on both transports, with certificates made by openssl for the test:
 * a client without a certificate signed by `client_ca_file` is refused, one with it is served,
 * and a renewed server certificate is picked up without a restart (reload_interval_seconds).
 */

const dir = mkdtempSync(join(tmpdir(), 'otlp-tls-'));
const file = (name: string) => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** A CA, and a certificate it signs for `name` (server or client). */
function issue(name: string, cn: string): void {
  openssl(
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file(`${name}.key`),
    '-out',
    file(`${name}.csr`),
    '-subj',
    `/CN=${cn}`,
  );
  const ext = file(`${name}.ext`);
  execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > '${ext}'`]);
  openssl(
    'x509',
    '-req',
    '-in',
    file(`${name}.csr`),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file(`${name}.crt`),
    '-days',
    '2',
    '-extfile',
    ext,
  );
}

const BODY = logsRequest(logRecord(...validRecordFields()));
const settings = testSettings('otlp/tls');
let receiver: OtlpReceiver;

beforeAll(async () => {
  openssl(
    'req',
    '-x509',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=test-ca',
  );
  issue('server', 'server-one');
  issue('client', 'client');
  const tls = {
    cert_file: file('server.crt'),
    key_file: file('server.key'),
    client_ca_file: file('ca.crt'),
    reload_interval_seconds: 1,
  };
  receiver = new OtlpReceiver(
    settings,
    otlpConfigSchema.parse({
      protocols: { grpc: { endpoint: '127.0.0.1:0', tls }, http: { endpoint: '127.0.0.1:0', tls } },
    }),
    { consume: async () => {} },
  );
  await receiver.start(testHost(settings));
});

afterAll(async () => {
  await receiver?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

function post(withClientCert: boolean): Promise<{ status: number; cn: string }> {
  const url = new URL(`${receiver.urls.http}/v1/logs`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        ca: readFileSync(file('ca.crt')),
        ...(withClientCert
          ? { cert: readFileSync(file('client.crt')), key: readFileSync(file('client.key')) }
          : {}),
        headers: { 'content-type': 'application/x-protobuf', authorization: 'Bearer acme-token' },
        agent: false,
      },
      (res) => {
        const cn = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, cn }));
      },
    );
    req.on('error', reject);
    req.end(BODY);
  });
}

function grpcCall(withClientCert: boolean): Promise<number> {
  const creds = withClientCert
    ? credentials.createSsl(
        readFileSync(file('ca.crt')),
        readFileSync(file('client.key')),
        readFileSync(file('client.crt')),
      )
    : credentials.createSsl(readFileSync(file('ca.crt')));
  const client = new Client(receiver.urls.grpc!.replace(/^https:\/\//, ''), creds);
  const metadata = new Metadata();
  metadata.set('authorization', 'Bearer acme-token');
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
      (b: Buffer) => b,
      (b: Buffer) => b,
      BODY,
      metadata,
      { deadline: Date.now() + 10_000 },
      (err) => {
        client.close();
        resolve(err ? err.code : status.OK);
      },
    );
  });
}

describe('TLS', () => {
  it('serves HTTPS to clients with a certificate of the client CA and refuses others', async () => {
    expect(receiver.urls.http).toMatch(/^https:\/\//);
    expect(await post(true)).toEqual({ status: 200, cn: 'server-one' });
    await expect(post(false)).rejects.toThrow();
  });

  it('serves gRPC over TLS to clients with a certificate and refuses others', async () => {
    expect(await grpcCall(true)).toBe(status.OK);
    expect(await grpcCall(false)).not.toBe(status.OK);
  });

  it('picks up a renewed server certificate without a restart', async () => {
    issue('server', 'server-two');
    let cn = '';
    for (let i = 0; i < 50 && cn !== 'server-two'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      cn = (await post(true)).cn;
    }
    expect(cn).toBe('server-two');
    expect(await grpcCall(true)).toBe(status.OK);
  });
});
