import { describe, expect, it } from 'vitest';
import type { DeviceKind } from '../../hub/src/config/schema.js';
import { parseZigbeeMemory, type ZigbeeMemory } from '../../hub/src/protocol/zigbee-memory.js';
import { decodeZigbeeReport, parseZigbeeTopic } from '../../hub/src/protocol/zigbee2mqtt.js';

/** A hub restart: what the decoder has afterwards is what the store kept (the memory as JSON). */
const RESTART = 'restart' as const;
/** A hub that lost everything it kept (a new data directory). */
const FORGET = 'forget' as const;

/** Play reports through the decoder, keeping its memory like ingest does; one list of event types per report. */
function play(kind: DeviceKind, steps: Array<Record<string, unknown> | typeof RESTART | typeof FORGET>) {
  let memory: ZigbeeMemory | undefined;
  const out: string[][] = [];
  for (const step of steps) {
    if (step === RESTART) memory = parseZigbeeMemory(JSON.stringify(memory));
    else if (step === FORGET) memory = undefined;
    else {
      const decoded = decodeZigbeeReport({ deviceId: 'dev', kind }, step, memory);
      memory = decoded.memory;
      out.push(decoded.events.map((e) => e.type));
    }
  }
  return out;
}

/**
 * Zigbee2MQTT with `cache_state: true` (its default): every message is the device's whole cached
 * state with the new fields merged in, plus `linkquality` of the frame. `action` is never cached
 * (zigbee2mqtt lib/state.ts), so it is only in the message of the press itself.
 */
function gateway(initial: Record<string, unknown>) {
  const cache: Record<string, unknown> = { ...initial };
  let lq = 120;
  return (update: Record<string, unknown> = {}): Record<string, unknown> => {
    const { action, ...state } = update;
    Object.assign(cache, state);
    lq = lq === 120 ? 87 : 120;
    return { ...cache, ...(action === undefined ? {} : { action }), linkquality: lq };
  };
}

/** IAS zone status bits as fz.ias_smoke_alarm_1 turns them into fields. */
function iasSmoke(zoneStatus: number): Record<string, boolean> {
  const bit = (n: number) => (zoneStatus & (1 << n)) > 0;
  return {
    smoke: bit(0),
    tamper: bit(2),
    battery_low: bit(3),
    supervision_reports: bit(4),
    restore_reports: bit(5),
    trouble: bit(6),
    ac_status: bit(7),
    test: bit(8),
    battery_defect: bit(9),
  };
}

