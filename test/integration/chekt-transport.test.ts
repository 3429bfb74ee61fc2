import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import ky from 'ky';
import { createHttpTransport } from '../../src/chekt/transport.js';

/**
 * The transport under ky (src/chekt/transport.ts) against a real HTTP server: what ky gets back is what the
 * server sent, one timer bounds the exchange, redirects are returned as they are, and connections are reused.
 */

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  socket: number;
}

let server: http.Server;
let base: string;
const seen: Seen[] = [];
const sockets = new WeakMap<object, number>();
let socketCount = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      if (!sockets.has(req.socket)) sockets.set(req.socket, ++socketCount);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, socket: sockets.get(req.socket)! });
      const path = req.url!.split('?')[0];
      if (path === '/echo') {
        res.writeHead(201, { 'content-type': 'application/json', 'x-ratelimit-limit': '600' });
        res.end(JSON.stringify({ method: req.method, body }));
      } else if (path === '/empty') {
        res.writeHead(204).end();
      } else if (path === '/gzip') {
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' }).end(zlib.gzipSync('{"zipped":true}'));
      } else if (path === '/redirect') {
        res.writeHead(301, { location: '/echo' }).end('moved');
      } else if (path === '/slow-body') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('part');
        // The rest never comes: the timer must end the exchange.
      } else if (path === '/late') {
        setTimeout(() => res.writeHead(200).end('late'), 300);
      } else if (path === '/cut') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('only a part');
        setTimeout(() => req.socket.destroy(), 20);
      } else {
        res.writeHead(404).end('nope');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = (timeoutMs = 2_000) => ky.create({ retry: 0, throwHttpErrors: false, timeout: false, fetch: createHttpTransport({ timeoutMs }) });

describe('CHeKT HTTP transport under ky', () => {
  test('sends the method, headers and body ky built, and returns status, headers and body', async () => {
    const res = await client()(`${base}/echo?x=1`, { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: '{"a":"é"}' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-ratelimit-limit')).toBe('600');
    expect(await res.json()).toEqual({ method: 'POST', body: '{"a":"é"}' });
    const last = seen.at(-1)!;
    expect(last.url).toBe('/echo?x=1');
    expect(last.headers.authorization).toBe('Bearer t');
    expect(last.headers['content-length']).toBe(String(Buffer.byteLength('{"a":"é"}')));
  });

  test('a 204 has an empty body; a 404 keeps its text', async () => {
    const empty = await client()(`${base}/empty`, { method: 'DELETE' });
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');
    const missing = await client()(`${base}/missing`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('nope');
  });

  test('a gzip body is decoded', async () => {
    const res = await client()(`${base}/gzip`);
    expect(await res.json()).toEqual({ zipped: true });
  });

  test('a redirect is returned as it is, never followed', async () => {
    const before = seen.length;
    const res = await client()(`${base}/redirect`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/echo');
    expect(seen.length - before).toBe(1);
  });

  test('the timeout bounds the body too, and fails as a TimeoutError', async () => {
    const started = Date.now();
    const err = await client(300)(`${base}/slow-body`)
      .then(async (r) => r.text())
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('TimeoutError');
    expect((err as Error).message).toContain('300 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('a connection cut mid-body fails with a network code', async () => {
    const err = await client()(`${base}/cut`).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ECONNRESET');
  });

  test('a refused connection fails with ECONNREFUSED', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await client()(`http://127.0.0.1:${port}/echo`).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ECONNREFUSED');
  });

  test('sequential calls reuse one kept-alive connection', async () => {
    const c = client();
    const before = seen.length;
    for (let i = 0; i < 5; i++) await (await c(`${base}/echo`, { method: 'POST', body: String(i) })).text();
    const used = new Set(seen.slice(before).map((s) => s.socket));
    expect(used.size).toBe(1);
  });

  test('a response slower than the idle-connection timeout still arrives; an idle connection is then replaced', async () => {
    const c = ky.create({ retry: 0, throwHttpErrors: false, timeout: false, fetch: createHttpTransport({ timeoutMs: 2_000, idleSocketMs: 100 }) });
    const before = seen.length;
    const late = await c(`${base}/late`, { method: 'POST', body: 'x' });
    expect([late.status, await late.text()]).toEqual([200, 'late']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await c(`${base}/echo`)).status).toBe(201);
    const [first, second] = seen.slice(before).map((s) => s.socket);
    expect(second).not.toBe(first);
  });

  test('an aborted signal stops the exchange with its reason', async () => {
    const controller = new AbortController();
    const pending = client()(`${base}/slow-body`, { signal: controller.signal }).then(async (r) => r.text());
    setTimeout(() => controller.abort(new Error('stopped by the caller')), 50);
    await expect(pending).rejects.toThrow('stopped by the caller');
  });
});
