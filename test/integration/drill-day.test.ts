import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  api,
  connectDevice,
  DEMO_DEVICE_IDS,
  demoRaw,
  login,
  startHub,
  type TestHub,
} from '../helpers/hub.js';

// A day in the demo community played through the real broker on the drill clock (PROTOCOL.md §3).
const at = (day: number, hhmm: string) =>
  Date.parse(`2026-11-${String(day).padStart(2, '0')}T${hhmm}:00+08:00`);

interface Step {
  at: number;
  device: string;
  type: string;
}

/** Healthy devices check in: a heartbeat from every device every hour. */
function heartbeats(from: number, to: number): Step[] {
  const out: Step[] = [];
  for (let t = from; t < to; t += 3600_000)
    for (const device of DEMO_DEVICE_IDS) out.push({ at: t, device, type: 'heartbeat' });
  return out;
}

let t: TestHub | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync()));
  await t?.stop();
  t = undefined;
});

async function play(start: number, end: number, steps: Step[]): Promise<string[]> {
  t = await startHub({ raw: { ...demoRaw(), clock: 'manual' }, manualClockStart: start });
  const token = await login(t.httpUrl, 'supervisor1');
  const devices = new Map<string, MqttClient>();
  for (const id of DEMO_DEVICE_IDS) {
    const c = await connectDevice(t.mqttUrl, id);
    clients.push(c);
    devices.set(id, c);
  }
  const all = [...steps, ...heartbeats(start, end)].sort((a, b) => a.at - b.at);
  let now = start;
  let n = 0;
  for (const step of all) {
    if (step.at > now) {
      await api(t.httpUrl, token, '/api/v1/clock/advance', { body: { ms: step.at - now } });
      now = step.at;
    }
    const payload = JSON.stringify({
      type: step.type,
      id: `drill-${n++}`,
      ...(step.type === 'heartbeat' ? { battery: 90 } : {}),
    });
    await devices
      .get(step.device)
      ?.publishAsync(`carehub/v1/devices/${step.device}/events`, payload, { qos: 1 });
  }
  await api(t.httpUrl, token, '/api/v1/clock/advance', { body: { ms: end - now } });
  const list = await api<{ alerts: Array<{ homeId: string; kind: string }> }>(
    t.httpUrl,
    token,
    '/api/v1/alerts?limit=500',
  );
  return list.body.alerts.map((a) => `${a.homeId}:${a.kind}`).sort();
}

describe('drill: a day in the demo community through the real broker', () => {
  it('a scripted day yields exactly the expected alerts', async () => {
    const steps: Step[] = [
      // h1 (wandering risk): evening at home, door opened at 23:30 — night exit at once; back in 2 minutes
      { at: at(26, '20:30'), device: 'h1-motion', type: 'motion.detected' },
      { at: at(26, '23:30'), device: 'h1-door', type: 'door.opened' },
      { at: at(26, '23:32'), device: 'h1-door', type: 'door.closed' },
      { at: at(26, '23:33'), device: 'h1-motion', type: 'motion.detected' },
      { at: at(27, '07:00'), device: 'h1-motion', type: 'motion.detected' },
      { at: at(27, '12:00'), device: 'h1-motion', type: 'motion.detected' },
      { at: at(27, '17:00'), device: 'h1-motion', type: 'motion.detected' },
      // h2 (door only): out at 08:00, back at 11:30, door left open at 14:00
      { at: at(27, '08:00'), device: 'h2-door', type: 'door.opened' },
      { at: at(27, '08:01'), device: 'h2-door', type: 'door.closed' },
      { at: at(27, '11:30'), device: 'h2-door', type: 'door.opened' },
      { at: at(27, '11:31'), device: 'h2-door', type: 'door.closed' },
      { at: at(27, '14:00'), device: 'h2-door', type: 'door.opened' },
      // h3: last movement at 21:00, then nothing (a fall)
      { at: at(26, '21:00'), device: 'h3-motion', type: 'motion.detected' },
    ];
    const kinds = await play(at(26, '20:00'), at(27, '18:00'), steps);
    expect(kinds).toEqual(['h1:night_exit', 'h2:door_left_open', 'h3:inactivity']);
  });

  it('a normal day — out in the morning, back for lunch, in all evening — yields none', async () => {
    const steps: Step[] = [];
    for (const home of ['h1', 'h2', 'h3']) {
      const door = `${home}-door`;
      const motion = home === 'h2' ? undefined : `${home}-motion`;
      if (motion)
        for (const hhmm of ['20:15', '21:00', '21:40'])
          steps.push({ at: at(26, hhmm), device: motion, type: 'motion.detected' });
      if (motion)
        for (const hhmm of ['06:40', '07:10', '07:50'])
          steps.push({ at: at(27, hhmm), device: motion, type: 'motion.detected' });
      for (const hhmm of ['08:30', '11:45']) {
        steps.push({ at: at(27, hhmm), device: door, type: 'door.opened' });
        steps.push({ at: at(27, hhmm) + 60_000, device: door, type: 'door.closed' });
      }
      if (motion)
        for (const hhmm of ['12:00', '14:30', '17:00', '19:30', '21:15'])
          steps.push({ at: at(27, hhmm), device: motion, type: 'motion.detected' });
      steps.push({ at: at(27, '15:00'), device: `${home}-smoke`, type: 'smoke.test' });
    }
    const kinds = await play(at(26, '20:00'), at(27, '21:30'), steps);
    expect(kinds).toEqual([]);
  });
});
