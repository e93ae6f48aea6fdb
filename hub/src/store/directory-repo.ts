import type { StaffConfig } from '../config/schema.js';
import type {
  DeviceRecord,
  DirectoryChange,
  DirectoryData,
  GridRecord,
  HomeRecord,
} from '../model/directory.js';
import type { Db, Meta } from './sqlite-db.js';

/** Where an op's record sits in the lists: the entry and op that created it. */
export interface Place {
  pos: number;
  idx: number;
}

const SEEDED_KEY = 'directory_seeded';

/**
 * The site directory's tables (dir_grids, dir_homes, dir_devices, dir_staff) and the change history
 * (dir_changes). Written only by the applier (core/directory-applier.ts), inside its unit of work;
 * read whole at start into the in-memory read model (site/directory.ts). A record keeps the place it
 * was created at, so lists come back in the order the log made them, on every node.
 */
export class DirectoryRepo {
  readonly #stmts;

  constructor(
    private readonly db: Db,
    private readonly meta: Meta,
  ) {
    this.#stmts = {
      putGrid: db.prepare(
        `INSERT INTO dir_grids(id, pos, idx, data) VALUES (@id, @pos, @idx, @data)
         ON CONFLICT(id) DO UPDATE SET data = excluded.data`,
      ),
      delGrid: db.prepare('DELETE FROM dir_grids WHERE id = ?'),
      putHome: db.prepare(
        `INSERT INTO dir_homes(id, grid, pos, idx, data, updated_at) VALUES (@id, @grid, @pos, @idx, @data, @at)
         ON CONFLICT(id) DO UPDATE SET grid = excluded.grid, data = excluded.data, updated_at = excluded.updated_at`,
      ),
      delHome: db.prepare('DELETE FROM dir_homes WHERE id = ?'),
      putDevice: db.prepare(
        `INSERT INTO dir_devices(id, home_id, pos, idx, data, secret_hash, secret_at, updated_at)
         VALUES (@id, @homeId, @pos, @idx, @data, @secretHash, @secretAt, @at)
         ON CONFLICT(id) DO UPDATE SET home_id = excluded.home_id, data = excluded.data,
           secret_hash = excluded.secret_hash, secret_at = excluded.secret_at, updated_at = excluded.updated_at`,
      ),
      delDevice: db.prepare('DELETE FROM dir_devices WHERE id = ?'),
      putStaff: db.prepare(
        `INSERT INTO dir_staff(id, pos, idx, data, password_hash, updated_at) VALUES (@id, @pos, @idx, @data, @hash, @at)
         ON CONFLICT(id) DO UPDATE SET data = excluded.data, password_hash = excluded.password_hash, updated_at = excluded.updated_at`,
      ),
      delStaff: db.prepare('DELETE FROM dir_staff WHERE id = ?'),
      change: db.prepare(
        `INSERT INTO dir_changes(position, idx, at, actor, op, target, home_id, before, after)
         VALUES (@position, @index, @at, @actor, @op, @target, @homeId, @before, @after)`,
      ),
      delChangesOfHome: db.prepare('DELETE FROM dir_changes WHERE home_id = ?'),
    };
  }

  /** Seeded: the directory is the store's (from the first start on), no longer the file's. */
  seededAt(): number | undefined {
    const v = this.meta.get(SEEDED_KEY);
    return v === undefined ? undefined : Number(v);
  }

  markSeeded(position: number): void {
    this.meta.set(SEEDED_KEY, position);
  }

  /** Everything, in the order the log created it. */
  loadAll(): DirectoryData {
    const rows = <T>(sql: string) => this.db.prepare(sql).all() as T[];
    return {
      grids: rows<{ data: string }>('SELECT data FROM dir_grids ORDER BY pos, idx').map(
        (r) => JSON.parse(r.data) as GridRecord,
      ),
      homes: rows<{ data: string }>('SELECT data FROM dir_homes ORDER BY pos, idx').map(
        (r) => JSON.parse(r.data) as HomeRecord,
      ),
      devices: rows<{ data: string; home_id: string; secret_hash: string | null; secret_at: number | null }>(
        'SELECT data, home_id, secret_hash, secret_at FROM dir_devices ORDER BY pos, idx',
      ).map((r) => ({
        ...(JSON.parse(r.data) as Omit<DeviceRecord, 'homeId' | 'secretHash' | 'secretAt'>),
        homeId: r.home_id,
        secretHash: r.secret_hash,
        secretAt: r.secret_at,
      })),
      staff: rows<{ data: string; password_hash: string }>(
        'SELECT data, password_hash FROM dir_staff ORDER BY pos, idx',
      ).map((r) => ({
        ...(JSON.parse(r.data) as Omit<StaffConfig, 'passwordHash'>),
        passwordHash: r.password_hash,
      })),
    };
  }

  /** Empty every directory table (the seed starts from nothing). The change history stays. */
  clear(): void {
    this.db.exec(
      'DELETE FROM dir_grids; DELETE FROM dir_homes; DELETE FROM dir_devices; DELETE FROM dir_staff;',
    );
  }

  putGrid(grid: GridRecord, place: Place): void {
    this.#stmts.putGrid.run({ id: grid.id, ...place, data: JSON.stringify(grid) });
  }

  deleteGrid(id: string): void {
    this.#stmts.delGrid.run(id);
  }

  putHome(home: HomeRecord, place: Place, at: number): void {
    this.#stmts.putHome.run({ id: home.id, grid: home.grid, ...place, data: JSON.stringify(home), at });
  }

  deleteHome(id: string): void {
    this.#stmts.delHome.run(id);
  }

  putDevice(device: DeviceRecord, place: Place, at: number): void {
    const { homeId, secretHash, secretAt, ...fields } = device;
    this.#stmts.putDevice.run({
      id: device.id,
      homeId,
      ...place,
      data: JSON.stringify(fields),
      secretHash,
      secretAt,
      at,
    });
  }

  deleteDevice(id: string): void {
    this.#stmts.delDevice.run(id);
  }

  putStaff(staff: StaffConfig, place: Place, at: number): void {
    const { passwordHash, ...fields } = staff;
    this.#stmts.putStaff.run({
      id: staff.id,
      ...place,
      data: JSON.stringify(fields),
      hash: passwordHash,
      at,
    });
  }

  deleteStaff(id: string): void {
    this.#stmts.delStaff.run(id);
  }

  recordChange(c: DirectoryChange): void {
    this.#stmts.change.run({
      ...c,
      before: c.before === undefined ? null : JSON.stringify(c.before),
      after: c.after === undefined ? null : JSON.stringify(c.after),
    });
  }

  /** Erasing a home erases its change history (names, phones, notes of its residents and contacts). */
  eraseChangesOf(homeId: string): number {
    return this.#stmts.delChangesOfHome.run(homeId).changes;
  }

  /** The newest changes first, of one home or one target when given. */
  changes(q: { homeId?: string | undefined; target?: string | undefined; limit: number }): DirectoryChange[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.homeId !== undefined) {
      where.push('home_id = ?');
      args.push(q.homeId);
    }
    if (q.target !== undefined) {
      where.push('target = ?');
      args.push(q.target);
    }
    const rows = this.db
      .prepare(
        `SELECT * FROM dir_changes ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY position DESC, idx DESC LIMIT ?`,
      )
      .all(...args, q.limit) as Array<{
      position: number;
      idx: number;
      at: number;
      actor: string;
      op: DirectoryChange['op'];
      target: string;
      home_id: string | null;
      before: string | null;
      after: string | null;
    }>;
    return rows.map((r) => ({
      position: r.position,
      index: r.idx,
      at: r.at,
      actor: r.actor,
      op: r.op,
      target: r.target,
      homeId: r.home_id,
      before: r.before === null ? null : JSON.parse(r.before),
      after: r.after === null ? null : JSON.parse(r.after),
    }));
  }
}
