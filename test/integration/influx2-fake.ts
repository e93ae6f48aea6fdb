import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * NOT InfluxDB: no 2.x server can run here, so this is a small local HTTP server that checks the
 * exact requests the 2.x backend sends and answers the way InfluxDB 2 documents it:
 *   POST /api/v2/write?org=&bucket=&precision=ns  (Authorization: Token …, line protocol body) → 204,
 *     422 "partial write: field type conflict … dropped=N", 400 unparsable, 401, 404 bucket
 *   POST /api/v2/query?org=  (JSON {query, dialect}) → annotated CSV; it understands only the Flux
 *     template Influx2Backend.select() produces (from/range/filter/pivot/group/sort/limit)
 *   POST /api/v2/delete?org=&bucket=  (JSON {start, stop, predicate})
 *   GET /api/v2/buckets?org=&name=, GET /ping
 * Points are stored by series + timestamp, so a rewrite overwrites like the real thing.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

type Value = { type: 'integer' | 'float' | 'string' | 'boolean'; v: number | string | boolean };

interface StoredPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, Value>;
  timeNs: bigint;
}

export class Influx2Fake {
  readonly requests: RecordedRequest[] = [];
  readonly points = new Map<string, StoredPoint>();
  /** 'ok'; 'unavailable' answers 503; 'down' drops every connection without an answer. */
  mode: 'ok' | 'unavailable' | 'down' = 'ok';
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #types = new Map<string, Value['type']>();
  url = '';

