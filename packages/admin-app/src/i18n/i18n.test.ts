import { beforeEach, describe, expect, it } from 'vitest';
import { createAppI18n, initialLocale, isLocale, setLocale } from './i18n.js';
import { en } from './messages.en.js';
import { uk } from './messages.uk.js';

function keys(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

describe('i18n', () => {
  beforeEach(() => localStorage.clear());

  it('has the same keys in Ukrainian and English, and every Ukrainian text is filled in', () => {
    expect(keys(uk).sort()).toEqual(keys(en).sort());
    expect(keys(uk).length).toBeGreaterThan(10);
  });

  it('starts from the remembered choice', () => {
    localStorage.setItem('medgrid.locale', 'uk');
    expect(initialLocale()).toBe('uk');
    localStorage.setItem('medgrid.locale', 'xx');
    expect(isLocale('xx')).toBe(false);
    expect(['uk', 'en']).toContain(initialLocale());
  });

  it('setLocale changes the language, remembers it and updates <html lang>', () => {
    const i18n = createAppI18n('en');
    expect(i18n.global.t('nav.home')).toBe('Overview');
    setLocale(i18n.global.locale, 'uk');
    expect(i18n.global.t('nav.home')).toBe('Огляд');
    expect(localStorage.getItem('medgrid.locale')).toBe('uk');
    expect(document.documentElement.lang).toBe('uk');
    expect(initialLocale()).toBe('uk');
  });
});
