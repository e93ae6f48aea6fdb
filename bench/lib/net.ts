import { connect, createServer } from 'node:net';
import { sleep } from './proc.js';

/** A free TCP port on 127.0.0.1 (released before use). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolve once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForListener(
  port: number,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!alive()) throw new Error(`process died before listening on ${port}`);
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port} after ${timeoutMs} ms`);
    await sleep(10);
  }
}

/**
 * Source addresses for a load generator: 250 addresses of its own, 127.0.<block>.1-250, that its
 * devices use in turn, as homes behind their own routers would (and so that no address runs short
 * of ephemeral ports). Only 127.0.0.0/8 is ever used.
 */
export function sourceAddresses(block: number, count = 250): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.${1 + (block % 250)}.${1 + i}`);
}