  constructor(
    readonly org = 'carehub-org',
    readonly bucket = 'carehub',
    readonly token = 'test-token-2x',
  ) {}

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => void this.#handle(req, res));
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const addr = server.address();
    this.url = `http://127.0.0.1:${addr && typeof addr === 'object' ? addr.port : 0}`;
    this.#server = server;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  /** Forget every point and field type (a fresh bucket). */
  reset(): void {
    this.points.clear();
    this.#types.clear();
  }

  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/api/v2/write');
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const rec: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.requests.push(rec);
    if (this.mode === 'down') {
      req.socket.destroy();
      return;
    }
    if (this.mode === 'unavailable')
      return json(res, 503, { code: 'unavailable', message: 'service unavailable' });
    if (rec.method === 'GET' && rec.path === '/ping') {
      res.writeHead(204).end();
      return;
    }
    if (req.headers.authorization !== `Token ${this.token}`)
      return json(res, 401, { code: 'unauthorized', message: 'unauthorized access' });
    if (rec.query.org !== this.org)
      return json(res, 404, { code: 'not found', message: `organization name "${rec.query.org}" not found` });
    if (rec.method === 'GET' && rec.path === '/api/v2/buckets') {
      return json(res, 200, { buckets: rec.query.name === this.bucket ? [{ name: this.bucket }] : [] });
    }
    if (rec.method === 'POST' && rec.path === '/api/v2/write') return this.#write(rec, res);
    if (rec.method === 'POST' && rec.path === '/api/v2/query') return this.#query(rec, res);
    if (rec.method === 'POST' && rec.path === '/api/v2/delete') return this.#delete(rec, res);
    json(res, 404, { code: 'not found', message: 'path not found' });
  }

  #write(rec: RecordedRequest, res: ServerResponse): ServerResponse {
    if (rec.query.bucket !== this.bucket)
      return json(res, 404, { code: 'not found', message: `bucket "${rec.query.bucket}" not found` });
    if (rec.query.precision !== 'ns')
      return json(res, 400, { code: 'invalid', message: 'this fake expects precision=ns' });
    const parsed: StoredPoint[] = [];
    for (const line of rec.body.split('\n')) {
      if (!line.trim()) continue;
      try {
        parsed.push(parseLine(line));
      } catch (err) {
        return json(res, 400, {
          code: 'invalid',
          message: `unable to parse '${line}': ${(err as Error).message}`,
        });
      }
    }
    let dropped = 0;
    let conflict = '';
    for (const p of parsed) {
      const bad = Object.entries(p.fields).find(([k, v]) => {
        const t = this.#types.get(`${p.measurement}\u0000${k}`);
        return t !== undefined && t !== v.type;
      });
      if (bad) {
        dropped++;
        conflict = `input field "${bad[0]}" on measurement "${p.measurement}" is type ${bad[1].type}, already exists as type ${this.#types.get(`${p.measurement}\u0000${bad[0]}`)}`;
        continue;
      }
      for (const [k, v] of Object.entries(p.fields)) this.#types.set(`${p.measurement}\u0000${k}`, v.type);
      const key = seriesKey(p);
      const prev = this.points.get(key);
      this.points.set(key, prev ? { ...p, fields: { ...prev.fields, ...p.fields } } : p);
    }
    if (dropped > 0) {
      return json(res, 422, {
        code: 'unprocessable entity',
        message: `failure writing points to database: partial write: field type conflict: ${conflict} dropped=${dropped}`,
      });
    }
    return res.writeHead(204).end();
  }

  #query(rec: RecordedRequest, res: ServerResponse): ServerResponse {
    const { query } = JSON.parse(rec.body) as { query: string };
    const str = '"((?:[^"\\\\]|\\\\.)*)"';
    const bucket = new RegExp(`from\\(bucket: ${str}\\)`).exec(query)?.[1];
    const range = /range\(start: (\S+), stop: (\S+)\)/.exec(query);
    const measurement = new RegExp(`r\\._measurement == ${str}`).exec(query)?.[1];
    if (bucket !== this.bucket || !range?.[1] || !range[2] || measurement === undefined) {
      return json(res, 400, {
        code: 'invalid',
        message: `this fake does not understand the query:\n${query}`,
      });
    }
    const start = BigInt(Date.parse(range[1])) * 1_000_000n;
    const stop = BigInt(Date.parse(range[2])) * 1_000_000n;
    const tagFilters: Array<Array<[string, string]>> = [];
    for (const line of query.split('\n')) {
      if (!line.includes('filter(') || line.includes('_measurement')) continue;
      tagFilters.push(
        [...line.matchAll(new RegExp(`r\\[${str}\\] == ${str}`, 'g'))].map((m) => [
          unquote(m[1] ?? ''),
          unquote(m[2] ?? ''),
        ]),
      );
    }
    const desc = /desc: true/.test(query);
    const limit = Number(/limit\(n: (\d+)\)/.exec(query)?.[1] ?? Number.POSITIVE_INFINITY);
    let rows = [...this.points.values()].filter(
      (p) =>
        p.measurement === unquote(measurement) &&
        p.timeNs >= start &&
        p.timeNs < stop &&
        tagFilters.every((any) => any.some(([k, v]) => p.tags[k] === v)),
    );
    rows.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0) * (desc ? -1 : 1));
    rows = rows.slice(0, limit);
    return res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' }).end(toCsv(rows));
  }

  #delete(rec: RecordedRequest, res: ServerResponse): ServerResponse {
    if (rec.query.bucket !== this.bucket)
      return json(res, 404, { code: 'not found', message: `bucket "${rec.query.bucket}" not found` });
    const { start, stop, predicate } = JSON.parse(rec.body) as {
      start: string;
      stop: string;
      predicate: string;
    };
    const from = BigInt(Date.parse(start)) * 1_000_000n;
    const to = BigInt(Date.parse(stop)) * 1_000_000n;
    const terms = predicate.split(' AND ').map((t) => {
      const m = /^(\w+)="((?:[^"\\]|\\.)*)"$/.exec(t.trim());
      if (!m?.[1]) throw new Error(`bad predicate ${predicate}`);
      return [m[1], unquote(m[2] ?? '')] as const;
    });
    for (const [key, p] of this.points) {
      if (p.timeNs < from || p.timeNs > to) continue;
      if (terms.every(([k, v]) => (k === '_measurement' ? p.measurement === v : p.tags[k] === v)))
        this.points.delete(key);
    }
    return res.writeHead(204).end();
  }
}

