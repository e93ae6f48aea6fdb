import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../hub/src/config/load.js';
import { isHubError } from '../../hub/src/errors.js';
import { createLogger } from '../../hub/src/log.js';
import { useCleanup } from '../helpers/cleanup.js';
import { connectDevice, demoRaw, deviceEvents, startHub, type TestHub } from '../helpers/hub.js';

/**
 * `mqtt.lab: true`: a plain MQTT broker for conformance suites (anonymous clients, any topic, QoS 2),
 * refused unless the environment sets CAREHUB_LAB=1, shouted at start. CareHub's own devices and
 * topics stay protected: lab clients cannot pose as a device, publish into `carehub/`, or read it.
 */

interface LogLine {
  level?: number;
  msg?: string;
  [k: string]: unknown;
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms).unref(),
    ),
  ]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function labRaw(): Record<string, unknown> {
  const raw = demoRaw();
  raw.mqtt = { ...((raw.mqtt as object | undefined) ?? {}), lab: true };
  return raw;
}

describe('lab mode', () => {
  const cleanup = useCleanup();

  async function labHub(): Promise<{ t: TestHub; lines: LogLine[] }> {
    const lines: LogLine[] = [];
    const stream = {
      write(s: string) {
        for (const l of s.split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      },
    };
    const t = await startHub({
      raw: labRaw(),
      env: { CAREHUB_LAB: '1' },
      logger: createLogger('info', stream),
    });
    cleanup.push(() => t.stop());
    return { t, lines };
  }

  async function client(t: TestHub, options: IClientOptions): Promise<MqttClient> {
    const c = mqtt.connect(t.mqttUrl, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...options,
    });
    cleanup.push(() => c.endAsync(true));
    await within(
      new Promise<void>((resolve, reject) => {
        c.once('connect', () => resolve());
        c.once('error', reject);
      }),
      6000,
      'connect',
    );
    return c;
  }

  function refusal(t: TestHub, options: IClientOptions): Promise<number | undefined> {
    const c = mqtt.connect(t.mqttUrl, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...options,
    });
    cleanup.push(() => c.endAsync(true));
    return within(
      new Promise((resolve, reject) => {
        c.once('connect', () => reject(new Error('accepted')));
        c.once('error', (err: Error & { code?: number }) => resolve(err.code));
      }),
      6000,
      'refusal',
    );
  }

  it('is refused unless the environment sets CAREHUB_LAB=1, with an error naming mqtt.lab', async () => {
    for (const env of [{}, { CAREHUB_LAB: '0' }, { CAREHUB_LAB: 'yes' }]) {
      let err: unknown;
      try {
        parseConfig(labRaw(), env);
      } catch (e) {
        err = e;
      }
      expect(isHubError(err) && err.code).toBe('HUB_ERR_CONFIG_INVALID');
      const problems = (err as { details: Array<{ path: string; message: string }> }).details;
      expect(problems).toEqual([
        expect.objectContaining({ path: 'mqtt.lab', message: expect.stringContaining('CAREHUB_LAB=1') }),
      ]);
    }
    await expect(startHub({ raw: labRaw() })).rejects.toMatchObject({ code: 'HUB_ERR_CONFIG_INVALID' });
    expect(parseConfig(labRaw(), { CAREHUB_LAB: '1' }).mqtt.lab).toBe(true);
    // and without lab mode, CAREHUB_LAB changes nothing: anonymous clients are refused
    const t = await startHub({ env: { CAREHUB_LAB: '1' } });
    cleanup.push(() => t.stop());
    expect(await refusal(t, { clientId: 'anon' })).toBe(5);
  });

  it('logs a warning at start, and serves anonymous clients on any topic at QoS 0-2 with retained messages', async () => {
    const { t, lines } = await labHub();
    expect(lines.some((l) => l.level === 40 && /LAB MODE/.test(String(l.msg)))).toBe(true);
    const sub = await client(t, { clientId: 'conformance-sub' });
    const got: Array<[string, string, number]> = [];
    sub.on('message', (topic, payload, packet) => got.push([topic, String(payload), packet.qos]));
    const granted = await sub.subscribeAsync({ 'TopicA/#': { qos: 2 }, '+/C': { qos: 1 } });
    expect(granted.map((g) => g.qos)).toEqual([2, 1]);
    const pub = await client(t, { clientId: 'conformance-pub', username: 'anyone', password: 'anything' });
    await pub.publishAsync('TopicA/B', 'q0', { qos: 0 });
    await pub.publishAsync('TopicA/B', 'q1', { qos: 1 });
    await pub.publishAsync('TopicA/C', 'q2', { qos: 2 });
    await pub.publishAsync('Topic/C', 'wild', { qos: 1 });
    await pub.publishAsync('TopicA/retained', 'kept', { qos: 1, retain: true });
    await expect.poll(() => got.length, { timeout: 3000 }).toBe(5);
    expect(got).toEqual(
      expect.arrayContaining([
        ['TopicA/B', 'q0', 0],
        ['TopicA/B', 'q1', 1],
        ['TopicA/C', 'q2', 2],
        ['Topic/C', 'wild', 1],
      ]),
    );
    const late = await client(t, { clientId: 'late' });
    const retained: string[] = [];
    late.on('message', (topic, payload) => retained.push(`${topic}=${payload}`));
    await late.subscribeAsync('TopicA/retained', { qos: 1 });
    await expect.poll(() => retained, { timeout: 3000 }).toEqual(['TopicA/retained=kept']);
    // nothing of it went to ingest: no journal rows, no dead letters
    expect(deviceEvents(t.hub)).toEqual([]);
    expect(t.hub.store.deadLetters.count()).toBe(0);
  });

  it('keeps CareHub devices and topics protected from lab clients', async () => {
    const { t } = await labHub();
    // a lab client cannot take a device's identity, with or without a (wrong) secret
    expect(await refusal(t, { clientId: 'h1-sos' })).toBe(5);
    expect(await refusal(t, { clientId: 'h1-sos', username: 'h1-sos', password: 'guess' })).toBe(4);
    expect(await refusal(t, { clientId: 'lab-x', username: 'h1-sos', password: 'guess' })).toBe(2);

    const spy = await client(t, { clientId: 'spy' });
    const seen: string[] = [];
    spy.on('message', (topic) => seen.push(topic));
    await spy.subscribeAsync(['#', 'carehub/#'], { qos: 1 });
    // the real device still works in lab mode: its press becomes an alert and a command back
    const pendant = await connectDevice(t.mqttUrl, 'h1-sos');
    cleanup.push(() => pendant.endAsync(true));
    const commands: string[] = [];
    pendant.on('message', (_topic, payload) => commands.push(String(payload)));
    await pendant.subscribeAsync('carehub/v1/devices/h1-sos/commands', { qos: 1 });
    await pendant.publishAsync('carehub/v1/devices/h1-sos/status', '{"state":"online"}', {
      qos: 1,
      retain: true,
    });
    await pendant.publishAsync(
      'carehub/v1/devices/h1-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'lab-real' }),
      { qos: 1 },
    );
    await expect.poll(() => commands.some((c) => c.includes('alert.received')), { timeout: 5000 }).toBe(true);
    // a lab client publishing into carehub/ is dropped: no event, no command to the device
    await spy.publishAsync(
      'carehub/v1/devices/h1-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'lab-forged' }),
      { qos: 1 },
    );
    await spy.publishAsync(
      'carehub/v1/devices/h1-sos/commands',
      JSON.stringify({ type: 'alert.resolved', alertId: 'x' }),
      { qos: 1 },
    );
    await sleep(300);
    expect(commands.filter((c) => c.includes('alert.resolved'))).toEqual([]);
    // and never sees CareHub traffic, retained or live
    expect(seen.filter((topic) => topic.startsWith('carehub/'))).toEqual([]);
    expect(
      deviceEvents(t.hub)
        .filter((e) => e.type === 'sos.pressed')
        .map((e) => e.eventId),
    ).toEqual(['lab-real']);
  });
});
