/** Levenshtein distance, for "did you mean" hints (short strings only: O(a·b)). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Case and word separators do not count: `SOS_PRESSED`, `sos-pressed` and `sos.pressed` are one word. */
const folded = (s: string) => s.toLowerCase().replace(/[-_. ]/g, '');

/**
 * The allowed word closest to `given`, when it is close enough to be a likely slip (`secrethash` →
 * `secretHash`, `sos.press` → `sos.pressed`); undefined otherwise. Long inputs are not compared.
 */
export function didYouMean(given: string, allowed: readonly string[]): string | undefined {
  if (given.length === 0 || given.length > 64) return undefined;
  const g = folded(given);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const word of allowed) {
    if (word === given) return undefined;
    const d = editDistance(g, folded(word));
    if (d < bestDistance) {
      best = word;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.ceil(g.length / 3)));
  return best !== undefined && bestDistance <= limit ? best : undefined;
}
