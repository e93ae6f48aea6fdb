import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hub/src/clock/clock.js';
import { parseConfig } from '../../hub/src/config/load.js';
import { type InboundMessage, Ingest } from '../../hub/src/ingest/ingest.js';
import { createLogger } from '../../hub/src/log.js';
import { Metrics } from '../../hub/src/metrics.js';
import { Directory } from '../../hub/src/site/directory.js';
import { Journal } from '../../hub/src/store/journal.js';
import { type Db, openDatabase } from '../../hub/src/store/sqlite-db.js';
import { UnitOfWork } from '../../hub/src/store/unit-of-work.js';
import { demoRaw } from '../helpers/hub.js';

// What ingest does with each kind of topic, as a second line behind the broker's ACL (an external
// broker's bridge hands it messages without that ACL). Demo site; h1-sos is an SOS button.
describe('Ingest routing', () => {
  let dir: string;
  let db: Db;
  let journal: Journal;
  let ingest: Ingest;
  let directory: Directory;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'carehub-ingest-'));
    const config = parseConfig(demoRaw(), { CAREHUB_DATA_DIR: dir });
    db = openDatabase(dir);
    journal = new Journal(db, new UnitOfWork(db), createLogger('silent'));
    directory = new Directory(config);
    ingest = new Ingest(
      config,
      directory,
      journal,
      new ManualClock(Date.UTC(2026, 10, 26)),
      new Metrics(false),
      createLogger('silent'),
    );
  });
  afterEach(() => {
    journal.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const msg = (clientId: string, topic: string, payload: unknown, o: Partial<InboundMessage> = {}) => ({
    clientId,
    topic,
    payload: Buffer.from(JSON.stringify(payload)),
    qos: 1 as const,
    dup: false,
    messageId: 1,
    ...o,
  });

  it('accepts a device’s events and status on its own topics, with or without the broker’s lookup', async () => {
    const sos = { type: 'sos.pressed', id: 'r-1' };
    expect(await ingest.accept(msg('h1-sos', 'carehub/v1/devices/h1-sos/events', sos))).toMatchObject({
      status: 'accepted',
      count: 1,
    });
    const sender = directory.device('h1-sos');
    expect(
      await ingest.accept(
        msg('h1-sos', 'carehub/v1/devices/h1-sos/events', { ...sos, id: 'r-2' }, { sender }),
      ),
    ).toMatchObject({ status: 'accepted', count: 1 });
    expect(
      await ingest.accept(msg('h1-sos', 'carehub/v1/devices/h1-sos/status', { state: 'offline' })),
    ).toMatchObject({ status: 'accepted', count: 1 });
    const types = db.prepare('SELECT type FROM journal ORDER BY seq').all() as Array<{ type: string }>;
    expect(types.map((r) => r.type)).toEqual(['sos.pressed', 'sos.pressed', 'status.offline']);
  });

  it('refuses, with the reason, another device’s topics, commands, other topics and unknown clients', async () => {
    const ev = { type: 'heartbeat' };
    // each refusal names the sender's own topics (issue 22: a refused topic hints at the right one)
    const own = 'expected carehub/v1/devices/h1-sos/events or carehub/v1/devices/h1-sos/status';
    const cases: Array<[InboundMessage, string, string]> = [
      [
        msg('h1-sos', 'carehub/v1/devices/h1-door/events', ev),
        'acl_denied',
        `topic of another device: ${own}`,
      ],
      [
        msg('h1-sos', 'carehub/v1/devices/h1-sos/commands', ev),
        'acl_denied',
        `devices do not publish on their commands topic: ${own}`,
      ],
      [msg('h1-sos', 'somewhere/else', ev), 'bad_topic', `not a CareHub device topic: ${own}`],
      [
        msg('nobody', 'carehub/v1/devices/nobody/events', ev),
        'unknown_device',
        'client is not a configured device',
      ],
    ];
    for (const [m, reason, detail] of cases)
      expect(await ingest.accept(m), m.topic).toEqual({ status: 'rejected', reason, detail });
    expect((db.prepare('SELECT count(*) AS n FROM journal').get() as { n: number }).n).toBe(0);
    expect((db.prepare('SELECT count(*) AS n FROM dead_letter').get() as { n: number }).n).toBe(cases.length);
  });
});
