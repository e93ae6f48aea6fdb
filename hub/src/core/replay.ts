import { ErrorCodes, HubError } from '../errors.js';
import type { Positioned } from '../model/entries.js';
import type { Replica } from './replica.js';

const PAGE = 1000;

/** Where a replay reads entries from: a data dir's log (store/log-reader.ts) or another replica. */
export interface EntrySource {
  first(): number | undefined;
  read(after: number, limit: number): Positioned[];
  /** The position of the last entry that erased rows of this log (a removed home or resident), if any. */
  erasedAt?(): number | undefined;
}

/**
 * Apply every entry of `source` that `target` has not applied yet, at their own positions, in
 * order. The source must hold its log from the first entry on (or from just after the target's
 * position): the state is rebuilt from the log alone. Returns the entries applied.
 */
export function replayInto(
  source: EntrySource,
  target: Replica,
  onPage?: (position: number) => void,
): number {
  const first = source.first();
  if (first !== undefined && first > target.position + 1)
    throw new HubError(
      ErrorCodes.LOG_TRIMMED,
      `the log starts at entry ${first}: retention removed entries 1-${first - 1} (journalDays), so the state cannot be rebuilt from it alone; copy the data dir instead (docs/operations.md, Backups)`,
    );
  const erased = source.erasedAt?.();
  if (erased !== undefined && erased > target.position)
    throw new HubError(
      ErrorCodes.LOG_TRIMMED,
      `entry ${erased} erased a home's data from the log (a home or a resident was removed), so the state cannot be rebuilt from it alone; copy the data dir instead (docs/operations.md, Backups)`,
    );
  let applied = 0;
  let at = target.position;
  for (;;) {
    const page = source.read(at, PAGE);
    if (page.length === 0) return applied;
    target.copy(page);
    applied += page.length;
    at = (page[page.length - 1] as Positioned).position;
    onPage?.(at);
  }
}
