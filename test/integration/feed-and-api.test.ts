import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { FeedClient, type FeedMessage } from '../helpers/feed-client.js';
import { api, connectDevice, demoRaw, login, startHub, type TestHub } from '../helpers/hub.js';

let t: TestHub | undefined;
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c().catch(() => {});
  await t?.stop();
  t = undefined;
});

async function feed(hub: TestHub, user: string): Promise<FeedClient> {
  const f = await FeedClient.connect(hub.wsUrl, await login(hub.httpUrl, user));
  closers.push(() => f.close());
  return f;
}

async function press(hub: TestHub, device: string, id: string): Promise<void> {
  const c = await connectDevice(hub.mqttUrl, device);
  await c.publishAsync(`carehub/v1/devices/${device}/events`, JSON.stringify({ type: 'sos.pressed', id }), {
    qos: 1,
  });
  await c.endAsync();
}

const alertMsgs = (msgs: FeedMessage[]) =>
  msgs.filter((m) => m.type === 'alert' || m.type === 'device' || m.type === 'home');

describe('feed resume', () => {
  it('a client that dropped gets exactly the 20 changes it missed, in order — also after a hub restart', async () => {
    t = await startHub();
    const live = await feed(t, 'supervisor1');
    const token = await login(t.httpUrl, 'supervisor1');
    const dropped = await feed(t, 'supervisor1');
    const lastSeen = (dropped.messages.find((m) => m.type === 'hello')?.seq ?? -1) as number;
    await dropped.close();

    // 20 alert changes: 5 raises, then ack + 2 notes on each … minus the last note
    await press(t, 'h1-sos', 'a');
    await press(t, 'h2-sos', 'b');
    await press(t, 'h3-sos', 'c');
    const c = await connectDevice(t.mqttUrl, 'h1-smoke');
    await c.publishAsync(
      'carehub/v1/devices/h1-smoke/events',
      JSON.stringify({ type: 'smoke.detected', id: 'd' }),
      { qos: 1 },
    );
    await c.publishAsync('carehub/v1/devices/h1-smoke/events', JSON.stringify({ type: 'tamper', id: 'e' }), {
      qos: 1,
    });
    await c.endAsync();
    const { body } = await api<{ alerts: Array<{ id: string }> }>(
      t.httpUrl,
      token,
      '/api/v1/alerts?status=open',
    );
    expect(body.alerts).toHaveLength(5);
    let changes = 5;
    for (const a of body.alerts) {
      for (const path of ['ack', 'notes', 'notes']) {
        if (changes === 20) break;
        const res = await api(t.httpUrl, token, `/api/v1/alerts/${a.id}/${path}`, {
          body: path === 'ack' ? {} : { text: `note ${changes}` },
        });
        expect(res.status).toBe(200);
        changes++;
      }
    }
    await live.next(
      (m) =>
        m.type === 'alert' &&
        (m.alert as { notes: unknown[] }).notes.some((n) => (n as { text: string }).text === 'note 19'),
    );
    const expected = alertMsgs(live.messages).filter((m) => (m.seq as number) > lastSeen);
    expect(expected.filter((m) => m.type === 'alert')).toHaveLength(20);

    const resumeAndCollect = async (hub: TestHub) => {
      const again = await feed(hub, 'supervisor1');
      const before = again.messages.length;
      const result = await again.request({ type: 'resume', afterSeq: lastSeen });
      expect(result.ok).toBe(true);
      return alertMsgs(again.messages.slice(before));
    };
    const replayed = await resumeAndCollect(t);
    expect(replayed.map((m) => m.seq)).toEqual(expected.map((m) => m.seq));
    expect(replayed).toEqual(expected);

    const dataDir = t.dataDir;
    await t.stop({ keepData: true });
    t = await startHub({ dataDir });
    const afterRestart = await resumeAndCollect(t);
    expect(afterRestart).toEqual(expected);
    // seq never goes backwards across the restart, and goes on from where it was
    const hello = (await feed(t, 'supervisor1')).messages.find((m) => m.type === 'hello');
    expect(hello?.seq).toBe(expected.at(-1)?.seq as number);
  });

  it('resume from a seq older than the kept log gets a fresh snapshot', async () => {
    t = await startHub({ raw: { ...demoRaw(), feed: { retainEvents: 100 } } });
    const token = await login(t.httpUrl, 'supervisor1');
    await press(t, 'h1-sos', 'x');
    const { body } = await api<{ alerts: Array<{ id: string }> }>(t.httpUrl, token, '/api/v1/alerts');
    const id = body.alerts[0]?.id ?? '';
    for (let i = 0; i < 150; i++)
      await api(t.httpUrl, token, `/api/v1/alerts/${id}/notes`, { body: { text: `n${i}` } });
    t.hub.store.feedLog.trim(100);
    const f = await feed(t, 'supervisor1');
    const before = f.messages.length;
    await f.request({ type: 'resume', afterSeq: 1 });
    const snap = f.messages.slice(before).find((m) => m.type === 'snapshot');
    expect(snap?.alerts as unknown[]).toHaveLength(1);
  });
});

