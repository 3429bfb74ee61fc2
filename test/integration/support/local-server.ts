import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';

/** A stand-in HTTP endpoint a test controls: see {@link startLocalServer}. */
export interface LocalServer {
  readonly server: Server;
  /** `http://127.0.0.1:<port><path>`. */
  readonly url: string;
  /** Cuts open connections and stops listening. */
  close(): Promise<void>;
}

/**
 * An HTTP server on 127.0.0.1 (a port the OS picks) that reads each request's whole body as UTF-8 and then calls
 * `handle(raw, req, res)`; `url` points at `path` on it. For endpoints the sandbox does not offer (a token endpoint
 * that fails on cue, a webhook receiver).
 */
export async function startLocalServer(path: string, handle: (raw: string, req: IncomingMessage, res: ServerResponse) => void): Promise<LocalServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(Buffer.concat(chunks).toString('utf8'), req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it; a tiny race with other processes remains). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createTcpServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
