import { AlertService } from '../alerts/alert-service.js';
import type { Clock } from '../clock/clock.js';
import { HomeModes } from '../homes/home-modes.js';
import type { Messages } from '../i18n/messages.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { NotifyLadder } from '../notify/ladder.js';
import { ALL_RULES } from '../rules/all-rules.js';
import { LAST_SEEN_WRITE_MS, RulesRuntime } from '../rules/runtime.js';
import type { Directory } from '../site/directory.js';
import type { HubStore } from '../store/open-store.js';
import { Scheduler } from '../timers/scheduler.js';
import { Applier } from './applier.js';
import { Commands } from './commands.js';
import { DirectoryApplier } from './directory-applier.js';
import { Effects } from './effects.js';
import { SoftState } from './soft-state.js';
import { StateMachine } from './state-machine.js';

/** The hub's core: the rules and the alert lifecycle behind one applier, driven by the state machine. */
export interface HubCore {
  readonly scheduler: Scheduler;
  readonly rules: RulesRuntime;
  readonly alerts: AlertService;
  readonly modes: HomeModes;
  readonly applier: Applier;
  readonly directoryChanges: DirectoryApplier;
  readonly machine: StateMachine;
  readonly effects: Effects;
  readonly commands: Commands;
  readonly soft: SoftState;
}

export interface CoreDeps {
  store: HubStore;
  directory: Directory;
  messages: Messages;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
}

export function openCore({ store, directory, messages, clock, metrics, log }: CoreDeps): HubCore {
  let machine: StateMachine | undefined;
  const scheduler = new Scheduler(clock, store.timers, (timer, late) =>
    machine?.fireTimer(timer, late, (key, at) => scheduler.retry(key, at)),
  );
  store.uow.register(scheduler);
  const rules = new RulesRuntime(
    directory,
    store.homeStates,
    scheduler,
    store.alerts,
    store.rhythms,
    ALL_RULES,
    log.child({ mod: 'rules' }),
  );
  const alerts = new AlertService(store.alerts, store.feedLog, directory, messages, scheduler);
  const modes = new HomeModes(directory, rules, scheduler, store.feedLog);
  const directoryChanges = new DirectoryApplier({
    config: directory.config,
    directory,
    repo: store.directory,
    rules,
    alerts: store.alerts,
    feedLog: store.feedLog,
    devices: store.devices,
    homeStates: store.homeStates,
    rhythms: store.rhythms,
    zigbee: store.zigbee,
    timers: store.timers,
    scheduler,
    audit: store.audit,
    erasure: store.erasure,
    sessions: store.sessions,
    t: (key, params) => messages.t('en', key, params),
    log: log.child({ mod: 'directory' }),
  });
  store.uow.register(directoryChanges);
  const notify = new NotifyLadder({
    directory,
    repo: store.notify,
    alertRepo: store.alerts,
    alerts,
    scheduler,
    audit: store.audit,
    log: log.child({ mod: 'notify' }),
  });
  const applier = new Applier({
    directory,
    rules,
    alerts,
    modes,
    devices: store.devices,
    feedLog: store.feedLog,
    audit: store.audit,
    scheduler,
    timers: store.timers,
    zigbee: store.zigbee,
    sessions: store.sessions,
    meta: store.meta,
    directoryChanges,
    notify,
    log: log.child({ mod: 'applier' }),
  });
  const effects = new Effects(directory, metrics, log.child({ mod: 'effects' }));
  machine = new StateMachine(
    store.uow,
    store.journal,
    applier,
    effects,
    store.meta,
    clock,
    metrics,
    log.child({ mod: 'state' }),
  );
  const soft = new SoftState(
    store.db,
    store.meta,
    store.journal,
    store.devices,
    store.homeStates,
    rules,
    () => (machine as StateMachine).processedSeq(),
    log.child({ mod: 'soft-state' }),
    LAST_SEEN_WRITE_MS,
  );
  // After the repositories (registered when the store opened): their caches are dropped first.
  store.uow.register(soft);
  const sm = machine;
  return {
    scheduler,
    rules,
    alerts,
    modes,
    applier,
    directoryChanges,
    machine: sm,
    effects,
    commands: new Commands(
      (entry) => sm.submit(entry),
      clock,
      // In a cluster each entry goes to the replicated log on its own, in order: an import is
      // applied home by home there (docs/cluster.md, "Not in a cluster").
      async (entries) => {
        if (!sm.replicated) return sm.submitAllNow(entries);
        const results: unknown[] = [];
        for (const entry of entries) results.push(await sm.submit(entry));
        return results;
      },
    ),
    soft,
  };
}
