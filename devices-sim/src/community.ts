import type { HubConfig } from '../../hub/src/config/schema.js';
import { type DeviceCommand, SimDevice } from './sim-device.js';

export interface CommunityOptions {
  /** Hub MQTT address. */
  url: string;
  heartbeatMs: number;
  /** Reconnect delay after a lost connection. */
  reconnectMs?: number;
  onCommand?: (deviceId: string, command: DeviceCommand) => void;
  onError?: (deviceId: string, err: Error) => void;
}

export interface Community {
  readonly devices: ReadonlyMap<string, SimDevice>;
  /** Configured devices that cannot be played (no demoSecret, or a gateway). */
  readonly skipped: readonly string[];
  stop(how?: 'clean' | 'abrupt' | 'quiet'): Promise<void>;
}

/**
 * Every device of a demo configuration as a connected SimDevice: online status, Last Will and
 * heartbeats carrying a healthy battery level, so a quiet home raises no device alerts.
 */
export async function startCommunity(
  config: Readonly<HubConfig>,
  options: CommunityOptions,
): Promise<Community> {
  const devices = new Map<string, SimDevice>();
  const skipped: string[] = [];
  let n = 0;
  for (const home of config.homes) {
    for (const d of home.devices) {
      if (d.kind === 'gateway' || d.demoSecret === undefined) {
        skipped.push(d.id);
        continue;
      }
      n += 1;
      devices.set(
        d.id,
        new SimDevice({
          url: options.url,
          id: d.id,
          secret: d.demoSecret,
          announce: true,
          heartbeatMs: options.heartbeatMs,
          // Plausible, varied and well above the 20 % battery_low threshold.
          battery: 100 - ((n * 7) % 25),
          rssi: -48 - ((n * 5) % 30),
          reconnectMs: options.reconnectMs ?? 3000,
          onCommand: (c) => options.onCommand?.(d.id, c),
          onError: (err) => options.onError?.(d.id, err),
        }),
      );
    }
  }
  const stop = async (how: 'clean' | 'abrupt' | 'quiet' = 'clean') => {
    await Promise.allSettled([...devices.values()].map((d) => d.stop(how)));
  };
  const started = await Promise.allSettled([...devices.values()].map((d) => d.start()));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  // A first heartbeat at once, so the hub knows every battery level from the start.
  await Promise.all([...devices.values()].map((d) => d.heartbeat()));
  return { devices, skipped, stop };
}
