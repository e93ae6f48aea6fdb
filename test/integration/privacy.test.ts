import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../hub/src/log.js';
import { useCleanup } from '../helpers/cleanup.js';
import { FeedClient } from '../helpers/feed-client.js';
import { api, connectDevice, demoRaw, login, startHub } from '../helpers/hub.js';

/**
 * Nothing personal or secret in the hub's log at info (DESIGN.md "Errors and logs"): a whole shift —
 * logins, an SOS, acknowledgements, resident detail reads, a mode change, notes, failed logins with the
 * password typed as the user name, devices with wrong or misplaced secrets — with the log captured,
 * then grepped for every resident name, contact phone, device secret, staff password and session token.
 */

interface Raw {
  homes: Array<{
    residents?: Array<{ name: string }>;
    contacts?: Array<{ name: string; phone: string }>;
    devices?: Array<{ id: string; demoSecret?: string }>;
  }>;
  staff: Array<{ id: string }>;
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms).unref(),
    ),
  ]);

describe('privacy of the log', () => {
  const cleanup = useCleanup();

  it('never logs a resident name, contact phone, device secret, staff password or session token at info', {
    timeout: 60_000,
  }, async () => {
    const raw = demoRaw();
    const cfg = raw as unknown as Raw;
    const text: string[] = [];
    const stream = {
      write(s: string) {
        text.push(s);
      },
    };
    const t = await startHub({ raw, logger: createLogger('info', stream) });
    cleanup.push(() => t.stop());

    const residents = cfg.homes.flatMap((h) => (h.residents ?? []).map((r) => r.name));
    const contacts = cfg.homes.flatMap((h) => (h.contacts ?? []).map((c) => c.name));
    const phones = cfg.homes.flatMap((h) => (h.contacts ?? []).map((c) => c.phone));
    const deviceSecrets = cfg.homes.flatMap((h) =>
      (h.devices ?? []).map((d) => d.demoSecret ?? `${d.id}-demo`),
    );
    const passwords = cfg.staff.map((s) => `${s.id}-demo`);
    const tokens: string[] = [];

    // the shift begins: logins, a feed each
    const duty = await login(t.httpUrl, 'duty1');
    const sup = await login(t.httpUrl, 'supervisor1');
    const admin = await login(t.httpUrl, 'admin1');
    tokens.push(duty, sup, admin);
    const dutyFeed = await FeedClient.connect(t.wsUrl, duty);
    cleanup.push(() => dutyFeed.close());
    const supFeed = await FeedClient.connect(t.wsUrl, sup);
    cleanup.push(() => supFeed.close());

    // failed logins: the password typed as the user name, a near miss, a resident's name as user name
    for (const [username, password] of [
      ['duty1-demo', 'duty1'],
      ['supervisor1-demo', 'supervisor1-demo'],
      ['duty1', 'duty1-dem0'],
      [residents[0] as string, 'x'],
      [phones[0] as string, 'y'],
    ] as const) {
      const res = await fetch(`${t.httpUrl}/api/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
    // a secret in the wrong header, a token in the URL, a token that is a device secret
    for (const auth of [
      `Bearer ${deviceSecrets[0]}`,
      `Basic ${Buffer.from(`duty1:${passwords[0]}`).toString('base64')}`,
      duty,
    ]) {
      await fetch(
        `${t.httpUrl}/api/v1/alerts?token=${encodeURIComponent(duty)}&q=${encodeURIComponent(phones[1] as string)}`,
        { headers: { authorization: auth } },
      );
    }
    await fetch(`${t.httpUrl}/api/v1/feed?token=${duty}`, {
      headers: { authorization: `Bearer ${passwords[1]}`, connection: 'Upgrade', upgrade: 'websocket' },
    }).catch(() => {});

    // devices: good ones, a wrong secret, a secret typed as client id and user name, a secret in a topic
    const pendant = await connectDevice(t.mqttUrl, 'h1-sos');
    cleanup.push(() => pendant.endAsync(true));
    const door = await connectDevice(t.mqttUrl, 'h1-door');
    cleanup.push(() => door.endAsync(true));
    for (const o of [
      { clientId: 'h2-sos', username: 'h2-sos', password: 'h2-sos-wrong' },
      {
        clientId: deviceSecrets[5] as string,
        username: deviceSecrets[5] as string,
        password: deviceSecrets[5] as string,
      },
      { clientId: 'h2-door', username: deviceSecrets[6] as string, password: 'h2-door-demo' },
      { clientId: residents[1] as string, username: residents[1] as string, password: 'x' },
    ]) {
      const c = mqtt.connect(t.mqttUrl, {
        ...o,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 4000,
      });
      cleanup.push(() => c.endAsync(true));
      await within(new Promise((r) => c.once('error', r)), 5000, 'refusal');
    }
    await pendant.publishAsync(
      `carehub/v1/devices/h2-sos/events`,
      JSON.stringify({ type: 'sos.pressed', id: 'spoof' }),
      { qos: 1 },
    );
    await door.publishAsync(
      `carehub/v1/devices/h1-door/events`,
      JSON.stringify({ type: residents[0], note: phones[0] }),
      { qos: 1 },
    );
    await door.publishAsync(
      `carehub/v1/devices/h1-door/events`,
      JSON.stringify({ type: 'door.opened', id: 'd1', battery: deviceSecrets[1] }),
      { qos: 1 },
    );

    // the SOS, acknowledged over the feed, a note, resolved over HTTP
    await pendant.publishAsync(
      'carehub/v1/devices/h1-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'p1' }),
      { qos: 1 },
    );
    const raised = await dutyFeed.next((m) => m.type === 'alert');
    const alertId = (raised.alert as { id: string }).id;
    expect((await dutyFeed.request({ type: 'ack', alertId })).ok).toBe(true);
    expect(
      (await dutyFeed.request({ type: 'note', alertId, text: `Called ${contacts[0]} on ${phones[0]}` })).ok,
    ).toBe(true);
    const bad = await dutyFeed.request({ type: 'note', alertId: `${residents[0]}`, text: 'x' });
    expect(bad.ok).toBe(false);
    dutyFeed.ws.send(`{"type":"ack","alertId":"${phones[0]}"`); // not JSON
    const { body: current } = await api<{ alert: { version: number } }>(
      t.httpUrl,
      sup,
      `/api/v1/alerts/${alertId}`,
    );
    const resolved = await api(t.httpUrl, sup, `/api/v1/alerts/${alertId}/resolve`, {
      body: {
        outcome: 'genuine',
        note: `${residents[0]} fell; ${contacts[1]} (${phones[1]}) came`,
        version: current.alert.version,
      },
    });
    expect(resolved.status).toBe(200);

    // resident detail reads (in scope and out of scope), a mode change, device events, reports, audit
    expect((await api(t.httpUrl, duty, '/api/v1/homes/h1')).status).toBe(200);
    expect((await api(t.httpUrl, duty, '/api/v1/homes/h3')).status).toBeGreaterThanOrEqual(400);
    expect((await api(t.httpUrl, sup, '/api/v1/homes/h3')).status).toBe(200);
    expect((await api(t.httpUrl, duty, '/api/v1/homes/h2/mode', { body: { mode: 'away' } })).status).toBe(
      200,
    );
    expect((await api(t.httpUrl, duty, '/api/v1/devices/h1-sos/events')).status).toBe(200);
    await api(t.httpUrl, sup, '/api/v1/reports/response-times');
    await api(t.httpUrl, admin, '/api/v1/audit');
    await api(t.httpUrl, duty, '/api/v1/logout', { body: {} });
    // a malformed request, a bad mode, an oversize body
    await api(t.httpUrl, sup, '/api/v1/homes/h1/mode', { body: { mode: residents[2] } });
    await fetch(`${t.httpUrl}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"username":"duty1","password":"${passwords[0]}"`,
    });

    await dutyFeed.close();
    await supFeed.close();
    await t.stop();

    const log = text.join('');
    expect(log.length).toBeGreaterThan(1000);
    const forbidden = [
      ...residents.map((s) => ['resident name', s] as const),
      ...residents.flatMap((s) =>
        s
          .split(/[ ()·]+/)
          .filter((w) => w.length >= 4)
          .map((w) => ['part of a resident name', w] as const),
      ),
      ...contacts.map((s) => ['contact name', s] as const),
      ...phones.map((s) => ['contact phone', s] as const),
      ...deviceSecrets.map((s) => ['device secret', s] as const),
      ...passwords.map((s) => ['staff password', s] as const),
      ...tokens.map((s) => ['session token', s] as const),
      ...tokens.map((s) => ['session token (start)', s.slice(0, 12)] as const),
    ];
    const leaks = forbidden
      .filter(([, s]) => log.includes(s) || log.includes(JSON.stringify(s).slice(1, -1)))
      .map(([what, s]) => `${what}: ${s}`);
    expect(leaks).toEqual([]);
  });
});