describe('decodeZigbeeReport: the kinds', () => {
  it('door sensor: contact false → door.opened, true → door.closed, only on a change', () => {
    expect(
      play('door_sensor', [
        { contact: true, battery: 90 },
        { contact: false, battery: 90 },
        { contact: false, battery: 89 },
        { contact: true, battery: 89 },
        { contact: true, battery: 89 },
      ]),
    ).toEqual([['door.closed'], ['door.opened'], ['heartbeat'], ['door.closed'], ['heartbeat']]);
  });

  it('smoke detector: smoke true → smoke.detected once, back to false → smoke.cleared, test true → smoke.test', () => {
    expect(
      play('smoke_detector', [
        { smoke: false, test: false },
        { smoke: true, test: false },
        { smoke: true, test: false },
        { smoke: false, test: false },
        { smoke: false, test: true },
        { smoke: false, test: true },
        { smoke: false, test: false },
      ]),
    ).toEqual([
      ['heartbeat'],
      ['smoke.detected'],
      ['heartbeat'],
      ['smoke.cleared'],
      ['smoke.test'],
      ['heartbeat'],
      ['heartbeat'],
    ]);
    // smoke on the very first report is an alarm: a fire is a level, whatever the hub knew before
    expect(play('smoke_detector', [{ smoke: true }])).toEqual([['smoke.detected']]);
    // smoke:false with nothing stored before, or a report without smoke, clears nothing
    expect(play('smoke_detector', [{ smoke: false }, { battery: 80 }])).toEqual([
      ['heartbeat'],
      ['heartbeat'],
    ]);
  });

  it('SOS button: every SOS action is a press (Zigbee2MQTT never caches action); sos:true on a change', () => {
    for (const action of ['emergency', 'sos', 'panic', 'single', 'double', 'hold', 'long']) {
      expect(play('sos_button', [{ action }, { action }]), action).toEqual([
        ['sos.pressed'],
        ['sos.pressed'],
      ]);
    }
    expect(
      play('sos_button', [
        { action: 'release' },
        { action: 'off' },
        { action: '' },
        { action: null },
        { action: 'arm_all_zones' },
        { action: 7 },
        { battery: 80 },
      ]),
    ).toEqual([
      ['heartbeat'],
      ['heartbeat'],
      ['heartbeat'],
      ['heartbeat'],
      ['heartbeat'],
      ['heartbeat'],
      ['heartbeat'],
    ]);
    expect(
      play('sos_button', [{ sos: false }, { sos: true }, { sos: true }, { sos: false }, { sos: true }]),
    ).toEqual([['heartbeat'], ['sos.pressed'], ['heartbeat'], ['heartbeat'], ['sos.pressed']]);
    // one press is one event, also when a report carries both forms
    expect(play('sos_button', [{ sos: true, action: 'emergency' }])).toEqual([['sos.pressed']]);
  });

  it('motion sensor: occupancy rising to true → motion.detected; a cached occupancy:true is no new motion', () => {
    expect(
      play('motion_sensor', [
        { occupancy: true, battery: 90 },
        { occupancy: false, battery: 90 },
        { occupancy: true, battery: 90 },
        { occupancy: true, battery: 89 },
      ]),
    ).toEqual([['motion.detected'], ['heartbeat'], ['motion.detected'], ['heartbeat']]);
  });

  it('any kind: tamper true → tamper on a change, along with the kind’s own event', () => {
    expect(
      play('door_sensor', [
        { contact: true, tamper: false },
        { contact: false, tamper: true },
        { contact: false, tamper: true },
      ]),
    ).toEqual([['door.closed'], ['door.opened', 'tamper'], ['heartbeat']]);
    expect(play('smoke_detector', [{ tamper: true }])).toEqual([['tamper']]);
  });

  it('fields of another kind do nothing: a door sensor reporting smoke is not a fire', () => {
    expect(play('door_sensor', [{ smoke: true, action: 'sos', occupancy: true, sos: true }])).toEqual([
      ['heartbeat'],
    ]);
    expect(play('gateway', [{ contact: false }])).toEqual([['heartbeat']]);
    expect(play('smoke_detector', [{ action: 'emergency', sos: true, contact: false }])).toEqual([
      ['heartbeat'],
    ]);
  });

  it('carries battery, battery_low and linkquality along on every event, dropping out-of-range values', () => {
    const door = { deviceId: 'd', kind: 'door_sensor' as const };
    const closed = decodeZigbeeReport(door, { contact: true }, undefined).memory;
    expect(
      decodeZigbeeReport(door, { contact: false, battery: 15, battery_low: true, linkquality: 120 }, closed)
        .events,
    ).toEqual([{ type: 'door.opened', battery: 15, batteryLow: true, rssi: 120 }]);
    expect(
      decodeZigbeeReport(door, { battery: 150, battery_low: 'no', linkquality: 'good' }, undefined).events,
    ).toEqual([{ type: 'heartbeat' }]);
    expect(decodeZigbeeReport(door, { contact: false, tamper: true, battery: 50 }, closed).events).toEqual([
      { type: 'door.opened', battery: 50 },
      { type: 'tamper', battery: 50 },
    ]);
  });
});

