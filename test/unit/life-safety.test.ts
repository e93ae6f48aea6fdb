import { describe, expect, it } from 'vitest';
import { mayBeLifeSafety } from '../../hub/src/broker/life-safety.js';

// What the rate limit lets through when a gateway is over its limit: the decoder's SOS actions, one list.
describe('mayBeLifeSafety for Zigbee2MQTT reports', () => {
  const z2m = (payload: unknown) =>
    mayBeLifeSafety('zigbee2mqtt/pendant', Buffer.from(JSON.stringify(payload)));

  it('passes every SOS action the decoder knows, sos:true and smoke:true (a test press too: ingest decides)', () => {
    for (const action of ['emergency', 'sos', 'panic', 'single', 'double', 'hold', 'long'])
      expect(z2m({ battery: 80, action }), action).toBe(true);
    expect(z2m({ sos: true })).toBe(true);
    expect(z2m({ smoke: true, test: true })).toBe(true);
  });

  it('holds back reports that cannot be an alarm', () => {
    for (const payload of [
      { action: 'off' },
      { action: '' },
      { action: 'arm_all_zones' },
      { smoke: false },
      { battery: 5 },
    ])
      expect(z2m(payload), JSON.stringify(payload)).toBe(false);
  });
});
