import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StaffConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  /** Parsed JSON body (POST); undefined for GET. */
  body: unknown;
  /** The logged-in staff member, for routes that require one. */
  staff: StaffConfig | undefined;
  token: string | undefined;
}

export type Handler = (ctx: RequestContext) => Promise<unknown> | unknown;

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  auth: boolean;
  handler: Handler;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

/** A deliberately small router: exact segments and `:param` segments, nothing else. */
export class Router {
  readonly #routes: CompiledRoute[] = [];

  add(route: Route): void {
    const names: string[] = [];
    const source = route.path
      .split('/')
      .map((seg) => {
        if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(seg.slice(1));
        return '([A-Za-z0-9._-]{1,64})';
      })
      .join('/');
    this.#routes.push({ ...route, pattern: new RegExp(`^${source}$`), names });
  }

  match(method: string, pathname: string): { route: Route; params: Record<string, string> } {
    let pathMatched = false;
    for (const r of this.#routes) {
      const m = r.pattern.exec(pathname);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        params[n] = m[i + 1] ?? '';
      });
      return { route: r, params };
    }
    if (pathMatched)
      throw new HubError(ErrorCodes.METHOD_NOT_ALLOWED, `${method} is not allowed on ${pathname}`);
    throw new HubError(ErrorCodes.NOT_FOUND, `no such endpoint: ${pathname}`);
  }
}