describe('decodeZigbeeReport: the models checked (payloads as zigbee-herdsman-converters makes them)', () => {
  it('Heiman HS1SA-E / HS3SA (ias_smoke_alarm_1): a test press sets alarm and test bits: smoke.test, never a fire', () => {
    const z2m = gateway({ battery: 100, voltage: 3000, ...iasSmoke(0x0030) });
    expect(
      play('smoke_detector', [
        z2m(),
        z2m(iasSmoke(0x0131)), // test button held: alarm1 + test (+ supervision/restore capability bits)
        z2m({ battery: 99 }), // a battery report repeats the cached smoke:true, test:true
        z2m(iasSmoke(0x0030)), // released
        z2m(iasSmoke(0x0031)), // real smoke
        z2m({ battery: 98 }),
        z2m(iasSmoke(0x0030)),
      ]),
    ).toEqual([
      ['heartbeat'],
      ['smoke.test'],
      ['heartbeat'],
      ['heartbeat'],
      ['smoke.detected'],
      ['heartbeat'],
      ['smoke.cleared'],
    ]);
  });

  it('Heiman HS1SA-E (ias_smoke_alarm_1): trouble is a device fault (tamper), battery_defect a low battery; supervision, restore and AC bits nothing', () => {
    const z2m = gateway({ battery: 100, ...iasSmoke(0x0000) });
    const smoke = { deviceId: 'dev', kind: 'smoke_detector' as const };
    let memory = decodeZigbeeReport(smoke, z2m(), undefined).memory;
    const step = (update: Record<string, unknown>) => {
      const d = decodeZigbeeReport(smoke, z2m(update), memory);
      memory = d.memory;
      return d.events.map((e) => ({ type: e.type, batteryLow: e.batteryLow }));
    };
    expect(step(iasSmoke(0x00b0))).toEqual([{ type: 'heartbeat', batteryLow: false }]); // supervision, restore, ac_status
    expect(step(iasSmoke(0x0040))).toEqual([{ type: 'tamper', batteryLow: false }]); // trouble
    expect(step({ battery: 97 })).toEqual([{ type: 'heartbeat', batteryLow: false }]); // still in trouble: no new alert
    expect(step(iasSmoke(0x0000))).toEqual([{ type: 'heartbeat', batteryLow: false }]);
    expect(step(iasSmoke(0x0200))).toEqual([{ type: 'heartbeat', batteryLow: true }]); // battery_defect
  });

  it('Heiman HS1SA-E Lover (iasZoneAlarm smoke: alarm_1, battery_low, test, trouble; fault_state)', () => {
    const z2m = gateway({ battery: 100, smoke: false, battery_low: false, test: false, trouble: false });
    expect(
      play('smoke_detector', [
        z2m(),
        z2m({ smoke: true, test: true }),
        z2m({ smoke: false, test: false }),
        z2m({ fault_state: 'pollution_fault' }),
        z2m({ fault_state: 'normal' }),
      ]),
    ).toEqual([['heartbeat'], ['smoke.test'], ['heartbeat'], ['tamper'], ['heartbeat']]);
  });

  it('Xiaomi JTYJ-GD-01LM/BW (lumi_smoke: test is zone status bit 1)', () => {
    const xiaomi = (zoneStatus: number) => ({ ...iasSmoke(zoneStatus), test: (zoneStatus & 2) > 0 });
    const z2m = gateway({ battery: 100, voltage: 3055, smoke_density: 0, sensitivity: 'high', ...xiaomi(0) });
    expect(
      play('smoke_detector', [
        z2m(),
        z2m(xiaomi(2)),
        z2m(xiaomi(3)),
        z2m(xiaomi(0)),
        z2m({ ...xiaomi(1), smoke_density: 7 }),
      ]),
    ).toEqual([['heartbeat'], ['smoke.test'], ['heartbeat'], ['heartbeat'], ['smoke.detected']]);
  });

  it('Aqara JY-GZ-01AQ (lumi_specific: smoke, smoke_density, test)', () => {
    const z2m = gateway({
      battery: 100,
      smoke: false,
      smoke_density: 0,
      smoke_density_dbm: 0,
      test: false,
      buzzer_manual_alarm: false,
      buzzer_manual_mute: false,
      heartbeat_indicator: false,
      linkage_alarm: false,
    });
    expect(
      play('smoke_detector', [
        z2m(),
        z2m({ test: true }),
        z2m({ smoke: true }), // the buzzer sounds during the self-test
        z2m({ test: false, smoke: false }),
        z2m({ smoke: true, smoke_density: 4, smoke_density_dbm: 0.095 }),
      ]),
    ).toEqual([['heartbeat'], ['smoke.test'], ['heartbeat'], ['heartbeat'], ['smoke.detected']]);
  });

  it('Develco / Frient SMSZB-120 (ias_smoke_alarm_1_develco, fault_status): test, then fault and reliability', () => {
    const z2m = gateway({
      battery: 100,
      voltage: 3000,
      temperature: 21,
      smoke: false,
      battery_low: false,
      supervision_reports: true,
      restore_reports: true,
      test: false,
      reliability: 'no_fault_detected',
      fault: false,
    });
    expect(
      play('smoke_detector', [
        z2m(),
        z2m({ smoke: true, test: true }),
        z2m({ smoke: false, test: false }),
        z2m({ reliability: 'process_error', fault: true }),
        z2m({ battery: 99 }),
        z2m({ reliability: 'no_fault_detected', fault: false }),
        z2m({ smoke: true }),
      ]),
    ).toEqual([
      ['heartbeat'],
      ['smoke.test'],
      ['heartbeat'],
      ['tamper'],
      ['heartbeat'],
      ['heartbeat'],
      ['smoke.detected'],
    ]);
  });

  it('Tuya PA-44Z, ZSS-QY-SSD-A-EN and Heiman HS2SA-1 (Tuya datapoints: test, self_test, device_fault, fault_alarm)', () => {
    const pa44z = gateway({
      smoke: false,
      smoke_concentration: 0,
      device_fault: false,
      battery: 100,
      silence: false,
      test: false,
    });
    expect(
      play('smoke_detector', [
        pa44z(),
        pa44z({ smoke: true, test: true }),
        pa44z({ smoke: false, test: false }),
        pa44z({ device_fault: true }),
      ]),
    ).toEqual([['heartbeat'], ['smoke.test'], ['heartbeat'], ['tamper']]);
    const zss = gateway({
      smoke: false,
      fault_alarm: false,
      battery_state: 'high',
      battery: 100,
      silence: false,
      self_test: false,
    });
    expect(
      play('smoke_detector', [
        zss(),
        zss({ self_test: true, smoke: true }),
        zss({ self_test: false, smoke: false }),
        zss({ fault_alarm: true }),
      ]),
    ).toEqual([['heartbeat'], ['smoke.test'], ['heartbeat'], ['tamper']]);
    const hs2sa = gateway({
      smoke: false,
      battery: 100,
      battery_state: 'high',
      silence: 'OFF',
      self_test: 'check_success',
    });
    expect(
      play('smoke_detector', [
        hs2sa(),
        hs2sa({ self_test: 'checking', smoke: true }),
        hs2sa({ self_test: 'check_success', smoke: false }),
        hs2sa({ self_test: 'check_failure' }),
      ]),
    ).toEqual([['heartbeat'], ['smoke.test'], ['heartbeat'], ['tamper']]);
  });

  it('Tuya TS0205 (iasZoneAlarm smoke: alarm_1, tamper): no test field, smoke is smoke', () => {
    const z2m = gateway({ battery: 100, smoke: false, tamper: false });
    expect(
      play('smoke_detector', [z2m(), z2m({ smoke: true }), z2m({ tamper: true }), z2m({ smoke: false })]),
    ).toEqual([['heartbeat'], ['smoke.detected'], ['tamper'], ['smoke.cleared']]);
  });

  it('Heiman HS1EB (command_status_change_notification_action): single, double, hold are presses; off is the release', () => {
    const z2m = gateway({ battery: 100 });
    expect(
      play('sos_button', [
        z2m({ action: 'single' }),
        z2m({ action: 'off' }),
        z2m({ action: 'double' }),
        z2m({ action: 'hold' }),
        z2m({ action: 'off' }),
        z2m({ battery: 98 }),
      ]),
    ).toEqual([
      ['sos.pressed'],
      ['heartbeat'],
      ['sos.pressed'],
      ['sos.pressed'],
      ['heartbeat'],
      ['heartbeat'],
    ]);
  });

  it('Tuya TS0215A_sos / TS0601_sos (command_emergency, datapoint 23): each press is one emergency, also twice in a row', () => {
    const z2m = gateway({ battery: 100, voltage: 3000 });
    expect(
      play('sos_button', [
        z2m({ action: 'emergency' }),
        z2m({ action: 'emergency' }), // a second press before any other report: identical but for linkquality
        z2m({ battery: 99 }),
        z2m({ action: 'emergency' }),
      ]),
    ).toEqual([['sos.pressed'], ['sos.pressed'], ['heartbeat'], ['sos.pressed']]);
  });

  it('Tuya TS0215A_remote mapped as an SOS button: only emergency is a press, not arm or disarm', () => {
    const z2m = gateway({ battery: 100 });
    expect(
      play('sos_button', [
        z2m({ action: 'arm_all_zones' }),
        z2m({ action: 'disarm' }),
        z2m({ action: 'exit_delay' }),
        z2m({ action: 'emergency' }),
      ]),
    ).toEqual([['heartbeat'], ['heartbeat'], ['heartbeat'], ['sos.pressed']]);
  });

  it('SONOFF SNZB-01 and Frient SBTZB-110 (ewelink_action) and Loginovo ZG-101Z (Tuya dpAction): single, double, long, sos, emergency', () => {
    const z2m = gateway({ battery: 100, voltage: 3000 });
    expect(
      play(
        'sos_button',
        ['single', 'double', 'long', 'sos', 'emergency'].map((action) => z2m({ action })),
      ),
    ).toEqual([['sos.pressed'], ['sos.pressed'], ['sos.pressed'], ['sos.pressed'], ['sos.pressed']]);
  });

  it('Feibit SEB01ZB (ias_sos_alarm_2): sos is a cached state: a press when it rises, not when a report repeats it', () => {
    const z2m = gateway({ battery: 100, sos: false, tamper: false, battery_low: false });
    expect(
      play('sos_button', [
        z2m(),
        z2m({ sos: true }),
        z2m({ battery: 99 }),
        RESTART,
        z2m({ battery: 98 }),
        z2m({ sos: false }),
        z2m({ sos: true }),
      ]),
    ).toEqual([['heartbeat'], ['sos.pressed'], ['heartbeat'], ['heartbeat'], ['heartbeat'], ['sos.pressed']]);
  });

  it('Aqara MCCGQ11LM (lumi_contact), SONOFF SNZB-04 (iasZoneAlarm contact) and Tuya TS0203 (ias_contact_alarm_1)', () => {
    const aqara = gateway({
      battery: 100,
      voltage: 3005,
      device_temperature: 24,
      power_outage_count: 3,
      contact: true,
    });
    expect(
      play('door_sensor', [
        aqara(),
        aqara({ contact: false }),
        aqara({ voltage: 3001 }),
        aqara({ contact: true }),
      ]),
    ).toEqual([['door.closed'], ['door.opened'], ['heartbeat'], ['door.closed']]);
    const snzb04 = gateway({ battery: 100, voltage: 3100, contact: true, battery_low: false });
    expect(
      play('door_sensor', [snzb04(), snzb04({ contact: false }), RESTART, snzb04({ battery: 99 })]),
    ).toEqual([['door.closed'], ['door.opened'], ['heartbeat']]);
    const ts0203 = gateway({ battery: 100, voltage: 3000, contact: true, tamper: false, battery_low: false });
    expect(play('door_sensor', [ts0203(), ts0203({ tamper: true }), ts0203({ contact: false })])).toEqual([
      ['door.closed'],
      ['tamper'],
      ['door.opened'],
    ]);
  });

  it('SONOFF SNZB-03 (iasZoneAlarm occupancy): motion when occupancy rises', () => {
    const z2m = gateway({ battery: 100, occupancy: false, battery_low: false });
    expect(
      play('motion_sensor', [
        z2m(),
        z2m({ occupancy: true }),
        z2m({ battery: 99 }),
        z2m({ occupancy: false }),
        z2m({ occupancy: true }),
      ]),
    ).toEqual([['heartbeat'], ['motion.detected'], ['heartbeat'], ['heartbeat'], ['motion.detected']]);
  });
});

