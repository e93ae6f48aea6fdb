import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { ErrorCodes, HubError } from '../../errors.js';
import type { FeedServer } from '../../feed/feed-server.js';
import { sessionOf } from '../request-guards.js';
import { takeUpgrade } from '../upgrade-bridge.js';

const upgradeRequired = () =>
  new HubError(ErrorCodes.UPGRADE_REQUIRED, 'this path is a WebSocket: send an upgrade request');

/**
 * The staff feed (PROTOCOL.md §2). The guards have checked the session (401) and the Origin (403)
 * before this runs; the feed refuses a session over its connection cap (429) before the handshake.
 */
export function feedRoute(app: FastifyInstance, feed: FeedServer): void {
  app.get('/api/v1/feed', { config: { auth: true, upgrade: true } }, async (request, reply) => {
    const session = sessionOf(request);
    feed.admit(session);
    const upgrade = takeUpgrade(request.raw);
    if (!upgrade) throw upgradeRequired();
    reply.hijack();
    feed.handleUpgrade(request.raw, upgrade.socket, upgrade.head, session);
  });
}

export interface MqttOverWs {
  path: string;
  /** false (`mqtt.plaintext: false`): only over HTTPS (WSS); 403 on the plain listener. */
  plaintext: boolean;
  maxPacketBytes: number;
  handle: (stream: Duplex, remote: string) => void;
}

/** MQTT over WebSocket for devices: authenticated by MQTT itself, so no session and no Origin check. */
export function mqttOverWsRoute(app: FastifyInstance, o: MqttOverWs): void {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: o.maxPacketBytes + 16,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  app.get(o.path, { config: { upgrade: true, anyOrigin: true } }, async (request, reply) => {
    const socket = request.raw.socket as TLSSocket;
    if (!o.plaintext && !socket.encrypted)
      throw new HubError(ErrorCodes.FORBIDDEN, 'MQTT over WebSocket is served over TLS only (wss://)');
    const upgrade = takeUpgrade(request.raw);
    if (!upgrade) throw upgradeRequired();
    reply.hijack();
    wss.handleUpgrade(request.raw, upgrade.socket, upgrade.head, (ws) =>
      o.handle(createWebSocketStream(ws), socket.remoteAddress ?? 'ws'),
    );
  });
}
