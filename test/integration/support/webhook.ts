import type { Server } from 'node:http';
import { startLocalServer } from './local-server.js';

/** A local webhook receiver for the alert tests: every request it got, and what it answered. */

export interface Received {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly raw: string;
  readonly body: Record<string, any>;
  readonly answered: number;
}

/** A receiver on 127.0.0.1 that answers 500 to the first `failFirst` requests, then 204. */
export async function receiver(failFirst = 0): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  let n = 0;
  const { url, server } = await startLocalServer('/hook', (raw, req, res) => {
    const answered = n++ < failFirst ? 500 : 204;
    got.push({ headers: req.headers, raw, body: JSON.parse(raw), answered });
    res.writeHead(answered).end();
  });
  return { url, got, server };
}
