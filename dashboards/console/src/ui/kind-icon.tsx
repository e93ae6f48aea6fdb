/** One stroked icon per alert kind (and a generic one), drawn inline: no icon font, no requests. */
const PATHS: Record<string, string[]> = {
  sos: ['M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z', 'M12 7v6', 'M12 16.5v.5'],
  smoke: [
    'M12 2c1 4-3 5.5-3 9a3 3 0 0 0 6 0c0-1.5-.8-2.5-1.5-3.5C16 9 18 11.5 18 15a6 6 0 0 1-12 0c0-5 6-7 6-13z',
  ],
  night_exit: ['M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z'],
  door_left_open: ['M4 21h16', 'M6 21V3h8v18', 'M14 4l5 2v15', 'M11 12v1'],
  inactivity: ['M6 2h12', 'M6 22h12', 'M7 2c0 5 10 6 10 10s-10 5-10 10', 'M17 2c0 5-10 6-10 10s10 5 10 10'],
  device_offline: [
    'M2 2l20 20',
    'M8.5 16.5a5 5 0 0 1 7 0',
    'M5 13a10 10 0 0 1 5-2.7',
    'M19 13a10 10 0 0 0-2-1.5',
    'M12 20v.5',
  ],
  battery_low: ['M3 7h16v10H3z', 'M22 11v2', 'M6 10v4'],
  tamper: ['M12 2l8 3v6c0 5-3.5 9-8 11c-4.5-2-8-6-8-11V5z', 'M12 8v5', 'M12 16v.5'],
  other: ['M12 3l10 18H2z', 'M12 10v5', 'M12 18v.5'],
};

export const KNOWN_KINDS = Object.keys(PATHS).filter((k) => k !== 'other');

export function KindIcon({ kind, size = 28 }: { kind: string; size?: number }) {
  const paths = PATHS[kind] ?? PATHS.other ?? [];
  return (
    <svg
      class="kind-icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2.2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {paths.map((d) => (
        <path key={d} d={d} />
      ))}
    </svg>
  );
}

/** CSS class for a kind's colour; unknown kinds share one. */
export function kindClass(kind: string): string {
  return `kind-${PATHS[kind] ? kind.replace(/_/g, '-') : 'other'}`;
}
