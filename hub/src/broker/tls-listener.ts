import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { HubConfig } from '../config/schema.js';
import { readTlsFiles, TLS_DEFAULTS } from '../config/tls-files.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { listenOn } from '../net/listen.js';

type MqttTls = NonNullable<HubConfig['mqtt']['tls']>;

/**
 * MQTT over TLS (`mqtt.tls`): the same broker behind a TLS listener. With `ca` set, devices must also
 * present a client certificate signed by it. Handshakes that fail are counted and logged (never the key).
 */
export async function listenMqttTls(
  tls: MqttTls,
  host: string,
  handshakeTimeoutMs: number,
  maxConnections: number,
  onSocket: (socket: TLSSocket) => void,
  log: Logger,
  metrics: Metrics,
  /** Accept backlog (broker.ts, MQTT_LISTEN_BACKLOG). */
  backlog?: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer(
    {
      ...readTlsFiles(tls, 'mqtt.tls'),
      ...TLS_DEFAULTS,
      ...(tls.ca ? { requestCert: true, rejectUnauthorized: true } : {}),
      handshakeTimeout: handshakeTimeoutMs,
    },
    onSocket,
  );
  // Bounds handshakes in progress too (they cost CPU before the broker sees a byte).
  server.maxConnections = maxConnections;
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
    metrics.connectionsRefused.inc({ reason: 'tls_handshake' });
    log.info(
      {
        remote: `${socket.remoteAddress}:${socket.remotePort}`,
        reason: err.code ?? err.message.slice(0, 200),
      },
      'mqtt TLS handshake failed',
    );
  });
  server.on('error', (err) => log.error({ err }, 'mqtt TLS listener error'));
  return { server, port: await listenOn(server, tls.port, host, backlog) };
}
