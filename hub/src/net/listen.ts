import type { Server } from 'node:net';

/**
 * Listen on `port` (0: any free one) and `host`; resolves with the port bound, rejects on a listen
 * error (EADDRINUSE…). `backlog`: connections the kernel may hold before they are accepted (Node's
 * default is 511; the kernel caps it at net.core.somaxconn).
 */
export async function listenOn(
  server: Server,
  port: number,
  host: string,
  backlog?: number,
): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ...(backlog !== undefined ? { backlog } : {}) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}
