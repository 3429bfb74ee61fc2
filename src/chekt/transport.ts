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
            resolve(toResponse(payload, status, res.statusMessage ?? '', responseHeaders));
          } catch (e) {
            fail(e);
          }
        });
      });
      const timer = setTimeout(() => {
        const e = new Error(`no complete response within ${timeoutMs} ms`);
        e.name = 'TimeoutError';
        req.destroy(e);
        // A request whose socket is already gone (an unrequested 101 detaches it) emits nothing on destroy.
        fail(e);
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
      // A 101 to a plain request: fetch fails it ('bad upgrade'); unlistened, Node detaches the socket silently.
      req.on('upgrade', (_res, socket) => {
        socket.destroy();
        fail(Object.assign(new Error('unexpected 101 Switching Protocols (bad upgrade)'), { code: 'UND_ERR_SOCKET' }));
      });
      req.end(body);
    });
  };
}

/** The reason-phrase production (RFC 9110 §4: HTAB, SP, VCHAR, obs-text); the Response constructor refuses others. */
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The `Response` fetch would have given. The constructor refuses what an HTTP/1.1 parser accepts and fetch
 * returns: a status outside 200..599 (e.g. 600, or a final 101) and a reason phrase with a control character.
 * Thrown, those became a bare RangeError (retried for ever as an unknown error) or a TypeError (read as a network
 * failure, so a create CHeKT applied would be sent again). The status is kept as sent; the phrase is dropped.
 */
function toResponse(payload: Buffer | null, status: number, statusText: string, headers: Headers): Response {
  const text = REASON_PHRASE.test(statusText) ? statusText : '';
  if (status >= 200 && status <= 599) return new Response(payload, { status, statusText: text, headers });
  const response = new Response(payload, { status: 200, statusText: text, headers });
  Object.defineProperties(response, { status: { value: status }, ok: { value: false } });
  return response;
}

/** zlib's lenient end, as fetch (undici) decodes: an empty or truncated body gives what it holds, not an error. */
const LENIENT = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
const LENIENT_BR = { flush: zlib.constants.BROTLI_OPERATION_FLUSH, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH };

/**
 * Decodes a body sent with `Content-Encoding` gzip, deflate or br, several codings in the reverse of their order
 * (as fetch does); a body with any other coding is returned as it is.
 */
function decode(body: Buffer, encoding: string | undefined): Buffer {
  const codings = (encoding ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (!codings.every((c) => ['gzip', 'x-gzip', 'deflate', 'br'].includes(c))) return body;
  let out = body;
  for (const coding of codings.reverse()) {
    switch (coding) {
      case 'gzip':
      case 'x-gzip':
        out = zlib.gunzipSync(out, LENIENT);
        break;
      case 'deflate':
        // "deflate" is zlib-wrapped by the standard (RFC 9110 §8.4.1.2); some servers send it raw.
        try {
          out = zlib.inflateSync(out, LENIENT);
        } catch {
          out = zlib.inflateRawSync(out, LENIENT);
        }
        break;
      default:
        out = zlib.brotliDecompressSync(out, LENIENT_BR);
    }
  }
  return out;
}
