import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../hub/src/store/sqlite-db.js';
import { ZigbeeStateRepo } from '../../hub/src/store/zigbee-state-repo.js';

describe('ZigbeeStateRepo', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'carehub-zstate-'));
    db = openDatabase(dir);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = () => db.prepare('SELECT device_id, memory, seq FROM zigbee_state ORDER BY device_id').all();

  it('keeps the newest memory per device; an older row never overwrites it', () => {
    const repo = new ZigbeeStateRepo(db);
    expect(repo.get('d1')).toBeUndefined();
    repo.put('d1', '{"a":1}', 5);
    repo.put('d1', '{"a":0}', 3);
    repo.put('d2', '{"b":1}', 4);
    expect(stored()).toEqual([
      { device_id: 'd1', memory: '{"a":1}', seq: 5 },
      { device_id: 'd2', memory: '{"b":1}', seq: 4 },
    ]);
    expect(new ZigbeeStateRepo(db).get('d1')).toBe('{"a":1}');
  });

  it('writes nothing for an unchanged memory, and writes again after a rolled-back transaction', () => {
    const repo = new ZigbeeStateRepo(db);
    repo.put('d1', '{"a":1}', 1);
    repo.put('d1', '{"a":1}', 2);
    expect(stored()).toEqual([{ device_id: 'd1', memory: '{"a":1}', seq: 1 }]);
    expect(() =>
      db.transaction(() => {
        repo.put('d1', '{"a":2}', 3);
        throw new Error('rolled back');
      })(),
    ).toThrow('rolled back');
    repo.forget();
    repo.put('d1', '{"a":2}', 4);
    expect(stored()).toEqual([{ device_id: 'd1', memory: '{"a":2}', seq: 4 }]);
  });
});
