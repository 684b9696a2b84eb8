import { createAppI18n, type Locale } from '@medgrid/web-common';
import { en } from './messages.en.js';
import { uk } from './messages.uk.js';

export function createDoctorI18n(locale?: Locale) {
  return createAppI18n({ en, uk }, locale);
}
