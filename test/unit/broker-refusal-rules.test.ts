import { describe, expect, it } from 'vitest';
import { TopicAcl } from '../../hub/src/broker/acl.js';
import { RefusalLog } from '../../hub/src/broker/refusal-log.js';
import { willProblem } from '../../hub/src/broker/will-check.js';
import { parseConfig } from '../../hub/src/config/load.js';
import { createLogger } from '../../hub/src/log.js';
import { Directory } from '../../hub/src/site/directory.js';
import { demoRaw } from '../helpers/hub.js';

/** The broker's refusal rules on their own: the ACL's grants and deliveries, wills, and the refusal log. */

function siteWithGateway(lab = false): Directory {
  const raw = demoRaw();
  const homes = raw.homes as Array<{ id: string; devices: Array<Record<string, unknown>> }>;
  const h1 = homes[0] as (typeof homes)[number];
  const hash = (h1.devices[0] as { secretHash: string }).secretHash;
  h1.devices.push(
    { id: 'gw1', kind: 'gateway', secretHash: hash },
    {
      id: 'h1-zdoor',
      kind: 'door_sensor',
      secretHash: hash,
      zigbee: { gateway: 'gw1', friendlyName: 'front door' },
    },
  );
  raw.mqtt = { ...((raw.mqtt as object | undefined) ?? {}), lab };
  return new Directory(parseConfig(raw, lab ? { CAREHUB_LAB: '1' } : {}));
}

describe('willProblem', () => {
  const dir = siteWithGateway();
  const sos = dir.device('h1-sos');
  const gw = dir.device('gw1');
  if (!sos || !gw) throw new Error('test site incomplete');
  const check = (entry: typeof sos, topic: string, payload: string) =>
    willProblem(dir, entry, topic, Buffer.from(payload), 4096);

  it('takes a status on the device’s own status topic only', () => {
    expect(check(sos, 'carehub/v1/devices/h1-sos/status', '{"state":"offline"}')).toBeNull();
    expect(check(sos, 'carehub/v1/devices/h1-sos/status', '{"state":"online","why":"x"}')).toBeNull();
    expect(check(sos, 'carehub/v1/devices/h1-sos/status', 'offline')).toBe('payload');
    expect(check(sos, 'carehub/v1/devices/h1-sos/status', '{"type":"sos.pressed"}')).toBe('payload');
    expect(check(sos, 'carehub/v1/devices/h1-sos/events', '{"type":"sos.pressed"}')).toBe('topic');
    expect(check(sos, 'carehub/v1/devices/h2-sos/status', '{"state":"offline"}')).toBe('topic');
    expect(check(sos, 'zigbee2mqtt/bridge/state', 'offline')).toBe('topic');
  });

  it('lets a gateway put its will on bridge/state and on its own devices’ availability topics', () => {
    expect(check(gw, 'zigbee2mqtt/bridge/state', '{"state":"offline"}')).toBeNull();
    expect(check(gw, 'zigbee2mqtt/bridge/state', 'offline')).toBeNull();
    expect(check(gw, 'zigbee2mqtt/front door/availability', 'offline')).toBeNull();
    expect(check(gw, 'carehub/v1/devices/gw1/status', '{"state":"offline"}')).toBeNull();
    expect(check(gw, 'zigbee2mqtt/bridge/state', 'gone')).toBe('payload');
    expect(check(gw, 'zigbee2mqtt/back door/availability', 'offline')).toBe('topic'); // not mapped
    expect(check(gw, 'zigbee2mqtt/front door', '{"contact":false}')).toBe('topic'); // a state report
    expect(check(gw, 'zigbee2mqtt/bridge/request/restart', '{}')).toBe('topic');
    expect(check(gw, 'carehub/v1/devices/gw1/events', '{"type":"sos.pressed"}')).toBe('topic');
  });
});

