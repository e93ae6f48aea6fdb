import { describe, expect, it } from 'vitest';
import type { DeviceKind } from '../../hub/src/config/schema.js';
import { decodeZigbeeState, parseZigbeeTopic } from '../../hub/src/protocol/zigbee2mqtt.js';

/** Play a sequence of Zigbee2MQTT state reports through the decoder, keeping the last state like ingest does. */
function play(kind: DeviceKind, states: Array<Record<string, unknown>>): string[][] {
  let previous: Record<string, unknown> | undefined;
  return states.map((state) => {
    const events = decodeZigbeeState({ deviceId: 'dev', kind }, state, previous);
    previous = state;
    return events.map((e) => e.type);
  });
}

describe('decodeZigbeeState', () => {
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
    // smoke on the very first report is an alarm
    expect(play('smoke_detector', [{ smoke: true }])).toEqual([['smoke.detected']]);
  });

  it('SOS button: every SOS action is a press (an action is an event, not a state); sos:true on a change', () => {
    for (const action of ['emergency', 'sos', 'single', 'double', 'hold']) {
      expect(play('sos_button', [{ action }, { action }]), action).toEqual([
        ['sos.pressed'],
        ['sos.pressed'],
      ]);
    }
    expect(play('sos_button', [{ action: 'release' }, { action: '' }, { battery: 80 }])).toEqual([
      ['heartbeat'],
      ['heartbeat'],
      ['heartbeat'],
    ]);
    expect(
      play('sos_button', [{ sos: false }, { sos: true }, { sos: true }, { sos: false }, { sos: true }]),
    ).toEqual([['heartbeat'], ['sos.pressed'], ['heartbeat'], ['heartbeat'], ['sos.pressed']]);
  });

  it('motion sensor: occupancy true → motion.detected', () => {
    expect(play('motion_sensor', [{ occupancy: true }, { occupancy: false }, { occupancy: true }])).toEqual([
      ['motion.detected'],
      ['heartbeat'],
      ['motion.detected'],
    ]);
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
    expect(play('door_sensor', [{ smoke: true, action: 'sos', occupancy: true }])).toEqual([['heartbeat']]);
    expect(play('gateway', [{ contact: false }])).toEqual([['heartbeat']]);
  });

  it('carries battery, battery_low and linkquality along on every event, dropping out-of-range values', () => {
    const events = decodeZigbeeState(
      { deviceId: 'd', kind: 'door_sensor' },
      { contact: false, battery: 15, battery_low: true, linkquality: 120 },
      { contact: true },
    );
    expect(events).toEqual([{ type: 'door.opened', battery: 15, batteryLow: true, rssi: 120 }]);
    const hb = decodeZigbeeState(
      { deviceId: 'd', kind: 'door_sensor' },
      { battery: 150, battery_low: 'no', linkquality: 'good' },
      undefined,
    );
    expect(hb).toEqual([{ type: 'heartbeat' }]);
    const both = decodeZigbeeState(
      { deviceId: 'd', kind: 'door_sensor' },
      { contact: false, tamper: true, battery: 50 },
      { contact: true },
    );
    expect(both).toEqual([
      { type: 'door.opened', battery: 50 },
      { type: 'tamper', battery: 50 },
    ]);
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
