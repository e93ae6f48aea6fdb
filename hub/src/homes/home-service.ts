import type { Clock } from '../clock/clock.js';
import type { HomeConfig, StaffConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { AuditLogEntry } from '../model/entries.js';
import type { RulesRuntime } from '../rules/runtime.js';
import type { Directory } from '../site/directory.js';
import type { AlertRepo } from '../store/alert-repo.js';
import type { DeviceStateRepo } from '../store/device-state-repo.js';
import { formatIso, localParts } from '../time/iso.js';
import { RhythmView } from './rhythm-view.js';

/** A staff member's list reads within this of the last recorded one are not recorded again. */
export const LIST_AUDIT_WINDOW_MS = 60_000;

/**
 * Homes as staff see them: residents, contacts, device health, mode. Reading resident details is
 * audited; so is reading the list (names, ages, addresses), at most once a minute per staff member.
 */
export class HomeService {
  /** Staff id → hub time of their last recorded list read. */
  readonly #listAudited = new Map<string, number>();
  readonly #rhythm: RhythmView;

  constructor(
    private readonly directory: Directory,
    private readonly rules: RulesRuntime,
    private readonly devices: DeviceStateRepo,
    private readonly alertRepo: AlertRepo,
    private readonly clock: Clock,
    /** Where the audit row of a read goes: the log (core/state-machine.ts). */
    private readonly submit: (entry: AuditLogEntry) => Promise<unknown>,
  ) {
    this.#rhythm = new RhythmView(directory, rules);
  }

  /** The homes in scope with their residents' names and ages: an audited read (see LIST_AUDIT_WINDOW_MS). */
  async list(staff: StaffConfig) {
    const open = new Map<string, number>();
    for (const r of this.alertRepo.unresolved())
      open.set(r.alert.homeId, (open.get(r.alert.homeId) ?? 0) + 1);
    const homes = this.directory.homes().filter((h) => this.directory.canSee(staff, h.id));
    await this.#auditList(staff, homes);
    return homes.map((h) => ({ ...this.#summary(h), openAlerts: open.get(h.id) ?? 0 }));
  }

  /** One `resident.list` row per staff member and minute: the trail shows who saw the list, without a row per reload. */
  async #auditList(staff: StaffConfig, homes: readonly HomeConfig[]): Promise<void> {
    const now = this.clock.now();
    const last = this.#listAudited.get(staff.id);
    if (last !== undefined && now >= last && now - last < LIST_AUDIT_WINDOW_MS) return;
    this.#listAudited.set(staff.id, now);
    await this.submit({
      kind: 'audit',
      at: now,
      actor: staff.id,
      action: 'resident.list',
      target: 'homes',
      data: { homes: homes.map((h) => h.id) },
    });
  }

  /** A read of the homes' residents elsewhere (the admin pages' list): recorded as `list` records it. */
  async auditList(staff: StaffConfig, homes: readonly HomeConfig[]): Promise<void> {
    await this.#auditList(staff, homes);
  }

  /** A read of one home's residents and contacts: its audit row (a log entry). */
  async auditRead(staff: StaffConfig, home: HomeConfig): Promise<void> {
    await this.submit({
      kind: 'audit',
      at: this.clock.now(),
      actor: staff.id,
      action: 'resident.read',
      target: home.id,
      data: { residents: home.residents.map((r) => r.id) },
    });
  }

  /** Full details including residents' notes and contacts: an audited read (the audit row is a log entry). */
  async detail(staff: StaffConfig, homeId: string) {
    const home = this.#visible(staff, homeId);
    await this.auditRead(staff, home);
    const year = localParts(this.clock.now(), this.directory.timezoneOf(home.id)).year;
    const summary = this.#summary(home);
    return {
      ...summary,
      // The whole learned profile and the latest prompts: resident data, read under the audit row above.
      rhythm: this.#rhythm.detail(home),
      checkins: { ...summary.checkins, recent: this.#rhythm.recent(home) },
      residents: home.residents.map((r) => ({
        id: r.id,
        name: r.name,
        birthYear: r.birthYear ?? null,
        age: r.birthYear ? year - r.birthYear : null,
        language: r.language ?? null,
        notes: r.notes ?? null,
        wanderingRisk: r.wanderingRisk,
        phone: r.phone ?? null,
      })),
      contacts: home.contacts.map((c) => ({
        name: c.name,
        relation: c.relation,
        phone: c.phone ?? null,
        email: c.email ?? null,
        language: c.language ?? null,
        notify: c.notify,
        notes: c.notes ?? null,
      })),
    };
  }

  /** The home as staff see it after a change (a mode set through the log). */
  summary(staff: StaffConfig, homeId: string) {
    return this.#summary(this.#visible(staff, homeId));
  }

  /** A home's learned rhythm and check-ins after staff changed them (an override, a fresh start): resident data, audited by the change itself. */
  rhythm(staff: StaffConfig, homeId: string) {
    const home = this.#visible(staff, homeId);
    return {
      rhythm: this.#rhythm.detail(home),
      checkins: { ...this.#rhythm.checkins(home, this.clock.now()), recent: this.#rhythm.recent(home) },
    };
  }

  #visible(staff: StaffConfig, homeId: string): HomeConfig {
    const home = this.directory.home(homeId);
    if (!home || !this.directory.canSee(staff, homeId))
      throw new HubError(ErrorCodes.NOT_FOUND, `no home ${homeId}`);
    return home;
  }

  #summary(home: HomeConfig) {
    const tz = this.directory.timezoneOf(home.id);
    const state = this.rules.stateOf(home.id, this.clock.now());
    const year = localParts(this.clock.now(), tz).year;
    return {
      id: home.id,
      address: home.address,
      grid: home.grid,
      timezone: tz,
      mode: { mode: state.mode, until: state.modeUntil === null ? null : formatIso(state.modeUntil, tz) },
      checkins: this.#rhythm.checkins(home, this.clock.now()),
      rhythm: this.#rhythm.summary(home),
      residents: home.residents.map((r) => ({
        id: r.id,
        name: r.name,
        age: r.birthYear ? year - r.birthYear : null,
        language: r.language ?? null,
        wanderingRisk: r.wanderingRisk,
      })),
      devices: home.devices.map((d) => {
        const s = this.devices.get(d.id);
        return {
          id: d.id,
          kind: d.kind,
          label: d.label ?? null,
          online: s?.online ?? null,
          battery: s?.battery ?? null,
          batteryLow: s?.batteryLow ?? null,
          lastSeen: s ? formatIso(s.lastSeen, tz) : null,
        };
      }),
    };
  }
}
