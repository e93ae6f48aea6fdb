import type { Alert, Outcome } from '../../../hub/src/model/alert.js';

/** An HTTP answer that was not 2xx, with the hub's error code when it sent one. */
export class HubApiError extends Error {
  override name = 'HubApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export interface HomeDetail {
  id: string;
  mode: { mode: string; until: string | null };
  devices: Array<{
    id: string;
    kind: string;
    online: boolean | null;
    battery: number | null;
    lastSeen: string | null;
  }>;
}

export interface CheckinCounts {
  sent: number;
  daily: number;
  answered: number;
  activity: number;
  missed: number;
  capped: number;
}

export interface CheckinReport {
  from: string;
  to: string;
  homes: Array<CheckinCounts & { homeId: string; answerRate: number | null }>;
  total: CheckinCounts;
}

export interface ClockReading {
  now: string;
  nowMs: number;
}

/**
 * The slice of the hub's HTTP API (PROTOCOL.md §3) the drills use: log in as a supervisor, read and
 * advance the drill clock, list and resolve alerts, set a home's mode, read health and metrics.
 */
export class HubClient {
  #token: string | undefined;

  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async login(username: string, password: string): Promise<void> {
    const body = await this.#request<{ token: string }>(
      'POST',
      '/api/v1/login',
      { username, password },
      false,
    );
    this.#token = body.token;
  }

  clock(): Promise<ClockReading> {
    return this.#request('GET', '/api/v1/clock');
  }

  /** Move the drill clock forward; every hub timer that falls due fires, in order, before this returns. */
  advance(ms: number): Promise<ClockReading> {
    return this.#request('POST', '/api/v1/clock/advance', { ms: Math.round(ms) });
  }

  /** Every alert raised at or after `fromMs` (all pages), oldest first. */
  async alertsSince(fromMs: number, status?: 'open' | 'unresolved'): Promise<Alert[]> {
    const out: Alert[] = [];
    let cursor: string | null = null;
    do {
      const q = new URLSearchParams({ from: String(fromMs), limit: '500' });
      if (status) q.set('status', status);
      if (cursor) q.set('cursor', cursor);
      const page: { alerts: Alert[]; nextCursor: string | null } = await this.#request(
        'GET',
        `/api/v1/alerts?${q}`,
      );
      out.push(...page.alerts);
      cursor = page.nextCursor;
    } while (cursor);
    return out.sort((a, b) => Date.parse(a.raisedAt) - Date.parse(b.raisedAt) || a.id.localeCompare(b.id));
  }

  async acknowledge(alertId: string): Promise<Alert> {
    const body = await this.#request<{ alert: Alert }>(
      'POST',
      `/api/v1/alerts/${encodeURIComponent(alertId)}/ack`,
      {},
    );
    return body.alert;
  }

  async resolve(alertId: string, outcome: Outcome, note?: string): Promise<Alert> {
    const body = await this.#request<{ alert: Alert }>(
      'POST',
      `/api/v1/alerts/${encodeURIComponent(alertId)}/resolve`,
      {
        outcome,
        ...(note === undefined ? {} : { note }),
      },
    );
    return body.alert;
  }

  async setMode(homeId: string, mode: 'home' | 'away' | 'maintenance', until?: string): Promise<void> {
    await this.#request('POST', `/api/v1/homes/${encodeURIComponent(homeId)}/mode`, {
      mode,
      ...(until === undefined ? {} : { until }),
    });
  }

  /** A home with its devices' status (online, battery, lastSeen). */
  async home(homeId: string): Promise<HomeDetail> {
    const body = await this.#request<{ home: HomeDetail }>(
      'GET',
      `/api/v1/homes/${encodeURIComponent(homeId)}`,
    );
    return body.home;
  }

  /** Check-in prompts per home in [from, to) (GET /api/v1/reports/checkins). */
  checkinReport(fromMs: number, toMs: number): Promise<CheckinReport> {
    const q = `from=${encodeURIComponent(new Date(fromMs).toISOString())}&to=${encodeURIComponent(new Date(toMs).toISOString())}`;
    return this.#request('GET', `/api/v1/reports/checkins?${q}`);
  }

  health(): Promise<{ status: string; checks: Record<string, unknown> }> {
    return this.#request('GET', '/healthz', undefined, false);
  }

  async metrics(): Promise<string> {
    const res = await this.#fetch('GET', '/metrics', undefined, false);
    return res.text();
  }

  async #request<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    const res = await this.#fetch(method, path, body, auth);
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new HubApiError(
        `${method} ${path}: the hub answered ${res.status} with non-JSON`,
        res.status,
        undefined,
      );
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } }).error;
      throw new HubApiError(
        `${method} ${path}: ${res.status} ${err?.code ?? ''} ${err?.message ?? text.slice(0, 200)}`.trim(),
        res.status,
        err?.code,
      );
    }
    return json as T;
  }

  async #fetch(method: string, path: string, body: unknown, auth: boolean): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (auth) {
      if (!this.#token) throw new Error('HubClient: log in first');
      headers.authorization = `Bearer ${this.#token}`;
    }
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new HubApiError(
        `${method} ${this.baseUrl}${path}: cannot reach the hub (${cause})`,
        0,
        undefined,
      );
    }
  }
}
