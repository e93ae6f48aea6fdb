import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FeedClient } from '../helpers/feed-client.js';
import { connectDevice, login, startHub, type TestHub } from '../helpers/hub.js';

describe('SOS end to end: device → durable → alert → duty feed → ack → device', () => {
  let t: TestHub;
  beforeEach(async () => {
    t = await startHub();
  });
  afterEach(async () => {
    await t.stop();
  });

  it('delivers an SOS to duty1, and duty1 acknowledging reaches the pendant', async () => {
    const feed = await FeedClient.connect(t.wsUrl, await login(t.httpUrl, 'duty1'));
    const sos = await connectDevice(t.mqttUrl, 'h1-sos');
    const commands: Array<Record<string, unknown>> = [];
    sos.on('message', (_topic, payload) =>
      commands.push(JSON.parse(payload.toString()) as Record<string, unknown>),
    );
    await sos.subscribeAsync('carehub/v1/devices/h1-sos/commands', { qos: 1 });

    await sos.publishAsync(
      'carehub/v1/devices/h1-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'e2e-1' }),
      { qos: 1 },
    );
    const msg = await feed.next((m) => m.type === 'alert');
    const alert = msg.alert as {
      id: string;
      kind: string;
      homeId: string;
      status: string;
      occurrences: number;
      title: Record<string, string>;
    };
    expect(alert).toMatchObject({ kind: 'sos', homeId: 'h1', status: 'open', occurrences: 1 });
    expect(alert.title['zh-CN']).toContain('紧急求救');
    expect(alert.title.en).toContain('SOS');

    const result = await feed.request({ type: 'ack', alertId: alert.id });
    expect(result.ok).toBe(true);
    const acked = await feed.next(
      (m) => m.type === 'alert' && (m.alert as { status: string }).status === 'acknowledged',
    );
    expect((acked.alert as { acknowledgedBy: string }).acknowledgedBy).toBe('duty1');
    expect(acked.seq).toBeGreaterThan(msg.seq as number);

    await expect
      .poll(() => commands.map((c) => c.type), { timeout: 3000 })
      .toEqual(['alert.received', 'alert.acknowledged']);
    expect(commands[1]).toMatchObject({ alertId: alert.id, by: '刘洋 (Liu Yang)' });

    // The alert is in the store, acknowledged.
    expect(t.hub.store.alerts.get(alert.id)?.alert).toMatchObject({
      status: 'acknowledged',
      kind: 'sos',
      homeId: 'h1',
    });
    await sos.endAsync();
    await feed.close();
  });

  it('merges repeated presses and duplicate deliveries into one alert', async () => {
    const feed = await FeedClient.connect(t.wsUrl, await login(t.httpUrl, 'supervisor1'));
    const sos = await connectDevice(t.mqttUrl, 'h2-sos');
    for (const id of ['p1', 'p1', 'p2']) {
      await sos.publishAsync(
        'carehub/v1/devices/h2-sos/events',
        JSON.stringify({ type: 'sos.pressed', id }),
        { qos: 1 },
      );
    }
    await feed.next((m) => m.type === 'alert' && (m.alert as { occurrences: number }).occurrences === 2);
    const alerts = feed.messages
      .filter((m) => m.type === 'alert')
      .map((m) => m.alert as { id: string; occurrences: number });
    expect(new Set(alerts.map((a) => a.id)).size).toBe(1);
    expect(alerts.map((a) => a.occurrences)).toEqual([1, 2]);
    await sos.endAsync();
    await feed.close();
  });

  it('keeps duty1 out of other grids: an h3 SOS never reaches duty1, supervisor1 sees it', async () => {
    const duty = await FeedClient.connect(t.wsUrl, await login(t.httpUrl, 'duty1'));
    const sup = await FeedClient.connect(t.wsUrl, await login(t.httpUrl, 'supervisor1'));
    const h3 = await connectDevice(t.mqttUrl, 'h3-sos');
    const h1 = await connectDevice(t.mqttUrl, 'h1-smoke');
    await h3.publishAsync('carehub/v1/devices/h3-sos/events', JSON.stringify({ type: 'sos.pressed' }), {
      qos: 1,
    });
    await sup.next((m) => m.type === 'alert' && (m.alert as { homeId: string }).homeId === 'h3');
    // a later in-scope alert proves duty1's feed is flowing, so the absence of h3 is meaningful
    await h1.publishAsync('carehub/v1/devices/h1-smoke/events', JSON.stringify({ type: 'smoke.detected' }), {
      qos: 1,
    });
    await duty.next((m) => m.type === 'alert' && (m.alert as { kind: string }).kind === 'smoke');
    expect(
      duty.messages.some((m) => m.type === 'alert' && (m.alert as { homeId: string }).homeId === 'h3'),
    ).toBe(false);
    const dutyToken = await login(t.httpUrl, 'duty1');
    const list = (await (
      await fetch(`${t.httpUrl}/api/v1/alerts`, { headers: { authorization: `Bearer ${dutyToken}` } })
    ).json()) as { alerts: Array<{ homeId: string }> };
    expect(list.alerts.map((a) => a.homeId)).toEqual(['h1']);
    await Promise.all([h3.endAsync(), h1.endAsync(), duty.close(), sup.close()]);
  });

  it('answers a feed upgrade without a token with HTTP 401', async () => {
    const { default: WebSocket } = await import('ws');
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${t.wsUrl}/api/v1/feed`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    expect(status).toBe(401);
  });
});
