import type { CliIo } from './cli-io.js';
import { genConfigCommand } from './config-gen/command.js';
import { faultsCommand } from './faults/command.js';
import { loadCommand } from './load/command.js';
import { routinesCommand } from './routines/command.js';
import { scenarioCommand } from './scenario/command.js';

export interface Subcommand {
  synopsis: string;
  help: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

/** `carehub-sim <name> …`: the drill, load and fault modes, each with its own options. */
export const SUBCOMMANDS: ReadonlyMap<string, Subcommand> = new Map([
  [
    'scenario',
    {
      synopsis: 'scenario FILE',
      help: 'play a scenario drill and check its expected alerts',
      run: scenarioCommand,
    },
  ],
  [
    'routines',
    {
      synopsis: 'routines --residents N --days D --seed S [--incidents]',
      help: 'seeded realistic days on the drill clock: false alerts and detection delays per rule',
      run: routinesCommand,
    },
  ],
  [
    'load',
    {
      synopsis: 'load --hub-mqtt URL --config FILE',
      help: 'many devices against a running hub on this machine: rates, PUBACK latency, errors',
      run: loadCommand,
    },
  ],
  [
    'faults',
    {
      synopsis: 'faults',
      help: 'lost PUBACKs and resends, abrupt disconnects, malformed payloads, clock skew: no duplicate alert',
      run: faultsCommand,
    },
  ],
  [
    'gen-config',
    {
      synopsis: 'gen-config --homes N --out FILE',
      help: 'write a site configuration with N homes × (sos, door, smoke) for load tests',
      run: genConfigCommand,
    },
  ],
]);

export function subcommandLines(): string {
  return [...SUBCOMMANDS.values()].map((s) => `  ${s.synopsis}\n      ${s.help}`).join('\n');
}
