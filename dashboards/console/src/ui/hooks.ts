import { useEffect, useState } from 'preact/hooks';
import type { LiveState } from '../feed/live-state';

/** Re-render whenever the live state changes. */
export function useLive(live: LiveState): void {
  const [, setTick] = useState(0);
  useEffect(() => live.subscribe(() => setTick((n) => n + 1)), [live]);
}

/** The current time, ticking (for ages). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}

export type Route =
  | { view: 'queue' }
  | { view: 'alert'; id: string }
  | { view: 'homes'; homeId?: string }
  | { view: 'reports' }
  | { view: 'admin'; path: string[] };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'alerts' && parts[1]) return { view: 'alert', id: parts[1] };
  if (parts[0] === 'homes') return parts[1] ? { view: 'homes', homeId: parts[1] } : { view: 'homes' };
  if (parts[0] === 'reports') return { view: 'reports' };
  if (parts[0] === 'admin') return { view: 'admin', path: parts.slice(1).filter((p) => p !== '') };
  return { view: 'queue' };
}

export function hrefFor(route: Route): string {
  switch (route.view) {
    case 'alert':
      return `#/alerts/${encodeURIComponent(route.id)}`;
    case 'homes':
      return route.homeId ? `#/homes/${encodeURIComponent(route.homeId)}` : '#/homes';
    case 'reports':
      return '#/reports';
    case 'admin':
      return route.path.length ? `#/admin/${route.path.map(encodeURIComponent).join('/')}` : '#/admin';
    default:
      return '#/queue';
  }
}

/** Client-side routes in the URL hash (the hub serves index.html for every path anyway). */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function navigate(route: Route): void {
  location.hash = hrefFor(route);
}
