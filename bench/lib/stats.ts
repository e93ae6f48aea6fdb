export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles over a sample (ms or whatever unit the sample has). */
export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0)
    return { n: 0, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))] as number;
  return {
    n,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: s[n - 1] as number,
    mean: s.reduce((a, b) => a + b, 0) / n,
  };
}

export function round(v: number, digits = 1): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function fmt(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  if (Math.abs(v) >= 100_000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 100) return Math.round(v).toString();
  return v.toFixed(digits);
}

export function pct(s: Summary): string {
  return `${fmt(s.p50)} / ${fmt(s.p95)} / ${fmt(s.p99)} / ${fmt(s.max)}`;
}
