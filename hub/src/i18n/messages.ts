import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';

export type MessageKey = string;
export type Catalog = Record<string, Record<MessageKey, string>>;

/** hub/locales/ holds one JSON file per language: a new language is a new file, no code change. */
export function localesDir(): string {
  return join(packageRoot(), 'hub', 'locales');
}

export function loadCatalog(dir = localesDir()): Catalog {
  const catalog: Catalog = {};
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.json')) continue;
    catalog[file.slice(0, -'.json'.length)] = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<
      string,
      string
    >;
  }
  return catalog;
}

export class Messages {
  constructor(
    readonly catalog: Catalog,
    readonly fallback = 'en',
  ) {}

  locales(): string[] {
    return Object.keys(this.catalog);
  }

  /** The message in one locale, falling back to `fallback`, then to the key itself. */
  t(locale: string, key: MessageKey, params: Record<string, string> = {}): string {
    const template = this.catalog[locale]?.[key] ?? this.catalog[this.fallback]?.[key] ?? key;
    return template.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? `{${name}}`);
  }

  /** The message in every locale: alert titles travel this way so each staff member reads their own. */
  all(key: MessageKey, params: Record<string, string> = {}): Record<string, string> {
    const out: Record<string, string> = {};
    for (const locale of this.locales()) out[locale] = this.t(locale, key, params);
    return out;
  }
}
