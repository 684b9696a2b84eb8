import { initialLocale, messageKeys, setLocale } from '@medgrid/web-common';
import { localeProblems } from '@medgrid/web-common/test-support';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAdminI18n } from './i18n.js';
import { en } from './messages.en.js';
import { uk } from './messages.uk.js';

describe('i18n', () => {
  beforeEach(() => localStorage.clear());

  it('has the same keys in Ukrainian and English, and every Ukrainian text is filled in', () => {
    expect(localeProblems(uk, en)).toEqual([]);
    expect(messageKeys(uk).length).toBeGreaterThan(10);
  });

  it('setLocale changes the language, remembers it and updates <html lang>', () => {
    const i18n = createAdminI18n('en');
    expect(i18n.global.t('nav.home')).toBe('Overview');
    expect(i18n.global.t('signIn.title')).toBe('Sign in with your certificate');
    setLocale(i18n.global.locale, 'uk');
    expect(i18n.global.t('nav.home')).toBe('Огляд');
    expect(i18n.global.t('certificates.statuses.EXPIRING')).toBe('скоро спливає');
    expect(localStorage.getItem('medgrid.locale')).toBe('uk');
    expect(document.documentElement.lang).toBe('uk');
    expect(initialLocale()).toBe('uk');
  });
});