describe('alert lifecycle under concurrency', () => {
  it('two staff acknowledge at once: exactly one wins, the other gets a clear coded error', async () => {
    t = await startHub();
    const a = await feed(t, 'duty1');
    const b = await feed(t, 'supervisor1');
    await press(t, 'h1-sos', 'race');
    const msg = await a.next((m) => m.type === 'alert');
    const alertId = (msg.alert as { id: string }).id;
    const [ra, rb] = await Promise.all([
      a.request({ type: 'ack', alertId }),
      b.request({ type: 'ack', alertId }),
    ]);
    const results = [ra, rb];
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const loser = results.find((r) => !r.ok);
    expect(loser?.error).toMatchObject({ code: 'HUB_ERR_ALERT_ALREADY_ACKNOWLEDGED' });
    // idempotent for the winner
    const winner = ra.ok ? a : b;
    expect((await winner.request({ type: 'ack', alertId })).ok).toBe(true);
    // a stale version is refused
    const stale = await a.request({ type: 'note', alertId, text: 'x', version: 1 });
    expect((stale.error as { code: string }).code).toBe('HUB_ERR_VERSION_CONFLICT');
    const resolved = await b.request({
      type: 'resolve',
      alertId,
      outcome: 'genuine',
      note: 'ambulance called',
    });
    expect(resolved.ok).toBe(true);
    const again = await a.request({ type: 'resolve', alertId, outcome: 'genuine' });
    expect((again.error as { code: string }).code).toBe('HUB_ERR_ALERT_ALREADY_RESOLVED');
  });

  it('bad client messages get coded results; an oversize message closes with 1009; the hub stays up', async () => {
    t = await startHub();
    const f = await feed(t, 'duty1');
    f.ws.send('not json');
    const r1 = await f.next((m) => m.type === 'result' && m.ok === false);
    expect((r1.error as { code: string }).code).toBe('HUB_ERR_BAD_REQUEST');
    const r2 = await f.request({ type: 'explode' });
    expect((r2.error as { message: string }).message).toMatch(/invalid message/);
    const r3 = await f.request({ type: 'ack', alertId: 'no-such-alert' });
    expect((r3.error as { code: string }).code).toBe('HUB_ERR_ALERT_NOT_FOUND');
    const closed = new Promise<number>((resolve) => f.ws.once('close', (code) => resolve(code)));
    f.ws.send(JSON.stringify({ type: 'note', alertId: 'x', text: 'y'.repeat(20_000) }));
    expect(await closed).toBe(1009);
    expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);
  });

  it('a client that stops reading is cut with 1013 and the others keep receiving', async () => {
    t = await startHub({ raw: { ...demoRaw(), feed: { maxBacklogBytes: 65_536 } } });
    const slow = await feed(t, 'supervisor1');
    const fast = await feed(t, 'supervisor1');
    const closed = new Promise<number>((resolve) => slow.ws.once('close', (code) => resolve(code)));
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const token = await login(t.httpUrl, 'supervisor1');
    await press(t, 'h1-sos', 'slow');
    const id = (await fast.next((m) => m.type === 'alert')).alert as { id: string };
    for (let i = 0; i < 200; i++) {
      await api(t.httpUrl, token, `/api/v1/alerts/${id.id}/notes`, {
        body: { text: `${i} ${'z'.repeat(1900)}` },
      });
      if (t.hub.feed.clientCount() === 1) break;
    }
    expect(t.hub.feed.clientCount()).toBe(1);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await closed).toBe(1013);
    await api(t.httpUrl, token, `/api/v1/alerts/${id.id}/notes`, { body: { text: 'after the cut' } });
    await fast.next((m) => m.type === 'alert' && JSON.stringify(m).includes('after the cut'));
  });

  it('device messages report online/offline and battery changes', async () => {
    t = await startHub();
    const f = await feed(t, 'duty1');
    const c = await connectDevice(t.mqttUrl, 'h2-door');
    await c.publishAsync('carehub/v1/devices/h2-door/status', JSON.stringify({ state: 'online' }), {
      qos: 1,
      retain: true,
    });
    await c.publishAsync(
      'carehub/v1/devices/h2-door/events',
      JSON.stringify({ type: 'heartbeat', battery: 55 }),
      { qos: 1 },
    );
    await c.publishAsync('carehub/v1/devices/h2-door/status', JSON.stringify({ state: 'offline' }), {
      qos: 1,
      retain: true,
    });
    const off = await f.next(
      (m) => m.type === 'device' && (m.device as { online: boolean }).online === false,
    );
    expect(off.device).toMatchObject({ id: 'h2-door', homeId: 'h2', online: false, battery: 55 });
    await c.endAsync();
  });
});

