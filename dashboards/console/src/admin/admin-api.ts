import { api } from '../api/endpoints';
import { ApiError, BAD_ANSWER, NETWORK_ERROR, query } from '../api/http';

/** One thing wrong with a change, as the hub says it (in the console's language), by field and CSV row. */
export interface Problem {
  row?: number;
  field: string;
  code: string;
  message: string;
}

/** A refused admin call: the hub's code, and its problems by field. */
export class AdminError extends ApiError {
  constructor(
    code: string,
    message: string,
    status: number,
    readonly problems: Problem[],
  ) {
    super(code, message, status);
    this.name = 'AdminError';
  }
}

export interface Resident {
  id: string;
  name: string;
  birthYear?: number;
  language?: string;
  phone?: string;
  notes?: string;
  wanderingRisk: boolean;
}
export interface Contact {
  name: string;
  relation: string;
  phone?: string;
  email?: string;
  language?: string;
  notify: string[];
  notes?: string;
}
export interface AdminDevice {
  id: string;
  homeId: string;
  kind: string;
  label: string | null;
  zigbee: { gateway: string; friendlyName: string } | null;
  baseTopic: string | null;
  secret: 'set' | 'none' | 'gateway';
  secretAt: string | null;
  online: boolean | null;
  battery: number | null;
  batteryLow: boolean | null;
  lastSeen: string | null;
}
export interface AdminHome {
  id: string;
  address: string;
  grid: string;
  timezone: string | null;
  residents: Resident[];
  contacts: Contact[];
  devices: AdminDevice[];
}
export interface HomeRow {
  id: string;
  address: string;
  grid: string;
  residents: Array<{ id: string; name: string }>;
  contacts: number;
  devices: number;
  offline: number;
  unprovisioned: number;
}
export interface StaffRow {
  id: string;
  name: string;
  role: 'duty' | 'supervisor' | 'admin';
  grids: string[];
  locale: string | null;
}
export interface GridRow {
  id: string;
  name: string;
  homes: number;
  staff: number;
}
export interface Sheet {
  home: { id: string; address: string; grid: string };
  mqtt: { host: string; port: number | null; tlsPort: number | null };
  devices: Array<AdminDevice & { newSecret: string | null }>;
}
export interface ImportAnswer {
  dryRun: boolean;
  created: number;
  updated: number;
  homes: { created: number; updated: number };
  devices: { created: number; updated: number };
  problems: Problem[];
}
export interface Change {
  position: number;
  at: string;
  actor: string;
  op: string;
  target: string;
  before: unknown;
  after: unknown;
}

let language = 'zh-CN';
/** The hub answers problems in this language (the console's). */
export function setAdminLanguage(lang: string): void {
  language = lang;
}

async function call<T>(method: string, path: string, body?: unknown, csv = false): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        'accept-language': language,
        ...(body === undefined
          ? {}
          : { 'content-type': csv ? 'text/csv; charset=utf-8' : 'application/json' }),
      },
      ...(body === undefined ? {} : { body: csv ? (body as string) : JSON.stringify(body) }),
    });
  } catch (err) {
    throw new ApiError(NETWORK_ERROR, err instanceof Error ? err.message : String(err), 0);
  }
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new ApiError(BAD_ANSWER, `HTTP ${res.status}`, res.status);
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; problems?: Problem[] } } | null)?.error;
    // A session that ended: the shared client notices (and shows the login) on its next call.
    if (res.status === 401) void api.me().catch(() => {});
    throw new AdminError(
      e?.code ?? `HTTP_${res.status}`,
      e?.message ?? `HTTP ${res.status}`,
      res.status,
      e?.problems ?? [],
    );
  }
  return json as T;
}

const enc = encodeURIComponent;

/** The site administration endpoints (docs/api.md, "Site administration"). */
export const adminApi = {
  homes: (q: { q?: string; grid?: string; offset?: number; limit?: number }) =>
    call<{ total: number; homes: HomeRow[] }>('GET', `/api/v1/admin/homes${query(q)}`),
  home: async (id: string) => (await call<{ home: AdminHome }>('GET', `/api/v1/admin/homes/${enc(id)}`)).home,
  createHome: async (body: object) => (await call<{ home: AdminHome }>('POST', '/api/v1/homes', body)).home,
  patchHome: async (id: string, body: object, force = false) =>
    (await call<{ home: AdminHome }>('PATCH', `/api/v1/homes/${enc(id)}${force ? '?force=1' : ''}`, body))
      .home,
  deleteHome: (id: string, force = false) =>
    call<{ ok: boolean }>('DELETE', `/api/v1/homes/${enc(id)}${force ? '?force=1' : ''}`),

  devices: (q: { q?: string; status?: string; offset?: number; limit?: number }) =>
    call<{ total: number; devices: AdminDevice[] }>('GET', `/api/v1/admin/devices${query(q)}`),
  addDevice: (homeId: string, body: object) =>
    call<{ device: AdminDevice; secret: string | null }>(
      'POST',
      `/api/v1/homes/${enc(homeId)}/devices`,
      body,
    ),
  patchDevice: async (id: string, body: object) =>
    (await call<{ device: AdminDevice }>('PATCH', `/api/v1/devices/${enc(id)}`, body)).device,
  rotate: (id: string) =>
    call<{ device: AdminDevice; secret: string }>('POST', `/api/v1/devices/${enc(id)}/secret`),
  retire: (id: string) => call<{ ok: boolean }>('DELETE', `/api/v1/devices/${enc(id)}`),
  provision: (homeId: string, all: boolean) =>
    call<Sheet>('POST', `/api/v1/homes/${enc(homeId)}/provision${all ? '?all=1' : ''}`),

  staff: async () => (await call<{ staff: StaffRow[] }>('GET', '/api/v1/staff')).staff,
  createStaff: (body: object) => call<{ staff: StaffRow }>('POST', '/api/v1/staff', body),
  patchStaff: (id: string, body: object) =>
    call<{ staff: StaffRow }>('PATCH', `/api/v1/staff/${enc(id)}`, body),
  deleteStaff: (id: string) => call<{ ok: boolean }>('DELETE', `/api/v1/staff/${enc(id)}`),

  grids: async () => (await call<{ grids: GridRow[] }>('GET', '/api/v1/grids')).grids,
  createGrid: (body: object) => call<{ grid: GridRow }>('POST', '/api/v1/grids', body),
  patchGrid: (id: string, body: object) => call<{ grid: GridRow }>('PATCH', `/api/v1/grids/${enc(id)}`, body),
  deleteGrid: (id: string) => call<{ ok: boolean }>('DELETE', `/api/v1/grids/${enc(id)}`),

  importCsv: (text: string, dryRun: boolean) =>
    call<ImportAnswer>('POST', `/api/v1/import${dryRun ? '?dryRun=1' : ''}`, text, true),
  changes: async (q: { homeId?: string; target?: string; limit?: number }) =>
    (await call<{ changes: Change[] }>('GET', `/api/v1/directory/changes${query(q)}`)).changes,
};

/** The export, as a file the browser saves (with the session cookie). */
export const exportHref = (format: 'csv' | 'yaml' | 'json') => `/api/v1/export?format=${format}`;

/** Problems by field (the first for each), for messages next to the form's inputs. */
export function problemsByField(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (err instanceof AdminError) for (const p of err.problems) out[p.field] ??= p.message;
  return out;
}
