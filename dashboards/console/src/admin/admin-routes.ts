/** The admin section's own paths under #/admin/… (see ui/hooks.ts for the console's routes). */
export const adminHref = (path: readonly string[]) =>
  path.length === 0 ? '#/admin' : `#/admin/${path.map(encodeURIComponent).join('/')}`;
