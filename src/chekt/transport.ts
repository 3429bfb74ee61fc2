import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';

/**
 * The transport under ky for the Contacts calls: ky's documented `fetch` option, carried over `node:http` and
 * `node:https` with a keep-alive agent instead of Node's built-in fetch (undici).
 *
 * Why our own: the built-in fetch was the largest single share of a worker's CPU per operation (about 0.5 ms of
 * about 2.2 ms: its web streams, `Request`/`Response` machinery and abort signals; docs/BENCHMARKS.md "The HTTP
 * transport, the CRM's prepared statements and reads gathered per turn"). ky stays the client (the user's choice): it still builds the `Request`, and gets a standard
 * `Response` back. What this does differently from fetch, on purpose:
 * - **one timer bounds the whole exchange**, headers and body, so no `AbortSignal.timeout` per call; past it the
 *   exchange fails with a `TimeoutError` (the name `AbortSignal.timeout` gives, chekt/client.ts maps it);
 * - **redirects are not followed**: a 3xx is returned as it is, so a POST is never replayed as a GET at another
 *   address; the client reports it as an undocumented status;
 * - network failures reject with Node's own error, whose `code` (`ECONNREFUSED`, `ECONNRESET`, …) chekt/http.ts
 *   `networkCode` reads, as it reads it from fetch's `cause`;
 * - a `gzip`, `deflate` or `br` body is decoded, although none is asked for (no `Accept-Encoding` is sent).
 */

/** Options of {@link createHttpTransport}. Times are in ms. */
export interface HttpTransportOptions {
  /** Longest exchange, from sending to the last byte of the body, in ms (config `CHEKT_TIMEOUT_MS`). */
  readonly timeoutMs: number;
  /**
   * An idle kept-alive connection is closed after this long, in ms. Default 4,000: undici's default, under the
   * 5 s after which Node's own servers close an idle connection, so a request rarely meets a closing socket.
   */
  readonly idleSocketMs?: number;
}

/** ky's `fetch` option, `fetch`'s own signature: ky passes the `Request` it built, and gets a `Response` back. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Statuses whose `Response` must have no body (Fetch standard, "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** Creates the transport; its agents keep connections open between calls (idle ones do not hold the process). */
export function createHttpTransport(options: HttpTransportOptions): FetchFunction {
  const agentOptions = { keepAlive: true, timeout: options.idleSocketMs ?? 4_000, scheduling: 'lifo' as const };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  const { timeoutMs } = options;

  return async (input, init) => {
    // ky passes the Request it built, with only the options a Request does not know (none this transport uses).
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') throw new TypeError(`unsupported protocol ${url.protocol} in ${url.origin}`);
    const body = request.body === null ? undefined : Buffer.from(await request.arrayBuffer());
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    if (body !== undefined) headers['content-length'] = String(body.length);
    const signal = request.signal;
    if (signal.aborted) throw signal.reason;

    return new Promise<Response>((resolve, reject) => {
      const lib = secure ? https : http;
      const req = lib.request(url, { method: request.method, headers, agent: secure ? agents.https : agents.http }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          if (!res.complete) return fail(Object.assign(new Error('the connection closed before the whole response arrived'), { code: 'ECONNRESET' }));
          try {
            const status = res.statusCode ?? 0;
            const payload = NULL_BODY.has(status) ? null : decode(Buffer.concat(chunks), res.headers['content-encoding']);
            const responseHeaders = new Headers();
            for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
            done();
            resolve(new Response(payload, { status, statusText: res.statusMessage ?? '', headers: responseHeaders }));
          } catch (e) {
            fail(e);
          }
        });
      });
      const timer = setTimeout(() => {
        const e = new Error(`no complete response within ${timeoutMs} ms`);
        e.name = 'TimeoutError';
        req.destroy(e);
      }, timeoutMs);
      const onAbort = () => req.destroy(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      signal.addEventListener('abort', onAbort, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      }
      function fail(e: unknown) {
        done();
        reject(e);
      }
      req.on('error', fail);
      req.end(body);
    });
  };
}

/** Decodes a body sent with `Content-Encoding` gzip, deflate or br; any other body is returned as it is. */
function decode(body: Buffer, encoding: string | undefined): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(body);
    case 'deflate':
      // "deflate" is zlib-wrapped by the standard (RFC 9110 §8.4.1.2); some servers send it raw.
      try {
        return zlib.inflateSync(body);
      } catch {
        return zlib.inflateRawSync(body);
      }
    case 'br':
      return zlib.brotliDecompressSync(body);
    default:
      return body;
  }
}