function json(res: ServerResponse, status: number, body: unknown): ServerResponse {
  return res
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
    .end(JSON.stringify(body));
}

const unquote = (s: string): string => s.replace(/\\(.)/g, '$1');

function seriesKey(p: StoredPoint): string {
  const tags = Object.keys(p.tags)
    .sort()
    .map((k) => `${k}=${p.tags[k]}`)
    .join(',');
  return `${p.measurement},${tags} ${p.timeNs}`;
}

/** Split on an unescaped separator outside double quotes. */
function split(s: string, sep: string, limit = Number.POSITIVE_INFINITY): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted && out.length < limit - 1) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

export function parseLine(line: string): StoredPoint {
  const [head, fieldPart, time] = split(line, ' ', 3);
  if (!head || !fieldPart || !time || !/^-?\d+$/.test(time))
    throw new Error('want "measurement,tags fields timestamp"');
  const [measurement, ...tagPairs] = split(head, ',');
  const tags: Record<string, string> = {};
  for (const pair of tagPairs) {
    const [k, v] = split(pair, '=', 2);
    if (!k || v === undefined || v === '') throw new Error(`bad tag ${pair}`);
    tags[unquote(k)] = unquote(v);
  }
  const fields: Record<string, Value> = {};
  for (const pair of split(fieldPart, ',')) {
    const [k, raw] = split(pair, '=', 2);
    if (!k || raw === undefined || raw === '') throw new Error(`bad field ${pair}`);
    let value: Value;
    if (raw.startsWith('"')) value = { type: 'string', v: raw.slice(1, -1).replace(/\\(["\\])/g, '$1') };
    else if (/^-?\d+i$/.test(raw)) value = { type: 'integer', v: Number(raw.slice(0, -1)) };
    else if (/^(t|T|true|True|TRUE|f|F|false|False|FALSE)$/.test(raw))
      value = { type: 'boolean', v: /^t/i.test(raw) };
    else if (Number.isFinite(Number(raw))) value = { type: 'float', v: Number(raw) };
    else throw new Error(`bad field value ${raw}`);
    fields[unquote(k)] = value;
  }
  return { measurement: unquote(measurement ?? ''), tags, fields, timeNs: BigInt(time) };
}

const csvCell = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const FLUX_TYPES = { integer: 'long', float: 'double', string: 'string', boolean: 'boolean' } as const;

function rfc3339Nano(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString();
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/** One table (after pivot + group()): annotated CSV as InfluxDB 2 sends it. */
function toCsv(rows: StoredPoint[]): string {
  const tagCols = [...new Set(rows.flatMap((r) => Object.keys(r.tags)))].sort();
  const fieldTypes = new Map<string, Value['type']>();
  for (const r of rows) for (const [k, v] of Object.entries(r.fields)) fieldTypes.set(k, v.type);
  const fieldCols = [...fieldTypes.keys()].sort();
  const cols = ['result', 'table', '_time', '_measurement', ...tagCols, ...fieldCols];
  const types = [
    'string',
    'long',
    'dateTime:RFC3339',
    'string',
    ...tagCols.map(() => 'string'),
    ...fieldCols.map((f) => FLUX_TYPES[fieldTypes.get(f) ?? 'string']),
  ];
  const lines = [
    `#datatype,${types.join(',')}`,
    `#group,${cols.map(() => 'false').join(',')}`,
    `#default,_result,${cols
      .slice(1)
      .map(() => '')
      .join(',')}`,
    `,${cols.join(',')}`,
  ];
  for (const r of rows) {
    const cells = [
      '',
      '0',
      rfc3339Nano(r.timeNs),
      r.measurement,
      ...tagCols.map((t) => r.tags[t] ?? ''),
      ...fieldCols.map((f) => {
        const v = r.fields[f];
        return v === undefined ? '' : String(v.v);
      }),
    ];
    lines.push(`,${cells.map(csvCell).join(',')}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
