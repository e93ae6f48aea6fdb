import { ALERT_KINDS, type AlertKind } from '../../../hub/src/model/alert.js';
import type { Incident, IncidentExpectation } from './incidents.js';

export interface RecordedAlert {
  id: string;
  kind: AlertKind;
  homeId: string;
  deviceId: string | null;
  raisedAtMs: number;
}

export interface Detection {
  incident: Incident;
  expect: IncidentExpectation;
  alertId?: string;
  delayMs?: number;
}

export interface RuleStats {
  kind: AlertKind;
  alerts: number;
  genuine: number;
  false: number;
  falsePerResidentDay: number;
  /** Incidents that should raise this kind, and how many did. */
  expected: number;
  detected: number;
  delaysMs: number[];
}

export interface Score {
  residentDays: number;
  rules: RuleStats[];
  detections: Detection[];
  falseAlerts: RecordedAlert[];
  falseTotal: number;
  falsePerResidentDay: number;
}

const matches = (a: RecordedAlert, e: IncidentExpectation) =>
  a.kind === e.kind && (e.deviceId === undefined || a.deviceId === e.deviceId) && a.raisedAtMs >= e.onset;

/** The incident an alert belongs to: same home, a kind the incident causes, raised after its onset. */
export function attribute(alert: RecordedAlert, incidents: readonly Incident[]): Incident | undefined {
  return incidents.find((i) => i.homeId === alert.homeId && i.expects.some((e) => matches(alert, e)));
}

/**
 * Per rule (alert kind): how many alerts, how many belong to an injected incident, how many are
 * false (no incident explains them), detections of the incidents and their delays.
 */
export function score(
  alerts: readonly RecordedAlert[],
  incidents: readonly Incident[],
  residentDays: number,
): Score {
  const byTime = [...alerts].sort((a, b) => a.raisedAtMs - b.raisedAtMs);
  const detections: Detection[] = incidents.flatMap((incident) =>
    incident.expects.map((expect) => {
      const first = byTime.find((a) => a.homeId === incident.homeId && matches(a, expect));
      return first
        ? { incident, expect, alertId: first.id, delayMs: first.raisedAtMs - expect.onset }
        : { incident, expect };
    }),
  );
  const falseAlerts = byTime.filter((a) => attribute(a, incidents) === undefined);
  const rules = ALERT_KINDS.map((kind): RuleStats => {
    const mine = byTime.filter((a) => a.kind === kind);
    const wrong = falseAlerts.filter((a) => a.kind === kind).length;
    const det = detections.filter((d) => d.expect.kind === kind);
    return {
      kind,
      alerts: mine.length,
      genuine: mine.length - wrong,
      false: wrong,
      falsePerResidentDay: residentDays > 0 ? wrong / residentDays : 0,
      expected: det.length,
      detected: det.filter((d) => d.alertId !== undefined).length,
      delaysMs: det.flatMap((d) => (d.delayMs === undefined ? [] : [d.delayMs])),
    };
  });
  return {
    residentDays,
    rules,
    detections,
    falseAlerts,
    falseTotal: falseAlerts.length,
    falsePerResidentDay: residentDays > 0 ? falseAlerts.length / residentDays : 0,
  };
}
