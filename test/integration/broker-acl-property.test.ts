import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, demoRaw, startHub, type TestHub } from '../helpers/hub.js';
import { sleep, within } from '../helpers/hub-probe.js';

/**
 * Issue 16, item 2, as a property: whatever a device subscribes to (mixtures of its own commands
 * topic, other devices' topics and wildcards, at any QoS), with clean or persistent sessions, clean
 * or abrupt disconnects and reconnects, and whatever the hub sends meanwhile, the device only ever
 * receives messages on its own commands topic; and it does receive those whenever it (or its
 * persistent session) is subscribed. Bounded: 20 generated runs plus the reported case, ~15 s.
 */

const ME = 'h1-sos';
const commands = (id: string) => `carehub/v1/devices/${id}/commands`;
const OWN = commands(ME);

const NAMED_FILTERS = [
  OWN,
  commands('h2-sos'),
  commands('h3-door'),
  'carehub/v1/devices/+/commands',
  'carehub/v1/devices/+/status',
  `carehub/v1/devices/${ME}/+`,
  `carehub/v1/devices/${ME}/#`,
  `carehub/v1/devices/${ME}/status`,
  `carehub/v1/devices/${ME}/events`,
  'carehub/v1/devices/h2-sos/status',
  'carehub/#',
  '#',
  '+/+/+/+/+',
  '+/status',
  '$SYS/#',
];

const LEVELS = ['carehub', 'v1', 'devices', ME, 'h2-sos', 'commands', 'status', '+'];
/** Filters made of topic levels, `#` only at the end. */
const builtFilter = fc
  .tuple(fc.array(fc.constantFrom(...LEVELS), { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([levels, hash]) => [...levels, ...(hash ? ['#'] : [])].join('/'));

const subscription = fc.record({
  filter: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...NAMED_FILTERS) },
    { weight: 1, arbitrary: builtFilter },
  ),
  qos: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
});

/** Hub traffic: a command to some device, or a retained status of another device. */
const traffic = fc.array(
  fc.oneof(
    fc.record({ to: fc.constantFrom(ME, 'h2-sos', 'h3-door') }),
    fc.constant({ status: 'h2-sos' as const }),
  ),
  { maxLength: 4 },
);

const connection = fc.record({
  clean: fc.boolean(),
  subscribes: fc.array(
    fc.uniqueArray(subscription, { minLength: 1, maxLength: 6, selector: (s) => s.filter }),
    { maxLength: 2 },
  ),
  live: traffic,
  away: traffic,
  abrupt: fc.boolean(),
});

type Connection = {
  clean: boolean;
  subscribes: Array<Array<{ filter: string; qos: 0 | 1 | 2 }>>;
  live: Array<{ to: string } | { status: 'h2-sos' }>;
  away: Array<{ to: string } | { status: 'h2-sos' }>;
  abrupt: boolean;
};

/** The case reported from outside: own commands mixed with refused filters, persistent session, reconnect. */
const REPORTED: Connection[] = [
  {
    clean: false,
    subscribes: [
      [
        { filter: OWN, qos: 1 },
        { filter: 'carehub/v1/devices/+/commands', qos: 1 },
        { filter: 'carehub/v1/devices/+/status', qos: 1 },
        { filter: '#', qos: 2 },
      ],
    ],
    live: [],
    away: [{ to: 'h2-sos' }, { status: 'h2-sos' }, { to: ME }],
    abrupt: false,
  },
  { clean: false, subscribes: [], live: [{ to: 'h3-door' }], away: [], abrupt: true },
];

describe('broker ACL property', () => {
  let t: TestHub;
  let other: MqttClient;
  let seq = 0;

  beforeAll(async () => {
    const raw = demoRaw();
    // one device reconnects ~80 times a minute here: the flapping ban would (rightly) stop it
    raw.mqtt = { ...((raw.mqtt as object | undefined) ?? {}), limits: { flapMaxConnectsPerClient: 0 } };
    t = await startHub({ raw });
    other = await connectDevice(t.mqttUrl, 'h2-sos', { protocolVersion: 4 });
  });
  afterAll(async () => {
    await other?.endAsync(true);
    await t?.stop();
  });

  async function send(items: Connection['live']): Promise<void> {
    for (const item of items) {
      if ('to' in item)
        t.hub.broker.publishCommand(item.to, { type: 'alert.received', alertId: `p-${++seq}` });
      else
        await other.publishAsync(`carehub/v1/devices/${item.status}/status`, '{"state":"online"}', {
          qos: 1,
          retain: true,
        });
    }
  }

  async function open(clean: boolean, got: string[]): Promise<MqttClient> {
    const c = mqtt.connect(t.mqttUrl, {
      clientId: ME,
      username: ME,
      password: `${ME}-demo`,
      protocolVersion: 4,
      clean,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    c.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
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

  async function run(connections: Connection[]): Promise<void> {
    // Start from no session at all.
    const wipe = await open(true, []);
    await wipe.endAsync();
    const got: string[] = [];
    let persisted = false; // the session the hub keeps holds the own commands filter
    for (const conn of connections) {
      const c = await open(conn.clean, got);
      let subscribed = !conn.clean && persisted;
      if (conn.clean) persisted = false;
      for (const list of conn.subscribes) {
        // one SUBSCRIBE with the whole list, each filter at its own QoS
        const request = Object.fromEntries(list.map((s) => [s.filter, { qos: s.qos }]));
        const granted = await c.subscribeAsync(request).then(
          (r) => r.map((x) => x.qos),
          (err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? [],
        );
        expect(granted).toEqual(list.map((s) => (s.filter === OWN ? Math.min(s.qos, 1) : 128)));
        if (list.some((s) => s.filter === OWN)) {
          subscribed = true;
          if (!conn.clean) persisted = true;
        }
      }
      await send(conn.live);
      const marker = `m-${++seq}`;
      t.hub.broker.publishCommand(ME, { type: 'checkin.request', requestId: marker });
      if (subscribed)
        await expect.poll(() => got.some((m) => m.includes(marker)), { timeout: 3000 }).toBe(true);
      else await sleep(60);
      if (conn.abrupt) c.stream.destroy();
      else await c.endAsync();
      await sleep(20);
      await send(conn.away);
    }
    // Anything still queued for the session arrives on a last reconnect with the session kept.
    const last = await open(false, got);
    const marker = `m-${++seq}`;
    t.hub.broker.publishCommand(ME, { type: 'checkin.request', requestId: marker });
    if (persisted) await expect.poll(() => got.some((m) => m.includes(marker)), { timeout: 3000 }).toBe(true);
    else await sleep(60);
    await last.endAsync();
    const foreign = got.filter((m) => !m.startsWith(`${OWN} `));
    expect(foreign).toEqual([]);
  }

  it('a device only ever receives its own commands, whatever it subscribes to and however it reconnects', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(connection, { minLength: 1, maxLength: 3 }), (connections) =>
        run(connections),
      ),
      { numRuns: 20, endOnFailure: true, examples: [[REPORTED]] },
    );
  }, 120_000);
});
