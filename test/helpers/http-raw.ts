import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect as netConnect } from 'node:net';
import WebSocket from 'ws';

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json: () => unknown;
}

/**
 * One HTTP request with node:http, no agent, nothing added: the headers as given (no Origin unless
 * told), from `localAddress` when given (127.0.0.2 … to act as another client on loopback).
 */
export function rawRequest(
  port: number,
  o: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
    localAddress?: string;
  },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: o.method ?? (o.body === undefined ? 'GET' : 'POST'),
        path: o.path,
        headers: o.headers ?? {},
        agent: false,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Bytes as given over a fresh TCP connection; resolves with everything the hub answered until it closed (or `ms`). */
export function rawBytes(port: number, bytes: string | Buffer, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    let got = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, ms);
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', done);
    socket.write(bytes);
  });
}

export const statusOfRaw = (answer: string): number =>
  Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0);

/** A WebSocket handshake with the `ws` client: 101 when it opened (then closed again), else the refusal's status. */
export function wsHandshake(
  url: string,
  o: { headers?: Record<string, string>; origin?: string; localAddress?: string } = {},
): Promise<{ status: number; ws?: WebSocket; body?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: o.headers ?? {},
      ...(o.origin ? { origin: o.origin } : {}),
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    ws.once('error', reject);
  });
}
