import { formatPercent } from '../format/time';
import { useI18n } from '../i18n/i18n';

/** A share (0..1) as a horizontal CSS bar, with the target drawn as a line and said in words. */
export function ShareBar({
  share,
  target,
  label,
  compact = false,
}: {
  share: number | null;
  target?: number;
  label: string;
  compact?: boolean;
}) {
  const { t, lang } = useI18n();
  const pct = share === null ? 0 : Math.max(0, Math.min(1, share)) * 100;
  const met = target === undefined || share === null ? undefined : share >= target;
  return (
    <div class="share">
      <div class="share-label">
        {!compact && <span>{label}</span>}
        <strong>{formatPercent(share, lang)}</strong>
        {target !== undefined && !compact && (
          <span class={`muted ${met === false ? 'below-target' : ''}`}>
            {t('reports.target', { target: formatPercent(target, lang) })}
            {met === false && ` · ${t('reports.belowTarget')}`}
          </span>
        )}
      </div>
      <div class="share-track" aria-hidden="true">
        <div class={`share-fill ${met === false ? 'fill-bad' : 'fill-ok'}`} style={{ width: `${pct}%` }} />
        {target !== undefined && <div class="share-target" style={{ left: `${target * 100}%` }} />}
      </div>
    </div>
  );
}

export interface Bucket {
  upToSeconds: number | null;
  count: number;
}

/** Time-to-acknowledge distribution as SVG bars; bars coloured by how the answer time fares. */
export function Histogram({ buckets }: { buckets: Bucket[] }) {
  const { t } = useI18n();
  const W = 640;
  const H = 240;
  const padB = 40;
  const padT = 24;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const slot = W / Math.max(1, buckets.length);
  const label = (b: Bucket, i: number) =>
    b.upToSeconds === null
      ? t('reports.bucketOver', { s: buckets[i - 1]?.upToSeconds ?? 0 })
      : t('reports.bucketUpTo', { s: b.upToSeconds });
  const summary = buckets.map((b, i) => `${label(b, i)}: ${b.count}`).join(', ');
  return (
    <svg
      class="histogram"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`${t('reports.histogram')}: ${summary}`}
    >
      <line x1="0" y1={H - padB} x2={W} y2={H - padB} class="axis" />
      {buckets.map((b, i) => {
        const h = ((H - padB - padT) * b.count) / max;
        const x = i * slot + slot * 0.15;
        const w = slot * 0.7;
        const tone =
          b.upToSeconds !== null && b.upToSeconds <= 60
            ? 'good'
            : b.upToSeconds !== null && b.upToSeconds <= 180
              ? 'fair'
              : 'poor';
        return (
          <g key={`${b.upToSeconds}`}>
            <rect x={x} y={H - padB - h} width={w} height={h} class={`bar bar-${tone}`} />
            <text x={x + w / 2} y={H - padB - h - 6} class="bar-value" text-anchor="middle">
              {b.count}
            </text>
            <text x={x + w / 2} y={H - padB + 20} class="bar-label" text-anchor="middle">
              {label(b, i)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
