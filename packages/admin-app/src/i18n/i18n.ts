import { createI18n } from 'vue-i18n';
import { en, type Messages } from './messages.en.js';
import { uk } from './messages.uk.js';

export const locales = ['uk', 'en'] as const;
export type Locale = (typeof locales)[number];

const storageKey = 'medgrid.locale';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (locales as readonly string[]).includes(value);
}

/** The remembered choice, else the browser's language, else English. */
export function initialLocale(): Locale {
  const stored = globalThis.localStorage?.getItem(storageKey);
  if (isLocale(stored)) return stored;
  const browser = globalThis.navigator?.language?.slice(0, 2);
  return isLocale(browser) ? browser : 'en';
}

export function createAppI18n(locale: Locale = initialLocale()) {
  const i18n = createI18n<[Messages], Locale, false>({
    legacy: false,
    locale,
    fallbackLocale: 'en',
    messages: { en, uk },
  });
  document.documentElement.lang = locale;
  return i18n;
}

/** Switches the UI language; `current` is the global composer's `locale` (from `useI18n()`). */
export function setLocale(current: { value: string }, locale: Locale): void {
  current.value = locale;
  localStorage.setItem(storageKey, locale);
  document.documentElement.lang = locale;
}
