import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import net from 'node:net';
import ky from 'ky';
import { createChektClient } from '../../src/chekt/client.js';
import { ChektError, ChektResponseError } from '../../src/chekt/errors/index.js';
import { createUnlimitedRateLimiter } from '../../src/chekt/rateLimiter.js';
import { createHttpTransport } from '../../src/chekt/transport.js';
import { createLogger } from '../../src/logger.js';

/**
 * The node:http transport (src/chekt/transport.ts) against answers a raw TCP server sends byte by
 * byte, compared with what Node's built-in fetch (the transport before) gave the client.
 */

const answers: Record<string, (s: net.Socket) => void> = {
  // A 101 to a plain request (a misbehaving proxy): Node detaches the socket and emits 'upgrade', which nobody
  // listens to; the request never ends.
  upgrade: (s) => s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
  // Statuses outside the Response constructor's 200..599: fetch returns them (the client maps them to
  // ChektResponseError, not retryable).
  s600: (s) => s.end('HTTP/1.1 600 Weird\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'),
  s101plain: (s) => s.end('HTTP/1.1 101 Switching Protocols\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
  // A created contact whose reason phrase holds a control character: fetch returns the 201.
  createdOddReason: (s) => {
    const json = JSON.stringify({ contact_id: 77, external_contact_id: 'crm-1', first_name: 'J' });
    s.end(`HTTP/1.1 201 Cre\x01ated\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\nConnection: close\r\n\r\n${json}`);
  },
  // An empty gzip-labelled body (e.g. a DELETE answered 200 by a gateway that labels every body): fetch decodes
  // it as ''; gunzipSync throws Z_BUF_ERROR, which the client reads as a network failure.
  deletedEmptyGzip: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
};

let server: net.Server;
let base: string;

beforeAll(async () => {
  server = net.createServer((sock) => {
    let buf = '';
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const path = buf.split(' ')[1]!;
      buf = '';
      const name = Object.keys(answers).find((k) => path.includes(`/${k}`));
      if (name) answers[name]!(sock);
      else sock.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const transport = (timeoutMs = 500) => ky.create({ retry: 0, throwHttpErrors: false, timeout: false, fetch: createHttpTransport({ timeoutMs }) });

function client(path: string, timeoutMs = 500) {
  return createChektClient({
    apiUrl: `${base}/${path}`,
    tokens: { getToken: async () => 't', renew: async () => 't' },
    rateLimiter: createUnlimitedRateLimiter(),
    timeoutMs,
    maxRetryAfterMs: 1000,
    maxRateLimitedRetries: 0,
    logger: createLogger('fatal', { write: () => {} }),
  });
}
const site = { dealerId: '1', siteId: '2' };
const body = { external_contact_id: 'crm-1', first_name: 'J', last_name: 'D', phone_number: '1', email: '' };

describe('transport: answers fetch handled', () => {
  test('a 101 answer ends within the timeout (it hung forever: the timer destroys a request whose socket is gone)', async () => {
    const started = Date.now();
    const outcome = await Promise.race([
      transport(300)(`${base}/upgrade`, { method: 'POST', body: '{}' }).then(
        (r) => `status ${r.status}`,
        (e: Error) => `rejected ${e.name}`,
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('still pending after 3 s'), 3_000).unref()),
    ]);
    expect(outcome).not.toBe('still pending after 3 s');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('a status past 599 is a ChektResponseError (not retryable), as with fetch, not a bare RangeError', async () => {
    const err = await client('s600')
      .createContact(site, body)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChektError);
    expect(err).toBeInstanceOf(ChektResponseError);
  });

  test('a final 101 without Upgrade is a ChektError', async () => {
    const err = await client('s101plain')
      .deleteContact(site, '5')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChektError);
  });

  test('a 201 whose reason phrase has a control character is the created contact, not a network error (a retried create)', async () => {
    const created = await client('createdOddReason').createContact(site, body);
    expect(created.contactId).toBe('77');
  });

  test('a 200 with an empty gzip-labelled body is a success (fetch decodes it as empty)', async () => {
    await expect(client('deletedEmptyGzip').deleteContact(site, '5')).resolves.toBeUndefined();
  });
});
