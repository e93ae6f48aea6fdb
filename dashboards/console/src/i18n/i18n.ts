import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export type Messages = Record<string, string>;
export type Translate = (key: string, params?: Record<string, string | number>) => string;

/**
 * Every locales/<lang>.json file is a language: adding one (bo, ug, …) is dropping in a file.
 * Its "_meta.name" is what the language switch shows. Missing keys fall back to English, then the key.
 */
const files = import.meta.glob<Messages>('../locales/*.json', { eager: true, import: 'default' });

const catalogs = new Map<string, Messages>();
for (const [path, messages] of Object.entries(files)) {
  const code = /([^/]+)\.json$/.exec(path)?.[1];
  if (code) catalogs.set(code, messages);
}

export const DEFAULT_LANG = 'zh-CN';
const FALLBACK_LANG = 'en';

export interface Language {
  code: string;
  name: string;
}

export const LANGUAGES: Language[] = [...catalogs.entries()]
  .map(([code, m]) => ({ code, name: m['_meta.name'] ?? code }))
  .sort((a, b) =>
    a.code === DEFAULT_LANG ? -1 : b.code === DEFAULT_LANG ? 1 : a.code.localeCompare(b.code),
  );

/** The closest language we have for a code like "zh-CN", "zh", "en-GB"; undefined when none. */
export function matchLanguage(code: string | null | undefined): string | undefined {
  if (!code) return undefined;
  if (catalogs.has(code)) return code;
  const lower = code.toLowerCase();
  for (const c of catalogs.keys()) if (c.toLowerCase() === lower) return c;
  const base = lower.split('-')[0];
  for (const c of catalogs.keys()) if (c.toLowerCase().split('-')[0] === base) return c;
  return undefined;
}

/**
 * `t(key, params)`. With a number `n` in the params, the plural form of the language is looked up
 * first (`key_one`, `key_other`, … by Intl.PluralRules), so "1 open alert" / "2 open alerts".
 */
export function translator(lang: string): Translate {
  const primary = catalogs.get(lang) ?? {};
  const fallback = catalogs.get(FALLBACK_LANG) ?? {};
  const plural = pluralRules(lang);
  const english = pluralRules(FALLBACK_LANG);
  return (key, params) => {
    const n = params?.n;
    const text =
      typeof n === 'number'
        ? (primary[`${key}_${plural.select(n)}`] ??
          primary[`${key}_other`] ??
          primary[key] ??
          fallback[`${key}_${english.select(n)}`] ??
          fallback[`${key}_other`] ??
          fallback[key] ??
          key)
        : (primary[key] ?? fallback[key] ?? key);
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
  };
}

function pluralRules(lang: string): Intl.PluralRules {
  try {
    return new Intl.PluralRules(lang);
  } catch {
    return new Intl.PluralRules('en');
  }
}

/** Whether the language (or English) has a string for this key (plural forms count). */
export function hasKey(lang: string, key: string): boolean {
  for (const c of [catalogs.get(lang), catalogs.get(FALLBACK_LANG)]) {
    if (c && (key in c || `${key}_other` in c)) return true;
  }
  return false;
}

/** The alert title in the chosen language, else the site default, else English, else any. */
export function localTitle(title: Record<string, string>, lang: string): string {
  return title[lang] ?? title[DEFAULT_LANG] ?? title[FALLBACK_LANG] ?? Object.values(title)[0] ?? '';
}

export interface I18n {
  lang: string;
  t: Translate;
  setLang: (lang: string) => void;
}

export const I18nContext = createContext<I18n>({
  lang: DEFAULT_LANG,
  t: translator(DEFAULT_LANG),
  setLang: () => {},
});

export function useI18n(): I18n {
  return useContext(I18nContext);
}