describe('decodeZigbeeReport: cached full states, action clearing, restarts', () => {
  it('a gateway repeating a cached action with a battery report: no new press; a new press after it still counts', () => {
    expect(
      play('sos_button', [
        { battery: 90, action: 'emergency', linkquality: 100 },
        { battery: 89, action: 'emergency', linkquality: 90 }, // battery report dragging the old action along
        { battery: 89, voltage: 2900, action: 'emergency', linkquality: 95 },
        { battery: 89, voltage: 2900, action: 'emergency', linkquality: 80 }, // nothing else new: a press
      ]),
    ).toEqual([['sos.pressed'], ['heartbeat'], ['heartbeat'], ['sos.pressed']]);
  });

  it('action cleared by "" (Home Assistant legacy action sensor), null or a report without it: the next press counts', () => {
    expect(
      play('sos_button', [
        { battery: 90, action: 'emergency' },
        { battery: 90, action: '' },
        { battery: 90, action: 'emergency' },
        { battery: 89, action: null },
        { battery: 89, action: 'emergency' },
        { battery: 88 },
        { battery: 88, action: 'emergency' },
      ]),
    ).toEqual([
      ['sos.pressed'],
      ['heartbeat'],
      ['sos.pressed'],
      ['heartbeat'],
      ['sos.pressed'],
      ['heartbeat'],
      ['sos.pressed'],
    ]);
  });

  it('a hub restart never turns a cached state into a new event: smoke, test, sos, contact, tamper, fault, action', () => {
    expect(
      play('smoke_detector', [
        { smoke: true, test: false, battery: 90 },
        RESTART,
        { smoke: true, test: false, battery: 89 },
        { smoke: false, test: false, battery: 89 },
        { smoke: true, test: true, battery: 89 },
        RESTART,
        { smoke: true, test: true, battery: 88 },
        { smoke: false, test: false, trouble: true, battery: 88 },
        RESTART,
        { smoke: false, test: false, trouble: true, battery: 87 },
      ]),
    ).toEqual([
      ['smoke.detected'],
      ['heartbeat'],
      ['smoke.cleared'],
      ['smoke.test'],
      ['heartbeat'],
      ['tamper'],
      ['heartbeat'],
    ]);
    expect(
      play('sos_button', [
        { battery: 90, action: 'emergency', tamper: false },
        { battery: 89, action: 'emergency', tamper: true },
        RESTART,
        { battery: 88, action: 'emergency', tamper: true },
        { battery: 88, tamper: true },
        RESTART,
        { battery: 88, action: 'emergency', tamper: true },
      ]),
    ).toEqual([['sos.pressed'], ['tamper'], ['heartbeat'], ['heartbeat'], ['sos.pressed']]);
    expect(play('door_sensor', [{ contact: false }, RESTART, { contact: false, battery: 50 }])).toEqual([
      ['door.opened'],
      ['heartbeat'],
    ]);
  });

  it('with nothing stored (a new data directory), a level that is on is reported: a fire is a fire', () => {
    expect(
      play('smoke_detector', [{ smoke: true, battery: 90 }, FORGET, { smoke: true, battery: 89 }]),
    ).toEqual([['smoke.detected'], ['smoke.detected']]);
    // … but a test in progress is still only a test
    expect(play('smoke_detector', [FORGET, { smoke: true, test: true }])).toEqual([['smoke.test']]);
  });

  it('the memory survives its JSON round trip; anything else stored reads as none', () => {
    const d = decodeZigbeeReport(
      { deviceId: 'd', kind: 'smoke_detector' },
      { smoke: true, test: false, tamper: true, battery: 80, linkquality: 10 },
      undefined,
    );
    expect(parseZigbeeMemory(JSON.stringify(d.memory))).toEqual(d.memory);
    for (const bad of [undefined, '', 'not json', '[]', '{}', '{"levels":{},"action":3,"rest":"x"}', 42])
      expect(parseZigbeeMemory(bad), String(bad)).toBeUndefined();
    expect(
      parseZigbeeMemory('{"levels":{"smoke":"yes","contact":false,"x":true},"action":null,"rest":"r"}'),
    ).toEqual({
      levels: { contact: false },
      action: null,
      rest: 'r',
    });
  });

  it('the fingerprint ignores key order, action and per-message fields, and sees every other change', () => {
    const sos = { deviceId: 'd', kind: 'sos_button' as const };
    const a = decodeZigbeeReport(
      sos,
      { battery: 90, voltage: 3000, last_seen: 1, elapsed: 5, linkquality: 1 },
      undefined,
    );
    const b = decodeZigbeeReport(
      sos,
      { last_seen: 2, voltage: 3000, battery: 90, linkquality: 200, action: 'x' },
      undefined,
    );
    const c = decodeZigbeeReport(sos, { battery: 90, voltage: 3000, update: { state: 'idle' } }, undefined);
    expect(a.memory.rest).toBe(b.memory.rest);
    expect(c.memory.rest).not.toBe(a.memory.rest);
  });
});

