import { beforeEach, describe, expect, it } from 'vitest';
import { localeProblems } from '../test-support/index.js';
import { initialLocale, isLocale } from './i18n.js';

describe('locale choice', () => {
  beforeEach(() => localStorage.clear());

  it('starts from the remembered choice and ignores an unknown one', () => {
    localStorage.setItem('medgrid.locale', 'uk');
    expect(initialLocale()).toBe('uk');
    localStorage.setItem('medgrid.locale', 'xx');
    expect(isLocale('xx')).toBe(false);
    expect(['uk', 'en']).toContain(initialLocale());
  });

  it('localeProblems reports missing and empty texts', () => {
    expect(localeProblems({ a: { b: 'x' } }, { a: { b: 'y' } })).toEqual([]);
    expect(localeProblems({ a: { b: '' }, c: 'z' }, { a: { b: 'y' }, d: 'w' })).toEqual([
      'missing in uk: d',
      'missing in en: c',
      'empty in uk: a.b',
    ]);
  });
});
