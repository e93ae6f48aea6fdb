import type { Alert, Severity } from '../api/types';

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };
/** Within one severity, fire first, then SOS, then everything else. */
const KIND_RANK: Record<string, number> = { smoke: 0, sos: 1 };

function rank(a: Alert): [number, number, number] {
  return [SEVERITY_RANK[a.severity] ?? 9, KIND_RANK[a.kind] ?? 2, Date.parse(a.raisedAt) || 0];
}

/** Severity (critical smoke above critical SOS), then age: oldest first. */
export function compareAlerts(a: Alert, b: Alert): number {
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < ra.length; i++) {
    const d = (ra[i] ?? 0) - (rb[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export interface Incident {
  /** incidentId, or the alert id for an alert that carries none. */
  id: string;
  homeId: string;
  alerts: Alert[];
}

/** Alerts grouped by incident; each group sorted, groups ordered by their most urgent alert. */
export function groupIncidents(alerts: readonly Alert[]): Incident[] {
  const groups = new Map<string, Incident>();
  for (const a of [...alerts].sort(compareAlerts)) {
    const key = a.incidentId ?? `alert:${a.id}`;
    let g = groups.get(key);
    if (!g) {
      g = { id: key, homeId: a.homeId, alerts: [] };
      groups.set(key, g);
    }
    g.alerts.push(a);
  }
  return [...groups.values()];
}

/** Critical alerts nobody has acknowledged yet: these sound the alarm. */
export function sounding(alerts: readonly Alert[]): Alert[] {
  return alerts.filter((a) => a.severity === 'critical' && a.status === 'open').sort(compareAlerts);
}
