/** Relative width of a bucket: percentiles are exact to within 2 %. */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);

/** Serializable form, to merge the histograms of worker processes. */
export interface HistogramData {
  buckets: Array<[number, number]>;
  count: number;
  max: number;
  sum: number;
}

/**
 * Latencies in log-spaced buckets (2 % apart, from 1 µs): small, mergeable across processes, and
 * percentiles good to 2 %. The maximum is kept exactly.
 */
export class Histogram {
  readonly #buckets = new Map<number, number>();
  count = 0;
  max = 0;
  sum = 0;

  record(ms: number): void {
    const us = Math.max(1, ms * 1000);
    const b = Math.floor(Math.log(us) / LOG_GROWTH);
    this.#buckets.set(b, (this.#buckets.get(b) ?? 0) + 1);
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  merge(data: HistogramData): void {
    for (const [b, n] of data.buckets) this.#buckets.set(b, (this.#buckets.get(b) ?? 0) + n);
    this.count += data.count;
    this.sum += data.sum;
    this.max = Math.max(this.max, data.max);
  }

  /** The latency (ms) below which a fraction `q` of the samples lie; the bucket's upper edge. */
  percentile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (const b of [...this.#buckets.keys()].sort((x, y) => x - y)) {
      seen += this.#buckets.get(b) ?? 0;
      if (seen >= rank) return Math.min(this.max, GROWTH ** (b + 1) / 1000);
    }
    return this.max;
  }

  data(): HistogramData {
    return { buckets: [...this.#buckets.entries()], count: this.count, max: this.max, sum: this.sum };
  }
}
