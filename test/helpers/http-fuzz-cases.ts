import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import fc from 'fast-check';

/**
 * fast-check arbitraries for raw HTTP/1.1 requests and WebSocket upgrade requests against the hub
 * (test/integration/http-fuzz.test.ts), and a raw exchange over node:net that reads the status of
 * the hub's answer. Requests are always framed (a correct Content-Length, or correct chunks) so every
 * one of them is complete and must be answered.
 */

export interface Secrets {
  /** A live session token the generator may use (and so may log out). */
  token: string;
  /** The hub's own origin, e.g. http://127.0.0.1:8080. */
  origin: string;
}

const PATHS = [
  '/',
  '/index.html',
  '/assets/app.js',
  '/api',
  '/api/',
  '/api/v1/login',
  '/api/v1/logout',
  '/api/v1/me',
  '/api/v1/alerts',
  '/api/v1/alerts/al-1',
  '/api/v1/alerts/al-1/ack',
  '/api/v1/alerts/al-1/resolve',
  '/api/v1/alerts/al-1/notes',
  '/api/v1/alerts/al-1/assign',
  '/api/v1/homes',
  '/api/v1/homes/h1',
  '/api/v1/homes/h3',
  '/api/v1/homes/h1/mode',
  '/api/v1/devices/h1-sos/events',
  '/api/v1/staff',
  '/api/v1/console/mute',
  '/api/v1/audit',
  '/api/v1/reports/response-times',
  '/api/v1/clock',
  '/api/v1/clock/advance',
  '/api/v1/feed',
  '/mqtt',
  '/healthz',
  '/metrics',
];

/** Pieces that broke or bend URL and path handling: bad escapes, brackets, dot segments, NUL, non-ASCII. */
const NASTY = [
  '%',
  '%E0%A4%A',
  '%ff',
  '%00',
  '%2e%2e',
  '%2F',
  '[',
  ']',
  '//',
  '..',
  '/../../etc/passwd',
  '\\',
  ';',
  '@',
  ':',
  '#',
  '*',
  '~',
  'é',
  '\u00ff',
  '%u0041',
  '%C0%AE',
  '\t',
  '{',
  '|',
  '`',
];

const printable = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});
/** Bytes a header value may carry on the wire: visible ASCII, space, tab and obs-text. */
const headerBytes = fc.string({
  unit: fc
    .oneof(
      { weight: 20, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
      { weight: 1, arbitrary: fc.constant(0x09) },
      { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
    )
    .map((c) => String.fromCharCode(c)),
  maxLength: 60,
});
/** Also control bytes, which node refuses in a header value (400). */
const wildBytes = fc.string({
  unit: fc
    .integer({ min: 0x00, max: 0xff })
    .map((c) => String.fromCharCode(c === 0x0a || c === 0x0d ? 0x20 : c)),
  maxLength: 20,
});

const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?status=open',
    '?limit=0',
    '?limit=99999',
    '?cursor=%%%',
    '?from=yesterday',
    '?a=1&a=2',
    '?__proto__=1',
  ),
  printable.map((s) => `?${s}`),
);

