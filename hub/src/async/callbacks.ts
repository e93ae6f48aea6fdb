/** A node-style completion: called once, with an error or with the result. */
export type Done<T> = (err: unknown, result?: T) => void;

/** The promise of a callback-style step (the hot path takes callbacks; callers that can wait take this). */
export function promised<T>(run: (done: Done<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, result) => (err ? reject(err) : resolve(result as T))));
}
