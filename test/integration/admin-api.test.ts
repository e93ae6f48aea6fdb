import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedClient } from '../helpers/feed-client.js';
import { api, demoRaw, login, startHub, type TestHub } from '../helpers/hub.js';

/**
 * Site administration at run time through the API (PROTOCOL.md §5), with real clients: an mqtt
 * device, ws feeds, fetch. No restart anywhere: one hub for the whole file.
 */
let t: TestHub;
let admin: string;
let duty: string;
const clients: MqttClient[] = [];

beforeAll(async () => {
  t = await startHub();
  admin = await login(t.httpUrl, 'admin1');
  duty = await login(t.httpUrl, 'duty1');
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await t.stop();
});

const call = <T = Record<string, unknown>>(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  lang?: string,
) =>
  fetch(`${t.httpUrl}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(lang ? { 'accept-language': lang } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as T }));

type ErrorBody = {
  error: {
    code: string;
    message: string;
    problems?: Array<{ field: string; code: string; message: string }>;
  };
};

function connect(id: string, password: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(t.mqttUrl, {
      clientId: id,
      username: id,
      password,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    c.once('connect', () => {
      clients.push(c);
      resolve(c);
    });
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
  });
}

const home = (id: string, grid = 'g1') => ({
  id,
  address: `Wenting Lane ${id}`,
  grid,
  residents: [
    { id: `r-${id}`, name: `Resident ${id}`, birthYear: 1941, language: 'zh-CN', phone: '+86 138 0000 0020' },
  ],
  contacts: [
    {
      name: 'Daughter',
      relation: 'family',
      phone: '+86 138 0000 0021',
      email: 'd@example.org',
      language: 'zh-CN',
      notify: ['email', 'sms'],
    },
  ],
});

describe('site administration through the API, without a restart', () => {
  it('an admin adds a home and a device; the device connects with the returned secret and its SOS reaches duty staff', async () => {
    const feed = await FeedClient.connect(t.wsUrl, duty);
    try {
      const created = await call<{ home: { id: string; contacts: unknown[] } }>(
        admin,
        'POST',
        '/homes',
        home('h20'),
      );
      expect(created.status).toBe(201);
      expect(created.body.home.contacts).toEqual([
        {
          name: 'Daughter',
          relation: 'family',
          phone: '+86 138 0000 0021',
          email: 'd@example.org',
          language: 'zh-CN',
          notify: ['email', 'sms'],
        },
      ]);
      const dev = await call<{ device: { id: string; secret: string }; secret: string }>(
        admin,
        'POST',
        '/homes/h20/devices',
        {
          id: 'h20-sos',
          kind: 'sos_button',
          label: 'Pendant',
        },
      );
      expect(dev.status).toBe(201);
      expect(dev.body.secret).toMatch(/^chs1_[A-Za-z0-9_-]{32}$/); // 24 random bytes, base64url
      expect(dev.body.device.secret).toBe('set');
      expect(JSON.stringify(dev.body.device)).not.toContain('scrypt');
      const device = await connect('h20-sos', dev.body.secret);
      await device.publishAsync(
        'carehub/v1/devices/h20-sos/events',
        JSON.stringify({ type: 'sos.pressed', id: 'adm-1' }),
        { qos: 1 },
      );
      const alert = await feed.next(
        (m) => m.type === 'alert' && (m.alert as { homeId: string }).homeId === 'h20',
      );
      expect((alert.alert as { kind: string }).kind).toBe('sos');
      // The secret is nowhere the hub keeps or says: not in the log, the audit trail or the history.
      const db = t.hub.store.db;
      for (const sql of [
        'SELECT payload AS v FROM journal',
        'SELECT data AS v FROM audit',
        'SELECT before || after AS v FROM dir_changes',
      ])
        expect(JSON.stringify(db.prepare(sql).all())).not.toContain(dev.body.secret);
    } finally {
      await feed.close();
    }
  });

  it('a retired device is disconnected within a second and refused afterwards', async () => {
    await call(admin, 'POST', '/homes', home('h21'));
    const dev = await call<{ secret: string }>(admin, 'POST', '/homes/h21/devices', {
      id: 'h21-door',
      kind: 'door_sensor',
    });
    const device = await connect('h21-door', dev.body.secret);
    const closed = new Promise<number>((resolve) => device.once('close', () => resolve(Date.now())));
    const asked = Date.now();
    const r = await call(admin, 'DELETE', '/devices/h21-door');
    expect(r.status).toBe(200);
    expect((await closed) - asked).toBeLessThan(1000);
    await expect(connect('h21-door', dev.body.secret)).rejects.toThrow(
      /Bad username or password|Not authorized/i,
    );
    expect(t.hub.directory.device('h21-door')).toBeUndefined();
  });

  it('a rotated secret: the old connection closes, the old secret is refused, the new one works', async () => {
    await call(admin, 'POST', '/homes', home('h22'));
    const first = await call<{ secret: string }>(admin, 'POST', '/homes/h22/devices', {
      id: 'h22-sos',
      kind: 'sos_button',
    });
    const device = await connect('h22-sos', first.body.secret);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    const rotated = await call<{ secret: string }>(admin, 'POST', '/devices/h22-sos/secret');
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(first.body.secret);
    await closed;
    await expect(connect('h22-sos', first.body.secret)).rejects.toThrow(
      /Bad username or password|Not authorized/i,
    );
    const again = await connect('h22-sos', rotated.body.secret);
    expect(again.connected).toBe(true);
  });

  it('a staff member removed loses their sessions and feed at once', async () => {
    const made = await call(admin, 'POST', '/staff', {
      id: 'duty9',
      name: 'Test Duty',
      role: 'duty',
      grids: ['g1'],
      password: 'correct-horse-battery-9',
    });
    expect(made.status).toBe(201);
    const token = await login(t.httpUrl, 'duty9', 'correct-horse-battery-9');
    const feed = await FeedClient.connect(t.wsUrl, token);
    const closed = new Promise<number>((resolve) => feed.ws.once('close', (code) => resolve(code)));
    const r = await call(admin, 'DELETE', '/staff/duty9');
    expect(r.status).toBe(200);
    expect(await closed).toBe(4401);
    expect((await call(token, 'GET', '/me')).status).toBe(401);
    await expect(login(t.httpUrl, 'duty9', 'correct-horse-battery-9')).rejects.toThrow(/401/);
  });

  it('a staff member’s grids changed: their feed follows the new scope at once', async () => {
    await call(admin, 'POST', '/staff', {
      id: 'duty8',
      name: 'Duty Eight',
      role: 'duty',
      grids: ['g2'],
      password: 'a-long-password-8',
    });
    const token = await login(t.httpUrl, 'duty8', 'a-long-password-8');
    const feed = await FeedClient.connect(t.wsUrl, token);
    try {
      const patched = await call(admin, 'PATCH', '/staff/duty8', { grids: ['g1'] });
      expect(patched.status).toBe(200);
      const snapshot = await feed.next(
        (m) =>
          m.type === 'snapshot' && (m.alerts as Array<{ homeId: string }>).some((a) => a.homeId === 'h20'),
      );
      expect(
        (snapshot.alerts as Array<{ homeId: string }>).every((a) =>
          ['h1', 'h2', 'h20', 'h21', 'h22'].includes(a.homeId),
        ),
      ).toBe(true);
    } finally {
      await feed.close();
    }
  });

  it('a device is paired with its home’s Zigbee2MQTT gateway from the API, and its reports count', async () => {
    await call(admin, 'POST', '/homes', home('z20'));
    const gw = await call<{ secret: string }>(admin, 'POST', '/homes/z20/devices', {
      id: 'z20-gw',
      kind: 'gateway',
      baseTopic: 'z2m-z20',
    });
    const door = await call<{ secret: string | null; device: { secret: string } }>(
      admin,
      'POST',
      '/homes/z20/devices',
      {
        id: 'z20-door',
        kind: 'door_sensor',
        zigbee: { gateway: 'z20-gw', friendlyName: 'front_door' },
      },
    );
    expect(door.status).toBe(201);
    expect(door.body.secret).toBeNull();
    expect(door.body.device.secret).toBe('gateway');
    const bridge = await connect('z20-gw', gw.body.secret);
    await bridge.publishAsync('z2m-z20/front_door', JSON.stringify({ contact: true, battery: 90 }), {
      qos: 1,
    });
    await bridge.publishAsync('z2m-z20/front_door', JSON.stringify({ contact: false, battery: 90 }), {
      qos: 1,
    });
    await expect
      .poll(() => t.hub.core.rules.stateOf('z20', Date.now()).doors['z20-door']?.open, { timeout: 3000 })
      .toBe(true);
    // Another home's device cannot be paired with this gateway.
    await call(admin, 'POST', '/homes', home('z21'));
    const wrong = await call<ErrorBody>(admin, 'POST', '/homes/z21/devices', {
      id: 'z21-door',
      kind: 'door_sensor',
      zigbee: { gateway: 'z20-gw', friendlyName: 'door' },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe('HUB_ERR_GATEWAY_MISMATCH');
    expect(wrong.body.error.problems?.[0]?.field).toBe('zigbee.gateway');
  });

  it('bad input is a coded error by field, in the caller’s language, and changes nothing', async () => {
    const version = t.hub.directory.version;
    const dup = await call<ErrorBody>(admin, 'POST', '/homes', home('h1'));
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('HUB_ERR_DUPLICATE_ID');
    expect(dup.body.error.problems?.[0]).toMatchObject({ field: 'id', code: 'HUB_ERR_DUPLICATE_ID' });
    const grid = await call<ErrorBody>(admin, 'POST', '/homes', home('h30', 'g404'), 'zh-CN');
    expect(grid.status).toBe(400);
    expect(grid.body.error.code).toBe('HUB_ERR_UNKNOWN_GRID');
    expect(grid.body.error.problems?.[0]).toMatchObject({
      field: 'grid',
      message: '没有网格 g404：请先添加网格',
    });
    const shape = await call<ErrorBody>(admin, 'POST', '/homes', {
      id: 'bad id!',
      address: '',
      grid: 'g1',
      residents: [{ id: 'r', name: 'x', phone: 'call me' }],
      extra: 1,
    });
    expect(shape.status).toBe(400);
    expect(shape.body.error.code).toBe('HUB_ERR_BAD_REQUEST');
    expect(shape.body.error.problems?.map((p) => p.field).sort()).toEqual([
      'address',
      'extra',
      'id',
      'residents.0.phone',
    ]);
    expect(shape.body.error.problems?.find((p) => p.field === 'residents.0.phone')?.message).toBe(
      'not a phone number',
    );
    const dupDevice = await call<ErrorBody>(admin, 'POST', '/homes/h20/devices', {
      id: 'h1-sos',
      kind: 'sos_button',
    });
    expect(dupDevice.status).toBe(409);
    expect(dupDevice.body.error.code).toBe('HUB_ERR_DUPLICATE_ID');
    const weak = await call<ErrorBody>(admin, 'POST', '/staff', {
      id: 'x1',
      name: 'X',
      role: 'supervisor',
      password: 'short',
    });
    expect(weak.body.error.problems?.[0]).toMatchObject({
      field: 'password',
      message: 'at least 10 characters',
    });
    const lastAdmin = await call<ErrorBody>(admin, 'DELETE', '/staff/admin1');
    expect(lastAdmin.status).toBe(409);
    expect(lastAdmin.body.error.code).toBe('HUB_ERR_IN_USE');
    expect(t.hub.directory.version).toBe(version);
  });

  it('a home with an unresolved alert is removed only when the erasure is confirmed; then its devices are refused', async () => {
    const refused = await call<ErrorBody>(admin, 'DELETE', '/homes/h20');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('HUB_ERR_PURGE_REFUSED');
    const removed = await call(admin, 'DELETE', '/homes/h20?force=1');
    expect(removed.status).toBe(200);
    expect(t.hub.directory.home('h20')).toBeUndefined();
    const alerts = await api<{ alerts: unknown[] }>(t.httpUrl, admin, '/api/v1/alerts?homeId=h20');
    expect(alerts.body.alerts).toHaveLength(0);
  });

  it('the installer sheet’s data: new secrets for a home’s devices, once, with where to connect', async () => {
    await call(admin, 'POST', '/homes', home('h23'));
    await call(admin, 'POST', '/homes/h23/devices', { id: 'h23-sos', kind: 'sos_button' });
    const sheet = await call<{
      mqtt: { host: string; port: number };
      devices: Array<{ id: string; newSecret: string | null }>;
    }>(admin, 'POST', '/homes/h23/provision?all=1');
    expect(sheet.status).toBe(200);
    expect(sheet.body.mqtt).toMatchObject({ host: '127.0.0.1', port: t.hub.ports.mqtt });
    const secret = sheet.body.devices.find((d) => d.id === 'h23-sos')?.newSecret ?? '';
    expect(secret).toMatch(/^chs1_[A-Za-z0-9_-]{32}$/);
    const device = await connect('h23-sos', secret);
    expect(device.connected).toBe(true);
  });

  it('a duty user and a supervisor get 403 on every admin endpoint', async () => {
    const supervisor = await login(t.httpUrl, 'supervisor1');
    const endpoints: Array<[string, string, unknown?]> = [
      ['GET', '/admin/homes'],
      ['GET', '/admin/homes/h1'],
      ['GET', '/admin/devices'],
      ['GET', '/grids'],
      ['GET', '/directory/changes'],
      ['POST', '/homes', home('h99')],
      ['PATCH', '/homes/h1', { address: 'x' }],
      ['DELETE', '/homes/h1'],
      ['POST', '/homes/h1/devices', { id: 'h1-x', kind: 'sos_button' }],
      ['POST', '/homes/h1/provision'],
      ['PATCH', '/devices/h1-sos', { label: 'x' }],
      ['POST', '/devices/h1-sos/secret'],
      ['DELETE', '/devices/h1-sos'],
      ['POST', '/staff', { id: 'x', name: 'x', role: 'admin', password: 'xxxxxxxxxxxx' }],
      ['PATCH', '/staff/duty1', { role: 'admin' }],
      ['DELETE', '/staff/supervisor1'],
      ['POST', '/grids', { id: 'g9', name: 'x' }],
      ['PATCH', '/grids/g1', { name: 'x' }],
      ['DELETE', '/grids/g1'],
    ];
    for (const token of [duty, supervisor])
      for (const [method, path, body] of endpoints) {
        const r = await call<ErrorBody>(token, method, path, body);
        expect(r.status, `${method} ${path}`).toBe(403);
        expect(r.body.error.code).toBe('HUB_ERR_FORBIDDEN');
      }
    expect(t.hub.directory.home('h1')?.address).toContain('Wenting Lane 3-101');
  });
});

describe('a site whose file has no admin (written before site administration)', () => {
  it('still starts, seeds its staff, and its supervisors work as before', async () => {
    const raw = demoRaw();
    raw.staff = (raw.staff as Array<{ role: string }>).filter((s) => s.role !== 'admin');
    const old = await startHub({ raw });
    try {
      expect(old.hub.directory.staff('supervisor1')?.role).toBe('supervisor');
      expect(old.hub.directory.staff('admin1')).toBeUndefined();
      const sup = await login(old.httpUrl, 'supervisor1');
      expect((await api(old.httpUrl, sup, '/api/v1/alerts')).status).toBe(200);
    } finally {
      await old.stop();
    }
  });
});
