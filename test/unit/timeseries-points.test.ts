import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../hub/src/errors.js';
import { toLine } from '../../hub/src/timeseries/influx2-backend.js';
import { feedPoint, journalPoint, metricsPoint, rowTimeNs } from '../../hub/src/timeseries/points.js';
import { fieldType, MEASUREMENTS, type MeasurementName } from '../../hub/src/timeseries/schema.js';
import type { TsPoint } from '../../hub/src/timeseries/types.js';

const kinds: Record<string, string> = {
  'h1-sos': 'sos_button',
  'h1-door': 'door_sensor',
  'h1-smoke': 'smoke_detector',
};
const kindOf = (id: string) => kinds[id];
const T = Date.parse('2026-11-26T09:30:00.000+08:00');
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00');

function alertRow(seq: number, atMs: number, alert: Record<string, unknown>) {
  return { seq, at: atMs, home_id: 'h1', data: JSON.stringify({ type: 'alert', alert }) };
}

const baseAlert = {
  id: 'al-1',
  version: 1,
  kind: 'sos',
  severity: 'critical',
  status: 'open',
  homeId: 'h1',
  deviceId: 'h1-sos',
  raisedAt: iso(T),
  updatedAt: iso(T),
  acknowledgedAt: null,
  resolvedAt: null,
  outcome: null,
  occurrences: 1,
  escalationLevel: 0,
  cancelledByResident: false,
};

/** Every field a point carries is in the schema with a value of the schema's type. */
function expectSchemaTyped(p: TsPoint): void {
  const schema = MEASUREMENTS[p.measurement];
  expect(Object.keys(p.tags).sort()).toEqual([...schema.tags].sort());
  for (const [k, v] of Object.entries(p.fields)) {
    const t = fieldType(p.measurement as MeasurementName, k);
    expect(t, `${p.measurement}.${k}`).toBeDefined();
    if (t === 'integer') expect(Number.isInteger(v)).toBe(true);
    if (t === 'float') expect(typeof v).toBe('number');
    if (t === 'string') expect(typeof v).toBe('string');
    if (t === 'boolean') expect(typeof v).toBe('boolean');
  }
}

