import type { FastifyInstance } from 'fastify';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Registers the routes of `register`, then, for every path they use, a stub answering 405 for the
 * methods it does not have (fastify itself answers those 404). The stub refuses in `onRequest`
 * (request-guards.ts), before any body is read.
 */
export function withMethodNotAllowed(app: FastifyInstance, register: () => void): void {
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    if (route.config?.methodNotAllowed) return;
    const methods = methodsByPath.get(route.url) ?? new Set<string>();
    methodsByPath.set(route.url, methods);
    for (const m of [route.method].flat()) methods.add(m);
  });
  register();
  for (const [url, methods] of methodsByPath) {
    if (methods.has('GET')) methods.add('HEAD');
    const others = METHODS.filter((m) => !methods.has(m));
    if (others.length > 0)
      app.route({
        method: others,
        url,
        config: { methodNotAllowed: true },
        handler: async () => undefined,
      });
  }
}
