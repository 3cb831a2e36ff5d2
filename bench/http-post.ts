import { Agent, request } from 'node:http';

/**
 * The keep-alive JSON POST the HTTP load scenarios share: one agent with a socket per client,
 * the same prepared body every time, the status code as the answer.
 */
export interface JsonPoster {
  /** POSTs the body once; resolves with the HTTP status. */
  post(): Promise<number>;
  /** Closes the sockets. */
  close(): void;
}

/** A poster for `http://127.0.0.1:<port><path>` with a bearer token. */
export function jsonPoster(options: {
  port: string | number;
  path: string;
  token: string;
  body: Buffer;
  clients: number;
}): JsonPoster {
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${options.token}`,
    'content-length': options.body.length,
  };
  return {
    post: () =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: options.port, path: options.path, method: 'POST', agent, headers },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(options.body);
      }),
    close: () => agent.destroy(),
  };
}
