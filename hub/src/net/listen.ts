import type { Server } from 'node:net';

/** Listen on `port` (0: any free one) and `host`; resolves with the port bound, rejects on a listen error (EADDRINUSE…). */
export async function listenOn(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}
