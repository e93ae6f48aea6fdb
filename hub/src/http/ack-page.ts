/** The "I am going" page: small, readable on any phone, no script, no outside resources. */
export interface AckPage {
  lang: string;
  /** Page heading and <title>. */
  heading: string;
  lines: string[];
  /** A button that posts the form back to the same address. */
  button?: string | undefined;
  /** Links to the page in the other languages: [label, href]. */
  languages: Array<[string, string]>;
  /** Marks the page's state for tests and screen readers: form, going, used, closed, invalid, busy, failed. */
  state: string;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);

const STYLE = `body{font:18px/1.5 system-ui,sans-serif;margin:0;padding:1.2em;max-width:36em;color:#111;background:#fff}
h1{font-size:1.4em;margin:.2em 0 .6em}p{margin:.6em 0}
button{font-size:1.2em;padding:.8em 1.4em;border:0;border-radius:.4em;background:#b3261e;color:#fff;width:100%;margin-top:1em}
nav{margin-top:2em;font-size:.9em}nav a{margin-right:1em}`;

export function renderAckPage(p: AckPage): string {
  const lines = p.lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('\n');
  const form = p.button
    ? `<form method="post"><input type="hidden" name="going" value="1"><button type="submit">${escapeHtml(p.button)}</button></form>`
    : '';
  const nav = p.languages
    .map(([label, href]) => `<a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`)
    .join('');
  return `<!doctype html>
<html lang="${escapeHtml(p.lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(p.heading)}</title><style>${STYLE}</style></head>
<body data-state="${escapeHtml(p.state)}"><main>
<h1>${escapeHtml(p.heading)}</h1>
${lines}
${form}
</main><nav>${nav}</nav></body></html>
`;
}
