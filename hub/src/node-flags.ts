/**
 * The V8 options `carehub start` is meant to run with. The Dockerfile's ENTRYPOINT, the systemd unit
 * in docs/operations.md and the benchmarks' hub all use this list (test/unit/node-flags.test.ts keeps
 * them in step).
 *
 * `--max-semi-space-size=32` (MB; V8's default here is 16). Under sustained load thousands of device
 * messages are in flight at any moment, each waiting across event-loop turns for its journal commit
 * and PUBACK. With the default young generation they outlive two scavenges and are copied twice, and
 * scavenging was about a tenth of the hub's CPU. Twice the room halves the scavenges: about 5 % less
 * CPU per event at 20 000 events/s, for about 25 MB more resident memory (the young generation grows
 * to its maximum while a site connects and V8 does not shrink it). See docs/performance.md.
 *
 * It cannot be set from inside the process: V8 sizes the young generation when node starts.
 */
export const PRODUCTION_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/**
 * The production flags this process was started without: neither on node's command line
 * (`execArgv`) nor in NODE_OPTIONS. A flag the operator gave with a value of their own counts as set.
 */
export function missingNodeFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return PRODUCTION_NODE_FLAGS.filter((flag) => !nodeFlagGiven(flag, given));
}

/** Whether `args` (node options) set `flag`, with any value and in either spelling. */
export function nodeFlagGiven(flag: string, args: readonly string[]): boolean {
  const name = flagName(flag);
  return args.some((a) => flagName(a) === name);
}

/** `--max_semi_space_size=8` → `--max-semi-space-size`: V8 takes either spelling. */
function flagName(arg: string): string {
  const name = arg.split('=')[0] ?? '';
  return name.startsWith('--') ? `--${name.slice(2).replaceAll('_', '-')}` : name;
}
