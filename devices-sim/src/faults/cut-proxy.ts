import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between a device and the hub that can lose the hub's answer: once armed, the next
 * bytes the hub sends (the PUBACK of a publish, an alert.received) are swallowed and both sides
 * are cut abruptly, as when the radio link drops right after the hub has stored a message. The
 * device never learns that its message arrived, so it must send it again.
 */
export class CutProxy {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  #armed: (() => void) | undefined;
  cuts = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(targetHost: string, targetPort: number): Promise<CutProxy> {
    let proxy: CutProxy | undefined;
    const server = createServer((device) => proxy?.pair(device, targetHost, targetPort));
    proxy = new CutProxy(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const addr = this.#server.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  /** Resolves when the next hub → device bytes have been swallowed and the connection cut. */
  cutOnNextAnswer(): Promise<void> {
    return new Promise((resolve) => {
      this.#armed = resolve;
    });
  }

  private pair(device: Socket, host: string, port: number): void {
    const hub = createConnection({ host, port });
    const pair: [Socket, Socket] = [device, hub];
    this.#pairs.add(pair);
    const close = () => {
      this.#pairs.delete(pair);
      device.destroy();
      hub.destroy();
    };
    device.on('error', close);
    hub.on('error', close);
    device.on('close', close);
    hub.on('close', close);
    device.on('data', (chunk: Buffer) => hub.write(chunk));
    hub.on('data', (chunk: Buffer) => {
      const armed = this.#armed;
      if (armed) {
        this.#armed = undefined;
        this.cuts++;
        // resetAndDestroy: an RST, no FIN, so neither side gets a clean goodbye.
        device.resetAndDestroy();
        hub.resetAndDestroy();
        armed();
        return;
      }
      device.write(chunk);
    });
  }

  async stop(): Promise<void> {
    for (const [a, b] of this.#pairs) {
      a.destroy();
      b.destroy();
    }
    this.#pairs.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