describe('TopicAcl', () => {
  it('grants a device its commands topic at QoS 1 at most, delivers only that topic, and nothing to strangers', () => {
    const acl = new TopicAcl(siteWithGateway(), false);
    expect(acl.grant('h1-sos', 'carehub/v1/devices/h1-sos/commands', 2)).toBe(1);
    expect(acl.grant('h1-sos', 'carehub/v1/devices/h1-sos/commands', 0)).toBe(0);
    expect(acl.grant('h1-sos', 'carehub/v1/devices/+/commands', 1)).toBeNull();
    expect(acl.grant('gw1', 'zigbee2mqtt/#', 2)).toBe(1);
    expect(acl.grant('stranger', 'anything', 1)).toBeNull();
    expect(acl.mayReceive('h1-sos', 'carehub/v1/devices/h1-sos/commands')).toBe(true);
    expect(acl.mayReceive('h1-sos', 'carehub/v1/devices/h2-sos/commands')).toBe(false);
    expect(acl.mayReceive('h1-sos', 'carehub/v1/devices/h1-sos/status')).toBe(false);
    expect(acl.mayReceive('stranger', 'lab/x')).toBe(false);
    expect(acl.maxQos('h1-sos', 'h1-sos')).toBe(1);
    expect(acl.maxQos('stranger', undefined)).toBe(1);
  });

  it('in lab mode: a lab client gets any filter at its QoS, but nothing under carehub/; devices keep their rules', () => {
    const acl = new TopicAcl(siteWithGateway(true), true);
    expect(acl.isLabClient('lab-1', undefined)).toBe(true);
    expect(acl.isLabClient('lab-1', 'h1-sos')).toBe(false); // poses as a device: authenticated as one
    expect(acl.grant('lab-1', '#', 2)).toBe(2);
    expect(acl.maxQos('lab-1', undefined)).toBe(2);
    expect(acl.mayReceive('lab-1', 'lab/x')).toBe(true);
    expect(acl.mayReceive('lab-1', 'carehub/v1/devices/h1-sos/commands')).toBe(false);
    expect(acl.grant('h1-sos', '#', 1)).toBeNull();
    expect(acl.mayReceive('h1-sos', 'lab/x')).toBe(false);
  });
});

describe('RefusalLog', () => {
  function logged(): { log: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger('info', {
      write: (s: string) => {
        for (const l of s.split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      },
    });
    return { log, lines };
  }

  it('logs the first refusal per client and kind at once, then one summary with the count per interval', () => {
    const { log, lines } = logged();
    const r = new RefusalLog(log, 60_000);
    for (let i = 0; i < 3000; i++) r.note('h1-sos', 'subscribe', `x/${i}`);
    r.note('h1-sos', 'publish', 'a/b');
    r.note('h2-sos', 'subscribe', '#');
    expect(lines.map((l) => [l.msg, l.client, l.topic])).toEqual([
      ['subscribe refused by ACL', 'h1-sos', 'x/0'],
      ['publish refused by ACL', 'h1-sos', 'a/b'],
      ['subscribe refused by ACL', 'h2-sos', '#'],
    ]);
    r.flush();
    expect(lines.slice(3)).toEqual([
      expect.objectContaining({
        msg: 'subscribe refused by ACL (repeated)',
        client: 'h1-sos',
        more: 2999,
        lastTopic: 'x/2999',
      }),
    ]);
    // still refusing: summarised again; then quiet for an interval: the next refusal is logged at once
    r.note('h1-sos', 'subscribe', 'y');
    r.flush();
    expect(lines).toHaveLength(5);
    r.flush();
    r.flush();
    r.note('h1-sos', 'subscribe', 'z');
    expect(lines.at(-1)).toMatchObject({ msg: 'subscribe refused by ACL', topic: 'z' });
  });

  it('tracks at most maxClients clients and sums the others into one line', () => {
    const { log, lines } = logged();
    const r = new RefusalLog(log, 60_000, 3);
    for (let i = 0; i < 100; i++) r.note(`d${i}`, 'publish', 't');
    expect(lines).toHaveLength(3);
    r.flush();
    expect(lines.at(-1)).toMatchObject({ msg: 'refusals of further clients not logged', more: 97 });
  });
});
