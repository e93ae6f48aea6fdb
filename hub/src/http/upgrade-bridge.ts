import { type IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCodes, HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { rawErrorResponse } from './error-reply.js';

interface Pending {
  socket: Duplex;
  head: Buffer;
  res: ServerResponse;
}

const pending = new WeakMap<IncomingMessage, Pending>();

export type Routing = (req: IncomingMessage, res: ServerResponse) => void;

/** The request arrived as an upgrade (node's 'upgrade' event) and has not been handed on yet. */
export const isUpgrade = (req: IncomingMessage): boolean => pending.has(req);

/**
 * The socket and first bytes of an upgrade request, for a route that takes it over (a WebSocket
 * handshake); undefined for an ordinary request. After this, the HTTP answer is the taker's to write.
 */
export function takeUpgrade(req: IncomingMessage): { socket: Duplex; head: Buffer } | undefined {
  const p = pending.get(req);
  if (!p) return undefined;
  pending.delete(req);
  p.socket.removeListener('error', destroyOnError);
  p.res.detachSocket(p.socket as Socket);
  return { socket: p.socket, head: p.head };
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/**
 * Upgrade requests go through the same fastify routing, hooks and error handler as every other
 * request (origin, session, coded errors), with an HTTP response bound to their socket. A route with
 * `config.upgrade` takes the socket (`takeUpgrade`); any other answer is written and the socket closed.
 * WebSocket handshakes are GETs (RFC 6455 §4.1): another method is answered 405 here, before fastify
 * would wait for a body that an upgraded socket never delivers.
 */
export function routeUpgrades(server: Server, routing: Routing, log: Logger): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', destroyOnError);
    if (req.method !== 'GET') {
      socket.end(
        rawErrorResponse(new HubError(ErrorCodes.METHOD_NOT_ALLOWED, 'a WebSocket handshake is a GET')),
      );
      return;
    }
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    pending.set(req, { socket, head, res });
    res.once('finish', () => {
      pending.delete(req);
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
    });
    try {
      res.assignSocket(socket as Socket);
      routing(req, res);
    } catch (err) {
      log.warn({ err }, 'upgrade request failed');
      socket.destroy();
    }
  });
}
