import { createI18n } from 'vue-i18n';

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

/** vue-i18n (Composition API) with the app's messages; `uk` must have the shape of `en`. */
export function createAppI18n<M extends Record<string, unknown>>(
  messages: { en: M; uk: M },
  locale: Locale = initialLocale(),
) {
  const i18n = createI18n<[M], Locale, false>({
    legacy: false,
    locale,
    fallbackLocale: 'en',
    messages: messages as unknown as Record<Locale, M>,
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

/** Every leaf key of a messages object, dotted (for the key-parity tests). */
export function messageKeys(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null ? messageKeys(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}
