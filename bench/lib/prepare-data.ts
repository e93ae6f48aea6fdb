import { openDatabase } from '../../hub/src/store/sqlite-db.js';
import { homeOfDevice, type Site } from './site.js';

/**
 * A hub data dir as a long-running site leaves it: `rows` journal rows (heartbeats and door events
 * of the site's devices over the last 30 days, all processed) and `timers` pending timers (the
 * rules' supervision timers for every device, the rest escalation/reminder timers due 1-30 days
 * ahead). Written with synchronous=OFF in big transactions: preparation, not the measured part.
 */
export function prepareDataDir(dataDir: string, site: Site, rows: number, timers: number): { ms: number } {
  const t0 = performance.now();
  const db = openDatabase(dataDir);
  db.pragma('synchronous = OFF');
  const now = Date.now();
  const start = now - 30 * 86_400_000;
  const ids = site.allIds;
  const insert = db.prepare(
    'INSERT INTO journal(device_id, home_id, received_at, type, event_id, mqtt_mid, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const boot = now.toString(36);
  const chunk = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const dev = ids[i % ids.length] as string;
      const at = start + Math.floor((i / rows) * 30 * 86_400_000);
      const door = dev.endsWith('-door') && i % 3 === 0;
      const type = door ? (i % 2 ? 'door.opened' : 'door.closed') : 'heartbeat';
      const id = `${boot}-${i.toString(36)}`;
      const payload = door
        ? `{"type":"${type}","id":"${id}","ts":"${new Date(at).toISOString()}"}`
        : `{"type":"heartbeat","id":"${id}","ts":"${new Date(at).toISOString()}","battery":${90 - (i % 7)},"rssi":${-50 - (i % 20)}}`;
      insert.run(dev, homeOfDevice(dev), at, type, id, (i % 65_535) + 1, payload);
    }
  });
  const CHUNK = 200_000;
  for (let i = 0; i < rows; i += CHUNK) chunk(i, Math.min(rows, i + CHUNK));
  const putTimer = db.prepare(
    'INSERT OR REPLACE INTO timers(key, home_id, due_at, data) VALUES (?, ?, ?, ?)',
  );
  db.transaction(() => {
    let n = 0;
    for (const dev of ids) {
      if (n >= timers) break;
      const home = homeOfDevice(dev);
      putTimer.run(
        `device_offline:${home}:sup:${dev}`,
        home,
        now + 2 * 3600_000 + (n % 3600) * 1000,
        JSON.stringify({ deviceId: dev, owner: 'rule', rule: 'device_offline', key: `sup:${dev}` }),
      );
      n++;
    }
    for (; n < timers; n++) {
      const home = homeOfDevice(ids[n % ids.length] as string);
      const alertId = `al-bench-${n}`;
      putTimer.run(
        `esc:${alertId}:reminder`,
        home,
        now + 86_400_000 + (n % 29) * 86_400_000,
        JSON.stringify({ owner: 'alert', alertId, step: 'reminder' }),
      );
    }
  })();
  db.prepare(
    "INSERT INTO meta(key, value) VALUES ('processed_seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  ).run(String(rows));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { ms: performance.now() - t0 };
}
