/** The first `limit` members of a set, in insertion order (a slice of dirty ids to write now). */
export function takeFirst<T>(set: ReadonlySet<T>, limit: number): T[] {
  const out: T[] = [];
  for (const v of set) {
    if (out.length >= limit) break;
    out.push(v);
  }
  return out;
}
