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

  it('any JSON object a gateway sends decodes to at least one event and a memory that survives the store, never an exception', () => {
    const kinds = ['sos_button', 'door_sensor', 'smoke_detector', 'motion_sensor', 'gateway'] as const;
    const field = fc.constantFrom(
      'smoke',
      'test',
      'self_test',
      'action',
      'sos',
      'contact',
      'tamper',
      'trouble',
      'occupancy',
      'battery',
      '__proto__',
      'constructor',
    );
    const report = fc.dictionary(
      fc.oneof(field, fc.string({ maxLength: 8 })),
      fc.jsonValue({ maxDepth: 3 }),
      { maxKeys: 8 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.array(report, { maxLength: 6 }), (kind, reports) => {
        let memory: ZigbeeMemory | undefined;
        for (const r of reports) {
          const parsed = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
          const d = decodeZigbeeReport({ deviceId: 'd', kind }, parsed, memory);
          expect(d.events.length).toBeGreaterThan(0);
          memory = parseZigbeeMemory(JSON.stringify(d.memory));
          expect(memory).toEqual(d.memory);
        }
      }),
      { numRuns: 500 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
