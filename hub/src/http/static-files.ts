import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>CareHub</title>
<p>The staff console is not built. Run <code>npm run build</code> (npm ci does it) and reload.</p>`;

/**
 * Serves the built staff console (a single-page app) from `root` with @fastify/static: one route per
 * file found at start (no directory listings, nothing outside root), hashed assets cached for good.
 * Returns what answers any other GET, so client-side routes work: index.html, or a page saying the
 * console is not built.
 */
export function consoleFiles(app: FastifyInstance, root: string): (reply: FastifyReply) => FastifyReply {
  if (!existsSync(join(root, 'index.html')))
    return (reply) => reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
  app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    cacheControl: false,
    etag: true,
    lastModified: true,
    setHeaders: (reply, path) => {
      const immutable = path.includes(`${sep}assets${sep}`);
      reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  return (reply) => reply.header('cache-control', 'no-cache').sendFile('index.html');
}
