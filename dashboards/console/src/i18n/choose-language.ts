import type { Session } from '../api/types';
import { DEFAULT_LANG, matchLanguage } from './i18n';

const DEVICE_KEY = 'carehub.lang';
const staffKey = (staffId: string) => `carehub.lang.${staffId}`;

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // private mode: the choice lasts for this page only
  }
}

/** Before login: the language last chosen on this device, else the default. */
export function languageBeforeLogin(): string {
  return matchLanguage(read(DEVICE_KEY)) ?? DEFAULT_LANG;
}

/**
 * After login: the language picked on the login page just before signing in (and from then on this
 * staff member's choice here), else what this staff member chose here before, else their locale,
 * else this device's last choice, else the site's, else zh-CN.
 */
export function languageForSession(session: Session, chosenAtLogin?: string): string {
  const chosen = matchLanguage(chosenAtLogin);
  if (chosen) {
    rememberLanguage(chosen, session.staff.id);
    return chosen;
  }
  return (
    matchLanguage(read(staffKey(session.staff.id))) ??
    matchLanguage(session.staff.locale) ??
    matchLanguage(read(DEVICE_KEY)) ??
    matchLanguage(session.siteLocale) ??
    DEFAULT_LANG
  );
}

export function rememberLanguage(lang: string, staffId: string | undefined): void {
  write(DEVICE_KEY, lang);
  if (staffId) write(staffKey(staffId), lang);
}
