import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseZigbeeMemory, type ZigbeeMemory } from '../../hub/src/protocol/zigbee-memory.js';
import { decodeZigbeeReport } from '../../hub/src/protocol/zigbee2mqtt.js';
import { Z2mModel, z2mStep } from '../helpers/z2m-model.js';

const KIND = { pendant: 'sos_button', smoke: 'smoke_detector' } as const;

// Generated days of a Zigbee2MQTT bridge (presses, releases, action clears, battery reports that
// repeat every cached field, smoke tests, fires, faults, bridge restarts) with hub restarts between
// them: the decoder's memory then is what the store gives back (its JSON). Bounded: ~1 s.
describe('decodeZigbeeReport over generated Zigbee2MQTT days with hub restarts', () => {
  it('a test is never a fire, every fire and test is reported once, every press is one SOS and nothing else is one', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(z2mStep, { minLength: 1, maxLength: 60 }), (cachesAction, steps) => {
        const model = new Z2mModel(cachesAction);
        const memory: Partial<Record<'pendant' | 'smoke', ZigbeeMemory>> = {};
        const got = { sos: 0, fires: 0, tests: 0 };
        for (const step of steps) {
          if (step.do === 'hubRestart') {
            for (const d of ['pendant', 'smoke'] as const) {
              const stored = parseZigbeeMemory(JSON.stringify(memory[d]));
              if (stored) memory[d] = stored;
              else delete memory[d];
            }
            continue;
          }
          for (const m of model.apply(step)) {
            const decoded = decodeZigbeeReport(
              { deviceId: m.device, kind: KIND[m.device] },
              m.payload,
              memory[m.device],
            );
            memory[m.device] = decoded.memory;
            const types = decoded.events.map((e) => e.type);
            if (m.testing) expect(types, JSON.stringify(m.payload)).not.toContain('smoke.detected');
            if (m.press) expect(types, JSON.stringify(m.payload)).toEqual(['sos.pressed']);
            got.sos += types.filter((t) => t === 'sos.pressed').length;
            got.fires += types.filter((t) => t === 'smoke.detected').length;
            got.tests += types.filter((t) => t === 'smoke.test').length;
          }
        }
        // Zigbee2MQTT itself never repeats an action: exactly one SOS per press.
        if (!cachesAction) expect(model.expected.ambiguous).toBe(0);
        expect(got.sos).toBe(model.expected.presses + model.expected.ambiguous);
        expect(got.fires).toBe(model.expected.fires);
        expect(got.tests).toBe(model.expected.tests);
      }),
      { numRuns: 400 },
    );
  });
});