describe('parseZigbeeTopic', () => {
  it('maps device, availability and bridge topics under the base', () => {
    expect(parseZigbeeTopic('zigbee2mqtt', 'zigbee2mqtt/front door')).toEqual({
      kind: 'state',
      friendlyName: 'front door',
    });
    expect(parseZigbeeTopic('zigbee2mqtt', 'zigbee2mqtt/kitchen/smoke')).toEqual({
      kind: 'state',
      friendlyName: 'kitchen/smoke',
    });
    expect(parseZigbeeTopic('zigbee2mqtt', 'zigbee2mqtt/front door/availability')).toEqual({
      kind: 'availability',
      friendlyName: 'front door',
    });
    expect(parseZigbeeTopic('zigbee2mqtt', 'zigbee2mqtt/bridge/state')).toEqual({ kind: 'bridge_state' });
    expect(parseZigbeeTopic('site/z2m', 'site/z2m/pendant')).toEqual({
      kind: 'state',
      friendlyName: 'pendant',
    });
  });

  it('ignores other bridge topics and set/get requests', () => {
    for (const topic of [
      'zigbee2mqtt/bridge/info',
      'zigbee2mqtt/bridge/devices',
      'zigbee2mqtt/bridge/logging',
      'zigbee2mqtt/pendant/set',
      'zigbee2mqtt/pendant/get',
      'zigbee2mqtt/',
    ]) {
      expect(parseZigbeeTopic('zigbee2mqtt', topic), topic).toEqual({ kind: 'ignored' });
    }
  });

  it('returns null outside the base topic, also for a base that is only a prefix of the first level', () => {
    expect(parseZigbeeTopic('zigbee2mqtt', 'carehub/v1/devices/h1-sos/events')).toBeNull();
    expect(parseZigbeeTopic('zigbee2mqtt', 'zigbee2mqtt2/pendant')).toBeNull();
    expect(parseZigbeeTopic('zigbee2mqtt', 'zigbee2mqtt')).toBeNull();
  });
});
