import type { Alert } from '../../../hub/src/model/alert.js';
import type { Expectation } from './load.js';

export interface ObservedAlert {
  id: string;
  kind: string;
  homeId: string;
  deviceId: string | null;
  raisedAtMs: number;
  raisedAt: string;
  occurrences: number;
  cancelledByResident: boolean;
  status: string;
}

export type ExpectationStatus =
  | 'matched'
  | 'missing'
  | 'outside_window'
  | 'wrong_occurrences'
  | 'wrong_cancelled';

export interface ExpectationResult {
  expect: Expectation;
  /** The window the alert had to be raised in (epoch ms). */
  from: number;
  to: number;
  status: ExpectationStatus;
  alert?: ObservedAlert;
  /** Raised this long after the cause (or the start). */
  delayMs?: number;
}

export interface Verdict {
  ok: boolean;
  expectations: ExpectationResult[];
  /** Alerts no expectation accounts for: each one is a false alert of the drill. */
  unexpected: ObservedAlert[];
}

export function observed(alert: Alert): ObservedAlert {
  return {
    id: alert.id,
    kind: alert.kind,
    homeId: alert.homeId,
    deviceId: alert.deviceId,
    raisedAtMs: Date.parse(alert.raisedAt),
    raisedAt: alert.raisedAt,
    occurrences: alert.occurrences,
    cancelledByResident: alert.cancelledByResident,
    status: alert.status,
  };
}

/**
 * Matches expectations to alerts one to one. An expectation takes the earliest alert of its kind,
 * home (and device) raised inside its window with the right occurrence count; failing that, a
 * near miss (outside the window, wrong count) is reported as such. Whatever is left is unexpected.
 */
export function judge(
  expectations: readonly Expectation[],
  alerts: readonly ObservedAlert[],
  anchorOf: (e: Expectation) => number,
  end: number,
): Verdict {
  const left = [...alerts].sort((a, b) => a.raisedAtMs - b.raisedAtMs);
  const take = (a: ObservedAlert) => left.splice(left.indexOf(a), 1);
  const results: ExpectationResult[] = [];
  for (const e of expectations) {
    const from = anchorOf(e);
    const to = e.within === undefined ? end : from + e.within;
    const same = left.filter(
      (a) => a.kind === e.kind && a.homeId === e.home && (e.device === undefined || a.deviceId === e.device),
    );
    const inWindow = same.filter((a) => a.raisedAtMs >= from && a.raisedAtMs <= to);
    const counted = inWindow.filter((a) => e.occurrences === undefined || a.occurrences === e.occurrences);
    const exact = counted.find((a) => e.cancelled === undefined || a.cancelledByResident === e.cancelled);
    let result: ExpectationResult;
    if (exact) result = { expect: e, from, to, status: 'matched', alert: exact };
    else if (counted[0]) result = { expect: e, from, to, status: 'wrong_cancelled', alert: counted[0] };
    else if (inWindow[0]) result = { expect: e, from, to, status: 'wrong_occurrences', alert: inWindow[0] };
    else if (same[0]) result = { expect: e, from, to, status: 'outside_window', alert: same[0] };
    else result = { expect: e, from, to, status: 'missing' };
    if (result.alert) {
      take(result.alert);
      result.delayMs = result.alert.raisedAtMs - from;
    }
    results.push(result);
  }
  return {
    ok: results.every((r) => r.status === 'matched') && left.length === 0,
    expectations: results,
    unexpected: left,
  };
}
