import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ManualClock } from '../../hub/src/clock/clock.js';
import { parseConfig } from '../../hub/src/config/load.js';
import { type InboundMessage, Ingest } from '../../hub/src/ingest/ingest.js';
import { createLogger } from '../../hub/src/log.js';
import { Metrics } from '../../hub/src/metrics.js';
import { Directory } from '../../hub/src/site/directory.js';
import { type AppendDone, Journal, type JournalEntry } from '../../hub/src/store/journal.js';
import { type Db, openDatabase } from '../../hub/src/store/sqlite-db.js';
import { UnitOfWork } from '../../hub/src/store/unit-of-work.js';
import { ZigbeeStateRepo } from '../../hub/src/store/zigbee-state-repo.js';

const SITE = (
  parse(
    readFileSync(
      join(import.meta.dirname, '..', '..', 'devices-sim', 'scenarios', 'gateway-offline.yaml'),
      'utf8',
    ),
  ) as { config: Record<string, unknown> }
).config;

/** A journal whose next appends fail, as when the disk is full (a stand-in for a failing disk). */
class FailingJournal extends Journal {
  failures = 0;
  override appendThen(entry: JournalEntry, done: AppendDone): void {
    if (this.failures > 0) {
      this.failures--;
      queueMicrotask(() => done(new Error('disk full')));
      return;
    }
    super.appendThen(entry, done);
  }
}

// Ingest of gateway z1-gw's reports (gateway-offline drill site): the memory it decodes with comes
// from the store at a device's first report, and is dropped when an append fails.
describe('Ingest of Zigbee2MQTT reports', () => {
  let dir: string;
  let db: Db;
  let journal: FailingJournal;
  let repo: ZigbeeStateRepo;
  let ingest: Ingest;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'carehub-z2m-ingest-'));
    const config = parseConfig(structuredClone(SITE), { CAREHUB_DATA_DIR: dir });
    db = openDatabase(dir);
    journal = new FailingJournal(db, new UnitOfWork(db), createLogger('silent'));
    repo = new ZigbeeStateRepo(db);
    ingest = new Ingest(
      config,
      new Directory(config),
      journal,
      new ManualClock(Date.UTC(2026, 10, 26)),
      new Metrics(false),
      createLogger('silent'),
      repo,
    );
  });
  afterEach(() => {
    journal.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let mid = 0;
  const report = (name: string, payload: unknown): InboundMessage => ({
    clientId: 'z1-gw',
    topic: `zigbee2mqtt/${name}`,
    payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
    qos: 1,
    dup: false,
    messageId: ++mid,
  });
  const types = (deviceId: string) =>
    (
      db.prepare('SELECT type FROM journal WHERE device_id = ? ORDER BY seq').all(deviceId) as Array<{
        type: string;
      }>
    ).map((r) => r.type);

  it('decodes a device’s first report after a start against the memory the store kept', async () => {
    repo.put(
      'z1-smoke',
      JSON.stringify({ levels: { smoke: true, test: false }, action: null, rest: 'before-the-restart' }),
      1,
    );
    await ingest.accept(report('kitchen_smoke', { smoke: true, test: false, battery: 80 }));
    await ingest.accept(report('kitchen_smoke', { smoke: false, test: false, battery: 80 }));
    expect(types('z1-smoke')).toEqual(['heartbeat', 'smoke.cleared']);
    // Every row carries the memory after its report, for the processor to store.
    const last = db
      .prepare("SELECT payload FROM journal WHERE device_id = 'z1-smoke' ORDER BY seq DESC")
      .get() as {
      payload: string;
    };
    expect(JSON.parse(last.payload).zigbee).toMatchObject({
      levels: { smoke: false, test: false },
      action: null,
    });
  });

  it('forgets a report whose append failed: its resend is decoded against what is on disk', async () => {
    await ingest.accept(report('front_door', { contact: true })); // the gateway's check-in is done
    journal.failures = 1;
    await expect(ingest.accept(report('kitchen_smoke', { smoke: true, battery: 80 }))).rejects.toThrow(
      'disk full',
    );
    // The bridge resends; had the failed report stayed in memory, this would be "no change".
    await ingest.accept(report('kitchen_smoke', { smoke: true, battery: 80 }));
    expect(types('z1-smoke')).toEqual(['smoke.detected']);
  });

  it('ignores Zigbee2MQTT’s Home Assistant trigger topic {name}/action of a mapped device, rejects others', async () => {
    expect(await ingest.accept(report('pendant/action', 'emergency'))).toEqual({
      status: 'accepted',
      count: 0,
      duplicates: 0,
    });
    expect(await ingest.accept(report('stranger/action', 'emergency'))).toMatchObject({
      status: 'rejected',
      reason: 'unknown_device',
    });
    expect(types('z1-sos')).toEqual([]);
  });
});
