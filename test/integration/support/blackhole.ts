import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy that can turn into a black hole, as a NAT that lost its state or a failover does: it accepts and
 * forwards both ways until {@link BlackholeProxy.blackhole}; from then on it forwards nothing on the connections it
 * holds and sends no FIN and no RST (the sockets stay open, data is dropped), and new connections are accepted and
 * stall the same way. {@link BlackholeProxy.heal} lets new connections through again; the cut ones stay cut.
 */
export interface BlackholeProxy {
  /** Port on 127.0.0.1. */
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  blackhole(): void;
  heal(): void;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

/** Starts a proxy to `target` on a free port of 127.0.0.1. */
export async function blackholeProxy(target: { host: string; port: number }): Promise<BlackholeProxy> {
  const sockets = new Set<Socket>();
  const cut = new Set<Socket>();
  let holeNew = false;
  let accepted = 0;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const server = createServer((client) => {
    accepted += 1;
    track(client);
    if (holeNew) {
      cut.add(client);
      client.on('data', () => undefined);
      return;
    }
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.on('data', (d) => {
      if (!cut.has(client)) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!cut.has(client)) client.write(d);
    });
    // While forwarding, a close on one side closes the other; once cut, nothing is passed on, not even a close.
    client.on('close', () => {
      if (!cut.has(client)) upstream.destroy();
    });
    upstream.on('close', () => {
      if (!cut.has(client)) client.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    via(url: string) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    blackhole() {
      holeNew = true;
      for (const s of sockets) cut.add(s);
    },
    heal() {
      holeNew = false;
    },
    get accepted() {
      return accepted;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
