import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock/clock.js';
import type { HomeConfig, StaffConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { FeedEntry, FeedLog } from '../feed/feed-log.js';
import type { HomeMode } from '../rules/home-state.js';
import type { RulesRuntime } from '../rules/runtime.js';
import type { Directory } from '../site/directory.js';
import type { AlertRepo } from '../store/alert-repo.js';
import type { DeviceStateRepo } from '../store/device-state-repo.js';
import { rollingBack } from '../store/rolling-back.js';
import type { Db } from '../store/sqlite-db.js';
import { formatIso, localParts } from '../time/iso.js';

/** Homes as staff see them: residents, contacts, device health, mode. Reading resident details is audited. */
export class HomeService {
  constructor(
    private readonly db: Db,
    private readonly directory: Directory,
    private readonly rules: RulesRuntime,
    private readonly devices: DeviceStateRepo,
    private readonly alertRepo: AlertRepo,
    private readonly feedLog: FeedLog,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly dispatch: (entries: FeedEntry[]) => void,
    /** The transaction rolled back: caches it changed (timers, home state) must be read again. */
    private readonly rolledBack: () => void,
  ) {}

  list(staff: StaffConfig) {
    const open = new Map<string, number>();
    for (const r of this.alertRepo.unresolved())
      open.set(r.alert.homeId, (open.get(r.alert.homeId) ?? 0) + 1);
    return this.directory
      .homes()
      .filter((h) => this.directory.canSee(staff, h.id))
      .map((h) => ({ ...this.#summary(h), openAlerts: open.get(h.id) ?? 0 }));
  }

  /** Full details including residents' notes and contacts: an audited read. */
  detail(staff: StaffConfig, homeId: string) {
    const home = this.#visible(staff, homeId);
    this.audit.append(this.clock.now(), staff.id, 'resident.read', home.id, {
      residents: home.residents.map((r) => r.id),
    });
    const year = localParts(this.clock.now(), this.directory.timezoneOf(home.id)).year;
    const summary = this.#summary(home);
    return {
      ...summary,
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
        phone: c.phone,
        notes: c.notes ?? null,
      })),
    };
  }

  setMode(staff: StaffConfig, homeId: string, mode: HomeMode, until: number | null) {
    const home = this.#visible(staff, homeId);
    const now = this.clock.now();
    if (until !== null && until <= now)
      throw new HubError(ErrorCodes.BAD_REQUEST, 'until must be in the future');
    const entry = rollingBack(this.rolledBack, () =>
      this.db.transaction(() => {
        this.rules.setMode(home.id, mode, until, now);
        this.audit.append(now, staff.id, 'home.mode', home.id, { mode, until });
        const tz = this.directory.timezoneOf(home.id);
        return this.feedLog.append(now, 'home', home.id, {
          type: 'home',
          home: { id: home.id, mode, until: until === null ? null : formatIso(until, tz), by: staff.id },
        });
      })(),
    );
    this.dispatch([entry]);
    return this.#summary(home);
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
