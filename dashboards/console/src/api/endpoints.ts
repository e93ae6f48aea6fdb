import { query, request } from './http';
import type {
  Alert,
  AlertNotifications,
  CheckinReport,
  DeviceEvent,
  Home,
  HomeCheckins,
  HomeModeName,
  HomeRhythm,
  Outcome,
  ResponseTimesReport,
  Session,
  Staff,
  StaffSummary,
  TestSendResult,
} from './types';

interface SessionAnswer {
  staff: Staff;
  site?: { locale?: string | null } | null;
}

function toSession(a: SessionAnswer): Session {
  return { staff: a.staff, siteLocale: a.site?.locale ?? null };
}

const enc = encodeURIComponent;

/** Typed calls for every endpoint of PROTOCOL.md §3 the console uses. */
export const api = {
  login: async (username: string, password: string): Promise<Session> =>
    toSession(await request<SessionAnswer>('POST', '/api/v1/login', { username, password })),
  logout: () => request<{ ok: boolean }>('POST', '/api/v1/logout'),
  me: async (): Promise<Session> => toSession(await request<SessionAnswer>('GET', '/api/v1/me')),

  alert: async (id: string) => (await request<{ alert: Alert }>('GET', `/api/v1/alerts/${enc(id)}`)).alert,
  ack: async (id: string) =>
    (await request<{ alert: Alert }>('POST', `/api/v1/alerts/${enc(id)}/ack`, {})).alert,
  resolve: async (id: string, outcome: Outcome, note: string) =>
    (
      await request<{ alert: Alert }>('POST', `/api/v1/alerts/${enc(id)}/resolve`, {
        outcome,
        ...(note ? { note } : {}),
      })
    ).alert,
  note: async (id: string, text: string) =>
    (await request<{ alert: Alert }>('POST', `/api/v1/alerts/${enc(id)}/notes`, { text })).alert,
  assign: async (id: string, staffId: string) =>
    (await request<{ alert: Alert }>('POST', `/api/v1/alerts/${enc(id)}/assign`, { staffId })).alert,
  staff: async () => (await request<{ staff: StaffSummary[] }>('GET', '/api/v1/staff')).staff,

  homes: async () => (await request<{ homes: Home[] }>('GET', '/api/v1/homes')).homes,
  home: async (id: string) => (await request<{ home: Home }>('GET', `/api/v1/homes/${enc(id)}`)).home,
  setMode: async (id: string, mode: HomeModeName, until: string | null) =>
    (
      await request<{ home: Home }>('POST', `/api/v1/homes/${enc(id)}/mode`, {
        mode,
        ...(until ? { until } : {}),
      })
    ).home,
  /** Override what the hub learned of a home's rhythm (hours, or null for what was learned), or forget it. */
  setRhythm: (id: string, change: { askAfterHours: number | null } | { forget: true }) =>
    request<{ rhythm: HomeRhythm; checkins: HomeCheckins }>(
      'POST',
      `/api/v1/homes/${enc(id)}/rhythm`,
      change,
    ),
  deviceEvents: async (id: string, p: { from?: string; to?: string; limit?: number }) =>
    (await request<{ events: DeviceEvent[] }>('GET', `/api/v1/devices/${enc(id)}/events${query(p)}`)).events,

  notifications: (id: string) =>
    request<AlertNotifications>('GET', `/api/v1/alerts/${enc(id)}/notifications`),
  testSend: (homeId: string, contact: number, channel: string) =>
    request<TestSendResult>('POST', '/api/v1/notifications/test', { homeId, contact, channel }),

  mute: (muted: boolean) => request<{ ok: boolean }>('POST', '/api/v1/console/mute', { muted }),
  checkinReport: (from: string, to: string) =>
    request<CheckinReport>('GET', `/api/v1/reports/checkins${query({ from, to })}`),
  responseTimes: (from: string, to: string) =>
    request<ResponseTimesReport>('GET', `/api/v1/reports/response-times${query({ from, to })}`),
};
