import { api, login, type TestHub } from '../../helpers/hub.js';
import { type Device, device } from './device.js';

/** A duty shift in progress on the drill clock: fire and SOS in h1 (one incident), a cancelled SOS and low battery in h2. */
export interface Scene {
  devices: Map<string, Device>;
  supervisorToken: string;
  advance(ms: number): Promise<void>;
  end(): Promise<void>;
}

export async function playScene(t: TestHub): Promise<Scene> {
  const supervisorToken = await login(t.httpUrl, 'supervisor1');
  const devices = new Map<string, Device>();
  for (const id of ['h1-sos', 'h1-door', 'h1-smoke', 'h1-motion', 'h2-sos', 'h2-door', 'h2-smoke']) {
    devices.set(id, await device(t.mqttUrl, id));
  }
  const d = (id: string) => {
    const found = devices.get(id);
    if (!found) throw new Error(`no device ${id}`);
    return found;
  };
  const advance = async (ms: number) => {
    const res = await api(t.httpUrl, supervisorToken, '/api/v1/clock/advance', { body: { ms } });
    if (res.status !== 200) throw new Error(`clock advance: ${res.status} ${JSON.stringify(res.body)}`);
  };
  // device check-ins, with battery levels, a while before
  for (const [id, battery] of [
    ['h1-sos', 86],
    ['h1-door', 64],
    ['h1-smoke', 91],
    ['h1-motion', 55],
    ['h2-sos', 78],
    ['h2-smoke', 88],
  ] as const) {
    await d(id).publish({ type: 'heartbeat', battery, rssi: -61 });
  }
  await d('h1-motion').publish({ type: 'motion.detected' });
  await advance(60_000);
  await d('h2-sos').publish({ type: 'sos.pressed', id: 'scene-h2-1' });
  await advance(20_000);
  await d('h2-sos').publish({ type: 'sos.cancelled', id: 'scene-h2-2' });
  await advance(40_000);
  await d('h1-smoke').publish({ type: 'smoke.detected', id: 'scene-h1-smoke' });
  await advance(15_000);
  await d('h1-sos').publish({ type: 'sos.pressed', id: 'scene-h1-1' });
  await advance(10_000);
  await d('h1-sos').publish({ type: 'sos.pressed', id: 'scene-h1-2' });
  await d('h2-door').publish({ type: 'heartbeat', battery: 12, batteryLow: true });
  // past the first rung of the escalation ladder (60 s unacknowledged)
  await advance(65_000);
  return {
    devices,
    supervisorToken,
    advance,
    end: async () => {
      await Promise.all([...devices.values()].map((x) => x.end()));
    },
  };
}
