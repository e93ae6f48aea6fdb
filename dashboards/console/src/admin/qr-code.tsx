import qrcode from 'qrcode-generator';

/**
 * A QR code as an SVG drawn from the code's modules (no markup from a string). Error correction M:
 * a printed sheet survives a smudge. The quiet zone is 4 modules, as scanners expect.
 */
export function QrCode({ text, label, size = 160 }: { text: string; label: string; size?: number }) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  const quiet = 4;
  let d = '';
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + quiet} ${r + quiet}h1v1h-1z`;
  const span = n + quiet * 2;
  return (
    <svg
      class="qr"
      role="img"
      aria-label={label}
      width={size}
      height={size}
      viewBox={`0 0 ${span} ${span}`}
      shape-rendering="crispEdges"
      data-qr-text-length={text.length}
    >
      <rect width={span} height={span} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
