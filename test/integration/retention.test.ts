import { afterEach, describe, expect, it } from 'vitest';
import { api, connectDevice, demoRaw, deviceEvents, login, startHub, type TestHub } from '../helpers/hub.js';

let t: TestHub | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('local retention on the drill clock', () => {
  it('deletes device events and dead letters past their retention; alerts and audit stay', async () => {
    t = await startHub({
      raw: { ...demoRaw(), clock: 'manual', retention: { journalDays: 2, deadLetterDays: 1 } },
      manualClockStart: Date.parse('2026-11-26T08:00:00+08:00'),
    });
    const dev = await connectDevice(t.mqttUrl, 'h1-sos');
    await dev.publishAsync(
      'carehub/v1/devices/h1-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'old' }),
      { qos: 1 },
    );
    await dev.publishAsync('carehub/v1/devices/h1-sos/events', 'not json', { qos: 1 });
    const tok = await login(t.httpUrl, 'supervisor1');
    const events = (id: string) => deviceEvents(t!.hub).filter((e) => e.eventId === id).length;
    await api(t.httpUrl, tok, '/api/v1/clock/advance', { body: { ms: 25 * 3600_000 } });
    expect(t.hub.store.deadLetters.count()).toBe(0);
    expect(events('old')).toBe(1);
    await dev.publishAsync(
      'carehub/v1/devices/h1-sos/events',
      JSON.stringify({ type: 'heartbeat', id: 'new' }),
      { qos: 1 },
    );
    await api(t.httpUrl, tok, '/api/v1/clock/advance', { body: { ms: 24 * 3600_000 } });
    expect(events('old')).toBe(0);
    expect(events('new')).toBe(1);
    expect(t.hub.store.alerts.query({ kind: 'sos', limit: 10 })).toHaveLength(1);
    await dev.endAsync();
  });
});
