import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from '../api/endpoints';
import type { Device, Home } from '../api/types';
import type { LiveState } from '../feed/live-state';

export interface HomesData {
  list: Home[] | null;
  byId: Map<string, Home>;
  error: unknown;
  loading: boolean;
  reload: () => void;
  /** Put a home the hub answered with (after a mode change) in place. */
  replace: (home: Home) => void;
}

/** Device state with the feed's newer changes laid over what GET /homes answered. */
export function liveDevice(device: Device, live: LiveState): Device {
  const d = live.devices.get(device.id);
  if (!d) return device;
  if (device.lastSeen && d.lastSeen && Date.parse(d.lastSeen) < Date.parse(device.lastSeen)) return device;
  return {
    ...device,
    online: d.online,
    battery: d.battery ?? device.battery,
    lastSeen: d.lastSeen ?? device.lastSeen,
  };
}

export function liveHome(home: Home, live: LiveState): Home {
  const mode = live.modes.get(home.id);
  return { ...home, mode: mode ?? home.mode, devices: home.devices.map((d) => liveDevice(d, live)) };
}

/** The homes in scope (GET /api/v1/homes), loaded once per console and on demand. */
export function useHomes(live: LiveState): HomesData {
  const [list, setList] = useState<Home[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);

  const reload = useCallback(() => {
    setLoading(true);
    api
      .homes()
      .then((h) => {
        setList(h);
        setError(null);
      })
      .catch(setError)
      .finally(() => setLoading(false));
  }, []);

  useEffect(reload, [reload]);

  const replace = useCallback((home: Home) => {
    setList((cur) => cur?.map((h) => (h.id === home.id ? { ...h, ...home } : h)) ?? cur);
  }, []);

  const byId = new Map((list ?? []).map((h) => [h.id, liveHome(h, live)]));
  return { list: list?.map((h) => liveHome(h, live)) ?? null, byId, error, loading, reload, replace };
}
