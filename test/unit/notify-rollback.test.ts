import { afterEach, describe, expect, it } from 'vitest';
import { demoRaw } from '../helpers/hub.js';
import { notifyRaw } from '../helpers/notify-servers.js';
import { RulesHarness } from '../helpers/rules-harness.js';

/**
 * A rolled-back unit of work (issue 17's rule) for the notification entries: a trigger stands in for
 * a full disk at the entry's last write; nothing of the entry is kept, and the entry applied later
 * (the timer fired again, the delivery or the going submitted again) has its whole effect once.
 */
const RAW = notifyRaw(demoRaw(), { smtpPort: 9, webhook: 'http://127.0.0.1:9/hook' });
let h: RulesHarness;
afterEach(() => h?.close());

function failing(table: string, work: () => void): void {
  const db = h.hub.store.db;
  for (const op of ['INSERT', 'UPDATE', 'DELETE'])
    db.exec(
      `CREATE TEMP TRIGGER fail_${op} BEFORE ${op} ON ${table} BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
    );
  try {
    work();
  } finally {
    for (const op of ['INSERT', 'UPDATE', 'DELETE']) db.exec(`DROP TRIGGER temp.fail_${op}`);
  }
}

function raise(): string {
  h = RulesHarness.create({ raw: RAW, start: '2026-11-26T10:00:00+08:00' });
  h.event('h1-sos', { type: 'sos.pressed' });
  return h.alerts({ kind: 'sos' })[0]?.alert.id ?? '';
}

describe('notification entries in a rolled-back unit of work', () => {
  it('a ladder step whose audit row fails: no outbox row, the timer stays and fires again once', () => {
    const id = raise();
    failing('audit', () => h.advance('60s'));
    expect(h.hub.store.notify.byAlert(id)).toEqual([]);
    expect(h.hub.core.scheduler.has(`notify:${id}:1`)).toBe(true);
    h.advance('5s');
    expect(h.hub.store.notify.byAlert(id).map((r) => r.channel)).toEqual(['email', 'webhook']);
    expect(h.hub.core.scheduler.has(`notify:${id}:1`)).toBe(false);
  });

  it('a delivery entry that fails midway leaves the row pending with no attempt; submitted again it counts once', () => {
    const id = raise();
    h.advance('60s');
    const rowId = `${id}.1.0.email`;
    const entry = {
      kind: 'delivery' as const,
      at: h.clock.now(),
      rowId,
      attempt: 1,
      result: 'sent' as const,
      detail: '250',
    };
    expect(() => failing('audit', () => h.hub.core.machine.submitNow(entry))).toThrow('disk full');
    expect(h.hub.store.notify.get(rowId)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(h.hub.store.notify.attempts(id)).toEqual([]);
    expect(h.alerts({ kind: 'sos' })[0]?.alert.notes.some((n) => n.texts?.en?.includes('was told'))).toBe(
      false,
    );
    h.hub.core.machine.submitNow(entry);
    h.hub.core.machine.submitNow(entry);
    expect(h.hub.store.notify.get(rowId)).toMatchObject({ status: 'sent', attempts: 1 });
    expect(h.hub.store.notify.attempts(id)).toHaveLength(1);
  });

  it('a contact going that fails midway does not stop the ladder; the next try does', () => {
    const id = raise();
    h.advance('60s');
    const going = { kind: 'contact-ack' as const, at: h.clock.now(), alertId: id, contact: 0 };
    expect(() => failing('alerts', () => h.hub.core.machine.submitNow(going))).toThrow('disk full');
    expect(h.hub.store.notify.going(id)).toEqual([]);
    expect(h.hub.core.scheduler.has(`notify:${id}:2`)).toBe(true);
    expect(h.hub.store.notify.byAlert(id).every((r) => r.status === 'pending')).toBe(true);
    expect(h.hub.core.machine.submitNow(going)).toBe('going');
    expect(h.hub.core.scheduler.has(`notify:${id}:2`)).toBe(false);
    expect(h.hub.store.notify.byAlert(id).every((r) => r.status === 'cancelled')).toBe(true);
    expect(h.hub.core.machine.submitNow(going)).toBe('used');
  });
});
