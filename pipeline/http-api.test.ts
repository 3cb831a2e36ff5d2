import { request } from 'node:http';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from './http-api.ts';
import { TenantRegistry } from './tenants.ts';
import { TEST_TENANTS } from './testing.ts';

// The shared API server: authentication by role, body limits after decompression, and the
// error answers every route shares. Real sockets on a free port.

let server: ApiServer;
let base: string;

beforeAll(async () => {
  server = new ApiServer({
    endpoint: '127.0.0.1:0',
    tenants: new TenantRegistry(TEST_TENANTS),
    logger: pino({ level: 'silent' }),
    maxBodyBytes: 65536,
  });
  server.add([
    {
      method: 'POST',
      path: '/echo',
      auth: 'tenant',
      handle: (req) => ({ status: 200, body: { tenant: req.auth!.tenantId, bytes: req.body.length } }),
    },
    { method: 'GET', path: '/admin', auth: 'admin', handle: () => ({ status: 200, body: { ok: true } }) },
    {
      method: 'GET',
      path: '/files/:name/*',
      auth: 'none',
      handle: (req) => ({ status: 200, body: req.params }),
    },
  ]);
  base = await server.start();
});
afterAll(() => server.close());

function raw(
  path: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const u = new URL(base + path);
    const req = request({ host: u.hostname, port: u.port, path, method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const auth = { authorization: 'Bearer acme-token' };

describe('ApiServer', () => {
  it('authenticates, and tells missing and unknown tokens apart from missing roles', async () => {
    expect((await raw('/echo', Buffer.from('hi'), auth)).body).toEqual({ tenant: 'acme', bytes: 2 });
    expect((await raw('/echo', Buffer.from('hi'), {})).status).toBe(401);
    expect((await raw('/echo', Buffer.from('hi'), { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await raw('/echo', Buffer.from('hi'), { authorization: 'Basic YTpi' })).status).toBe(401);
    expect((await fetch(`${base}/admin`, { headers: auth })).status).toBe(403);
    expect(
      (await fetch(`${base}/admin`, { headers: { authorization: 'Bearer acme-admin-token' } })).status,
    ).toBe(200);
  });

  it('decompresses gzip and zstd bodies', async () => {
    const body = Buffer.alloc(800, 'a');
    expect((await raw('/echo', gzipSync(body), { ...auth, 'content-encoding': 'gzip' })).body.bytes).toBe(
      800,
    );
    expect(
      (await raw('/echo', zstdCompressSync(body), { ...auth, 'content-encoding': 'zstd' })).body.bytes,
    ).toBe(800);
  });

  it('refuses a gzip bomb by the decompressed size, and a declared oversize body before reading it', async () => {
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(65536);
    const r = await raw('/echo', bomb, { ...auth, 'content-encoding': 'gzip' });
    expect(r.status).toBe(413);
    expect(r.body.error.message).toContain('after decompression');
    const big = await raw('/echo', Buffer.alloc(100_000), auth);
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
  });

  it('answers unknown encodings, paths and methods clearly, and stays up', async () => {
    expect((await raw('/echo', Buffer.from('x'), { ...auth, 'content-encoding': 'br2' })).status).toBe(415);
    expect(
      (await raw('/echo', Buffer.from('not gzip'), { ...auth, 'content-encoding': 'gzip' })).status,
    ).toBe(400);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
    const wrongMethod = await fetch(`${base}/echo`, { headers: auth });
    expect(wrongMethod.status).toBe(405);
    expect((await fetch(`${base}/files/a%20b/x/y.json`)).status).toBe(200);
    expect(await (await fetch(`${base}/files/a%20b/x/y.json`)).json()).toEqual({
      name: 'a b',
      '*': 'x/y.json',
    });
    expect((await fetch(`${base}/files/%E0/x`)).status).toBe(400);
    expect((await raw('/echo', Buffer.from('ok'), auth)).status).toBe(200);
  });
});
