import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The project directory (holding package.json), found from this file whether run from source or dist/. */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'hub', 'locales'))) {
      cached = dir;
      return dir;
    }
    dir = dirname(dir);
  }
  throw new Error('CareHub package root not found (package.json with hub/locales)');
}