describe('auth, roles and scope', () => {
  it('duty1 sees its grid only; supervisors see all; only admins read the audit', async () => {
    t = await startHub();
    const duty = await login(t.httpUrl, 'duty1');
    const sup = await login(t.httpUrl, 'supervisor1');
    const admin = await login(t.httpUrl, 'admin1');
    const homes = async (tok: string) =>
      (await api<{ homes: Array<{ id: string }> }>(t!.httpUrl, tok, '/api/v1/homes')).body.homes.map(
        (h) => h.id,
      );
    expect(await homes(duty)).toEqual(['h1', 'h2']);
    expect(await homes(sup)).toEqual(['h1', 'h2', 'h3']);
    expect((await api(t.httpUrl, duty, '/api/v1/homes/h3')).status).toBe(404);
    expect((await api(t.httpUrl, duty, '/api/v1/devices/h3-door/events')).status).toBe(404);
    const h1 = await api<{ home: { residents: Array<{ notes: string }>; contacts: unknown[] } }>(
      t.httpUrl,
      duty,
      '/api/v1/homes/h1',
    );
    expect(h1.body.home.residents[0]?.notes).toContain('dementia');
    expect(h1.body.home.contacts.length).toBeGreaterThan(0);
    expect((await api(t.httpUrl, sup, '/api/v1/audit')).status).toBe(403);
    const audit = await api<{ entries: Array<{ action: string; actor: string; target: string }> }>(
      t.httpUrl,
      admin,
      '/api/v1/audit?action=resident.read',
    );
    expect(audit.body.entries).toContainEqual(expect.objectContaining({ actor: 'duty1', target: 'h1' }));
    expect((await fetch(`${t.httpUrl}/api/v1/alerts`)).status).toBe(401);
    const bad = await fetch(`${t.httpUrl}/api/v1/alerts`, { headers: { authorization: 'Bearer nope' } });
    expect(await bad.json()).toEqual({
      error: { code: 'HUB_ERR_UNAUTHENTICATED', message: expect.any(String) },
    });
  });

  it('locks a user out after repeated failures (429 + Retry-After) and does not reveal which names exist', async () => {
    t = await startHub();
    const attempt = (username: string, password: string) =>
      fetch(`${t!.httpUrl}/api/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
    const unknown = await attempt('nobody', 'x');
    const wrong = await attempt('duty1', 'x');
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe(
      ((await wrong.json()) as { error: { code: string } }).error.code,
    );
    for (let i = 0; i < 3; i++) await attempt('duty1', 'x');
    const locked = await attempt('duty1', 'duty1-demo');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('mode changes are audited and shown on the feed', async () => {
    t = await startHub();
    const f = await feed(t, 'duty1');
    const tok = await login(t.httpUrl, 'duty1');
    const res = await api<{ home: { mode: { mode: string } } }>(t.httpUrl, tok, '/api/v1/homes/h2/mode', {
      body: { mode: 'away' },
    });
    expect(res.body.home.mode.mode).toBe('away');
    const m = await f.next((x) => x.type === 'home');
    expect(m.home).toMatchObject({ id: 'h2', mode: 'away', by: 'duty1' });
    expect((await api(t.httpUrl, tok, '/api/v1/homes/h3/mode', { body: { mode: 'away' } })).status).toBe(404);
    expect((await api(t.httpUrl, tok, '/api/v1/homes/h2/mode', { body: { mode: 'party' } })).status).toBe(
      400,
    );
  });
});

describe('audit trail', () => {
  it('`carehub audit verify` passes on an intact trail and names an edited or deleted row', async () => {
    t = await startHub();
    const tok = await login(t.httpUrl, 'supervisor1');
    await press(t, 'h1-sos', 'audit');
    const { body } = await api<{ alerts: Array<{ id: string }> }>(t.httpUrl, tok, '/api/v1/alerts');
    await api(t.httpUrl, tok, `/api/v1/alerts/${body.alerts[0]?.id}/ack`, { body: {} });
    await api(t.httpUrl, tok, '/api/v1/homes/h1');
    const dataDir = t.dataDir;
    await t.stop({ keepData: true });
    t = undefined;
    closers.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const cli = join(import.meta.dirname, '..', '..', 'bin', 'carehub.js');
    const verify = (...extra: string[]) => {
      try {
        return {
          code: 0,
          out: execFileSync('node', [cli, 'audit', 'verify', '--data-dir', dataDir, ...extra], {
            encoding: 'utf8',
          }),
        };
      } catch (err) {
        const e = err as { status: number; stdout: string };
        return { code: e.status, out: e.stdout };
      }
    };
    const first = verify();
    expect(first).toMatchObject({ code: 0, out: expect.stringMatching(/audit trail OK: \d+ rows/) });
    const head = /head (\d+:[0-9a-f]{64})/.exec(first.out)?.[1] ?? '';
    expect(verify('--expect-head', head)).toMatchObject({
      code: 0,
      out: expect.stringMatching(/expected head/),
    });
    expect(verify('--expect-head', 'not-a-head').code).toBe(1);
    // Cut back: the last row removed and the recorded head moved with it. The rest is a consistent
    // chain, so only the head exported earlier tells.
    const cut = new Database(join(dataDir, 'hub.db'));
    const last = cut.prepare('SELECT seq FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number };
    const prev = cut.prepare('SELECT seq, hash FROM audit WHERE seq = ?').get(last.seq - 1) as {
      seq: number;
      hash: string;
    };
    cut.exec('DROP TRIGGER audit_no_delete');
    cut.prepare('DELETE FROM audit WHERE seq = ?').run(last.seq);
    cut.prepare("UPDATE meta SET value = ? WHERE key = 'audit_head'").run(JSON.stringify(prev));
    cut.exec(
      "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;",
    );
    cut.close();
    expect(verify().code).toBe(0);
    const truncated = verify('--expect-head', head);
    expect(truncated.code).toBe(1);
    expect(truncated.out).toMatch(/expected head .* is not in the trail/);
    const db = new Database(join(dataDir, 'hub.db'));
    expect(() => db.prepare("UPDATE audit SET actor = 'mallory' WHERE seq = 2").run()).toThrow(/append-only/);
    db.exec('DROP TRIGGER audit_no_update');
    db.prepare("UPDATE audit SET actor = 'mallory' WHERE seq = 2").run();
    db.close();
    const edited = verify();
    expect(edited.code).toBe(1);
    expect(edited.out).toMatch(/row 2: content changed/);
    const db2 = new Database(join(dataDir, 'hub.db'));
    db2.exec(
      "DROP TRIGGER audit_no_delete; UPDATE audit SET actor = 'supervisor1' WHERE seq = 2; DELETE FROM audit WHERE seq = 1;",
    );
    db2.close();
    const deleted = verify();
    expect(deleted.code).toBe(1);
    expect(deleted.out).toMatch(/row 1 missing/);
  });
});

describe('metrics', () => {
  it('exposes the hub figures in Prometheus format', async () => {
    t = await startHub();
    await press(t, 'h1-sos', 'm');
    const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
    for (const name of [
      'carehub_devices_connected',
      'carehub_ingest_events_total',
      'carehub_ingest_rejected_total',
      'carehub_alert_changes_total',
      'carehub_alert_time_to_ack_seconds',
      'carehub_feed_clients',
      'carehub_journal_lag_rows',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/carehub_ingest_events_total\{type="sos.pressed"\} 1/);
  });
});

describe('dead peers and the report endpoint', () => {
  it('drops a feed client that stops answering pings', async () => {
    t = await startHub({ raw: { ...demoRaw(), feed: { pingIntervalMs: 200 } } });
    const f = await feed(t, 'duty1');
    const closed = new Promise<void>((resolve) => f.ws.once('close', () => resolve()));
    (f.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await expect.poll(() => t?.hub.feed.clientCount(), { timeout: 3000 }).toBe(0);
    (f.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await closed;
  });

  it('serves the response-time report for real alerts, scoped to the caller', async () => {
    t = await startHub();
    const sup = await login(t.httpUrl, 'supervisor1');
    await press(t, 'h1-sos', 'rep1');
    await press(t, 'h3-sos', 'rep3');
    const { body } = await api<{ alerts: Array<{ id: string }> }>(t.httpUrl, sup, '/api/v1/alerts');
    for (const a of body.alerts) await api(t.httpUrl, sup, `/api/v1/alerts/${a.id}/ack`, { body: {} });
    const report = await api<{
      overall: { count: number; ackWithin60s: number };
      byStaff: Record<string, { count: number }>;
    }>(t.httpUrl, sup, '/api/v1/reports/response-times');
    expect(report.body.overall).toMatchObject({ count: 2, ackWithin60s: 1 });
    expect(report.body.byStaff.supervisor1?.count).toBe(2);
    const duty = await api<{ overall: { count: number } }>(
      t.httpUrl,
      await login(t.httpUrl, 'duty1'),
      '/api/v1/reports/response-times',
    );
    expect(duty.body.overall.count).toBe(1);
    expect((await api(t.httpUrl, sup, '/api/v1/reports/response-times?from=yesterday')).status).toBe(400);
  });
});

describe('a staff write that fails to commit', () => {
  /** The next audit row cannot be written (as on a full disk): the staff action's unit of work rolls back. */
  function failNextAudit(hub: TestHub): void {
    const audit = hub.hub.store.audit as unknown as { append: (...args: unknown[]) => unknown };
    const append = audit.append;
    audit.append = () => {
      audit.append = append;
      throw new Error('SQLITE_FULL: database or disk is full (injected)');
    };
  }

  it('leaves the home in its mode, for the rules too', async () => {
    t = await startHub();
    const tok = await login(t.httpUrl, 'duty1');
    const until = new Date(Date.now() + 3600_000).toISOString();
    failNextAudit(t);
    const res = await api(t.httpUrl, tok, '/api/v1/homes/h2/mode', { body: { mode: 'away', until } });
    expect(res.status).toBe(500);
    // The rules' cached state and timers do not believe the rolled-back change.
    expect(t.hub.core.rules.stateOf('h2', t.hub.clock.now()).mode).toBe('home');
    expect(t.hub.core.scheduler.has('mode:h2')).toBe(false);
    const home = await api<{ home: { mode: { mode: string } } }>(t.httpUrl, tok, '/api/v1/homes/h2');
    expect(home.body.home.mode.mode).toBe('home');
  });

  it('leaves the alert open with its escalation still armed', async () => {
    t = await startHub();
    const tok = await login(t.httpUrl, 'duty1');
    await press(t, 'h1-sos', 'rollback');
    const { body } = await api<{ alerts: Array<{ id: string; status: string }> }>(
      t.httpUrl,
      tok,
      '/api/v1/alerts',
    );
    const alertId = body.alerts[0]?.id;
    expect(alertId).toBeDefined();
    const armed = t.hub.core.scheduler.pending();
    expect(armed).toBeGreaterThan(0);
    failNextAudit(t);
    expect((await api(t.httpUrl, tok, `/api/v1/alerts/${alertId}/ack`, { body: {} })).status).toBe(500);
    // An acknowledgement cancels the escalation timers; rolled back, they must still fire.
    expect(t.hub.core.scheduler.pending()).toBe(armed);
    const after = await api<{ alerts: Array<{ id: string; status: string }> }>(
      t.httpUrl,
      tok,
      '/api/v1/alerts',
    );
    expect(after.body.alerts.find((a) => a.id === alertId)?.status).toBe('open');
    expect((await api(t.httpUrl, tok, `/api/v1/alerts/${alertId}/ack`, { body: {} })).status).toBe(200);
    expect(t.hub.core.scheduler.pending()).toBeLessThan(armed);
  });
});