const target = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...PATHS), query).map(([p, q]) => p + q) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...PATHS),
        fc.array(fc.constantFrom(...NASTY), { minLength: 1, maxLength: 4 }),
        fc.nat(),
      )
      .map(([p, bits, at]) => {
        const i = at % (p.length + 1);
        return p.slice(0, i) + bits.join('') + p.slice(i);
      }),
  },
  { weight: 2, arbitrary: printable.map((s) => `/${s}`) },
  { weight: 1, arbitrary: wildBytes.map((s) => `/${s.replace(/ /g, '')}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '*',
      '//[',
      'http://127.0.0.1/api/v1/alerts',
      'http://evil.example/',
      'example.com:443',
      '',
      `/${'a'.repeat(3000)}`,
      `/api/v1/alerts/${'x'.repeat(200)}`,
      `/?${'q=1&'.repeat(1500)}`,
    ),
  },
);

const method = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom('GET', 'POST', 'GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'TRACE',
      'CONNECT',
      'PROPFIND',
      'QUERY',
      'SEARCH',
      'PURGE',
      'get',
      'G\x00T',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,12}$/) },
);

const version = fc.oneof(
  { weight: 12, arbitrary: fc.constant('HTTP/1.1') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'HTTP/1.0',
      'HTTP/2.0',
      'HTTP/0.9',
      'HTTP/1.x',
      'HTTP/1.1 extra',
      '',
      'http/1.1',
    ),
  },
);

function headerValues(s: Secrets): Record<string, fc.Arbitrary<string>> {
  const cookieValue = fc.oneof(
    fc.constant(s.token),
    fc.constantFrom('%E0%A4%A', '%', '%%', '"', '"unterminated', '', 'x'.repeat(300), '%00', 'a;b'),
    headerBytes,
  );
  return {
    Host: fc.oneof(
      fc.constant(new URL(s.origin).host),
      fc.constantFrom('', 'evil.example', '[::1', ':99999', 'a b'),
      headerBytes,
    ),
    'Content-Type': fc.oneof(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'APPLICATION/JSON',
        'text/plain',
        'text/plain;charset=UTF-8',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json-patch+json',
        'application/jsonx',
        'application/json; charset=utf-16',
        ';',
        '',
        'application/',
      ),
      headerBytes,
    ),
    Cookie: fc.oneof(
      cookieValue.map((v) => `carehub_session=${v}`),
      fc.tuple(cookieValue, cookieValue).map(([a, b]) => `carehub_session=${a}; carehub_session=${b}`),
      headerBytes,
    ),
    Authorization: fc.oneof(
      fc.constant(`Bearer ${s.token}`),
      fc.constantFrom('Bearer ', 'Bearer', 'Basic Og==', `bearer ${s.token}`, `Bearer ${'A'.repeat(250)}`),
      headerBytes.map((v) => `Bearer ${v}`),
    ),
    Origin: fc.oneof(
      fc.constant(s.origin),
      fc.constantFrom(
        'null',
        'http://evil.example',
        'https://127.0.0.1',
        'http://127.0.0.1',
        '',
        'http://[::1',
        'file://',
      ),
      headerBytes,
    ),
    'X-Forwarded-For': fc.oneof(
      fc.constantFrom('203.0.113.7', '1.2.3.4, 5.6.7.8', '::1', 'garbage', ''),
      headerBytes,
    ),
    'X-Forwarded-Host': fc.oneof(fc.constantFrom('evil.example', ''), headerBytes),
    'X-Forwarded-Proto': fc.constantFrom('https', 'http', 'gopher', ''),
    'Sec-Fetch-Site': fc.constantFrom('same-origin', 'same-site', 'cross-site', 'none', ''),
    Accept: fc.constantFrom('application/json', '*/*', 'text/html', ''),
    'Accept-Encoding': fc.constantFrom('gzip', 'br', 'identity;q=0', '*'),
    Range: fc.constantFrom('bytes=0-1', 'bytes=-1', 'bytes=99999999-', 'bytes=a-b', 'lines=1'),
    'If-None-Match': fc.constantFrom('*', '"x"', 'W/"'),
    'If-Modified-Since': fc.constantFrom('Thu, 01 Jan 1970 00:00:00 GMT', 'yesterday'),
    Connection: fc.constantFrom('close', 'keep-alive', 'Upgrade', 'close, Upgrade', ''),
    Upgrade: fc.constantFrom('websocket', 'h2c', 'WebSocket', 'foo', ''),
    'Sec-WebSocket-Key': fc.oneof(
      fc.constant(randomBytes(16).toString('base64')),
      fc.constantFrom('', 'c2hvcnQ=', '!!!!'),
    ),
    'Sec-WebSocket-Version': fc.constantFrom('13', '8', '', 'x'),
    Expect: fc.constantFrom('100-continue', 'nothing'),
  };
}

const bodyArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '{}',
      '{"username":"duty1","password":"wrong"}',
      '{"mode":"away"}',
      '{"outcome":"genuine"}',
      '{"text":"x"}',
      '{"ms":1000}',
      '{"__proto__":{"polluted":1}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '[]',
      'null',
      '1e400',
      '{',
      '"',
      'a=1&b=2',
    ),
  },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: headerBytes },
  { weight: 1, arbitrary: fc.constantFrom('[', '{"a":').map((s) => s.repeat(2000)) },
  { weight: 1, arbitrary: fc.constant('x'.repeat(70_000)) },
);

export interface Case {
  bytes: Buffer;
  /** Printable summary for a failure report. */
  label: string;
  [fc.toStringMethod]: () => string;
}

/** A case that fast-check prints as its label, not as a byte array. */
const makeCase = (bytes: Buffer, label: string): Case => ({
  bytes,
  label,
  [fc.toStringMethod]: () => label,
});

function frame(lines: string[], body: string | undefined, chunked: boolean): Buffer {
  const head = Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1');
  if (body === undefined) return Buffer.concat([head, Buffer.from('\r\n')]);
  const payload = Buffer.from(body, 'utf8');
  if (!chunked)
    return Buffer.concat([head, Buffer.from(`Content-Length: ${payload.length}\r\n\r\n`), payload]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < payload.length; i += 4096) {
    const part = payload.subarray(i, i + 4096);
    chunks.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n'));
  }
  return Buffer.concat([
    head,
    Buffer.from('Transfer-Encoding: chunked\r\n\r\n'),
    ...chunks,
    Buffer.from('0\r\n\r\n'),
  ]);
}

const label = (lines: string[], body: string | undefined) =>
  JSON.stringify(lines.join(' | ').slice(0, 300)) +
  (body === undefined ? '' : ` + body ${JSON.stringify(body.slice(0, 80))}`);

/** Any request: method, target, version, a random subset of tricky headers, an optional framed body. */
export function requestCase(s: Secrets): fc.Arbitrary<Case> {
  const values = headerValues(s);
  const names = Object.keys(values);
  const known = fc.constantFrom(...names);
  const header = fc.oneof(
    {
      weight: 16,
      arbitrary: known.chain((n) => (values[n] as fc.Arbitrary<string>).map((v) => `${n}: ${v}`)),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/), headerBytes)
        .map(([n, v]) => `${n}: ${v}`),
    },
    // lines node's parser refuses (400)
    {
      weight: 1,
      arbitrary: fc.constantFrom('NoColon', ': empty name', 'Bad Name: x', ' leading: space', 'X-A:\x7f'),
    },
    { weight: 1, arbitrary: known.chain((n) => wildBytes.map((v) => `${n}: ${v}`)) },
  );
  return fc
    .record({
      method,
      target,
      version,
      // HTTP/1.1 without Host is refused by node's parser (400): mostly send one
      hostFirst: fc.oneof(
        { weight: 9, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
      headers: fc.array(header, { maxLength: 6 }),
      body: bodyArb,
      chunked: fc.boolean(),
    })
    .map((r) => {
      const host = `Host: ${new URL(s.origin).host}`;
      const lines = [
        `${r.method} ${r.target} ${r.version}`.trimEnd(),
        ...(r.hostFirst ? [host] : []),
        ...r.headers,
      ];
      return makeCase(frame(lines, r.body, r.chunked), label(lines, r.body));
    });
}

/** A WebSocket handshake (or something like one) on the feed, MQTT over WebSocket and other paths. */
export function upgradeCase(s: Secrets): fc.Arbitrary<Case> {
  const values = headerValues(s);
  const opt = (name: string, arb: fc.Arbitrary<string>) =>
    fc.option(
      arb.map((v) => `${name}: ${v}`),
      { nil: undefined, freq: 4 },
    );
  return fc
    .record({
      method: fc.oneof(
        { weight: 10, arbitrary: fc.constant('GET') },
        { weight: 1, arbitrary: fc.constantFrom('POST', 'HEAD', 'PUT', 'OPTIONS') },
      ),
      path: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom('/api/v1/feed', '/mqtt') },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            '/api/v1/feed?x=1',
            '/api/v1/feed/',
            '/API/v1/feed',
            '/api/v1//feed',
            '/api/v1/feed%00',
            '/api/v1/fe%E0%A4%Aed',
            '//[',
            '/api/v1/alerts',
            '/',
            '/mqtt?x',
            '/nope',
          ),
        },
        { weight: 1, arbitrary: target },
      ),
      upgrade: fc.constantFrom('websocket', 'websocket', 'WebSocket', 'h2c', 'websocket, foo', ''),
      connection: fc.constantFrom('Upgrade', 'Upgrade', 'keep-alive, Upgrade', 'upgrade', 'close'),
      key: fc.option(values['Sec-WebSocket-Key'] as fc.Arbitrary<string>, { nil: undefined, freq: 8 }),
      version: fc.option(values['Sec-WebSocket-Version'] as fc.Arbitrary<string>, {
        nil: undefined,
        freq: 8,
      }),
      protocol: opt(
        'Sec-WebSocket-Protocol',
        fc.constantFrom('mqtt', 'mqttv3.1', 'mqtt, mqtt', '', ',,,', 'a b'),
      ),
      extensions: opt(
        'Sec-WebSocket-Extensions',
        fc.constantFrom(
          'permessage-deflate',
          'permessage-deflate; client_max_window_bits',
          'permessage-deflate; server_max_window_bits=7',
          'permessage-deflate; x=y',
          'foo',
          ';;;',
        ),
      ),
      cookie: opt('Cookie', values.Cookie as fc.Arbitrary<string>),
      authorization: opt('Authorization', values.Authorization as fc.Arbitrary<string>),
      origin: opt('Origin', values.Origin as fc.Arbitrary<string>),
      extra: fc.array(
        fc
          .constantFrom(...Object.keys(values))
          .chain((n) => (values[n] as fc.Arbitrary<string>).map((v) => `${n}: ${v}`)),
        { maxLength: 3 },
      ),
    })
    .map((r) => {
      const lines = [
        `${r.method} ${r.path} HTTP/1.1`,
        `Host: ${new URL(s.origin).host}`,
        `Upgrade: ${r.upgrade}`,
        `Connection: ${r.connection}`,
        ...(r.key === undefined ? [] : [`Sec-WebSocket-Key: ${r.key}`]),
        ...(r.version === undefined ? [] : [`Sec-WebSocket-Version: ${r.version}`]),
        ...[r.protocol, r.extensions, r.cookie, r.authorization, r.origin].filter(
          (h): h is string => h !== undefined,
        ),
        ...r.extra,
      ];
      return makeCase(frame(lines, undefined, false), label(lines, undefined));
    });
}

/**
 * Send one request over a fresh connection and read the status of the final answer (a 100 Continue
 * is skipped). 0: the hub closed without answering; -1: no answer within `timeoutMs`.
 */
export function exchange(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    let buf = '';
    let settled = false;
    const finish = (status: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => finish(-1), timeoutMs);
    socket.on('error', () => finish(statusIn(buf) ?? 0));
    socket.on('close', () => finish(statusIn(buf) ?? 0));
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const status = statusIn(buf);
      if (status !== undefined) finish(status);
    });
    socket.write(bytes);
  });
}

/** The status of the first non-100 answer in `buf`, once its status line is complete. */
function statusIn(buf: string): number | undefined {
  let rest = buf;
  for (;;) {
    const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(rest);
    if (!m) return undefined;
    const status = Number(m[1]);
    if (status !== 100) return status;
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    rest = rest.slice(end + 4);
  }
}
