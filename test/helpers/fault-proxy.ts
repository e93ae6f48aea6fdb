import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';

/**
 * A small TCP fault proxy for tests, listening on 127.0.0.1 and forwarding to 127.0.0.1:target.
 * Faults, switchable while connections are open:
 * - latency: every chunk, either way, is held for `ms` (order kept);
 * - blackhole: bytes are swallowed either way, connections stay open (new ones too);
 * - reset mid-packet: the next chunk in one direction is cut in half, the first half delivered, and
 *   both sides get a TCP RST (a crash of a NAT box, a Wi-Fi roam);
 * - half-open: the connections open now go silent for good, and neither side ever learns when the
 *   other closes (a dead 4G link): only keepalives can find out;
 * - resetAll: every connection is reset now.
 */
export class FaultProxy {
  #latencyMs = 0;
  #blackhole = false;
  #resetNext: 'up' | 'down' | undefined;
  readonly #pairs = new Set<Pair>();
  /** Counts of what happened, for the test's figures. */
  readonly stats = { connections: 0, resets: 0, halfOpened: 0, bytesUp: 0, bytesDown: 0, swallowed: 0 };

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const addr = server.address();
    proxy = new FaultProxy(server, typeof addr === 'object' && addr ? addr.port : 0);
    return proxy;
  }

  get connections(): number {
    return this.#pairs.size;
  }

  latency(ms: number): void {
    this.#latencyMs = ms;
  }

  blackhole(on: boolean): void {
    this.#blackhole = on;
  }

  /** Cut the next chunk going `up` (client → server) or `down` (server → client) in half, then reset both sides. */
  resetMidPacket(direction: 'up' | 'down'): void {
    this.#resetNext = direction;
  }

  /** Every connection open now goes silent both ways, and no close ever crosses it. */
  halfOpen(): void {
    for (const p of this.#pairs) {
      if (p.halfOpen) continue;
      p.halfOpen = true;
      this.stats.halfOpened++;
    }
  }

  resetAll(): void {
    for (const p of [...this.#pairs]) this.#reset(p);
  }

  async stop(): Promise<void> {
    for (const p of [...this.#pairs]) {
      p.client.destroy();
      p.server.destroy();
    }
    this.#pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, targetPort: number): void {
    this.stats.connections++;
    const server = netConnect({ host: '127.0.0.1', port: targetPort });
    const pair: Pair = { client, server, halfOpen: false, queue: Promise.resolve() };
    this.#pairs.add(pair);
    client.setNoDelay(true);
    server.setNoDelay(true);
    for (const s of [client, server]) s.on('error', () => {});
    this.#pipe(pair, client, server, 'up');
    this.#pipe(pair, server, client, 'down');
  }

  #pipe(pair: Pair, from: Socket, to: Socket, direction: 'up' | 'down'): void {
    from.on('data', (chunk: Buffer) => {
      if (pair.halfOpen || this.#blackhole) {
        this.stats.swallowed += chunk.length;
        return;
      }
      if (this.#resetNext === direction) {
        this.#resetNext = undefined;
        const half = chunk.subarray(0, Math.max(1, Math.floor(chunk.length / 2)));
        to.write(half, () => this.#reset(pair));
        return;
      }
      const send = () => {
        if (to.destroyed || pair.halfOpen) return;
        if (direction === 'up') this.stats.bytesUp += chunk.length;
        else this.stats.bytesDown += chunk.length;
        to.write(chunk);
      };
      if (this.#latencyMs > 0) {
        const ms = this.#latencyMs;
        pair.queue = pair.queue.then(() => new Promise<void>((r) => setTimeout(r, ms))).then(send);
      } else {
        pair.queue = pair.queue.then(send);
      }
    });
    // A FIN or a close crosses unless the link is half-open.
    from.on('end', () => {
      if (!pair.halfOpen) void pair.queue.then(() => to.end());
    });
    from.on('close', () => {
      if (pair.halfOpen) return;
      void pair.queue.then(() => {
        to.destroy();
        this.#pairs.delete(pair);
      });
    });
  }

  #reset(pair: Pair): void {
    this.stats.resets++;
    this.#pairs.delete(pair);
    for (const s of [pair.client, pair.server]) {
      if (typeof s.resetAndDestroy === 'function' && !s.destroyed) s.resetAndDestroy();
      else s.destroy();
    }
  }
}

interface Pair {
  client: Socket;
  server: Socket;
  halfOpen: boolean;
  /** Chunks are delivered in order, each after the latency. */
  queue: Promise<void>;
}