describe('rows → points', () => {
  it('turns a journal row into device_event tagged with the device kind, never the alert kind', () => {
    const p = journalPoint(
      {
        seq: 12,
        device_id: 'h1-sos',
        home_id: 'h1',
        received_at: T,
        type: 'sos.pressed',
        payload: JSON.stringify({ type: 'sos.pressed', battery: 80, rssi: -61, batteryLow: false }),
      },
      kindOf,
    );
    expect(p).toEqual({
      measurement: 'device_event',
      tags: { home: 'h1', device: 'h1-sos', kind: 'sos_button', type: 'sos.pressed' },
      fields: { value: 1, seq: 12, battery: 80, rssi: -61, battery_low: false },
      timeNs: `${T}000012`,
    });
    expectSchemaTyped(p!);
    const unknown = journalPoint(
      { seq: 1, device_id: 'gone', home_id: 'h1', received_at: T, type: 'heartbeat', payload: '{}' },
      kindOf,
    );
    expect(unknown?.tags.kind).toBe('unknown');
  });

  it('is deterministic, and offsets rows that share a millisecond by their seq', () => {
    const row = {
      seq: 5,
      device_id: 'h1-door',
      home_id: 'h1',
      received_at: T,
      type: 'door.opened',
      payload: '{"type":"door.opened"}',
    };
    expect(journalPoint(row, kindOf)).toEqual(journalPoint({ ...row }, kindOf));
    const a = journalPoint(row, kindOf)!;
    const b = journalPoint({ ...row, seq: 6 }, kindOf)!;
    expect(a.timeNs).not.toBe(b.timeNs);
    expect(BigInt(a.timeNs) / 1_000_000n).toBe(BigInt(T));
    expect(rowTimeNs(T, 1_000_007)).toBe(`${T}000007`);
  });

  it('marks the raise of an alert (raised = 1, open_delta = +1) and carries no response time yet', () => {
    const p = feedPoint(alertRow(3, T, baseAlert), kindOf)!;
    expect(p.measurement).toBe('alert');
    expect(p.tags).toEqual({ home: 'h1', kind: 'sos', severity: 'critical', status: 'open' });
    expect(p.fields).toEqual({
      alert_id: 'al-1',
      version: 1,
      raised: 1,
      open_delta: 1,
      occurrences: 1,
      escalation_level: 0,
      cancelled_by_resident: false,
      device: 'h1-sos',
    });
    expect(p.timeNs).toBe(`${T}000003`);
    expectSchemaTyped(p);
  });

  it('puts seconds_to_ack (and the 60 s / 180 s flags) only on the transition where the ack happened', () => {
    const ackAt = T + 45_000;
    const acked = {
      ...baseAlert,
      version: 3,
      status: 'acknowledged',
      escalationLevel: 0,
      updatedAt: iso(ackAt),
      acknowledgedAt: iso(ackAt),
    };
    const p = feedPoint(alertRow(9, ackAt, acked), kindOf)!;
    expect(p.fields).toMatchObject({
      raised: 0,
      open_delta: 0,
      seconds_to_ack: 45,
      ack_within_60s: 1,
      ack_within_180s: 1,
    });
    const note = feedPoint(
      alertRow(10, ackAt + 5000, { ...acked, version: 4, updatedAt: iso(ackAt + 5000) }),
      kindOf,
    )!;
    expect(note.fields.seconds_to_ack).toBeUndefined();
    const slowAt = T + 200_000;
    const slow = feedPoint(
      alertRow(11, slowAt, {
        ...acked,
        escalationLevel: 2,
        updatedAt: iso(slowAt),
        acknowledgedAt: iso(slowAt),
      }),
      kindOf,
    )!;
    expect(slow.fields).toMatchObject({
      seconds_to_ack: 200,
      ack_within_60s: 0,
      ack_within_180s: 0,
      escalation_level: 2,
    });
  });

  it('closes the alert on resolve (open_delta = −1, seconds_to_resolve); a resolve without ack carries both', () => {
    const resAt = T + 600_000;
    const resolved = {
      ...baseAlert,
      version: 5,
      status: 'resolved',
      outcome: 'false_alarm',
      updatedAt: iso(resAt),
      acknowledgedAt: iso(T + 30_000),
      resolvedAt: iso(resAt),
    };
    const p = feedPoint(alertRow(20, resAt, resolved), kindOf)!;
    expect(p.tags.status).toBe('resolved');
    expect(p.fields).toMatchObject({ open_delta: -1, seconds_to_resolve: 600, outcome: 'false_alarm' });
    expect(p.fields.seconds_to_ack).toBeUndefined();
    const direct = feedPoint(alertRow(21, resAt, { ...resolved, acknowledgedAt: iso(resAt) }), kindOf)!;
    expect(direct.fields).toMatchObject({ seconds_to_ack: 600, seconds_to_resolve: 600, ack_within_180s: 0 });
    expectSchemaTyped(direct);
  });

  it('turns a device change into device_status (online as 1/0, battery)', () => {
    const row = {
      seq: 30,
      at: T,
      home_id: 'h1',
      data: JSON.stringify({
        type: 'device',
        device: { id: 'h1-door', homeId: 'h1', online: false, battery: 17, lastSeen: iso(T) },
      }),
    };
    const p = feedPoint(row, kindOf)!;
    expect(p).toEqual({
      measurement: 'device_status',
      tags: { home: 'h1', device: 'h1-door', kind: 'door_sensor' },
      fields: { online: 0, battery: 17 },
      timeNs: `${T}000030`,
    });
  });

  it('skips rows it cannot read instead of throwing', () => {
    expect(
      journalPoint(
        { seq: 1, device_id: 'x', home_id: 'h', received_at: T, type: 'heartbeat', payload: 'not json' },
        kindOf,
      ),
    ).toBeUndefined();
    expect(
      feedPoint({ seq: 1, at: T, home_id: 'h', data: '{"type":"something-new"}' }, kindOf),
    ).toBeUndefined();
  });

  it('makes hub_metrics points and refuses fields outside the schema when serialising', () => {
    const m = metricsPoint({
      atMs: T,
      site: 'Wenting Lane',
      connectedDevices: 7,
      ingestRate: 1.5,
      backlogRows: 3,
      journalLagRows: 0,
    });
    expectSchemaTyped(m);
    expect(toLine(m)).toBe(
      `hub_metrics,site=Wenting\\ Lane backlog_rows=3i,connected_devices=7i,ingest_rate=1.5,journal_lag_rows=0i ${T}000000`,
    );
    const bad: TsPoint = { ...m, fields: { nope: 1 } };
    expect(() => toLine(bad)).toThrowError(expect.objectContaining({ code: ErrorCodes.STORE_REJECTED }));
  });
});
